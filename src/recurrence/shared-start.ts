/**
 * Schedules that differ only in parts of their start their rules do not use, such as a thousand
 * tasks `FREQ=DAILY;BYHOUR=9;BYMINUTE=0;BYSECOND=0` created on a thousand different days, have the
 * same occurrences once every one of them has started. The scheduler compiles one schedule for all
 * of them (its cache holds far fewer than one per task), and asks it only about times after a
 * task's own start.
 *
 * Why that is exact, for the rules this admits (RRULE and EXRULE lines without COUNT, INTERVAL or
 * BYSETPOS; EXDATE lines; no RDATE): a rule's expansion (rule.ts) takes from its start
 * - the window: nothing before the start is an occurrence;
 * - the parts the rule leaves out (RFC 5545 §3.3.10): the hour, minute and second (each when the
 *   rule has no BYHOUR, BYMINUTE, BYSECOND and its frequency is coarser), the weekday (WEEKLY without
 *   BYDAY), the day of the month (MONTHLY and YEARLY without BYDAY, BYMONTHDAY, BYYEARDAY or
 *   BYWEEKNO) and the month (YEARLY, likewise);
 * - the grid of periods INTERVAL steps over from the start's period, COUNT's tally from the start,
 *   and BYSETPOS's choice among a period's set (which the start's period cuts short).
 * With INTERVAL 1 every period is on the grid, and without COUNT and BYSETPOS nothing is counted
 * from the start; so a start with the same parts of the start that the rules take from it yields
 * the same occurrences after both starts: `FREQ=DAILY;BYHOUR=9;BYMINUTE=0;BYSECOND=0` tasks share
 * one schedule per time zone and end, whenever they were started. UNTIL, EXDATE and `endDateTime`
 * are absolute. test/recurrence/shared-start.test.ts checks the claim on random schedules and zones.
 */
import { SECONDS_PER_DAY, civilFromDays, daysFromCivil, daysInMonth, weekdayOfDay } from './calendar.js';
import { parseLocalDateTime } from './local-date-time.js';
import { Freq, parseLine, type RecurrenceLine } from './parse.js';

/** Which parts of the start's date and time of day a schedule's rules take from it. */
export interface StartDependence {
  readonly month: boolean;
  readonly dayOfMonth: boolean;
  readonly weekday: boolean;
  readonly hour: boolean;
  readonly minute: boolean;
  readonly second: boolean;
}

/**
 * What of its start a schedule with these recurrence lines depends on, or null when it
 * depends on more than that (COUNT, INTERVAL, BYSETPOS, RDATE, no RRULE) or a line does not parse.
 * Depends on the lines only, so callers can keep the answer per distinct set of lines.
 */
export function startDependence(recurrence: readonly unknown[] | null | undefined): StartDependence | null {
  if (!Array.isArray(recurrence) || recurrence.length === 0) return null;
  let month = false;
  let dayOfMonth = false;
  let weekday = false;
  let hour = false;
  let minute = false;
  let second = false;
  let rrules = 0;
  for (let i = 0; i < recurrence.length; i++) {
    let line: RecurrenceLine;
    try {
      line = parseLine(recurrence[i], `recurrence[${i}]`);
    } catch {
      return null;
    }
    if (line.kind === 'RDATE') return null;
    if (line.kind !== 'RRULE' && line.kind !== 'EXRULE') continue; // EXDATE: absolute
    if (line.kind === 'RRULE') rrules += 1;
    const r = line.rule;
    if (r.count !== undefined || r.interval !== 1 || r.bySetPos !== undefined) return null;
    hour ||= r.freq < Freq.HOURLY && r.byHour === undefined;
    minute ||= r.freq < Freq.MINUTELY && r.byMinute === undefined;
    second ||= r.freq < Freq.SECONDLY && r.bySecond === undefined;
    if (r.byWeekNo || r.byYearDay || r.byMonthDay || r.byDay) continue;
    if (r.freq === Freq.YEARLY) {
      month ||= r.byMonth === undefined;
      dayOfMonth = true;
    } else if (r.freq === Freq.MONTHLY) {
      dayOfMonth = true;
    } else if (r.freq === Freq.WEEKLY) {
      weekday = true;
    }
  }
  return rrules === 0 ? null : { month, dayOfMonth, weekday, hour, minute, second };
}

/** The earliest date a shared start may have: 1972-01-01, the first leap year's first day after 1970. */
const FIRST_DAY = daysFromCivil(1972, 1, 1);

export interface SharedStart {
  /**
   * The shared start (local seconds, as calendar.ts counts them; `formatLocalSeconds` writes it as a
   * startDateTime): the earliest date from 1972 on with the same parts of the date, at the same
   * hour, minute and second where the rules take them from the start, else 0.
   */
  readonly local: number;
  /**
   * Epoch ms after which the two schedules agree: the start's local time read as UTC plus 26 hours,
   * past the start's instant in any zone (no offset reaches 26 hours).
   */
  readonly agreesAfter: number;
}

/**
 * The start shared by every schedule with the same recurrence lines (of dependence `dependence`)
 * and the same parts of the start that they depend on; null when the start does not parse or comes
 * before its shared start (such a start is its own). The scheduler asks this once per firing.
 */
export function sharedStart(startDateTime: string, dependence: StartDependence): SharedStart | null {
  const local = localSecondsOf(startDateTime);
  if (local === null) return null;
  const day = Math.floor(local / SECONDS_PER_DAY);
  const sod = local - day * SECONDS_PER_DAY;
  const timeOfDay =
    (dependence.hour ? Math.floor(sod / 3600) * 3600 : 0) + (dependence.minute ? Math.floor((sod % 3600) / 60) * 60 : 0) + (dependence.second ? sod % 60 : 0);
  const shared = dependence.month || dependence.dayOfMonth || dependence.weekday ? firstDayLike(day, dependence) : FIRST_DAY;
  if (shared === null || shared > day) return null;
  return { local: shared * SECONDS_PER_DAY + timeOfDay, agreesAfter: (local + 26 * 3600) * 1000 };
}

/** Where `YYYY-MM-DDTHH:MM:SS` has digits. */
const DIGITS = [0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18];

/** `YYYY-MM-DDTHH:MM:SS` read without a regular expression (the shape tasks store); others as the API reads them. */
function localSecondsOf(text: string): number | null {
  if (text.length === 19 && text[4] === '-' && text[7] === '-' && text[10] === 'T' && text[13] === ':' && text[16] === ':' && allDigits(text)) {
    const n = (i: number): number => (text.charCodeAt(i) - 48) * 10 + text.charCodeAt(i + 1) - 48;
    const [year, month, day, hour, minute, second] = [n(0) * 100 + n(2), n(5), n(8), n(11), n(14), n(17)];
    if (month >= 1 && month <= 12 && day >= 1 && day <= daysInMonth(year, month) && hour < 24 && minute < 60 && second < 60) {
      return daysFromCivil(year, month, day) * SECONDS_PER_DAY + hour * 3600 + minute * 60 + second;
    }
  }
  try {
    return parseLocalDateTime(text, 'startDateTime');
  } catch {
    return null;
  }
}

function allDigits(text: string): boolean {
  for (const i of DIGITS) {
    const c = text.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

/** The first day from FIRST_DAY on with the same month, day of the month and weekday as `day`, as far as `like` asks. */
function firstDayLike(day: number, like: StartDependence): number | null {
  const { year, month, day: dom } = civilFromDays(day);
  const weekday = weekdayOfDay(day);
  const ok = (d: number): boolean => !like.weekday || weekdayOfDay(d) === weekday;
  if (like.month) {
    // A 29 February recurs in leap years; with its weekday, within 28 years.
    for (let y = 1972; y <= year; y++) {
      if (dom > daysInMonth(y, month)) continue;
      const d = daysFromCivil(y, month, dom);
      if (ok(d)) return d;
    }
    return null;
  }
  if (like.dayOfMonth) {
    for (let y = 1972; y <= year; y++) {
      for (let m = 1; m <= 12; m++) {
        if (dom > daysInMonth(y, m)) continue;
        const d = daysFromCivil(y, m, dom);
        if (ok(d)) return d;
      }
    }
    return null;
  }
  return like.weekday ? FIRST_DAY + ((weekday - weekdayOfDay(FIRST_DAY) + 7) % 7) : FIRST_DAY;
}
