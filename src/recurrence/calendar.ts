/**
 * Proleptic Gregorian calendar arithmetic on day numbers (days since 1970-01-01).
 *
 * Everything here is integer arithmetic with no allocation, because the expansion loop calls it
 * for every candidate. "Local seconds" are wall-clock seconds counted as if the zone were UTC:
 * `local = day * 86400 + secondOfDay`. Weekdays are numbered Monday = 0 … Sunday = 6, the order
 * RFC 5545 lists them in (MO, TU, WE, TH, FR, SA, SU).
 */

export const SECONDS_PER_DAY = 86_400;

/** Day number of a civil date (H. Hinnant's days_from_civil). `month` is 1..12. */
export function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const mp = (month + 9) % 12;
  const doy = Math.floor((153 * mp + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146_097 + doe - 719_468;
}

export interface CivilDate {
  year: number;
  month: number;
  day: number;
}

/** Civil date of a day number (H. Hinnant's civil_from_days). */
export function civilFromDays(days: number): CivilDate {
  const z = days + 719_468;
  const era = Math.floor(z / 146_097);
  const doe = z - era * 146_097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36_524) - Math.floor(doe / 146_096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  return { year: yoe + era * 400 + (month <= 2 ? 1 : 0), month, day };
}

/** The year a day number falls in, without building a CivilDate. */
export function yearOfDay(days: number): number {
  // Estimate, then correct by at most one year.
  let y = 1970 + Math.floor(days / 365.2425);
  if (daysFromCivil(y, 1, 1) > days) y -= 1;
  else if (daysFromCivil(y + 1, 1, 1) <= days) y += 1;
  return y;
}

export function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

export function daysInYear(year: number): number {
  return isLeapYear(year) ? 366 : 365;
}

const MONTH_LENGTHS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

export function daysInMonth(year: number, month: number): number {
  return month === 2 && isLeapYear(year) ? 29 : MONTH_LENGTHS[month - 1]!;
}

/** Weekday of a day number, Monday = 0. 1970-01-01 was a Thursday (3). */
export function weekdayOfDay(days: number): number {
  return (((days + 3) % 7) + 7) % 7;
}

/** Floor division that is correct for negative numbers. */
export function floorDiv(a: number, b: number): number {
  return Math.floor(a / b);
}

/** Modulo with a non-negative result. */
export function mod(a: number, b: number): number {
  return ((a % b) + b) % b;
}

export function greatestCommonDivisor(a: number, b: number): number {
  let x = Math.abs(a);
  let y = Math.abs(b);
  while (y !== 0) [x, y] = [y, x % y];
  return x;
}

/** Local wall-clock fields of a local-seconds value. */
export interface LocalFields extends CivilDate {
  hour: number;
  minute: number;
  second: number;
}

export function localFields(local: number): LocalFields {
  const days = Math.floor(local / SECONDS_PER_DAY);
  const sod = local - days * SECONDS_PER_DAY;
  const civil = civilFromDays(days);
  return {
    ...civil,
    hour: Math.floor(sod / 3600),
    minute: Math.floor((sod % 3600) / 60),
    second: sod % 60,
  };
}

export function localFromFields(f: LocalFields): number {
  return daysFromCivil(f.year, f.month, f.day) * SECONDS_PER_DAY + f.hour * 3600 + f.minute * 60 + f.second;
}

const pad2 = (n: number): string => (n < 10 ? `0${n}` : String(n));

/** `YYYY-MM-DDTHH:MM:SS` for a local-seconds value. */
export function formatLocalSeconds(local: number): string {
  const f = localFields(local);
  return `${String(f.year).padStart(4, '0')}-${pad2(f.month)}-${pad2(f.day)}T${pad2(f.hour)}:${pad2(f.minute)}:${pad2(f.second)}`;
}

/** `+HH:MM` / `-HH:MM` (with `:SS` only when the offset has seconds, as some zones did before 1972). */
export function formatOffset(offsetSeconds: number): string {
  const sign = offsetSeconds < 0 ? '-' : '+';
  const abs = Math.abs(offsetSeconds);
  const base = `${sign}${pad2(Math.floor(abs / 3600))}:${pad2(Math.floor((abs % 3600) / 60))}`;
  return abs % 60 === 0 ? base : `${base}:${pad2(abs % 60)}`;
}
