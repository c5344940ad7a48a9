/**
 * A small timing harness: warm-up, then timed batches, with a per-measurement time budget.
 *
 * A group of measurements (e.g. one rule at its four DTSTART ages) is timed round-robin, one batch
 * of each unfinished measurement per round, so that a slow drift of the machine (frequency, another
 * tenant on the VM) affects every member alike and ratios between members stay meaningful.
 *
 * Each batch runs `fn(i)` `size` times with a running call index i (used to vary the query
 * instant) and is timed with process.hrtime.bigint(); the per-call time of a measurement is the
 * median over its batches of (batch time / batch size).
 *
 * The machine may be shared (other processes on a 2-vCPU VM). Each batch also reads the process's
 * CPU time (process.cpuUsage); a batch during which the process got less than 90% of the wall time
 * as CPU time was preempted, and its wall time says more about the neighbours than about the code.
 * The median is taken over the clean batches when there are enough of them (at least 3 and at
 * least 5% of all), else over all batches and the measurement is marked `contended`. Batches are
 * short (0.5 ms by default) so that many of them fit between two preemptions.
 */
import type { BenchOptions } from './config.js';

export type Timed = (i: number) => number;

export interface Measurement {
  /** Median over batches of the per-call time, in nanoseconds. */
  readonly medianNs: number;
  /** Total timed time / total timed calls, in nanoseconds. */
  readonly meanNs: number;
  /** Calls in the timed phase (excluding warm-up). */
  readonly calls: number;
  readonly batches: number;
  /** True when one call took longer than the budget: the single (warm-up) call is the measurement. */
  readonly single: boolean;
  /** Median over batches of the process CPU time (all threads) per call, in nanoseconds. */
  readonly medianCpuNs: number;
  /** CPU time / wall time over the timed batches (about 1 on an otherwise idle core). */
  readonly cpuShare: number;
  /** Batches that kept >= 90% of their wall time as CPU time (those the median is taken over). */
  readonly cleanBatches: number;
  /** Too few clean batches: the median is over all batches and is inflated by other processes. */
  readonly contended: boolean;
}

const CLEAN_SHARE = 0.9;

/** Keeps results alive so the JIT cannot drop the work. */
export let sink = 0;

const nowNs = (): bigint => process.hrtime.bigint();

interface State {
  fn: Timed;
  i: number;
  size: number;
  timedNs: number;
  cpuNs: number;
  calls: number;
  perCall: number[];
  cpuPerCall: number[];
  clean: number[];
  done: boolean;
  single: boolean;
}

const cpuNs = (c: NodeJS.CpuUsage): number => (c.user + c.system) * 1000;

export function measureGroup(fns: readonly Timed[], o: BenchOptions): Measurement[] {
  const states: State[] = fns.map((fn) => ({ fn, i: 0, size: 1, timedNs: 0, cpuNs: 0, calls: 0, perCall: [], cpuPerCall: [], clean: [], done: false, single: false }));
  const budgetNs = o.budgetMs * 1e6;
  const hardNs = o.hardCapMs * 1e6;

  // Warm-up, one measurement at a time.
  for (const s of states) {
    const c0 = process.cpuUsage();
    let t0 = nowNs();
    sink += s.fn(s.i++);
    const first = Number(nowNs() - t0);
    if (first >= budgetNs) {
      // A call longer than the whole budget: that call is the measurement (its JIT warm-up is
      // negligible at this length, and the caller has usually run the code path already).
      s.done = s.single = true;
      s.perCall.push(first);
      s.cpuNs = cpuNs(process.cpuUsage(c0));
      s.cpuPerCall.push(s.cpuNs);
      if (s.cpuNs >= CLEAN_SHARE * first) s.clean.push(first);
      s.timedNs = first;
      s.calls = 1;
      continue;
    }
    let spent = first;
    let calls = 1;
    let lastNs = first;
    while (spent < o.warmupMs * 1e6) {
      const n = Math.max(1, Math.min(1 << 20, Math.floor((o.batchMs * 1e6) / Math.max(lastNs / calls, 1))));
      t0 = nowNs();
      for (let k = 0; k < n; k++) sink += s.fn(s.i++);
      const dt = Number(nowNs() - t0);
      spent += dt;
      lastNs = dt;
      calls = n;
    }
    const perCall = Math.max(lastNs / calls, 1);
    s.size = Math.max(1, Math.min(1 << 22, Math.round((o.batchMs * 1e6) / perCall)));
  }

  // Timed phase, round-robin.
  for (;;) {
    let active = 0;
    for (const s of states) {
      if (s.done) continue;
      active += 1;
      const n = s.size;
      const fn = s.fn;
      let i = s.i;
      let acc = 0;
      const c0 = process.cpuUsage();
      const t0 = nowNs();
      for (let k = 0; k < n; k++) acc += fn(i++);
      const dt = Number(nowNs() - t0);
      const cpu = cpuNs(process.cpuUsage(c0));
      sink += acc;
      s.i = i;
      s.timedNs += dt;
      s.cpuNs += cpu;
      s.calls += n;
      s.perCall.push(dt / n);
      s.cpuPerCall.push(cpu / n);
      if (cpu >= CLEAN_SHARE * dt) s.clean.push(dt / n);
      if ((s.timedNs >= budgetNs && s.calls >= o.minCalls) || s.timedNs >= hardNs) s.done = true;
    }
    if (active === 0) break;
  }

  return states.map((s) => {
    const enough = s.clean.length >= Math.max(s.single ? 1 : 3, 0.05 * s.perCall.length);
    return {
      medianNs: median(enough ? s.clean : s.perCall),
      medianCpuNs: median(s.cpuPerCall),
      meanNs: s.timedNs / s.calls,
      calls: s.calls,
      batches: s.perCall.length,
      single: s.single,
      cpuShare: s.cpuNs / s.timedNs,
      cleanBatches: s.clean.length,
      contended: !enough,
    };
  });
}

export function measure(fn: Timed, o: BenchOptions): Measurement {
  return measureGroup([fn], o)[0]!;
}

export function median(xs: readonly number[]): number {
  const a = [...xs].sort((x, y) => x - y);
  const n = a.length;
  if (n === 0) return Number.NaN;
  return n % 2 === 1 ? a[(n - 1) / 2]! : (a[n / 2 - 1]! + a[n / 2]!) / 2;
}

/** Times one call (wall and CPU time), for calls too slow to repeat. */
export function timeOnce<T>(fn: () => T): { value: T; ns: number; cpuNs: number } {
  const c0 = process.cpuUsage();
  const t0 = nowNs();
  const value = fn();
  const ns = Number(nowNs() - t0);
  return { value, ns, cpuNs: cpuNs(process.cpuUsage(c0)) };
}

/** A measurement made of one call. */
export function single(ns: number, cpu: number): Measurement {
  return { medianNs: ns, medianCpuNs: cpu, meanNs: ns, calls: 1, batches: 1, single: true, cpuShare: cpu / ns, cleanBatches: cpu >= CLEAN_SHARE * ns ? 1 : 0, contended: cpu < CLEAN_SHARE * ns };
}
