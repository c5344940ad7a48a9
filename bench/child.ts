/**
 * Benchmarks one library in its own process (started by run.ts, with TZ=UTC) and writes the
 * results as JSON: `node --import tsx bench/child.ts <lib> <options-json> <out-file>`.
 */
import { writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { DST_WINDOWS, NOW_MS, RULES, allCases, caseKey, checkNowLocal, dstCase, instantOfLocal, type BenchOptions, type Case } from './config.js';
import { measureGroup, single, timeOnce, type Measurement, type Timed } from './harness.js';
import { ADAPTERS, ours, rruleFloating, rruleGuard, type Adapter, type LibName } from './libs.js';

export interface CaseResult {
  readonly key: string;
  readonly ruleId: string;
  readonly ageId: string;
  /** First occurrence strictly after NOW (epoch ms); null = none; undefined = not computed. */
  nextAtNow?: number | null;
  /** rrule.js only: the capped probe that decides whether a call can be timed at all. */
  guard?: { ms: number; timedOut: boolean; estMs?: number };
  skipped?: string;
  next?: Measurement;
  buildNext?: Measurement;
  /** buildNext = build alone (timed) + the single next() call (too slow to repeat). */
  buildNextDerived?: boolean;
  expand?: Measurement;
  expandList?: number[];
  fromNow?: Measurement;
  fromNowList?: number[];
  fromNowSkipped?: string;
  /** rrule.js without TZID (side measurement). */
  floating?: { nextAtNow: number | null; next: Measurement };
}

export interface LibResult {
  readonly lib: LibName;
  readonly version: string;
  /** CPU time / wall time of the whole child (about 1 when it had a core to itself). */
  readonly cpuShare: number;
  readonly loadStart: number[];
  readonly loadEnd: number[];
  readonly node: string;
  readonly tz: string | undefined;
  readonly intlZone: string;
  readonly seconds: number;
  readonly cases: CaseResult[];
  /** Occurrences in the DST windows (untimed), for the cross-check. */
  readonly dst: DstResult[];
}

export interface DstResult {
  readonly ruleId: string;
  readonly windowId: string;
  readonly list: number[];
}

function log(msg: string): void {
  process.stderr.write(`${msg}\n`);
}

function run(lib: LibName, o: BenchOptions): LibResult {
  checkNowLocal();
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const loadStart = loadavg();
  const adapter = ADAPTERS[lib] as Adapter<unknown>;
  const cases = allCases();
  const results = new Map<string, CaseResult>();

  for (const rule of RULES) {
    const group = cases.filter((c) => c.rule === rule);
    // Cases timed in the round-robin groups below, and (rrule only) cases whose first call already
    // took longer than the budget: that call is their measurement.
    const feasible: Case[] = [];
    const singles: Case[] = [];
    // rrule: cost of the last age measured, to predict the next (older) one, which costs about
    // proportionally more (rrule walks from DTSTART); and the extrapolation once one age is over the cap.
    let prev: { span: number; ms: number } | undefined;
    let overCap: { perSpan: number; key: string } | undefined;
    for (const c of group) {
      const r: CaseResult = { key: caseKey(c), ruleId: c.rule.id, ageId: c.age.id };
      results.set(r.key, r);
      const h = adapter.build(c);
      if (lib !== 'rrule') {
        r.nextAtNow = adapter.next(h, NOW_MS);
        feasible.push(c);
        continue;
      }
      const span = NOW_MS - c.floatingStartMs;
      if (overCap) {
        const estMs = overCap.perSpan * span;
        r.guard = { ms: o.rruleCallCapMs, timedOut: true, estMs };
        r.skipped = `older DTSTART than ${overCap.key}, which already takes > ${(o.rruleCallCapMs / 1000).toFixed(0)} s (est. ${(estMs / 1000).toFixed(0)} s)`;
        log(`  ${lib} ${r.key}: not timed: ${r.skipped}`);
        continue;
      }
      const predicted = prev ? (prev.ms * span) / prev.span : 0;
      if (predicted > o.rruleCallCapMs) {
        // rrule's after() cannot be interrupted; this probe does the same walk and can stop.
        const g = rruleGuard(h as Parameters<typeof rruleGuard>[0], NOW_MS, o.rruleCallCapMs);
        if (g.answer === undefined) {
          const done = (g.reachedMs ?? c.floatingStartMs) - c.floatingStartMs;
          const estMs = done > 0 ? (g.ms * (NOW_MS - c.floatingStartMs)) / done : predicted;
          r.guard = { ms: g.ms, timedOut: true, estMs };
          r.skipped = `one call takes > ${(o.rruleCallCapMs / 1000).toFixed(0)} s (est. ${(estMs / 1000).toFixed(0)} s by linear extrapolation)`;
          overCap = { perSpan: estMs / span, key: r.key };
          log(`  ${lib} ${r.key}: probe stopped at ${g.ms.toFixed(0)} ms: ${r.skipped}`);
          continue;
        }
      }
      // The cross-check call doubles as the warm-up; a call longer than the budget is the measurement.
      const t = timeOnce(() => adapter.next(h, NOW_MS));
      r.nextAtNow = t.value;
      prev = { span, ms: t.ns / 1e6 };
      if (t.ns >= o.budgetMs * 1e6) {
        r.next = single(t.ns, t.cpuNs);
        singles.push(c);
        log(`  ${lib} ${r.key}: next ${fmtNs(t.ns)} (one call)`);
      } else feasible.push(c);
    }

    // 1a. next-after-now on an already-built object; the four ages round-robin.
    const handles = feasible.map((c) => adapter.build(c));
    const nextFns: Timed[] = handles.map((h) => (i) => adapter.nextRing(h, i));
    const nexts = measureGroup(nextFns, o);
    feasible.forEach((c, k) => (results.get(caseKey(c))!.next = nexts[k]!));
    log(`  ${lib} ${rule.id}: next ${nexts.map((m) => fmtNs(m.medianNs)).join(' / ')}`);

    // 1b. build + first call, as a scheduler that compiles per firing would do.
    const buildFns: Timed[] = feasible.map((c) => (i) => adapter.nextRing(adapter.build(c), i));
    const builds = measureGroup(buildFns, o);
    feasible.forEach((c, k) => (results.get(caseKey(c))!.buildNext = builds[k]!));
    log(`  ${lib} ${rule.id}: build+next ${builds.map((m) => fmtNs(m.medianNs)).join(' / ')}`);
    // Where one next() call is longer than the budget, build + first call = build alone + that call.
    const buildOnly = measureGroup(singles.map((c) => () => (adapter.build(c) ? 1 : 0)), o);
    singles.forEach((c, k) => {
      const r = results.get(caseKey(c))!;
      const b = buildOnly[k]!;
      r.buildNext = { ...r.next!, medianNs: r.next!.medianNs + b.medianNs, medianCpuNs: r.next!.medianCpuNs + b.medianCpuNs, meanNs: r.next!.meanNs + b.meanNs };
      r.buildNextDerived = true;
    });

    // 2a. Expanding N occurrences from DTSTART (all ages, also those too slow for next()).
    const expHandles = group.map((c) => adapter.buildForExpansion(c));
    group.forEach((c, k) => (results.get(caseKey(c))!.expandList = adapter.expand(expHandles[k], o.expandN)));
    const exps = measureGroup(expHandles.map((h) => () => adapter.expand(h, o.expandN).length), o);
    group.forEach((c, k) => (results.get(caseKey(c))!.expand = exps[k]!));
    log(`  ${lib} ${rule.id}: expand ${exps.map((m) => fmtNs(m.medianNs)).join(' / ')}`);

    // 2b. N occurrences after now: ours via first(N, now); peers via between(now, Nth + 1 ms).
    const fromNowCases: Case[] = [];
    const fromNowFns: Timed[] = [];
    for (const c of group) {
      const r = results.get(caseKey(c))!;
      const bound = ours.build(c).first(o.expandN, NOW_MS);
      const beforeMs = bound[bound.length - 1]! + 1;
      if (lib === 'rrule' && (r.skipped || !r.next || r.next.single)) {
        r.fromNowSkipped = 'walks from DTSTART like after(); too slow at this age';
        continue;
      }
      const h = adapter.buildForExpansion(c);
      const fn: Timed =
        lib === 'ours' ? () => (h as ReturnType<typeof ours.build>).first(o.expandN, NOW_MS).length : () => adapter.between(h, NOW_MS, beforeMs).length;
      r.fromNowList = lib === 'ours' ? (h as ReturnType<typeof ours.build>).first(o.expandN, NOW_MS) : adapter.between(h, NOW_MS, beforeMs);
      fromNowCases.push(c);
      fromNowFns.push(fn);
    }
    const fromNows = measureGroup(fromNowFns, o);
    fromNowCases.forEach((c, k) => (results.get(caseKey(c))!.fromNow = fromNows[k]!));

    // Side measurement: rrule.js in floating mode (no TZID).
    if (lib === 'rrule') {
      const fl = group.map((c) => rruleFloating(c));
      const ms = measureGroup(fl.map((f) => f.nextRing), o);
      group.forEach((c, k) => (results.get(caseKey(c))!.floating = { nextAtNow: fl[k]!.next(NOW_MS), next: ms[k]! }));
      log(`  ${lib} ${rule.id}: floating next ${ms.map((m) => fmtNs(m.medianNs)).join(' / ')}`);
    }
  }

  // DST windows: the occurrences from DTSTART through the window, untimed.
  const dst: DstResult[] = [];
  for (const rule of RULES) {
    for (const w of DST_WINDOWS) {
      const c = dstCase(rule, w);
      const startMs = instantOfLocal(c.floatingStartMs);
      const endMs = instantOfLocal(c.floatingStartMs + w.days * 86_400_000);
      dst.push({ ruleId: rule.id, windowId: w.id, list: adapter.between(adapter.buildForExpansion(c), startMs - 1, endMs + 1) });
    }
  }

  return {
    lib,
    version: adapter.version,
    cpuShare: ((c) => ((c.user + c.system) / 1000) / (performance.now() - t0))(process.cpuUsage(cpu0)),
    loadStart,
    loadEnd: loadavg(),
    node: process.version,
    tz: process.env.TZ,
    intlZone: Intl.DateTimeFormat().resolvedOptions().timeZone,
    seconds: (performance.now() - t0) / 1000,
    cases: cases.map((c) => results.get(caseKey(c))!),
    dst,
  };
}

function fmtNs(ns: number): string {
  if (!Number.isFinite(ns)) return '-';
  if (ns < 1e6) return `${(ns / 1000).toPrecision(3)} µs`;
  if (ns < 1e9) return `${(ns / 1e6).toPrecision(3)} ms`;
  return `${(ns / 1e9).toPrecision(3)} s`;
}

const [libArg, optsArg, outArg] = process.argv.slice(2);
if (!libArg || !optsArg || !outArg || !(libArg in ADAPTERS)) {
  throw new Error('usage: child.ts <ours|rrule-temporal|rrule> <options-json> <out-file>');
}
if (Intl.DateTimeFormat().resolvedOptions().timeZone !== 'UTC') {
  // rrule.js converts to the process's zone; the bench only makes sense with TZ=UTC.
  throw new Error(`run with TZ=UTC (the process zone is ${Intl.DateTimeFormat().resolvedOptions().timeZone})`);
}
writeFileSync(outArg, JSON.stringify(run(libArg as LibName, JSON.parse(optsArg) as BenchOptions)));
