/**
 * Turns the children's JSON into tables (plain text for the terminal, Markdown for
 * docs/benchmarks.md), the goal verdicts, the cross-check and the summary paragraph.
 */
import { AGES, DST_WINDOWS, NOW_MS, RULES, ZONE, type BenchOptions } from './config.js';
import type { CaseResult, LibResult } from './child.js';
import type { Measurement } from './harness.js';
import type { LibName } from './libs.js';
import type { MemoryResult } from './memory.js';

export interface Results {
  readonly libs: Record<LibName, LibResult>;
  readonly memory: MemoryResult;
  readonly options: BenchOptions;
}

// ---------------------------------------------------------------------------------------------
// Formatting helpers

export function fmtTime(ns: number | undefined): string {
  if (ns === undefined || !Number.isFinite(ns)) return '-';
  if (ns < 1e4) return `${(ns / 1000).toFixed(3)} µs`;
  if (ns < 1e6) return `${(ns / 1000).toPrecision(3)} µs`;
  if (ns < 1e9) return `${(ns / 1e6).toPrecision(3)} ms`;
  return `${(ns / 1e9).toPrecision(3)} s`;
}

function fmtCount(n: number): string {
  if (n >= 1e6) return `${(n / 1e6).toPrecision(3)}M`;
  if (n >= 1e4) return `${(n / 1e3).toPrecision(3)}k`;
  return String(n);
}

function fmtRatio(x: number | undefined): string {
  if (x === undefined || !Number.isFinite(x)) return '-';
  if (x >= 1e6) return `${x.toExponential(1).replace('e+', 'e')}×`;
  if (x >= 100) return `${Math.round(x).toLocaleString('en-US')}×`;
  if (x >= 10) return `${x.toFixed(0)}×`;
  return `${x.toFixed(2)}×`;
}

function cell(m: Measurement | undefined, r?: CaseResult, derived = false): string {
  if (!m) {
    if (r?.guard?.timedOut) return r.guard.estMs ? `not timed: > ${fmtTime(r.guard.ms * 1e6)} (est. ${fmtTime(r.guard.estMs * 1e6)})` : `not timed: > ${fmtTime(r.guard.ms * 1e6)}`;
    return '-';
  }
  const calls = m.contended ? `${fmtCount(m.calls)}; CPU ${fmtTime(m.medianCpuNs)}` : fmtCount(m.calls);
  return `${derived ? '≈ ' : ''}${fmtTime(m.medianNs)} (${calls})${m.contended ? ' *' : ''}`;
}

const localFmt = new Intl.DateTimeFormat('en-CA', {
  timeZone: ZONE,
  hourCycle: 'h23',
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
  weekday: 'short',
  timeZoneName: 'short',
});

/** `Sun 2026-11-29 11:18 EST` in New York, via Intl (independent of the engine under test). */
export function nyLocal(ms: number | null | undefined): string {
  if (ms === undefined) return 'not computed';
  if (ms === null) return 'none';
  const p = Object.fromEntries(localFmt.formatToParts(ms).map((x) => [x.type, x.value]));
  return `${p.weekday} ${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute} ${p.timeZoneName}`;
}

const utc = (ms: number): string => new Date(ms).toISOString().replace(':00.000Z', 'Z');

// ---------------------------------------------------------------------------------------------
// Tables

export interface Table {
  readonly title: string;
  readonly note?: string;
  readonly headers: readonly string[];
  /** 'l' or 'r' per column. */
  readonly align: string;
  readonly rows: readonly (readonly string[])[];
}

export function tableToText(t: Table): string {
  const widths = t.headers.map((h, i) => Math.max(h.length, ...t.rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    cells.map((c, i) => (t.align[i] === 'r' ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd();
  const out = [t.title, '='.repeat(t.title.length), line(t.headers), widths.map((w) => '-'.repeat(w)).join('  ')];
  for (const r of t.rows) out.push(line(r));
  if (t.note) out.push(t.note.replace(/`/g, ''));
  return out.join('\n');
}

export function tableToMarkdown(t: Table, level = '###'): string {
  const esc = (s: string): string => s.replace(/\|/g, '\\|');
  const out = [`${level} ${t.title}`, ''];
  if (t.note) out.push(t.note, '');
  out.push(`| ${t.headers.map(esc).join(' | ')} |`);
  out.push(`|${[...t.align].map((a) => (a === 'r' ? '---:' : '---')).join('|')}|`);
  for (const r of t.rows) out.push(`| ${r.map(esc).join(' | ')} |`);
  return out.join('\n');
}

// ---------------------------------------------------------------------------------------------
// Derived figures

const get = (res: Results, lib: LibName, ruleId: string, ageId: string): CaseResult =>
  res.libs[lib].cases.find((c) => c.ruleId === ruleId && c.ageId === ageId)!;

/**
 * The best estimate of a measurement's cost on an idle core: the wall-time median, or for a
 * contended measurement the smaller of it and the CPU-time median (CPU time excludes the time the
 * process waited for a core; taking the smaller guards against GC helper threads' CPU time).
 */
export const est = (m: Measurement): number => (m.contended ? Math.min(m.medianNs, m.medianCpuNs) : m.medianNs);

const ratio = (slow: Measurement | undefined, fast: Measurement | undefined): number | undefined =>
  slow && fast ? est(slow) / est(fast) : undefined;

export interface Goal {
  readonly goal: string;
  readonly target: string;
  readonly measured: string;
  readonly met: boolean | undefined;
  readonly verdict: string;
}

export function goals(res: Results): Goal[] {
  const out: Goal[] = [];
  const o = get(res, 'ours', 'hourly', '5y');
  const rt = get(res, 'rrule-temporal', 'hourly', '5y');
  const rr = get(res, 'rrule', 'hourly', '5y');

  const speedGoal = (peer: string, x: number | undefined, target: number, lowerBound: boolean): Goal => {
    if (x === undefined) return { goal: `5-year-old hourly rule, next(): ours vs ${peer}`, target: `≥ ${target}× faster`, measured: 'not measured', met: undefined, verdict: 'not measured' };
    const met = x >= target;
    return {
      goal: `5-year-old hourly rule, next(): ours vs ${peer}`,
      target: `≥ ${fmtRatio(target)} faster`,
      measured: `${lowerBound ? '> ' : ''}${fmtRatio(x)}`,
      met,
      verdict: met ? `met, ${fmtRatio(x / target)} beyond the goal` : `NOT met: ${fmtRatio(target / x)} short of the goal`,
    };
  };
  out.push(speedGoal('rrule-temporal', ratio(rt.next, o.next), 10, false));
  let rrRatio = ratio(rr.next, o.next);
  let lower = false;
  if (rrRatio === undefined && rr.guard?.timedOut && o.next) {
    rrRatio = (rr.guard.ms * 1e6) / est(o.next);
    lower = true;
  }
  out.push(speedGoal('rrule', rrRatio, 1000, lower));

  for (const rule of RULES) {
    const ms = AGES.map((a) => ({ age: a, m: get(res, 'ours', rule.id, a.id).next }));
    const worst = ms.reduce((w, x) => ((x.m ? est(x.m) : Infinity) > (w.m ? est(w.m) : Infinity) ? x : w));
    const us = (worst.m ? est(worst.m) : Number.NaN) / 1000;
    const met = us <= 2;
    out.push({
      goal: `${rule.label}: ours, µs per next() (worst of the 4 DTSTART ages)`,
      target: '≤ 2 µs',
      measured: `${us.toFixed(3)} µs (${worst.age.label}${worst.m?.contended ? '; CPU time' : ''})`,
      met,
      verdict: met ? `met, ${fmtRatio(2 / us)} under the limit` : `NOT met: ${fmtRatio(us / 2)} over the limit`,
    });
  }
  for (const rule of RULES) {
    const m10 = get(res, 'ours', rule.id, '10y').next;
    const m1 = get(res, 'ours', rule.id, '1y').next;
    const r = ratio(m10, m1);
    const met = r !== undefined && r <= 1.2;
    out.push({
      goal: `${rule.label}: ours, next() cost 10-year / 1-year DTSTART`,
      target: '≤ 1.20',
      measured: r === undefined ? '-' : `${r.toFixed(2)}${m10?.contended || m1?.contended ? ' (CPU time)' : ''}`,
      met: r === undefined ? undefined : met,
      verdict: r === undefined ? 'not measured' : met ? `met, ${(1.2 - r).toFixed(2)} under the limit` : `NOT met: ${r.toFixed(2)} is ${((r / 1.2 - 1) * 100).toFixed(0)}% over 1.20`,
    });
  }
  return out;
}

export interface Disagreement {
  readonly key: string;
  readonly what: string;
  readonly detail: string;
}

function compareLists(a: readonly number[] | undefined, b: readonly number[] | undefined): { equal: boolean; text: string } {
  if (!a || !b) return { equal: true, text: 'n/a' };
  if (a.length === b.length && a.every((x, i) => x === b[i])) return { equal: true, text: `${a.length}/${b.length} equal` };
  const sa = new Set(a);
  const sb = new Set(b);
  const show = (xs: number[]): string => xs.slice(0, 6).map((x) => `${nyLocal(x)} (${utc(x)})`).join(', ') + (xs.length > 6 ? `, … (${xs.length} in all)` : '');
  const parts = [`ours ${a.length}, peer ${b.length} occurrences`];
  const onlyA = a.filter((x) => !sb.has(x));
  const onlyB = b.filter((x) => !sa.has(x));
  if (onlyA.length) parts.push(`only in ours: ${show(onlyA)}`);
  if (onlyB.length) parts.push(`only in peer: ${show(onlyB)}`);
  const seen = new Set<number>();
  const repeats = b.filter((x) => (seen.has(x) ? true : (seen.add(x), false)));
  if (repeats.length) parts.push(`peer repeats: ${show(repeats)}`);
  const unordered = b.findIndex((x, i) => i > 0 && x < b[i - 1]!);
  if (unordered > 0) parts.push(`peer out of order at #${unordered + 1}: ${nyLocal(b[unordered]!)} (${utc(b[unordered]!)}) after ${nyLocal(b[unordered - 1]!)} (${utc(b[unordered - 1]!)})`);
  return { equal: false, text: parts.join('; ') };
}

export function crossCheck(res: Results): { table: Table; dstTable: Table; disagreements: Disagreement[] } {
  const rows: string[][] = [];
  const disagreements: Disagreement[] = [];
  const peers: LibName[] = ['rrule-temporal', 'rrule'];
  for (const rule of RULES) {
    for (const age of AGES) {
      const o = get(res, 'ours', rule.id, age.id);
      const ans = o.nextAtNow;
      const verdicts = peers.map((p) => {
        const c = get(res, p, rule.id, age.id);
        if (c.nextAtNow === undefined) return 'not computed (too slow)';
        if (c.nextAtNow === ans) return 'same';
        disagreements.push({ key: o.key, what: `${p} next after now`, detail: `ours ${nyLocal(ans)} (${ans === null || ans === undefined ? '-' : utc(ans)}), ${p} ${nyLocal(c.nextAtNow)} (${c.nextAtNow === null ? '-' : utc(c.nextAtNow)})` });
        return `DIFFERENT: ${nyLocal(c.nextAtNow)}`;
      });
      const lists = peers.map((p) => {
        const c = get(res, p, rule.id, age.id);
        const fromStart = compareLists(o.expandList, c.expandList);
        const fromNow = compareLists(o.fromNowList, c.fromNowList);
        if (!fromStart.equal) disagreements.push({ key: o.key, what: `${p}, first ${res.options.expandN} from DTSTART`, detail: fromStart.text });
        if (!fromNow.equal) disagreements.push({ key: o.key, what: `${p}, ${res.options.expandN} after now`, detail: fromNow.text });
        const a = fromStart.equal ? 'same' : 'DIFFERENT';
        const b = c.fromNowList === undefined ? 'n/a' : fromNow.equal ? 'same' : 'DIFFERENT';
        return `${a} / ${b}`;
      });
      rows.push([rule.label, age.label, nyLocal(ans), verdicts[0]!, verdicts[1]!, lists[0]!, lists[1]!]);
    }
  }
  const dstRows: string[][] = [];
  for (const rule of RULES) {
    for (const w of DST_WINDOWS) {
      const listOf = (lib: LibName): number[] | undefined => res.libs[lib].dst.find((d) => d.ruleId === rule.id && d.windowId === w.id)?.list;
      const mine = listOf('ours');
      const cells = peers.map((p) => {
        const cmp = compareLists(mine, listOf(p));
        if (!cmp.equal) disagreements.push({ key: `${rule.id}/${w.id}`, what: `${p}, occurrences over the DST window`, detail: cmp.text });
        return cmp.equal ? 'same' : 'DIFFERENT';
      });
      dstRows.push([rule.label, w.label, String(mine?.length ?? '-'), cells[0]!, cells[1]!]);
    }
  }
  return {
    dstTable: {
      title: 'Cross-check across DST changes',
      note: `Each rule from local midnight two days before a 2027 New York transition, for ${DST_WINDOWS[0]!.days} days: all occurrences in the window, compared with ours (ours: between(); peers: between(start - 1 ms, end + 1 ms, false)).`,
      headers: ['Rule', 'Window', 'ours: occurrences', 'rrule-temporal', 'rrule'],
      align: 'llrll',
      rows: dstRows,
    },
    table: {
      title: 'Cross-check: do the three libraries agree?',
      note: `"Next after now" is the first occurrence strictly after ${utc(NOW_MS)} (New York wall time shown). The last two columns compare the ${res.options.expandN} occurrences from DTSTART / the ${res.options.expandN} after now, element by element, with ours.`,
      headers: ['Rule', 'DTSTART', 'ours: next after now', 'rrule-temporal', 'rrule', `rrule-temporal lists`, `rrule lists`],
      align: 'lllllll',
      rows,
    },
    disagreements,
  };
}

function perCaseTable(res: Results, title: string, note: string, pick: (c: CaseResult) => Measurement | undefined, showSkips: boolean): Table {
  const rows: string[][] = [];
  for (const rule of RULES) {
    for (const age of AGES) {
      const o = get(res, 'ours', rule.id, age.id);
      const rt = get(res, 'rrule-temporal', rule.id, age.id);
      const rr = get(res, 'rrule', rule.id, age.id);
      let rrRatio = fmtRatio(ratio(pick(rr), pick(o)));
      if (!pick(rr) && showSkips && rr.guard?.timedOut && pick(o)) rrRatio = `> ${fmtRatio((rr.guard.ms * 1e6) / est(pick(o)!))}`;
      const derived = pick(rr) !== undefined && pick(rr) === rr.buildNext && rr.buildNextDerived === true;
      const rrCell = showSkips ? cell(pick(rr), rr, derived) : pick(rr) ? cell(pick(rr)) : rr.fromNowSkipped && title.includes('after now') ? 'skipped' : '-';
      rows.push([rule.label, age.label, cell(pick(o)), cell(pick(rt)), rrCell, fmtRatio(ratio(pick(rt), pick(o))), rrRatio]);
    }
  }
  return { title, note, headers: ['Rule', 'DTSTART age', 'ours', 'rrule-temporal', 'rrule', 'ours vs rrule-temporal', 'ours vs rrule'], align: 'llrrrrr', rows };
}

export function buildTables(res: Results): { tables: Table[]; goalTable: Table; goalList: Goal[]; disagreements: Disagreement[]; cross: Table; dstTable: Table } {
  const o = res.options;
  const timingNote = `Median time per call over timed batches; in parentheses the number of timed calls (after warm-up). Budget ${o.budgetMs} ms per measurement (at least ${o.minCalls} calls, hard stop at ${o.hardCapMs} ms); a call longer than the budget is measured once. "ours vs X" = X's time / ours. \`*\` = contended: fewer than 5% of the batches kept 90% of their wall time as CPU time, so the wall time is inflated by other processes; the median CPU time per call (process CPU time, all threads) is then shown too, and ratios and goals use the smaller of the two.`;
  const tables: Table[] = [];
  tables.push(
    perCaseTable(
      res,
      'Next occurrence after now, on an already-built rule object',
      `${timingNote} Query instants vary over the day after now (see Method). An rrule call predicted to take over ${o.rruleCallCapMs / 1000} s is not timed: a capped probe shows it exceeds that, and the estimate is a linear extrapolation.`,
      (c) => c.next,
      true,
    ),
  );
  tables.push(perCaseTable(res, 'Build from text + first next() call', `${timingNote} Each call parses/compiles the schedule from its text and asks for the next occurrence. \`≈\`: one next() call is longer than the budget, so this is the time to build alone (timed) plus that call.`, (c) => c.buildNext, true));
  tables.push(perCaseTable(res, `Expanding ${o.expandN.toLocaleString('en-US')} occurrences from DTSTART`, `ours: first(${o.expandN}); rrule-temporal and rrule: all((d, i) => i < ${o.expandN}). Time per expansion.`, (c) => c.expand, false));
  tables.push(
    perCaseTable(
      res,
      `Expanding ${o.expandN.toLocaleString('en-US')} occurrences after now`,
      `ours: first(${o.expandN}, now); peers (which have no "first n after"): between(now, ${o.expandN}th occurrence + 1 ms). rrule's between walks from DTSTART like its after(); skipped where that is slow.`,
      (c) => c.fromNow,
      false,
    ),
  );

  // 10y / 1y for everyone (information; the goal applies to ours).
  const ageRows: string[][] = [];
  for (const rule of RULES) {
    const row = [rule.label];
    for (const lib of ['ours', 'rrule-temporal', 'rrule'] as LibName[]) {
      const r1 = get(res, lib, rule.id, '1y');
      const r10 = get(res, lib, rule.id, '10y');
      const x = ratio(r10.next, r1.next);
      const bound = r10.guard?.timedOut && r1.next ? (r10.guard.ms * 1e6) / est(r1.next) : undefined;
      const guess = r10.guard?.estMs !== undefined && r1.next ? (r10.guard.estMs * 1e6) / est(r1.next) : undefined;
      row.push(x !== undefined ? x.toFixed(2) : bound !== undefined ? `> ${bound.toFixed(2)}${guess !== undefined ? ` (est. ${guess.toFixed(0)})` : ''}` : '-');
    }
    ageRows.push(row);
  }
  tables.push({
    title: 'Cost growth with the age of DTSTART: next() at 10 years / at 1 year',
    note: 'Both ages of a rule were timed round-robin in the same process, so machine drift affects them alike.',
    headers: ['Rule', 'ours', 'rrule-temporal', 'rrule'],
    align: 'lrrr',
    rows: ageRows,
  });

  // Conditions.
  tables.push({
    title: 'Run conditions',
    note: 'CPU share = CPU time / wall time of the child process (about 1.0 when it had a core to itself; lower means other processes were competing for the 2 vCPUs). Load = 1-minute load average at the start / end of the child.',
    headers: ['Process', 'wall time', 'CPU share', 'load at start', 'load at end', 'contended measurements'],
    align: 'lrrrrr',
    rows: (['ours', 'rrule-temporal', 'rrule'] as LibName[]).map((lib) => {
      const l = res.libs[lib];
      const ms = l.cases.flatMap((c) => [c.next, c.buildNext, c.expand, c.fromNow].filter((m): m is Measurement => m !== undefined));
      return [lib, `${l.seconds.toFixed(0)} s`, l.cpuShare.toFixed(2), l.loadStart[0]!.toFixed(2), l.loadEnd[0]!.toFixed(2), `${ms.filter((m) => m.contended).length} of ${ms.length}`];
    }),
  });

  // Memory.
  tables.push({
    title: `Memory: ${res.options.memoryN.toLocaleString('en-US')} rule objects (mix of the six rules)`,
    note: 'process.memoryUsage() after repeated global.gc(), before and after building the objects (kept alive in a pre-allocated array; the shared zone tables were built before the baseline). "with external" adds off-heap typed-array storage.',
    headers: ['Library', 'bytes/object (heap)', 'bytes/object (with external)', 'after one next(now) each (heap)', 'build time for all'],
    align: 'lrrrr',
    rows: res.memory.rows.map((m) => [
      m.lib,
      Math.round(m.heapPerObject).toLocaleString('en-US'),
      Math.round(m.totalPerObject).toLocaleString('en-US'),
      m.heapPerObjectAfterQuery === undefined ? 'not measured' : Math.round(m.heapPerObjectAfterQuery).toLocaleString('en-US'),
      `${m.buildSeconds.toFixed(2)} s`,
    ]),
  });

  // rrule.js floating side measurement.
  const flRows: string[][] = [];
  for (const rule of RULES) {
    for (const age of AGES) {
      const rr = get(res, 'rrule', rule.id, age.id);
      const o2 = get(res, 'ours', rule.id, age.id);
      if (!rr.floating) continue;
      flRows.push([rule.label, age.label, cell(rr.floating.next), fmtRatio(ratio(rr.floating.next, o2.next)), rr.floating.nextAtNow === o2.nextAtNow ? 'same' : `DIFFERENT: ${nyLocal(rr.floating.nextAtNow)}`]);
    }
  }
  tables.push({
    title: 'Side measurement: rrule without TZID ("floating" wall-clock mode)',
    note: 'rrule.js\'s default mode: DTSTART and the query are New York wall time written as UTC; no Intl conversion per occurrence. Timed: after(floatingDate) only (converting the query and the answer would add a few µs). Shows how much of rrule\'s TZID cost is its per-occurrence Intl conversion and how much its walk from DTSTART.',
    headers: ['Rule', 'DTSTART age', 'rrule (floating) next()', 'ours vs rrule (floating)', 'next after now vs ours'],
    align: 'llrrl',
    rows: flRows,
  });

  const goalList = goals(res);
  const goalTable: Table = {
    title: 'Goals',
    headers: ['Goal', 'Target', 'Measured', 'Verdict'],
    align: 'llrl',
    rows: goalList.map((g) => [g.goal, g.target, g.measured, g.verdict]),
  };
  const { table: cross, dstTable, disagreements } = crossCheck(res);
  return { tables, goalTable, goalList, disagreements, cross, dstTable };
}

export function summary(res: Results, goalList: readonly Goal[], disagreements: readonly Disagreement[]): string {
  const o = get(res, 'ours', 'hourly', '5y');
  const rt = get(res, 'rrule-temporal', 'hourly', '5y');
  const rr = get(res, 'rrule', 'hourly', '5y');
  const oursNs = RULES.flatMap((r) => AGES.map((a) => ((m) => (m ? est(m) : NaN))(get(res, 'ours', r.id, a.id).next)));
  const lo = Math.min(...oursNs);
  const hi = Math.max(...oursNs);
  const ages = RULES.map((r) => ratio(get(res, 'ours', r.id, '10y').next, get(res, 'ours', r.id, '1y').next) ?? NaN);
  const mem = res.memory.rows.find((m) => m.lib === 'ours')!;
  const failed = goalList.filter((g) => g.met === false);
  const rtVerdict = ratio(rt.next, o.next);
  const rrVerdict = ratio(rr.next, o.next);
  const times = (x: number | undefined): string =>
    x === undefined ? '?' : x >= 1e6 ? `${(x / 1e6).toPrecision(2)} million times` : `${fmtRatio(x).replace('×', '')} times`;
  const rrText =
    rrVerdict !== undefined
      ? `${times(rrVerdict)} faster than rrule ${res.libs.rrule.version} (${fmtTime(rr.next?.medianNs)} per call${rr.next?.contended ? `, ${fmtTime(rr.next.medianCpuNs)} of it CPU time on the shared machine` : ''})`
      : rr.guard?.timedOut && o.next
        ? `more than ${times((rr.guard.ms * 1e6) / est(o.next))} faster than rrule ${res.libs.rrule.version} (one call takes more than ${fmtTime(rr.guard.ms * 1e6)})`
        : `not compared with rrule ${res.libs.rrule.version} (not measured)`;
  const parts = [
    `On one ${res.libs.ours.node} process per library (same machine, back to back), our recurrence engine answers "next occurrence after now" for six typical New York schedules in ${fmtTime(lo)} to ${fmtTime(hi)} per call on an already-compiled schedule, whether DTSTART is 1 day or 10 years old (10-year/1-year cost ratio ${Math.min(...ages).toFixed(2)} to ${Math.max(...ages).toFixed(2)}).`,
    `On the 5-year-old hourly rule it is ${times(rtVerdict)} faster than rrule-temporal ${res.libs['rrule-temporal'].version} (${fmtTime(rt.next ? est(rt.next) : undefined)} per call) and ${rrText}, because rrule walks from DTSTART on every query and converts every occurrence it passes with Intl.`,
    `A compiled schedule holds about ${Math.round(mem.heapPerObject).toLocaleString('en-US')} bytes of heap (${Math.round(mem.heapPerObjectAfterQuery ?? mem.heapPerObject).toLocaleString('en-US')} after its first query), i.e. about ${((mem.heapPerObject * 100_000) / 1024 / 1024).toFixed(0)} MB per 100,000 tasks.`,
    failed.length === 0 ? 'All goals of the issue are met.' : `Goals not met: ${failed.map((g) => `${g.goal} (${g.measured}, target ${g.target})`).join('; ')}.`,
    disagreements.length === 0
      ? 'The three libraries agree on every next occurrence, expansion and DST window that was cross-checked.'
      : (() => {
          const dst = disagreements.filter((d) => d.what.includes('DST'));
          const other = disagreements.filter((d) => !d.what.includes('DST'));
          const who = [...new Set(dst.map((d) => d.what.split(',')[0]!))];
          const rules = [...new Set(dst.map((d) => RULES.find((r) => r.id === d.key.split('/')[0])?.label ?? d.key))];
          return (
            (other.length === 0
              ? 'The three libraries agree on every next occurrence after now and every expansion of the six rules. '
              : `The libraries disagree in ${other.length} next-occurrence or expansion cross-check(s) (listed below). `) +
            (dst.length === 0
              ? 'They also agree across both 2027 DST changes.'
              : `Across the 2027 DST changes, ${who.join(' and ')} disagree${who.length === 1 ? 's' : ''} with ours on ${rules.map((r) => `the "${r}" rule`).join(', ')} (${dst.length} of ${RULES.length * DST_WINDOWS.length} rule/window pairs; analysed below).`)
          );
        })(),
  ];
  return parts.join(' ');
}
