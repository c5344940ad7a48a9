/**
 * Child processes (each instance, worker and server in its own process, so they run in parallel
 * on separate cores), and what the machine and the PostgreSQL backends did meanwhile, from /proc.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { killOnExit } from '../common/children.js';
import { admin } from './db.js';

export const here = dirname(fileURLToPath(import.meta.url));
export const root = join(here, '..', '..');


export interface Child<R> {
  readonly pid: number;
  readonly child: ChildProcess;
  /** Resolves on the child's `{kind: 'ready'}` message (with the rest of it). */
  readonly ready: Promise<Record<string, unknown>>;
  /** Resolves with the child's `{kind: 'result', result}`; rejects if it exits without one. */
  readonly result: Promise<R>;
  send(message: object): void;
  kill(): void;
}

/** `node [nodeArgs] --import tsx <script> <arg>` with an IPC channel. */
export function spawnChild<R>(script: string, arg: unknown, o: { nodeArgs?: string[]; env?: Record<string, string>; timeoutS?: number } = {}): Child<R> {
  const child = spawn(process.execPath, [...(o.nodeArgs ?? []), '--import', 'tsx', join(here, script), JSON.stringify(arg)], {
    cwd: root,
    env: { ...process.env, ...o.env },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  killOnExit(child);
  let gotResult = false;
  const ready = new Promise<Record<string, unknown>>((resolve, reject) => {
    child.on('message', (m: { kind?: string }) => m.kind === 'ready' && resolve(m as Record<string, unknown>));
    child.once('exit', (code, signal) => reject(new Error(`${script}: exited before ready (code ${code}, signal ${signal})`)));
  });
  const result = new Promise<R>((resolve, reject) => {
    const timer = o.timeoutS ? setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${script}: no result after ${o.timeoutS} s; killed`));
    }, o.timeoutS * 1000) : undefined;
    child.on('message', (m: { kind?: string; result?: R }) => {
      if (m.kind !== 'result') return;
      gotResult = true;
      if (timer) clearTimeout(timer);
      resolve(m.result as R);
    });
    child.once('exit', (code, signal) => {
      if (timer) clearTimeout(timer);
      if (!gotResult) reject(new Error(`${script}: exited without a result (code ${code}, signal ${signal})`));
    });
  });
  ready.catch(() => {});
  result.catch(() => {});
  return { pid: child.pid!, child, ready, result, send: (m) => child.send(m), kill: () => child.kill('SIGKILL') };
}

/** Waits for a child to exit (after its result). */
export function exited(c: Child<unknown>): Promise<void> {
  if (c.child.exitCode !== null || c.child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => c.child.once('exit', () => resolve()));
}

/** CPU seconds (user + system) a process has used so far; NaN once it is gone. */
export function cpuSecondsOf(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return NaN;
  }
}

/** Busy CPU seconds of the whole machine so far (all cores, from /proc/stat). */
export function machineBusySeconds(): number {
  const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!;
  const [, user, nice, system, , , irq, softirq, steal] = line.trim().split(/\s+/).map(Number);
  return (user! + nice! + system! + irq! + softirq! + steal!) / 100;
}

export interface Quiet {
  /** Seconds waited for a quiet machine before the measurement. */
  readonly waitedS: number;
  /** CPU the rest of the machine used in the last 2 s before it, in cores. */
  readonly othersCores: number;
}

export interface Conditions extends Partial<Quiet> {
  /** 1-minute load average just before the measurement and just after it. */
  readonly loadBefore: number;
  readonly loadAfter: number;
  /** Busy CPU of the whole machine over the measurement, in cores (2 = both cores busy). */
  readonly machineCores: number;
}

/** Starts a measurement window; the returned function ends it. */
export function conditions(quiet?: Quiet): () => Conditions {
  const loadBefore = loadavg()[0]!;
  const busy0 = machineBusySeconds();
  const t0 = performance.now();
  return () => {
    const wall = (performance.now() - t0) / 1000;
    return { loadBefore, loadAfter: loadavg()[0]!, machineCores: (machineBusySeconds() - busy0) / wall, ...quiet };
  };
}

/**
 * Waits, before a measurement, until the machine is quiet: the CPU used over 2 s (by everything:
 * the benchmark's own processes are idle at that point) below `maxCores`, or the run's budget of
 * waiting (`budget.leftS`, shared by all measurements) is spent; then measures anyway.
 */
export async function waitForQuiet(budget: { leftS: number; maxCores: number }, log: (s: string) => void, what: string): Promise<Quiet> {
  const t0 = performance.now();
  let said = false;
  for (;;) {
    const b0 = machineBusySeconds();
    await new Promise((r) => setTimeout(r, 2000));
    const othersCores = (machineBusySeconds() - b0) / 2;
    const waitedS = (performance.now() - t0) / 1000 - 2;
    if (othersCores < budget.maxCores || waitedS >= budget.leftS) {
      budget.leftS = Math.max(0, budget.leftS - waitedS);
      if (said || othersCores >= budget.maxCores) log(`${what}: ${othersCores >= budget.maxCores ? 'still busy' : 'quiet'} (${othersCores.toFixed(2)} cores in use) after ${waitedS.toFixed(0)} s of waiting; ${budget.leftS.toFixed(0)} s of the waiting budget left`);
      return { waitedS, othersCores };
    }
    if (!said) log(`${what}: waiting for a quiet machine (${othersCores.toFixed(2)} cores in use, below ${budget.maxCores} wanted; ${budget.leftS.toFixed(0)} s of the waiting budget left)`);
    said = true;
  }
}

/**
 * CPU used by the PostgreSQL backends serving one database: their pids come from pg_stat_activity
 * (sampled every 200 ms), their CPU from /proc. A backend that ends between samples loses the CPU
 * it used since the last one, so this is a lower bound.
 */
export function backendCpu(database: string): { stop(): Promise<number> } {
  const first = new Map<number, number>();
  const last = new Map<number, number>();
  let stopped = false;
  const sample = async (): Promise<void> => {
    const rows = await admin<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE datname = $1', [database]).catch(() => []);
    for (const { pid } of rows) {
      const s = cpuSecondsOf(pid);
      if (Number.isNaN(s)) continue;
      if (!first.has(pid)) first.set(pid, s);
      last.set(pid, s);
    }
  };
  const loop = (async () => {
    while (!stopped) {
      await sample();
      await new Promise((r) => setTimeout(r, 200));
    }
  })();
  return {
    async stop() {
      stopped = true;
      await loop;
      let total = 0;
      for (const [pid, s] of last) total += s - first.get(pid)!;
      return total;
    },
  };
}
