/**
 * One compiled RRULE or EXRULE: its candidates in local wall time, and the instants they denote.
 *
 * Expansion follows RFC 5545 §3.3.10: the rule's periods (years, months, weeks, days, hours,
 * minutes or seconds, stepped by INTERVAL from the start's period) each yield a set of local times
 * (day-level parts through a DayFilter, time-level parts as a fixed list), BYSETPOS picks within
 * each period's set, and the local times map to instants in the zone. A query never walks from the
 * start: it jumps to the period holding the query's local time, so its cost does not grow with
 * the age of the rule. COUNT is the exception by nature (the n-th occurrence depends on all
 * before it); it is counted lazily and the count is kept, so a scheduler walking forward pays for
 * each occurrence once.
 */
import { SECONDS_PER_DAY, daysFromCivil, greatestCommonDivisor, mod, weekdayOfDay, yearOfDay } from './calendar.js';
import { DayFilter, HORIZON_LOCAL, lowerBound } from './day-filter.js';
import { Freq, type DateValue, type RuleParts } from './parse.js';
import type { TimeZone } from './zone.js';

/**
 * Every query has a bounded search budget: a rule that can never match must answer "none" fast,
 * and a rule that matches once in centuries must not hold a request. Each loop step of a query
 * spends one unit; a query that runs out throws BudgetExhausted, which the schedule turns into a
 * RecurrenceError naming the line (never a wrong answer).
 */
export const MAX_STEPS_PER_QUERY = 250_000;

export class BudgetExhausted extends Error {
  constructor() {
    super('recurrence search budget exhausted');
  }
}

export const budget = { left: MAX_STEPS_PER_QUERY };

function spend(): void {
  if (--budget.left < 0) throw new BudgetExhausted();
}

const ceilDiv = (a: number, b: number): number => Math.ceil(a / b);

/** The smallest multiple of `interval` that is >= r (r >= 0): the first period of the rule at or after r. */
const alignUp = (r: number, interval: number): number => ceilDiv(r, interval) * interval;

/** Converts a DATE / DATE-TIME value of the schedule's zone (or its TZID) to an instant. */
export function instantOf(value: DateValue, zone: TimeZone): number {
  switch (value.kind) {
    case 'utc':
      return value.utc;
    case 'local':
      return (value.zone ?? zone).resolve(value.local);
    case 'date':
      // A DATE bound (UNTIL) means "through the end of that local day".
      return zone.resolve((value.day + 1) * SECONDS_PER_DAY) - 1;
  }
}

export class CompiledRule {
  private readonly freq: Freq;
  private readonly interval: number;
  private readonly zone: TimeZone;
  private readonly subDaily: boolean;
  private readonly filter: DayFilter;
  /** Start of the window (instant); candidates before it are not occurrences. */
  private readonly startInstant: number;
  private readonly untilInstant: number;
  private readonly count: number | undefined;
  private readonly setPos: readonly number[] | undefined;
  /** True when static checks show the rule has no occurrence at all. */
  readonly empty: boolean;

  // Local start.
  private readonly startDay: number;
  private readonly startYear: number;
  private readonly startMonthIndex: number;
  private readonly startWeek: number;
  private readonly wkst: number;

  // DAILY and longer: seconds of the day, ascending (for DAILY already narrowed by BYSETPOS).
  private readonly times: Int32Array;

  // HOURLY and shorter.
  private readonly unit: number;
  private readonly period: number;
  private readonly base: number;
  private readonly offsets: Int32Array;
  private readonly hourOk: Uint8Array | undefined;
  private readonly minuteOk: Uint8Array | undefined;
  private readonly secondOk: Uint8Array | undefined;

  // COUNT bookkeeping: every occurrence up to countedThrough (inclusive) is within the count.
  private countedThrough: number;
  private counted = 0;

  // The last BYSETPOS period materialised.
  private setPosKey = Number.NaN;
  private setPosList: number[] = [];

  /** Local seconds beyond which no candidate can map into the rule's bounds (UNTIL, the window's end). */
  private readonly localBound: number;

  constructor(parts: RuleParts, startLocal: number, startInstant: number, zone: TimeZone, endInstant = Infinity) {
    this.freq = parts.freq;
    this.interval = parts.interval;
    this.zone = zone;
    this.subDaily = parts.freq >= Freq.HOURLY;
    this.startInstant = startInstant;
    this.untilInstant = Math.min(parts.until ? instantOf(parts.until, zone) : Infinity, endInstant);
    // No zone's offset exceeds ±26 h, so a local time past this bound maps past the instant bound.
    this.localBound = Math.min(HORIZON_LOCAL, this.untilInstant + 26 * 3600);
    this.count = parts.count;
    this.countedThrough = startInstant - 1;
    this.wkst = parts.wkst;

    const startDay = Math.floor(startLocal / SECONDS_PER_DAY);
    const sod = startLocal - startDay * SECONDS_PER_DAY;
    const startYear = yearOfDay(startDay);
    const startMonth = monthOfDay(startDay, startYear);
    this.startDay = startDay;
    this.startYear = startYear;
    this.startMonthIndex = startYear * 12 + startMonth - 1;
    this.startWeek = startDay - mod(weekdayOfDay(startDay) - parts.wkst, 7);

    // Parts the rule leaves out are taken from the start (RFC 5545 §3.3.10, "information, not
    // contained in the rule, necessary to determine the various recurrence instance start time and
    // dates are derived from the Start Time").
    const f = parts.freq;
    const byHour = parts.byHour ?? (f < Freq.HOURLY ? [Math.floor(sod / 3600)] : undefined);
    const byMinute = parts.byMinute ?? (f < Freq.MINUTELY ? [Math.floor((sod % 3600) / 60)] : undefined);
    const bySecond = parts.bySecond ?? (f < Freq.SECONDLY ? [sod % 60] : undefined);
    let { byMonth, byMonthDay, byDay } = parts;
    if (!parts.byWeekNo && !parts.byYearDay && !parts.byMonthDay && !parts.byDay) {
      const startDate = dayOfMonth(startDay, startYear, startMonth);
      if (f === Freq.YEARLY) {
        byMonth ??= [startMonth];
        byMonthDay = [startDate];
      } else if (f === Freq.MONTHLY) {
        byMonthDay = [startDate];
      } else if (f === Freq.WEEKLY) {
        byDay = [{ weekday: weekdayOfDay(startDay), n: 0 }];
      }
    }
    this.filter = DayFilter.of({
      byMonth,
      byWeekNo: parts.byWeekNo,
      byYearDay: parts.byYearDay,
      byMonthDay,
      byDay,
      ordinalsInMonth: f === Freq.MONTHLY || (f === Freq.YEARLY && byMonth !== undefined),
      wkst: parts.wkst,
    });
    this.setPos = parts.bySetPos;

    let empty = false;
    if (!this.subDaily) {
      // Second 60 (a leap second) is valid RFC 5545 but no instant has it: it yields nothing.
      const secs = (bySecond ?? [0]).filter((s) => s < 60);
      const list: number[] = [];
      for (const h of byHour ?? [0]) for (const m of byMinute ?? [0]) for (const s of secs) list.push(h * 3600 + m * 60 + s);
      let times = uniqueSorted(list);
      if (f === Freq.DAILY && this.setPos) times = selectPositions(times, this.setPos);
      this.times = Int32Array.from(times);
      empty = times.length === 0;
      // BYSETPOS beyond the largest set a period can have never selects anything (a week has at most
      // 7 days, a month 31, a year 366): such a rule is empty, not a search to the horizon.
      if (this.setPos && f !== Freq.DAILY) {
        const days = f === Freq.YEARLY ? 366 : f === Freq.MONTHLY ? 31 : new Set((byDay ?? []).map((d) => d.weekday)).size || 7;
        const largest = days * times.length;
        if (this.setPos.every((p) => Math.abs(p) > largest)) empty = true;
      }
      this.unit = this.period = this.base = 0;
      this.offsets = new Int32Array(0);
      if (f === Freq.DAILY && this.interval % 7 === 0 && !visitsAWeekday(byDay, byMonth, byMonthDay, parts.byYearDay, startDay)) empty = true;
    } else {
      this.times = new Int32Array(0);
      this.unit = f === Freq.HOURLY ? 3600 : f === Freq.MINUTELY ? 60 : 1;
      this.period = this.unit * this.interval;
      this.base = Math.floor(startLocal / this.unit) * this.unit;
      // Within a period, the finer parts expand; the coarser ones limit whole periods.
      let offs: number[];
      if (f === Freq.HOURLY) {
        offs = [];
        for (const m of byMinute!) for (const s of bySecond!) if (s < 60) offs.push(m * 60 + s);
      } else if (f === Freq.MINUTELY) {
        offs = bySecond!.filter((s) => s < 60);
      } else {
        offs = [0];
      }
      offs = uniqueSorted(offs);
      if (this.setPos) offs = selectPositions(offs, this.setPos);
      this.offsets = Int32Array.from(offs);
      this.hourOk = byHour ? flags(24, byHour) : undefined;
      this.minuteOk = f >= Freq.MINUTELY && byMinute ? flags(60, byMinute) : undefined;
      this.secondOk = f === Freq.SECONDLY && bySecond ? flags(60, bySecond.filter((s) => s < 60)) : undefined;
      empty = offs.length === 0 || !this.reachable(byDay && byDay.map((d) => d.weekday), startLocal);
      if (this.period % (7 * SECONDS_PER_DAY) === 0 && !visitsAWeekday(byDay, byMonth, byMonthDay, parts.byYearDay, startDay)) empty = true;
    }
    this.empty = empty;
  }

  /** The first instant strictly after `t` (UTC seconds), within COUNT; Infinity when none. */
  next(t: number): number {
    const x = this.nextUncounted(t);
    if (this.count === undefined || x === Infinity || x <= this.countedThrough) return x;
    while (this.counted < this.count) {
      const y = this.nextUncounted(this.countedThrough);
      if (y === Infinity) break;
      this.counted += 1;
      this.countedThrough = y;
      if (y >= x) break;
    }
    return x <= this.countedThrough ? x : Infinity;
  }

  /**
   * Counts every occurrence within COUNT now (kept, as queries keep what they count); nothing for a
   * rule without one. Spends the query budget like any query.
   */
  countAll(): void {
    while (this.count !== undefined && this.counted < this.count) {
      const y = this.nextUncounted(this.countedThrough);
      if (y === Infinity) break;
      this.counted += 1;
      this.countedThrough = y;
    }
  }

  /** Whether `x` is an occurrence of this rule (used for EXRULE). */
  includes(x: number): boolean {
    return this.next(x - 1) === x;
  }

  private nextUncounted(t: number): number {
    if (this.empty) return Infinity;
    const u = Math.max(t + 1, this.startInstant);
    if (u > this.untilInstant) return Infinity;

    // Fast path: away from offset transitions local time maps to UTC by one offset.
    const w = this.zone.windowAt(u);
    if (u >= w.validFrom) {
      const local = this.nextLocal(u + w.offset);
      if (local < w.localUntil) {
        const x = local - w.offset;
        return x <= this.untilInstant ? x : Infinity;
      }
      if (local === Infinity) return Infinity;
    }
    return this.nextNearTransition(u);
  }

  /**
   * Near a transition local order and instant order can differ (a gap-shifted 02:30 lands after a
   * real 03:00) and a local time can have two instants. Scan candidates in local order from the
   * earliest local time that could map to >= u, keep the smallest instant, and stop once no later
   * candidate can map below it.
   */
  private nextNearTransition(u: number): number {
    const { min } = this.zone.offsetBounds(u);
    let best = Infinity;
    let local = this.nextLocal(u + min);
    while (local !== Infinity) {
      spend();
      const { max } = this.zone.offsetBounds(local - min);
      if (local - max >= best || local - max > this.untilInstant) break;
      const x = this.zone.resolve(local);
      const x2 = this.zone.secondInstant;
      if (x >= u && x < best) best = x;
      // Sub-daily rules fire a repeated wall time at both of its instants (docs/time-semantics.md).
      if (this.subDaily && !Number.isNaN(x2) && x2 >= u && x2 < best) best = x2;
      if (local + 1 - max >= best) break; // no later candidate can map below best
      local = this.nextLocal(local + 1);
    }
    return best <= this.untilInstant ? best : Infinity;
  }

  /** The first local candidate >= `lmin` (local seconds), or Infinity. */
  nextLocal(lmin: number): number {
    if (lmin > this.localBound) return Infinity;
    switch (this.freq) {
      case Freq.YEARLY:
        return this.nextYearly(lmin);
      case Freq.MONTHLY:
        return this.nextMonthly(lmin);
      case Freq.WEEKLY:
        return this.nextWeekly(lmin);
      case Freq.DAILY:
        return this.nextDaily(lmin);
      default:
        return this.nextSubDaily(lmin);
    }
  }

  private nextYearly(lmin: number): number {
    const dmin = Math.floor(lmin / SECONDS_PER_DAY);
    let year = this.startYear;
    if (dmin > this.startDay) {
      year += alignUp(yearOfDay(dmin) - this.startYear, this.interval);
    }
    for (; year < 10000; year += this.interval) {
      spend();
      const jan1 = daysFromCivil(year, 1, 1);
      if (jan1 * SECONDS_PER_DAY > this.localBound) return Infinity;
      const days = this.filter.daysOfYear(year, jan1);
      const found = this.firstInDays(year, days, 0, days.length, jan1, lmin);
      if (found !== Infinity) return found;
      if (days.length === 0 && this.filter.isNeverMatching()) return Infinity;
    }
    return Infinity;
  }

  private nextMonthly(lmin: number): number {
    const dmin = Math.floor(lmin / SECONDS_PER_DAY);
    let index = this.startMonthIndex;
    if (dmin > this.startDay) {
      const y = yearOfDay(dmin);
      index += alignUp(y * 12 + monthOfDay(dmin, y) - 1 - this.startMonthIndex, this.interval);
    }
    for (let misses = 0; index < 120_000; index += this.interval) {
      spend();
      const year = Math.floor(index / 12);
      const month = index - year * 12 + 1;
      if (daysFromCivil(year, month, 1) * SECONDS_PER_DAY > this.localBound) return Infinity;
      const jan1 = daysFromCivil(year, 1, 1);
      const days = this.filter.daysOfYear(year, jan1);
      const from = lowerBound(days, daysFromCivil(year, month, 1) - jan1);
      const to = month === 12 ? days.length : lowerBound(days, daysFromCivil(year, month + 1, 1) - jan1);
      const found = this.firstInDays(index, days, from, to, jan1, lmin);
      if (found !== Infinity) return found;
      if (++misses === 1000 && this.filter.isNeverMatching()) return Infinity;
    }
    return Infinity;
  }

  private nextWeekly(lmin: number): number {
    const dmin = Math.floor(lmin / SECONDS_PER_DAY);
    let week = this.startWeek;
    if (dmin > this.startDay) {
      week += 7 * alignUp(Math.floor((dmin - this.startWeek) / 7), this.interval);
    }
    const step = 7 * this.interval;
    const days: number[] = [];
    for (let misses = 0; week * SECONDS_PER_DAY <= this.localBound; week += step) {
      spend();
      days.length = 0;
      for (let d = week; d < week + 7; d++) if (this.filter.has(d)) days.push(d - week);
      const found = this.firstInDays(week, days, 0, days.length, week, lmin);
      if (found !== Infinity) return found;
      if (++misses === 1000 && this.filter.isNeverMatching()) return Infinity;
    }
    return Infinity;
  }

  private nextDaily(lmin: number): number {
    const times = this.times;
    let day = Math.max(Math.floor(lmin / SECONDS_PER_DAY), this.startDay);
    let first = true;
    for (;;) {
      spend();
      const r = mod(day - this.startDay, this.interval);
      if (r !== 0) {
        day += this.interval - r;
        first = false;
      }
      const selected = this.filter.nextDay(day);
      if (selected === Infinity || selected * SECONDS_PER_DAY > this.localBound) return Infinity;
      if (selected !== day) {
        day = selected;
        first = false;
        continue; // re-align to the interval
      }
      const base = day * SECONDS_PER_DAY;
      if (!first || lmin <= base) return base + times[0]!;
      const i = lowerBound(times, lmin - base);
      if (i < times.length) return base + times[i]!;
      day += 1;
      first = false;
    }
  }

  /**
   * The first candidate >= lmin among days[from..to) (days of the period, relative to `origin`),
   * times the time list; with BYSETPOS, among the positions selected from the whole period.
   */
  private firstInDays(key: number, days: ArrayLike<number>, from: number, to: number, origin: number, lmin: number): number {
    const times = this.times;
    if (this.setPos) {
      if (key !== this.setPosKey) {
        const all: number[] = [];
        for (let i = from; i < to; i++) {
          const base = (origin + days[i]!) * SECONDS_PER_DAY;
          for (let k = 0; k < times.length; k++) all.push(base + times[k]!);
        }
        this.setPosList = selectPositions(all, this.setPos);
        this.setPosKey = key;
      }
      const list = this.setPosList;
      const i = lowerBound(list, lmin);
      return i < list.length ? list[i]! : Infinity;
    }
    const dmin = Math.floor(lmin / SECONDS_PER_DAY);
    for (let i = Math.max(from, lowerBound(days, dmin - origin)); i < to; i++) {
      const day = origin + days[i]!;
      const base = day * SECONDS_PER_DAY;
      if (lmin <= base) return base + times[0]!;
      const k = lowerBound(times, lmin - base);
      if (k < times.length) return base + times[k]!;
    }
    return Infinity;
  }

  private nextSubDaily(lmin: number): number {
    const { period, base, offsets } = this;
    const lastOffset = offsets[offsets.length - 1]!;
    let j = lmin <= base ? 0 : Math.max(0, ceilDiv(lmin - base - lastOffset, period));
    for (;;) {
      spend();
      const start = base + j * period;
      if (start > this.localBound) return Infinity;
      const day = Math.floor(start / SECONDS_PER_DAY);
      let skipTo = -1;
      if (!this.filter.all && !this.filter.has(day)) {
        const next = this.filter.nextDay(day + 1);
        if (next === Infinity) return Infinity;
        skipTo = next * SECONDS_PER_DAY;
      } else {
        const sod = start - day * SECONDS_PER_DAY;
        const hour = Math.floor(sod / 3600);
        const minute = Math.floor((sod % 3600) / 60);
        const second = sod % 60;
        if (this.hourOk && !this.hourOk[hour]) {
          skipTo = day * SECONDS_PER_DAY + nextFlag(this.hourOk, hour, 24) * 3600;
        } else if (this.minuteOk && !this.minuteOk[minute]) {
          skipTo = start - sod % 3600 + nextFlag(this.minuteOk, minute, 60) * 60;
        } else if (this.secondOk && !this.secondOk[second]) {
          skipTo = start - second + nextFlag(this.secondOk, second, 60);
        }
      }
      if (skipTo >= 0) {
        j = Math.max(j + 1, ceilDiv(skipTo - base, period));
        continue;
      }
      for (let k = 0; k < offsets.length; k++) {
        const local = start + offsets[k]!;
        if (local >= lmin) return local;
      }
      j += 1;
    }
  }

  /**
   * Whether some period start can pass the limits. Period starts fall at times of the day congruent
   * to the base modulo gcd(period, 1 day), and, with BYDAY, at times of the week congruent modulo
   * gcd(period, 1 week): FREQ=HOURLY;INTERVAL=2;BYHOUR=1 from midnight, or
   * FREQ=HOURLY;INTERVAL=42;BYDAY=SA from a Thursday, can never fire. Without this check their
   * searches would run to the budget.
   */
  private reachable(weekdays: readonly number[] | undefined, startLocal: number): boolean {
    if (!weekdays && !this.hourOk && !this.minuteOk && !this.secondOk) return true;
    const span = weekdays ? 7 * SECONDS_PER_DAY : SECONDS_PER_DAY;
    const g = greatestCommonDivisor(this.period, span);
    const startDay = Math.floor(startLocal / SECONDS_PER_DAY);
    const weekOffset = weekdayOfDay(startDay) * SECONDS_PER_DAY + (this.base - startDay * SECONDS_PER_DAY);
    const residue = mod(weekdays ? weekOffset : mod(this.base, SECONDS_PER_DAY), g);
    const hit = (t: number): boolean => weekdays!.some((d) => mod(d * SECONDS_PER_DAY + t, g) === residue);
    const matches = weekdays ? hit : (t: number): boolean => mod(t, g) === residue;
    for (let h = 0; h < 24; h++) {
      if (this.hourOk && !this.hourOk[h]) continue;
      if (this.freq === Freq.HOURLY) {
        if (matches(h * 3600)) return true;
        continue;
      }
      for (let m = 0; m < 60; m++) {
        if (this.minuteOk && !this.minuteOk[m]) continue;
        if (this.freq === Freq.MINUTELY) {
          if (matches(h * 3600 + m * 60)) return true;
          continue;
        }
        for (let sec = 0; sec < 60; sec++) {
          if (this.secondOk && !this.secondOk[sec]) continue;
          if (matches(h * 3600 + m * 60 + sec)) return true;
        }
      }
    }
    return false;
  }
}

/**
 * Offset from the current value to the next allowed one, as an absolute index that may pass the
 * end (e.g. hour 24 = the next day's midnight), so the caller can add it to the containing unit.
 */
function nextFlag(ok: Uint8Array, current: number, size: number): number {
  for (let v = current + 1; v < size; v++) if (ok[v]) return v;
  for (let v = 0; v < size; v++) if (ok[v]) return size + v;
  return size * 2; // unreachable: callers only ask when some value is allowed
}

/**
 * A rule whose period is a whole number of weeks visits one weekday only; when its only day-level
 * part is a plain BYDAY without that weekday, it can never fire (DAILY;INTERVAL=14;BYDAY=TU from a
 * Monday). Caught here because the search would otherwise step week by week to the horizon.
 */
function visitsAWeekday(
  byDay: readonly { weekday: number; n: number }[] | undefined,
  byMonth: readonly number[] | undefined,
  byMonthDay: readonly number[] | undefined,
  byYearDay: readonly number[] | undefined,
  startDay: number,
): boolean {
  if (!byDay || byMonth || byMonthDay || byYearDay) return true;
  const wd = weekdayOfDay(startDay);
  return byDay.some((d) => d.weekday === wd);
}

function flags(size: number, values: readonly number[]): Uint8Array {
  const ok = new Uint8Array(size);
  for (const v of values) ok[v] = 1;
  return ok;
}

function uniqueSorted(values: number[]): number[] {
  return [...new Set(values)].sort((a, b) => a - b);
}

/** BYSETPOS: the 1-based (negative from the end) positions of a sorted set, sorted and unique. */
function selectPositions(sorted: readonly number[], positions: readonly number[]): number[] {
  const n = sorted.length;
  const out: number[] = [];
  for (const p of positions) {
    const i = p > 0 ? p - 1 : n + p;
    if (i >= 0 && i < n) out.push(sorted[i]!);
  }
  return uniqueSorted(out);
}

function monthOfDay(day: number, year: number): number {
  const doy = day - daysFromCivil(year, 1, 1);
  let month = Math.min(12, Math.floor(doy / 29) + 1);
  while (month > 1 && daysFromCivil(year, month, 1) > day) month -= 1;
  while (month < 12 && daysFromCivil(year, month + 1, 1) <= day) month += 1;
  return month;
}

function dayOfMonth(day: number, year: number, month: number): number {
  return day - daysFromCivil(year, month, 1) + 1;
}

