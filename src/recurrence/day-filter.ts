/**
 * The day-level rule parts (BYMONTH, BYWEEKNO, BYYEARDAY, BYMONTHDAY, BYDAY) as a per-year mask.
 *
 * Which days of a year a rule selects depends only on the year's "kind": the weekday of January 1
 * and whether it is a leap year (plus the neighbouring years' leapness when BYWEEKNO is used, for
 * the weeks that straddle New Year). There are at most 56 kinds, so a mask is computed once per
 * kind and shared; rules with the same day-level parts share one DayFilter (they are interned).
 * That is what makes a next-occurrence query cost the same for a rule started yesterday and one
 * started ten years ago: no walk from the start, just a lookup in the mask of the year at hand.
 */
import { SECONDS_PER_DAY, daysFromCivil, daysInMonth, daysInYear, isLeapYear, mod, weekdayOfDay, yearOfDay } from './calendar.js';
import type { WeekdayNum } from './parse.js';

/** Local day numbers of 10000-01-01: nothing is searched at or beyond it. */
export const HORIZON_DAY = daysFromCivil(10000, 1, 1);
export const HORIZON_LOCAL = HORIZON_DAY * SECONDS_PER_DAY;

export interface DayFilterSpec {
  readonly byMonth: readonly number[] | undefined;
  readonly byWeekNo: readonly number[] | undefined;
  readonly byYearDay: readonly number[] | undefined;
  readonly byMonthDay: readonly number[] | undefined;
  readonly byDay: readonly WeekdayNum[] | undefined;
  /** Whether BYDAY ordinals count within the month (MONTHLY, or YEARLY with BYMONTH) or the year. */
  readonly ordinalsInMonth: boolean;
  readonly wkst: number;
}

interface YearMask {
  /** Selected days of the year (0-based), ascending. */
  readonly days: Uint16Array;
  /** 1 for a selected day of the year. */
  readonly bits: Uint8Array;
}

const interned = new Map<string, DayFilter>();
const MAX_INTERNED = 20_000;

export class DayFilter {
  /** True when the filter selects every day (no day-level parts). */
  readonly all: boolean;
  private readonly spec: DayFilterSpec;
  private readonly masks = new Map<number, YearMask>();
  private cachedYear = Number.NaN;
  private cachedJan1 = 0;
  private cachedMask: YearMask | undefined;
  private neverMatches: boolean | undefined;

  private constructor(spec: DayFilter['spec']) {
    this.spec = spec;
    this.all = !spec.byMonth && !spec.byWeekNo && !spec.byYearDay && !spec.byMonthDay && !spec.byDay;
  }

  /** The shared filter for these parts. */
  static of(spec: DayFilterSpec): DayFilter {
    const key = JSON.stringify([spec.byMonth, spec.byWeekNo, spec.byYearDay, spec.byMonthDay, spec.byDay?.map((d) => [d.weekday, d.n]), spec.ordinalsInMonth, spec.byWeekNo ? spec.wkst : 0]);
    let f = interned.get(key);
    if (!f) {
      if (interned.size >= MAX_INTERNED) interned.clear();
      f = new DayFilter(spec);
      interned.set(key, f);
    }
    return f;
  }

  /** Whether a local day number is selected. */
  has(day: number): boolean {
    if (this.all) return true;
    const mask = this.maskOfDay(day);
    return mask.bits[day - this.cachedJan1] === 1;
  }

  /** The first selected day at or after `day`, or Infinity when there is none before the horizon. */
  nextDay(day: number): number {
    if (this.all) return day < HORIZON_DAY ? day : Infinity;
    let year = yearOfDay(day);
    let from = day;
    while (year < 10000) {
      const jan1 = daysFromCivil(year, 1, 1);
      const mask = this.mask(year, jan1);
      const days = mask.days;
      const i = lowerBound(days, from - jan1);
      if (i < days.length) return jan1 + days[i]!;
      year += 1;
      from = jan1 + daysInYear(year - 1);
      if (year % 400 === 0 && this.isNeverMatching()) return Infinity;
    }
    return Infinity;
  }

  /** Selected days of a year (0-based days of the year), ascending. */
  daysOfYear(year: number, jan1: number): Uint16Array {
    return this.mask(year, jan1).days;
  }

  /** True when no year of any kind has a selected day (e.g. BYMONTH=2;BYMONTHDAY=30). */
  isNeverMatching(): boolean {
    if (this.neverMatches === undefined) {
      // 400 Gregorian years hold every kind of year there is.
      let never = true;
      for (let y = 2000; y < 2400 && never; y++) never = this.mask(y, daysFromCivil(y, 1, 1)).days.length === 0;
      this.neverMatches = never;
    }
    return this.neverMatches;
  }

  private maskOfDay(day: number): YearMask {
    const off = day - this.cachedJan1;
    if (this.cachedMask && off >= 0 && off < this.cachedMask.bits.length) return this.cachedMask;
    const year = yearOfDay(day);
    const jan1 = daysFromCivil(year, 1, 1);
    return this.mask(year, jan1);
  }

  private mask(year: number, jan1: number): YearMask {
    if (year === this.cachedYear) return this.cachedMask!;
    const leap = isLeapYear(year) ? 1 : 0;
    let kind = weekdayOfDay(jan1) * 8 + leap * 4;
    if (this.spec.byWeekNo) kind += (isLeapYear(year - 1) ? 2 : 0) + (isLeapYear(year + 1) ? 1 : 0);
    let mask = this.masks.get(kind);
    if (!mask) {
      mask = this.build(year, jan1);
      this.masks.set(kind, mask);
    }
    this.cachedYear = year;
    this.cachedJan1 = jan1;
    this.cachedMask = mask;
    return mask;
  }

  private build(year: number, jan1: number): YearMask {
    const s = this.spec;
    const n = daysInYear(year);
    const ok = new Uint8Array(n).fill(1);
    const monthOf = new Uint8Array(n);
    const mdayOf = new Uint8Array(n);
    const monthStart: number[] = [];
    for (let m = 1, d = 0; m <= 12; m++) {
      monthStart.push(d);
      const len = daysInMonth(year, m);
      for (let k = 1; k <= len; k++, d++) {
        monthOf[d] = m;
        mdayOf[d] = k;
      }
    }
    monthStart.push(n);

    if (s.byMonth) {
      const set = new Set(s.byMonth);
      for (let d = 0; d < n; d++) if (!set.has(monthOf[d]!)) ok[d] = 0;
    }
    if (s.byYearDay) {
      const sel = new Uint8Array(n);
      for (const v of s.byYearDay) {
        const i = v > 0 ? v - 1 : n + v;
        if (i >= 0 && i < n) sel[i] = 1;
      }
      for (let d = 0; d < n; d++) if (!sel[d]) ok[d] = 0;
    }
    if (s.byMonthDay) {
      const sel = new Uint8Array(n);
      for (let m = 1; m <= 12; m++) {
        const len = monthStart[m]! - monthStart[m - 1]!;
        for (const v of s.byMonthDay) {
          const k = v > 0 ? v : len + v + 1;
          if (k >= 1 && k <= len) sel[monthStart[m - 1]! + k - 1] = 1;
        }
      }
      for (let d = 0; d < n; d++) if (!sel[d]) ok[d] = 0;
    }
    if (s.byWeekNo) {
      const wanted = s.byWeekNo;
      for (let d = 0; d < n; d++) {
        if (!ok[d]) continue;
        const { week, weeksInYear } = weekNumber(jan1 + d, s.wkst);
        if (!wanted.some((v) => (v > 0 ? v === week : weeksInYear + v + 1 === week))) ok[d] = 0;
      }
    }
    if (s.byDay) {
      const sel = new Uint8Array(n);
      const wd0 = weekdayOfDay(jan1);
      for (const { weekday, n: ord } of s.byDay) {
        if (ord === 0) {
          for (let d = mod(weekday - wd0, 7); d < n; d += 7) sel[d] = 1;
          continue;
        }
        const scopes: Array<[number, number]> = s.ordinalsInMonth
          ? monthStart.slice(0, 12).map((start, i) => [start, monthStart[i + 1]!])
          : [[0, n]];
        for (const [from, to] of scopes) {
          const first = from + mod(weekday - (wd0 + from), 7);
          if (first >= to) continue;
          const last = first + 7 * Math.floor((to - 1 - first) / 7);
          const d = ord > 0 ? first + 7 * (ord - 1) : last + 7 * (ord + 1);
          if (d >= first && d <= last) sel[d] = 1;
        }
      }
      for (let d = 0; d < n; d++) if (!sel[d]) ok[d] = 0;
    }

    const days: number[] = [];
    for (let d = 0; d < n; d++) if (ok[d]) days.push(d);
    return { days: Uint16Array.from(days), bits: ok };
  }
}

/**
 * RFC 5545 week number of a day with week start `wkst`: week 1 is the first week with at least four
 * days in the year. A day can belong to the last week of the previous year or week 1 of the next,
 * and BYWEEKNO matches it there (as the RFC's "week 1 may start in December" reading requires).
 */
export function weekNumber(day: number, wkst: number): { week: number; weeksInYear: number } {
  const weekStart = day - mod(weekdayOfDay(day) - wkst, 7);
  const ref = weekStart + 3; // the week belongs to the year its fourth day is in
  const weekYear = yearOfDay(ref);
  const week = Math.floor((ref - daysFromCivil(weekYear, 1, 1)) / 7) + 1;
  // December 28 is always in the last week of its year, whatever the week start.
  const dec28 = daysFromCivil(weekYear, 12, 28);
  const lastRef = dec28 - mod(weekdayOfDay(dec28) - wkst, 7) + 3;
  const weeksInYear = Math.floor((lastRef - daysFromCivil(weekYear, 1, 1)) / 7) + 1;
  return { week, weeksInYear };
}

/** Index of the first element >= value in an ascending array. */
export function lowerBound(arr: ArrayLike<number>, value: number): number {
  let lo = 0;
  let hi = arr.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (arr[mid]! < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
