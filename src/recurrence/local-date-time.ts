/**
 * The API's `startDateTime` / `endDateTime`: local wall times without offset (`2027-01-01T11:18:00`),
 * read in the task's `timeZone`.
 */
import { SECONDS_PER_DAY, daysFromCivil, daysInMonth } from './calendar.js';
import { RecurrenceError } from './errors.js';

const LOCAL = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?$/;
const WITH_OFFSET = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?([Zz]|[+-]\d{2}(:?\d{2})?)$/;

/** Parses a local date-time to local seconds; `field` names it in errors. */
export function parseLocalDateTime(value: unknown, field: string): number {
  if (typeof value !== 'string') throw new RecurrenceError(field, 'must be a string');
  const m = LOCAL.exec(value);
  if (!m) {
    if (WITH_OFFSET.test(value)) {
      const local = value.replace(/([Zz]|[+-]\d{2}(:?\d{2})?)$/, '');
      throw new RecurrenceError(field, `'${clip(value)}' has a UTC offset; with a timeZone the offset must be omitted (e.g. '${clip(local)}')`);
    }
    throw new RecurrenceError(field, `'${clip(value)}' is not a local date-time (YYYY-MM-DDTHH:MM:SS)`);
  }
  const [, y, mo, d, h, mi, s = '0', frac] = m;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  const hour = Number(h);
  const minute = Number(mi);
  const second = Number(s);
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) {
    throw new RecurrenceError(field, `'${clip(value)}' is not a valid date`);
  }
  if (hour > 23 || minute > 59 || second > 59) throw new RecurrenceError(field, `'${clip(value)}' is not a valid time of day`);
  // Schedules have whole seconds (as RFC 5545 has); a fraction is accepted only when it is zero.
  if (frac !== undefined && /[1-9]/.test(frac)) {
    throw new RecurrenceError(field, `'${clip(value)}' has a fraction of a second; schedules use whole seconds`);
  }
  return daysFromCivil(year, month, day) * SECONDS_PER_DAY + hour * 3600 + minute * 60 + second;
}

function clip(s: string): string {
  return s.length > 40 ? `${s.slice(0, 37)}...` : s;
}
