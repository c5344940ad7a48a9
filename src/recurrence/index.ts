/**
 * The recurrence engine: RFC 5545 schedules expanded in IANA time zones. Pure, no I/O.
 *
 * ```ts
 * const s = compileSchedule({ timeZone: 'America/Toronto', startDateTime: '2027-01-01T11:18:00',
 *   recurrence: ['RRULE:FREQ=DAILY;BYHOUR=11;BYMINUTE=18;BYSECOND=0'] });
 * s.next(Date.now());   // epoch ms of the next run, or null
 * ```
 */
export { RecurrenceError } from './errors.js';
export { anchorMinuteAfter, compileSchedule, localMinuteAt, MAX_LIST, type Schedule, type ScheduleInput } from './schedule.js';
export { MAX_STEPS_PER_QUERY } from './rule.js';
export { parseLocalDateTime } from './local-date-time.js';
export { sharedStart, startDependence, type SharedStart, type StartDependence } from './shared-start.js';
export { formatLocalSeconds } from './calendar.js';
