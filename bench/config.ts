/**
 * What the recurrence benchmark measures: the fixed "now", the zone, the six typical rules and the
 * four DTSTART ages. Shared by the orchestrator (run.ts) and the per-library child processes.
 */

export const ZONE = 'America/New_York';

/** Fixed "now" for reproducibility: 2026-11-29T12:00:00Z, i.e. 07:00 EST in New York. */
export const NOW_MS = Date.UTC(2026, 10, 29, 12, 0, 0);
/** NOW_MS as New York wall time (checked against Intl at start-up by `checkNowLocal`). */
export const NOW_LOCAL = { year: 2026, month: 11, day: 29, hour: 7, minute: 0, second: 0 } as const;

export interface RuleDef {
  readonly id: string;
  readonly label: string;
  readonly rrule: string;
}

export const RULES: readonly RuleDef[] = [
  { id: 'daily', label: 'Daily 11:18 (Qlik ex. 1)', rrule: 'RRULE:FREQ=DAILY;INTERVAL=1;BYHOUR=11;BYMINUTE=18;BYSECOND=0' },
  { id: 'weekly', label: 'Every 2nd week Mo,Tu 13:17 (Qlik ex. 2)', rrule: 'RRULE:FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,TU;BYHOUR=13;BYMINUTE=17;BYSECOND=0' },
  { id: 'hourly', label: 'Hourly 08-17', rrule: 'RRULE:FREQ=HOURLY;BYHOUR=8,9,10,11,12,13,14,15,16,17;BYMINUTE=0;BYSECOND=0' },
  { id: 'monthly', label: 'Monthly last day 02:00', rrule: 'RRULE:FREQ=MONTHLY;BYMONTHDAY=-1;BYHOUR=2;BYMINUTE=0;BYSECOND=0' },
  { id: 'yearly', label: 'Yearly last Sun of March 03:00', rrule: 'RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU;BYHOUR=3;BYMINUTE=0;BYSECOND=0' },
  { id: 'minutely', label: 'Every 15 minutes', rrule: 'RRULE:FREQ=MINUTELY;INTERVAL=15' },
];

export interface AgeDef {
  readonly id: string;
  readonly label: string;
  readonly days: number;
  readonly years: number;
}

/** DTSTART = "now" in New York wall time, minus this many calendar days / years. */
export const AGES: readonly AgeDef[] = [
  { id: '1d', label: '1 day', days: 1, years: 0 },
  { id: '1y', label: '1 year', days: 0, years: 1 },
  { id: '5y', label: '5 years', days: 0, years: 5 },
  { id: '10y', label: '10 years', days: 0, years: 10 },
];

export interface Case {
  readonly rule: RuleDef;
  readonly age: AgeDef;
  /** Local wall time in ZONE, `YYYY-MM-DDTHH:MM:SS` (our engine's `startDateTime`). */
  readonly startLocal: string;
  /** The same schedule as iCalendar text, for the peers: `DTSTART;TZID=...` + RRULE line. */
  readonly ics: string;
  /** DTSTART's wall-clock fields as a "floating UTC" Date value (rrule.js convention). */
  readonly floatingStartMs: number;
}

const pad = (n: number, w = 2): string => String(n).padStart(w, '0');

export function startLocalFor(age: AgeDef): { text: string; floatingMs: number } {
  const { year, month, day, hour, minute, second } = NOW_LOCAL;
  const d = new Date(Date.UTC(year - age.years, month - 1, day - age.days, hour, minute, second));
  const text = `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}T${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
  return { text, floatingMs: d.getTime() };
}

export function allCases(): Case[] {
  const out: Case[] = [];
  for (const rule of RULES) {
    for (const age of AGES) {
      const { text, floatingMs } = startLocalFor(age);
      out.push({ rule, age, startLocal: text, ics: `DTSTART;TZID=${ZONE}:${text.replace(/[-:]/g, '')}\n${rule.rrule}`, floatingStartMs: floatingMs });
    }
  }
  return out;
}

export const caseKey = (c: { rule: RuleDef; age: AgeDef }): string => `${c.rule.id}/${c.age.id}`;

/**
 * The `after` instants used by the timed next-occurrence calls, so that no library can answer
 * every call from one memoised result: RING instants 21 s apart covering the ~24 h after now,
 * visited in a scattered order (call i uses slot i*1597 mod RING, i.e. now + (i*33,537 s mod
 * 86,016 s)), so that even a short batch samples the whole day rather than one hour of it (a
 * rule's cost can depend on the time of day of the query). Call 0 asks at `now`
 * itself. Precomputed (as epoch ms for ours, as Date objects for the peers) so that building the
 * argument is not part of the timed work.
 */
export const RING = 4096;
export const RING_STEP_S = 21;
export const RING_STRIDE = 1597;
export const AFTER_MS: Float64Array = Float64Array.from({ length: RING }, (_, i) => NOW_MS + ((i * RING_STRIDE) % RING) * RING_STEP_S * 1000);

/** Throws unless NOW_MS really is NOW_LOCAL in ZONE (guards the hand-written constant). */
export function checkNowLocal(): void {
  const f = new Intl.DateTimeFormat('en-US', { timeZone: ZONE, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' });
  const parts = Object.fromEntries(f.formatToParts(NOW_MS).map((p) => [p.type, p.value]));
  const got = [parts.year, parts.month, parts.day, parts.hour, parts.minute, parts.second].map(Number);
  const want = [NOW_LOCAL.year, NOW_LOCAL.month, NOW_LOCAL.day, NOW_LOCAL.hour, NOW_LOCAL.minute, NOW_LOCAL.second];
  if (got.join() !== want.join()) throw new Error(`NOW_LOCAL mismatch: Intl says ${got.join()} for ${new Date(NOW_MS).toISOString()} in ${ZONE}`);
}

/**
 * DST windows for the cross-check: each rule from local midnight two days before a 2027 New York
 * transition, through three days. (The six typical rules never meet a DST change in their
 * next-after-now answers or in the expansions above; these windows make sure the libraries'
 * handling of the gap and the overlap is compared too.)
 */
export interface DstWindow {
  readonly id: string;
  readonly label: string;
  /** DTSTART, local wall time in ZONE. */
  readonly startLocal: string;
  readonly days: number;
}

export const DST_WINDOWS: readonly DstWindow[] = [
  { id: 'spring-2027', label: 'spring forward 2027-03-14 (02:00 EST -> 03:00 EDT)', startLocal: '2027-03-13T00:00:00', days: 3 },
  { id: 'fall-2027', label: 'fall back 2027-11-07 (02:00 EDT -> 01:00 EST)', startLocal: '2027-11-06T00:00:00', days: 3 },
];

export function dstCase(rule: RuleDef, w: DstWindow): Case {
  const [y, mo, d, h, mi, se] = w.startLocal.split(/[-T:]/).map(Number) as [number, number, number, number, number, number];
  return {
    rule,
    age: { id: w.id, label: w.label, days: 0, years: 0 },
    startLocal: w.startLocal,
    ics: `DTSTART;TZID=${ZONE}:${w.startLocal.replace(/[-:]/g, '')}\n${rule.rrule}`,
    floatingStartMs: Date.UTC(y, mo - 1, d, h, mi, se),
  };
}

/** The instant of a local wall time in ZONE (the earlier one if repeated), computed with Intl only. */
export function instantOfLocal(floatingMs: number): number {
  const f = new Intl.DateTimeFormat('en-US', { timeZone: ZONE, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' });
  const offset = (ms: number): number => {
    const p = Object.fromEntries(f.formatToParts(ms).map((x) => [x.type, Number(x.value)]));
    return Date.UTC(p.year!, p.month! - 1, p.day!, p.hour!, p.minute!, p.second!) - ms;
  };
  const guess = floatingMs - offset(floatingMs);
  return floatingMs - offset(guess);
}

/** Options shared by the orchestrator and the children (set from run.ts's command line). */
export interface BenchOptions {
  /** Timed-phase budget per measurement (ms); a measurement stops once it has used this and made minCalls calls. */
  readonly budgetMs: number;
  /** Hard stop per measurement (ms), even below minCalls. */
  readonly hardCapMs: number;
  readonly minCalls: number;
  readonly warmupMs: number;
  /** Target duration of one timed batch (ms). */
  readonly batchMs: number;
  /** rrule.js only: a single next-occurrence call predicted to take longer than this (ms) is not timed. */
  readonly rruleCallCapMs: number;
  /** Number of occurrences to expand. */
  readonly expandN: number;
  /** Number of schedules in the memory test. */
  readonly memoryN: number;
}

export const DEFAULT_OPTIONS: BenchOptions = {
  budgetMs: 500,
  hardCapMs: 2000,
  minCalls: 3,
  warmupMs: 100,
  batchMs: 0.5,
  rruleCallCapMs: 15_000,
  expandN: 1000,
  memoryN: 100_000,
};

export const QUICK_OPTIONS: BenchOptions = {
  ...DEFAULT_OPTIONS,
  budgetMs: 60,
  hardCapMs: 200,
  warmupMs: 20,
  batchMs: 2,
  rruleCallCapMs: 300,
  memoryN: 10_000,
};
