/**
 * Parsing of recurrence lines: RRULE / EXRULE (RFC 5545 §3.3.10 RECUR values, also as a bare
 * `FREQ=…` line as Qlik's own examples write them), RDATE and EXDATE (§3.8.5.1–2).
 *
 * The parser is strict: every rule part, value and MUST of the RFC is checked, and the first
 * problem is reported as a RecurrenceError naming the line, the part and the value. Lenient only
 * where real clients differ without ambiguity: names and values are case-insensitive, a trailing
 * `;` is ignored, a DATE value is recognised by its shape even without `VALUE=DATE`.
 */
import { daysFromCivil, daysInMonth, SECONDS_PER_DAY } from './calendar.js';
import { RecurrenceError } from './errors.js';
import { TimeZone } from './zone.js';

export enum Freq {
  YEARLY = 0,
  MONTHLY = 1,
  WEEKLY = 2,
  DAILY = 3,
  HOURLY = 4,
  MINUTELY = 5,
  SECONDLY = 6,
}

export const FREQ_NAMES = ['YEARLY', 'MONTHLY', 'WEEKLY', 'DAILY', 'HOURLY', 'MINUTELY', 'SECONDLY'] as const;
export const WEEKDAYS = ['MO', 'TU', 'WE', 'TH', 'FR', 'SA', 'SU'] as const;

/** A BYDAY entry: weekday (Monday = 0) and ordinal (0 when none, else ±1..53). */
export interface WeekdayNum {
  readonly weekday: number;
  readonly n: number;
}

/** A date or date-time value as written: UTC, local (in the schedule's zone or a TZID), or a date. */
export type DateValue =
  | { readonly kind: 'utc'; readonly utc: number }
  | { readonly kind: 'local'; readonly local: number; readonly zone: TimeZone | undefined }
  | { readonly kind: 'date'; readonly day: number };

export interface RuleParts {
  readonly freq: Freq;
  readonly interval: number;
  readonly count: number | undefined;
  readonly until: DateValue | undefined;
  readonly bySecond: readonly number[] | undefined;
  readonly byMinute: readonly number[] | undefined;
  readonly byHour: readonly number[] | undefined;
  readonly byDay: readonly WeekdayNum[] | undefined;
  readonly byMonthDay: readonly number[] | undefined;
  readonly byYearDay: readonly number[] | undefined;
  readonly byWeekNo: readonly number[] | undefined;
  readonly byMonth: readonly number[] | undefined;
  readonly bySetPos: readonly number[] | undefined;
  readonly wkst: number;
}

export type RecurrenceLine =
  | { readonly kind: 'RRULE' | 'EXRULE'; readonly rule: RuleParts }
  | { readonly kind: 'RDATE' | 'EXDATE'; readonly values: readonly DateValue[] };

const INT32_MAX = 2_147_483_647;

/** Parses one line of a task's `recurrence` array; `field` is `recurrence[i]`. */
export function parseLine(line: unknown, field: string): RecurrenceLine {
  if (typeof line !== 'string') throw new RecurrenceError(field, 'must be a string');
  const text = line.trim();
  if (text === '') throw new RecurrenceError(field, 'is empty; expected an RRULE, EXRULE, RDATE or EXDATE line');

  const colon = text.indexOf(':');
  // A line without a colon is a bare rule ("FREQ=DAILY;…"): RECUR values never contain ':'.
  if (colon < 0) {
    if (text.includes('=')) return { kind: 'RRULE', rule: parseRule(text, field) };
    throw new RecurrenceError(field, `'${clip(text)}' is not a recurrence line; expected RRULE:, EXRULE:, RDATE:, EXDATE: or FREQ=…`);
  }
  const head = text.slice(0, colon);
  const value = text.slice(colon + 1);
  const [rawName = '', ...rawParams] = splitParams(head);
  const name = rawName.toUpperCase();

  if (!/^[A-Z][A-Z0-9-]*$/.test(name)) {
    throw new RecurrenceError(field, `'${clip(text)}' is not a recurrence line; expected RRULE:, EXRULE:, RDATE:, EXDATE: or FREQ=…`);
  }
  switch (name) {
    case 'RRULE':
    case 'EXRULE':
      if (rawParams.length > 0) throw new RecurrenceError(field, `${name} lines take no parameters (found '${clip(rawParams[0]!)}')`);
      return { kind: name, rule: parseRule(value, field) };
    case 'RDATE':
    case 'EXDATE':
      return { kind: name, values: parseDateList(name, rawParams, value, field) };
    case 'DTSTART':
      throw new RecurrenceError(field, 'DTSTART lines are not allowed; use startDateTime');
    case 'DTEND':
      throw new RecurrenceError(field, 'DTEND lines are not allowed; use endDateTime');
    default:
      throw new RecurrenceError(field, `${name} lines are not supported; expected RRULE, EXRULE, RDATE or EXDATE`);
  }
}

/** Splits `NAME;P1=V1;P2="V;2"` at the semicolons that are not inside quotes. */
function splitParams(head: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (const ch of head) {
    if (ch === '"') quoted = !quoted;
    if (ch === ';' && !quoted) {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  out.push(cur);
  return out;
}

function clip(s: string): string {
  return s.length > 40 ? `${s.slice(0, 37)}...` : s;
}

// ---------------------------------------------------------------------------------------------
// RDATE / EXDATE

function parseDateList(name: 'RDATE' | 'EXDATE', params: string[], value: string, field: string): DateValue[] {
  let zone: TimeZone | undefined;
  let valueType: 'DATE-TIME' | 'DATE' | 'PERIOD' | undefined;
  const seen = new Set<string>();
  for (const p of params) {
    const eq = p.indexOf('=');
    if (eq < 0) throw new RecurrenceError(field, `parameter '${clip(p)}' has no value`);
    const pname = p.slice(0, eq).toUpperCase();
    let pvalue = p.slice(eq + 1);
    if (pvalue.startsWith('"') && pvalue.endsWith('"') && pvalue.length >= 2) pvalue = pvalue.slice(1, -1);
    if (seen.has(pname)) throw new RecurrenceError(field, `parameter ${pname} appears twice`);
    seen.add(pname);
    if (pname === 'TZID') {
      zone = TimeZone.get(pvalue);
      if (!zone) throw new RecurrenceError(field, `TZID '${clip(pvalue)}' is not an IANA time zone name`);
    } else if (pname === 'VALUE') {
      const v = pvalue.toUpperCase();
      if (v !== 'DATE-TIME' && v !== 'DATE' && v !== 'PERIOD') {
        throw new RecurrenceError(field, `VALUE '${clip(pvalue)}' is not DATE-TIME, DATE${name === 'RDATE' ? ' or PERIOD' : ''}`);
      }
      if (v === 'PERIOD' && name === 'EXDATE') throw new RecurrenceError(field, 'EXDATE does not take VALUE=PERIOD');
      valueType = v;
    } else {
      throw new RecurrenceError(field, `parameter ${pname} is not supported on ${name}; use TZID or VALUE`);
    }
  }
  if (value === '') throw new RecurrenceError(field, `${name} has no value`);
  return value.split(',').map((item) => {
    if (item === '') throw new RecurrenceError(field, `${name} has an empty value in its list`);
    let text = item;
    if (valueType === 'PERIOD' || (valueType === undefined && item.includes('/'))) {
      // A period's start is the occurrence; its end or duration is checked for shape only.
      const slash = item.indexOf('/');
      if (slash < 0) throw new RecurrenceError(field, `${name} value '${clip(item)}' is not a PERIOD (start/end or start/duration)`);
      const rest = item.slice(slash + 1);
      text = item.slice(0, slash);
      if (!/^P/i.test(rest)) parseDateValue(rest, 'DATE-TIME', zone, name, field);
      else if (!/^P(\d+W|(\d+D)?(T(\d+H)?(\d+M)?(\d+S)?)?)$/i.test(rest) || /^PT?$/i.test(rest)) {
        throw new RecurrenceError(field, `${name} value '${clip(item)}' has a malformed duration '${clip(rest)}'`);
      }
      return parseDateValue(text, 'DATE-TIME', zone, name, field);
    }
    return parseDateValue(text, valueType, zone, name, field);
  });
}

const DATE_TIME = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})(Z?)$/i;
const DATE = /^(\d{4})(\d{2})(\d{2})$/;

/**
 * Parses an iCalendar DATE (`20270101`) or DATE-TIME (`20270101T090000`, `…Z`) value. `what` names
 * the thing in error messages (`RDATE`, `UNTIL`).
 */
export function parseDateValue(
  text: string,
  type: 'DATE-TIME' | 'DATE' | 'PERIOD' | undefined,
  zone: TimeZone | undefined,
  what: string,
  field: string,
): DateValue {
  const dt = DATE_TIME.exec(text);
  if (dt && type !== 'DATE') {
    const [, y, mo, d, h, mi, s, z] = dt;
    const day = checkedDay(Number(y), Number(mo), Number(d), text, what, field);
    const hour = Number(h);
    const minute = Number(mi);
    const second = Number(s);
    if (hour > 23 || minute > 59 || second > 59) {
      throw new RecurrenceError(field, `${what} value '${clip(text)}' is not a valid time of day`);
    }
    const local = day * SECONDS_PER_DAY + hour * 3600 + minute * 60 + second;
    if (z) {
      if (zone) throw new RecurrenceError(field, `${what} value '${clip(text)}' is in UTC and cannot also have a TZID`);
      return { kind: 'utc', utc: local };
    }
    return { kind: 'local', local, zone };
  }
  const date = DATE.exec(text);
  if (date && type !== 'DATE-TIME' && type !== 'PERIOD') {
    const [, y, mo, d] = date;
    return { kind: 'date', day: checkedDay(Number(y), Number(mo), Number(d), text, what, field) };
  }
  const expected = type === 'DATE' ? 'a DATE (YYYYMMDD)' : type === undefined ? 'a DATE-TIME (YYYYMMDDTHHMMSS, optionally ending in Z) or a DATE (YYYYMMDD)' : 'a DATE-TIME (YYYYMMDDTHHMMSS, optionally ending in Z)';
  throw new RecurrenceError(field, `${what} value '${clip(text)}' is not ${expected}`);
}

function checkedDay(year: number, month: number, day: number, text: string, what: string, field: string): number {
  if (year < 1 || month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) {
    throw new RecurrenceError(field, `${what} value '${clip(text)}' is not a valid date`);
  }
  return daysFromCivil(year, month, day);
}

// ---------------------------------------------------------------------------------------------
// RRULE / EXRULE

const RULE_PARTS = new Set([
  'FREQ', 'INTERVAL', 'COUNT', 'UNTIL', 'BYSECOND', 'BYMINUTE', 'BYHOUR', 'BYDAY',
  'BYMONTHDAY', 'BYYEARDAY', 'BYWEEKNO', 'BYMONTH', 'BYSETPOS', 'WKST',
]);

/** Parses a RECUR value (`FREQ=WEEKLY;BYDAY=MO,TU`) and checks the RFC's MUSTs. */
export function parseRule(value: string, field: string): RuleParts {
  const parts = new Map<string, string>();
  const items = value.split(';');
  if (items.length > 1 && items[items.length - 1] === '') items.pop();
  for (const item of items) {
    if (item === '') throw new RecurrenceError(field, 'has an empty rule part (two semicolons in a row?)');
    const eq = item.indexOf('=');
    if (eq < 0) throw new RecurrenceError(field, `'${clip(item)}' is not a NAME=VALUE rule part`);
    const name = item.slice(0, eq).toUpperCase();
    const v = item.slice(eq + 1);
    if (!RULE_PARTS.has(name)) throw new RecurrenceError(field, `unknown rule part '${clip(item.slice(0, eq))}'`);
    if (parts.has(name)) throw new RecurrenceError(field, `rule part ${name} appears twice`);
    if (v === '') throw new RecurrenceError(field, `rule part ${name} has no value`);
    parts.set(name, v);
  }

  const freqText = parts.get('FREQ');
  if (freqText === undefined) throw new RecurrenceError(field, 'FREQ is required');
  const freq = FREQ_NAMES.indexOf(freqText.toUpperCase() as (typeof FREQ_NAMES)[number]);
  if (freq < 0) throw new RecurrenceError(field, `FREQ value '${clip(freqText)}' is not one of ${[...FREQ_NAMES].reverse().join(', ')}`);

  const int = (name: string, min: number, max: number, range: string): number | undefined => {
    const v = parts.get(name);
    if (v === undefined) return undefined;
    if (!/^\+?\d+$/.test(v) || Number(v) < min || Number(v) > max) {
      throw new RecurrenceError(field, `${name} value '${clip(v)}' is not ${range}`);
    }
    return Number(v);
  };
  const interval = int('INTERVAL', 1, INT32_MAX, 'a positive integer') ?? 1;
  const count = int('COUNT', 1, INT32_MAX, 'a positive integer');

  const untilText = parts.get('UNTIL');
  const until = untilText === undefined ? undefined : parseDateValue(untilText, undefined, undefined, 'UNTIL', field);
  if (count !== undefined && until !== undefined) throw new RecurrenceError(field, 'COUNT and UNTIL must not both be given');

  const list = (name: string, min: number, max: number, signed: boolean): number[] | undefined => {
    const v = parts.get(name);
    if (v === undefined) return undefined;
    const range = signed ? `${min} to ${max} or -${max} to -${min}` : `${min} to ${max}`;
    return v.split(',').map((s) => {
      if (!/^[+-]?\d+$/.test(s)) throw new RecurrenceError(field, `${name} value '${clip(s)}' is not an integer`);
      const n = Number(s);
      const abs = Math.abs(n);
      if ((!signed && (s.startsWith('-') || n < min)) || abs < min || abs > max || (signed && n === 0)) {
        throw new RecurrenceError(field, `${name} value '${clip(s)}' is out of range (${range})`);
      }
      return n;
    });
  };
  const bySecond = list('BYSECOND', 0, 60, false);
  const byMinute = list('BYMINUTE', 0, 59, false);
  const byHour = list('BYHOUR', 0, 23, false);
  const byMonthDay = list('BYMONTHDAY', 1, 31, true);
  const byYearDay = list('BYYEARDAY', 1, 366, true);
  const byWeekNo = list('BYWEEKNO', 1, 53, true);
  const byMonth = list('BYMONTH', 1, 12, false);
  const bySetPos = list('BYSETPOS', 1, 366, true);

  const byDayText = parts.get('BYDAY');
  const byDay = byDayText === undefined ? undefined : byDayText.split(',').map((s) => parseWeekdayNum(s, field));

  const wkstText = parts.get('WKST');
  let wkst = 0;
  if (wkstText !== undefined) {
    wkst = WEEKDAYS.indexOf(wkstText.toUpperCase() as (typeof WEEKDAYS)[number]);
    if (wkst < 0) throw new RecurrenceError(field, `WKST value '${clip(wkstText)}' is not a weekday (MO, TU, WE, TH, FR, SA, SU)`);
  }

  // The MUSTs of §3.3.10.
  const f = FREQ_NAMES[freq]!;
  if (byWeekNo && freq !== Freq.YEARLY) throw new RecurrenceError(field, `BYWEEKNO is only allowed with FREQ=YEARLY, not FREQ=${f}`);
  if (byYearDay && (freq === Freq.DAILY || freq === Freq.WEEKLY || freq === Freq.MONTHLY)) {
    throw new RecurrenceError(field, `BYYEARDAY is not allowed with FREQ=${f}`);
  }
  if (byMonthDay && freq === Freq.WEEKLY) throw new RecurrenceError(field, 'BYMONTHDAY is not allowed with FREQ=WEEKLY');
  if (byDay) {
    const withOrdinal = byDay.find((d) => d.n !== 0);
    if (withOrdinal) {
      const text = byDayText!.split(',')[byDay.indexOf(withOrdinal)]!;
      if (freq !== Freq.MONTHLY && freq !== Freq.YEARLY) {
        throw new RecurrenceError(field, `BYDAY value '${clip(text)}' has an ordinal, which is only allowed with FREQ=MONTHLY or FREQ=YEARLY`);
      }
      if (freq === Freq.YEARLY && byWeekNo) {
        throw new RecurrenceError(field, `BYDAY value '${clip(text)}' has an ordinal, which is not allowed together with BYWEEKNO`);
      }
    }
  }
  if (bySetPos && !(bySecond || byMinute || byHour || byDay || byMonthDay || byYearDay || byWeekNo || byMonth)) {
    throw new RecurrenceError(field, 'BYSETPOS needs another BYxxx rule part to select from');
  }

  return { freq, interval, count, until, bySecond, byMinute, byHour, byDay, byMonthDay, byYearDay, byWeekNo, byMonth, bySetPos, wkst };
}

function parseWeekdayNum(s: string, field: string): WeekdayNum {
  const m = /^([+-]?\d+)?([A-Za-z]+)$/.exec(s);
  if (!m) throw new RecurrenceError(field, `BYDAY value '${clip(s)}' is not a weekday with an optional ordinal (MO, 1MO, -1FR)`);
  const weekday = WEEKDAYS.indexOf(m[2]!.toUpperCase() as (typeof WEEKDAYS)[number]);
  if (weekday < 0) throw new RecurrenceError(field, `BYDAY value '${clip(s)}' is not a weekday`);
  let n = 0;
  if (m[1] !== undefined) {
    n = Number(m[1]);
    if (n === 0 || Math.abs(n) > 53) throw new RecurrenceError(field, `BYDAY value '${clip(s)}' has an ordinal out of range (1 to 53 or -53 to -1)`);
  }
  return { weekday, n };
}
