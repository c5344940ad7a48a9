/**
 * A task's whole schedule: `timeZone`, `startDateTime`, `endDateTime` and the `recurrence` lines,
 * compiled once and then queried. This is the only entry point the rest of the service uses, so
 * the API's `nextExecutionTime`, the scheduler's firings and `reload-task preview` can never
 * disagree about what a schedule means. See docs/time-semantics.md.
 *
 * Instants cross this interface as epoch milliseconds (whole seconds); inside, the engine counts
 * UTC seconds.
 */
import { SECONDS_PER_DAY, formatLocalSeconds, formatOffset } from './calendar.js';
import { RecurrenceError } from './errors.js';
import { parseLocalDateTime } from './local-date-time.js';
import { parseLine, type DateValue } from './parse.js';
import { BudgetExhausted, CompiledRule, MAX_STEPS_PER_QUERY, budget, instantOf } from './rule.js';
import { TimeZone } from './zone.js';

export interface ScheduleInput {
  /** IANA zone name; required. */
  readonly timeZone: string;
  /** Local wall time without offset; empty or absent means "not set". */
  readonly startDateTime?: string | null | undefined;
  /** Local wall time without offset; closes the window, inclusive. */
  readonly endDateTime?: string | null | undefined;
  /** RRULE / EXRULE / RDATE / EXDATE lines (or bare `FREQ=…` rules). */
  readonly recurrence?: readonly unknown[] | null | undefined;
}

export interface Schedule {
  readonly timeZone: string;
  /** True for "no schedule": no start and no recurrence lines (an autoReload-only task). */
  readonly isEmpty: boolean;
  /** The start instant (epoch ms), or null for an empty schedule. */
  readonly start: number | null;
  /** The end instant (epoch ms), or null when open-ended. */
  readonly end: number | null;
  /** The first occurrence strictly after `afterMs`, or null when none is left. */
  next(afterMs: number): number | null;
  /** The first `n` occurrences, from the start or strictly after `afterMs`. */
  first(n: number, afterMs?: number): number[];
  /** Occurrences t with afterMs < t <= untilMs, at most `limit` of them. */
  between(afterMs: number, untilMs: number, limit?: number): number[];
  /** RFC 3339 local time with the zone's offset at that instant: `2027-03-14T03:30:00-04:00`. */
  formatLocal(ms: number): string;
  /**
   * Throws RecurrenceError when a rule's COUNT is more occurrences than a query can count. COUNT is
   * counted from the start (rule.ts) within a query's budget: a count that cannot be finished
   * within half of it would one day, the schedule having run long enough, be too many to count for
   * a process that compiles the schedule afresh (after a restart), and the task would stop firing.
   * For validation (a task's create or change): it counts every rule to its end now.
   */
  checkCountable(): void;
}

/** Largest `between` / `first` answer, so that a SECONDLY rule cannot fill memory. */
export const MAX_LIST = 100_000;

/**
 * The last instant a schedule can name, 9999-12-31T23:59:59Z (UTC seconds): the API writes times
 * as `YYYY-MM-DDTHH:MM:SSZ`, which has no year 10000. A start after it is refused; occurrences
 * after it do not exist, so such a schedule ends there (`9999-12-31T23:59:59` west of UTC is in
 * year 10000).
 */
export const LAST_INSTANT = 253_402_300_799;

/** Compiles (and so validates) a schedule; throws RecurrenceError naming the field at fault. */
export function compileSchedule(input: ScheduleInput): Schedule {
  if (typeof input.timeZone !== 'string' || input.timeZone === '') {
    throw new RecurrenceError('timeZone', 'is required (an IANA time zone name such as Europe/Zurich)');
  }
  const zone = TimeZone.get(input.timeZone);
  if (!zone) throw new RecurrenceError('timeZone', `'${clip(input.timeZone)}' is not an IANA time zone name`);

  const startText = input.startDateTime ?? '';
  const endText = input.endDateTime ?? '';
  const lines = input.recurrence ?? [];
  if (!Array.isArray(lines)) throw new RecurrenceError('recurrence', 'must be an array of strings');

  const startLocal = startText === '' ? undefined : parseLocalDateTime(startText, 'startDateTime');
  const endLocal = endText === '' ? undefined : parseLocalDateTime(endText, 'endDateTime');
  const parsed = lines.map((line, i) => parseLine(line, `recurrence[${i}]`));

  if (startLocal === undefined) {
    if (parsed.length > 0) throw new RecurrenceError('startDateTime', 'is required when recurrence lines are given');
    if (endLocal !== undefined) throw new RecurrenceError('endDateTime', 'needs a startDateTime');
    return new EmptySchedule(input.timeZone);
  }
  const startInstant = zone.resolve(startLocal);
  if (startInstant < 0) {
    throw new RecurrenceError('startDateTime', `'${clip(String(startText))}' in ${input.timeZone} is before 1970-01-01T00:00:00Z`);
  }
  if (startInstant > LAST_INSTANT) {
    throw new RecurrenceError('startDateTime', `'${clip(String(startText))}' in ${input.timeZone} is after 9999-12-31T23:59:59Z`);
  }
  let endInstant = Infinity;
  if (endLocal !== undefined) {
    endInstant = zone.resolve(endLocal);
    if (endInstant <= startInstant) throw new RecurrenceError('endDateTime', 'must be after startDateTime');
  }

  // Rules stop at the window's end or at the last instant a schedule can name, whichever is first.
  const horizon = Math.min(endInstant, LAST_INSTANT);
  const rules: Array<{ rule: CompiledRule; field: string }> = [];
  const exrules: Array<{ rule: CompiledRule; field: string }> = [];
  const rdates: number[] = [];
  const exInstants = new Set<number>();
  const exDays = new Set<number>();
  const startTimeOfDay = startLocal - Math.floor(startLocal / SECONDS_PER_DAY) * SECONDS_PER_DAY;
  parsed.forEach((line, i) => {
    const field = `recurrence[${i}]`;
    switch (line.kind) {
      case 'RRULE':
        rules.push({ rule: new CompiledRule(line.rule, startLocal, startInstant, zone, horizon), field });
        break;
      case 'EXRULE':
        exrules.push({ rule: new CompiledRule(line.rule, startLocal, startInstant, zone, horizon), field });
        break;
      case 'RDATE':
        // A DATE in RDATE means that date at the start's time of day.
        for (const v of line.values) rdates.push(v.kind === 'date' ? zone.resolve(v.day * SECONDS_PER_DAY + startTimeOfDay) : instantOf(v, zone));
        break;
      case 'EXDATE':
        for (const v of line.values) addExclusion(v, zone, exInstants, exDays);
        break;
    }
  });
  // With neither RRULE nor RDATE, the start is the schedule's one occurrence.
  if (rules.length === 0 && !parsed.some((l) => l.kind === 'RDATE')) rdates.push(startInstant);

  return new CompiledSchedule(input.timeZone, zone, startInstant, endInstant, horizon, rules, exrules, [...new Set(rdates)].sort((a, b) => a - b), exInstants, exDays);
}

/**
 * The local wall time (`2027-01-01T11:18:00`) of the minute containing `ms` in `timeZone`, or null
 * for a name that is not a zone. A task whose recurrence lines come without a start is anchored at
 * the minute after the one it is created in (docs/time-semantics.md).
 */
export function localMinuteAt(timeZone: string, ms: number): string | null {
  const zone = TimeZone.get(timeZone);
  if (!zone) return null;
  const local = zone.toLocal(Math.floor(ms / 1000));
  return formatLocalSeconds(local - (((local % 60) + 60) % 60));
}

/**
 * The start of a task whose recurrence lines come without one: the local wall time
 * (`2027-01-01T11:19:00`) of the first whole minute after `ms` in `timeZone` that reads back as an
 * instant after `ms`; null for a name that is not a zone. In a repeated (fall-back) hour the next
 * minute's wall time reads as its first instant, an hour in the past, and a start there would have
 * the schedule's first occurrences (a COUNT's, a weekly rule's first week) already passed: such
 * minutes are passed over until the hour has been repeated.
 */
export function anchorMinuteAfter(timeZone: string, ms: number): string | null {
  const zone = TimeZone.get(timeZone);
  if (!zone) return null;
  const now = Math.floor(ms / 1000);
  for (let t = now + 60, i = 0; i < 24 * 60; i++, t += 60) {
    const local = zone.toLocal(t);
    const minute = local - (((local % 60) + 60) % 60);
    if (zone.resolve(minute) > now) return formatLocalSeconds(minute);
  }
  return null;
}

/**
 * EXDATE: a UTC value removes that instant; a local value removes every instant of that wall time
 * (both, in a fall-back overlap; the shifted one, in a gap); a DATE removes the whole local day.
 */
function addExclusion(v: DateValue, zone: TimeZone, instants: Set<number>, days: Set<number>): void {
  if (v.kind === 'date') {
    days.add(v.day);
    return;
  }
  if (v.kind === 'utc') {
    instants.add(v.utc);
    return;
  }
  const z = v.zone ?? zone;
  instants.add(z.resolve(v.local));
  if (!Number.isNaN(z.secondInstant)) instants.add(z.secondInstant);
}

class EmptySchedule implements Schedule {
  readonly isEmpty = true;
  readonly start = null;
  readonly end = null;
  constructor(readonly timeZone: string) {}
  next(): number | null {
    return null;
  }
  first(): number[] {
    return [];
  }
  between(): number[] {
    return [];
  }
  formatLocal(ms: number): string {
    return formatIn(TimeZone.get(this.timeZone)!, ms);
  }
  checkCountable(): void {}
}

class CompiledSchedule implements Schedule {
  readonly isEmpty = false;
  readonly timeZone: string;
  readonly start: number;
  readonly end: number | null;

  constructor(
    /** The zone's name as given (the zone itself may go by its canonical name). */
    timeZone: string,
    private readonly zone: TimeZone,
    private readonly startInstant: number,
    private readonly endInstant: number,
    /** min(endInstant, LAST_INSTANT): no occurrence is after it. */
    private readonly horizon: number,
    private readonly rules: ReadonlyArray<{ rule: CompiledRule; field: string }>,
    private readonly exrules: ReadonlyArray<{ rule: CompiledRule; field: string }>,
    private readonly rdates: readonly number[],
    private readonly exInstants: ReadonlySet<number>,
    private readonly exDays: ReadonlySet<number>,
  ) {
    this.timeZone = timeZone;
    this.start = startInstant * 1000;
    this.end = endInstant === Infinity ? null : endInstant * 1000;
  }

  next(afterMs: number): number | null {
    const x = this.nextSecond(toSecond(afterMs));
    return x === Infinity ? null : x * 1000;
  }

  first(n: number, afterMs?: number): number[] {
    const from = afterMs === undefined ? this.startInstant - 1 : toSecond(afterMs);
    return this.collect(from, Infinity, Math.min(n, MAX_LIST));
  }

  between(afterMs: number, untilMs: number, limit = MAX_LIST): number[] {
    return this.collect(toSecond(afterMs), Math.floor(untilMs / 1000), Math.min(limit, MAX_LIST));
  }

  formatLocal(ms: number): string {
    return formatIn(this.zone, ms);
  }

  checkCountable(): void {
    for (const { rule, field } of [...this.rules, ...this.exrules]) {
      budget.left = MAX_STEPS_PER_QUERY / 2;
      try {
        rule.countAll();
      } catch (e) {
        if (!(e instanceof BudgetExhausted)) throw e;
        throw new RecurrenceError(field, 'COUNT is more occurrences than can be counted; use UNTIL (or endDateTime) instead, or a smaller COUNT');
      }
    }
  }

  private collect(after: number, until: number, limit: number): number[] {
    const out: number[] = [];
    let t = after;
    while (out.length < limit) {
      const x = this.nextSecond(t);
      if (x === Infinity || x > until) break;
      out.push(x * 1000);
      t = x;
    }
    return out;
  }

  /** The first occurrence (UTC seconds) strictly after t, or Infinity. */
  private nextSecond(t: number): number {
    budget.left = MAX_STEPS_PER_QUERY;
    let field = 'recurrence';
    try {
      let after = Math.max(t, this.startInstant - 1);
      for (;;) {
        let best = Infinity;
        for (const { rule, field: f } of this.rules) {
          field = f;
          const x = rule.next(after);
          if (x < best) best = x;
        }
        const rd = firstAbove(this.rdates, after);
        if (rd < best) best = rd;
        if (best === Infinity || best > this.horizon) return Infinity;
        if (!this.excluded(best, (f) => (field = f))) return best;
        after = best;
      }
    } catch (e) {
      if (e instanceof BudgetExhausted) {
        throw new RecurrenceError(field, 'this rule cannot be evaluated within the search budget (it fires too rarely or counts too many occurrences); simplify it or move startDateTime later');
      }
      throw e;
    }
  }

  private excluded(x: number, track: (field: string) => void): boolean {
    if (this.exInstants.has(x)) return true;
    if (this.exDays.size > 0 && this.exDays.has(Math.floor(this.zone.toLocal(x) / SECONDS_PER_DAY))) return true;
    for (const { rule, field } of this.exrules) {
      track(field);
      if (rule.includes(x)) return true;
    }
    return false;
  }
}

function toSecond(ms: number): number {
  if (!Number.isFinite(ms)) throw new RangeError(`not an instant: ${ms}`);
  return Math.floor(ms / 1000);
}

/** The first element > t of an ascending array, or Infinity. */
function firstAbove(sorted: readonly number[], t: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! <= t) lo = mid + 1;
    else hi = mid;
  }
  return lo < sorted.length ? sorted[lo]! : Infinity;
}

function formatIn(zone: TimeZone, ms: number): string {
  const utc = Math.floor(ms / 1000);
  const offset = zone.offsetAt(utc);
  return formatLocalSeconds(utc + offset) + formatOffset(offset);
}

function clip(s: string): string {
  return s.length > 40 ? `${s.slice(0, 37)}...` : s;
}
