// Bad schedules: every one is a RecurrenceError whose message names the field, the part and the
// value, ready to be an API error's `detail`.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { anchorMinuteAfter, compileSchedule, localMinuteAt, RecurrenceError, type ScheduleInput } from '../../src/recurrence/index.js';

const base = { timeZone: 'Europe/Zurich', startDateTime: '2027-01-04T09:00:00' };

function rejects(input: Partial<ScheduleInput>, message: string, field?: string): void {
  assert.throws(
    () => compileSchedule({ ...base, ...input } as ScheduleInput),
    (e: unknown) => {
      assert.ok(e instanceof RecurrenceError, `expected a RecurrenceError, got ${String(e)}`);
      assert.equal(e.message, message);
      if (field) assert.equal(e.field, field);
      return true;
    },
  );
}

const line = (rule: string, message: string) => () => rejects({ recurrence: ['RRULE:FREQ=DAILY', rule] }, `recurrence[1]: ${message}`, 'recurrence[1]');

describe('recurrence lines', () => {
  it('names a DTSTART line', line('DTSTART:20270101T090000', 'DTSTART lines are not allowed; use startDateTime'));
  it('names a DTEND line', line('DTEND;TZID=Europe/Zurich:20270101T090000', 'DTEND lines are not allowed; use endDateTime'));
  it('rejects other properties', line('DURATION:PT1H', 'DURATION lines are not supported; expected RRULE, EXRULE, RDATE or EXDATE'));
  it('rejects an empty line', line('  ', 'is empty; expected an RRULE, EXRULE, RDATE or EXDATE line'));
  it('rejects a line that is not a property', line('every day at nine', "'every day at nine' is not a recurrence line; expected RRULE:, EXRULE:, RDATE:, EXDATE: or FREQ=…"));
  it('rejects a non-string line', () => rejects({ recurrence: [42] }, 'recurrence[0]: must be a string'));
  it('rejects parameters on RRULE', line('RRULE;X-FOO=1:FREQ=DAILY', "RRULE lines take no parameters (found 'X-FOO=1')"));
  it('rejects a recurrence that is not an array', () =>
    rejects({ recurrence: 'RRULE:FREQ=DAILY' as unknown as string[] }, 'recurrence: must be an array of strings'));
});

describe('RRULE parts', () => {
  it('requires FREQ', line('RRULE:INTERVAL=2', 'FREQ is required'));
  it('rejects an unknown FREQ', line('FREQ=FORTNIGHTLY', "FREQ value 'FORTNIGHTLY' is not one of SECONDLY, MINUTELY, HOURLY, DAILY, WEEKLY, MONTHLY, YEARLY"));
  it('rejects an unknown part', line('FREQ=DAILY;BYFOO=1', "unknown rule part 'BYFOO'"));
  it('rejects a part twice', line('FREQ=DAILY;BYHOUR=1;BYHOUR=2', 'rule part BYHOUR appears twice'));
  it('rejects an empty value', line('FREQ=DAILY;BYHOUR=', 'rule part BYHOUR has no value'));
  it('rejects two semicolons', line('FREQ=DAILY;;BYHOUR=1', 'has an empty rule part (two semicolons in a row?)'));
  it('rejects a part without =', line('FREQ=DAILY;BYHOUR', "'BYHOUR' is not a NAME=VALUE rule part"));
  it('accepts a trailing semicolon and lower case', () => {
    const s = compileSchedule({ ...base, recurrence: ['rrule:freq=daily;byhour=10;'] });
    assert.equal(s.formatLocal(s.first(1)[0]!), '2027-01-04T10:00:00+01:00');
  });
  it('names a bad weekday', line('FREQ=WEEKLY;BYDAY=MO,XX', "BYDAY value 'XX' is not a weekday"));
  it('names a bad ordinal', line('FREQ=MONTHLY;BYDAY=54MO', "BYDAY value '54MO' has an ordinal out of range (1 to 53 or -53 to -1)"));
  it('rejects ordinal 0', line('FREQ=MONTHLY;BYDAY=0MO', "BYDAY value '0MO' has an ordinal out of range (1 to 53 or -53 to -1)"));
  it('rejects garbage in BYDAY', line('FREQ=MONTHLY;BYDAY=1-MO', "BYDAY value '1-MO' is not a weekday with an optional ordinal (MO, 1MO, -1FR)"));
  it('rejects INTERVAL=0', line('FREQ=DAILY;INTERVAL=0', "INTERVAL value '0' is not a positive integer"));
  it('rejects a negative COUNT', line('FREQ=DAILY;COUNT=-1', "COUNT value '-1' is not a positive integer"));
  it('rejects COUNT with UNTIL', line('FREQ=DAILY;COUNT=3;UNTIL=20270201T000000Z', 'COUNT and UNTIL must not both be given'));
  it('rejects a bad UNTIL', line('FREQ=DAILY;UNTIL=2027-02-01', "UNTIL value '2027-02-01' is not a DATE-TIME (YYYYMMDDTHHMMSS, optionally ending in Z) or a DATE (YYYYMMDD)"));
  it('rejects an impossible UNTIL date', line('FREQ=DAILY;UNTIL=20270230', "UNTIL value '20270230' is not a valid date"));
  it('rejects BYMONTHDAY=32', line('FREQ=MONTHLY;BYMONTHDAY=32', "BYMONTHDAY value '32' is out of range (1 to 31 or -31 to -1)"));
  it('rejects BYMONTHDAY=0', line('FREQ=MONTHLY;BYMONTHDAY=0', "BYMONTHDAY value '0' is out of range (1 to 31 or -31 to -1)"));
  it('rejects BYHOUR=24', line('FREQ=DAILY;BYHOUR=24', "BYHOUR value '24' is out of range (0 to 23)"));
  it('rejects a negative BYMINUTE', line('FREQ=DAILY;BYMINUTE=-5', "BYMINUTE value '-5' is out of range (0 to 59)"));
  it('rejects BYSECOND=61', line('FREQ=DAILY;BYSECOND=61', "BYSECOND value '61' is out of range (0 to 60)"));
  it('rejects BYMONTH=13', line('FREQ=YEARLY;BYMONTH=13', "BYMONTH value '13' is out of range (1 to 12)"));
  it('rejects BYYEARDAY=367', line('FREQ=YEARLY;BYYEARDAY=367', "BYYEARDAY value '367' is out of range (1 to 366 or -366 to -1)"));
  it('rejects BYWEEKNO=54', line('FREQ=YEARLY;BYWEEKNO=54', "BYWEEKNO value '54' is out of range (1 to 53 or -53 to -1)"));
  it('rejects a non-integer list value', line('FREQ=DAILY;BYHOUR=9,ten', "BYHOUR value 'ten' is not an integer"));
  it('rejects a bad WKST', line('FREQ=WEEKLY;WKST=XX', "WKST value 'XX' is not a weekday (MO, TU, WE, TH, FR, SA, SU)"));
  it('rejects BYWEEKNO outside YEARLY', line('FREQ=MONTHLY;BYWEEKNO=3', 'BYWEEKNO is only allowed with FREQ=YEARLY, not FREQ=MONTHLY'));
  it('rejects BYYEARDAY with DAILY', line('FREQ=DAILY;BYYEARDAY=3', 'BYYEARDAY is not allowed with FREQ=DAILY'));
  it('rejects BYMONTHDAY with WEEKLY', line('FREQ=WEEKLY;BYMONTHDAY=3', 'BYMONTHDAY is not allowed with FREQ=WEEKLY'));
  it('rejects BYDAY ordinals with WEEKLY', line('FREQ=WEEKLY;BYDAY=1MO', "BYDAY value '1MO' has an ordinal, which is only allowed with FREQ=MONTHLY or FREQ=YEARLY"));
  it('rejects BYDAY ordinals with BYWEEKNO', line('FREQ=YEARLY;BYWEEKNO=3;BYDAY=MO,-1FR', "BYDAY value '-1FR' has an ordinal, which is not allowed together with BYWEEKNO"));
  it('rejects BYSETPOS alone', line('FREQ=MONTHLY;BYSETPOS=1', 'BYSETPOS needs another BYxxx rule part to select from'));
  it('rejects BYSETPOS=0', line('FREQ=MONTHLY;BYDAY=MO;BYSETPOS=0', "BYSETPOS value '0' is out of range (1 to 366 or -366 to -1)"));
});

describe('RDATE and EXDATE', () => {
  it('rejects an unknown TZID', line('EXDATE;TZID=Mars/Olympus:20270105T090000', "TZID 'Mars/Olympus' is not an IANA time zone name"));
  it('rejects TZID with a UTC value', line('EXDATE;TZID=Europe/Zurich:20270105T090000Z', "EXDATE value '20270105T090000Z' is in UTC and cannot also have a TZID"));
  it('rejects an unknown parameter', line('RDATE;X-FOO=1:20270105T090000', 'parameter X-FOO is not supported on RDATE; use TZID or VALUE'));
  it('rejects an unknown VALUE', line('RDATE;VALUE=TIME:20270105T090000', "VALUE 'TIME' is not DATE-TIME, DATE or PERIOD"));
  it('rejects PERIOD on EXDATE', line('EXDATE;VALUE=PERIOD:20270105T090000Z/PT1H', 'EXDATE does not take VALUE=PERIOD'));
  it('rejects a date-time where VALUE=DATE is given', line('EXDATE;VALUE=DATE:20270105T090000', "EXDATE value '20270105T090000' is not a DATE (YYYYMMDD)"));
  it('rejects an empty list item', line('RDATE:20270105T090000,,20270106T090000', 'RDATE has an empty value in its list'));
  it('rejects a bad time of day', line('RDATE:20270105T250000', "RDATE value '20270105T250000' is not a valid time of day"));
  it('rejects a malformed duration', line('RDATE;VALUE=PERIOD:20270105T090000Z/P1X', "RDATE value '20270105T090000Z/P1X' has a malformed duration 'P1X'"));
});

describe('start, end and zone', () => {
  it('requires a time zone', () => rejects({ timeZone: '' }, 'timeZone: is required (an IANA time zone name such as Europe/Zurich)', 'timeZone'));
  it('rejects an unknown zone', () => rejects({ timeZone: 'Europe/Atlantis' }, "timeZone: 'Europe/Atlantis' is not an IANA time zone name", 'timeZone'));
  it('rejects an offset where a zone name belongs', () => rejects({ timeZone: '+05:00' }, "timeZone: '+05:00' is not an IANA time zone name"));
  it('rejects a start with an offset', () =>
    rejects(
      { startDateTime: '2027-01-04T09:00:00Z' },
      "startDateTime: '2027-01-04T09:00:00Z' has a UTC offset; with a timeZone the offset must be omitted (e.g. '2027-01-04T09:00:00')",
      'startDateTime',
    ));
  it('rejects an end with a numeric offset', () =>
    rejects(
      { endDateTime: '2027-02-04T09:00:00+01:00' },
      "endDateTime: '2027-02-04T09:00:00+01:00' has a UTC offset; with a timeZone the offset must be omitted (e.g. '2027-02-04T09:00:00')",
    ));
  it('rejects a start that is not a date-time', () => rejects({ startDateTime: 'tomorrow' }, "startDateTime: 'tomorrow' is not a local date-time (YYYY-MM-DDTHH:MM:SS)"));
  it('rejects February 30', () => rejects({ startDateTime: '2027-02-30T09:00:00' }, "startDateTime: '2027-02-30T09:00:00' is not a valid date"));
  it('rejects hour 24', () => rejects({ startDateTime: '2027-02-03T24:00:00' }, "startDateTime: '2027-02-03T24:00:00' is not a valid time of day"));
  it('rejects a fraction of a second', () =>
    rejects({ startDateTime: '2027-02-03T09:00:00.5' }, "startDateTime: '2027-02-03T09:00:00.5' has a fraction of a second; schedules use whole seconds"));
  it('accepts a zero fraction and a start without seconds', () => {
    assert.equal(compileSchedule({ ...base, startDateTime: '2027-02-03T09:00:00.000' }).start, Date.parse('2027-02-03T08:00:00Z'));
    assert.equal(compileSchedule({ ...base, startDateTime: '2027-02-03T09:00' }).start, Date.parse('2027-02-03T08:00:00Z'));
  });
  it('rejects a start before the Unix epoch (in the zone)', () => {
    rejects({ timeZone: 'Europe/Zurich', startDateTime: '1970-01-01T00:30:00' }, "startDateTime: '1970-01-01T00:30:00' in Europe/Zurich is before 1970-01-01T00:00:00Z");
    assert.equal(compileSchedule({ timeZone: 'America/New_York', startDateTime: '1970-01-01T00:00:00' }).start, 5 * 3600_000);
  });
  it('rejects a start after 9999-12-31T23:59:59Z (in the zone), and schedules end there', () => {
    rejects({ timeZone: 'America/Anchorage', startDateTime: '9999-12-31T23:59:59' }, "startDateTime: '9999-12-31T23:59:59' in America/Anchorage is after 9999-12-31T23:59:59Z", 'startDateTime');
    const last = Date.parse('9999-12-31T23:59:59Z');
    // East of UTC the same wall time is before the last instant: its one occurrence is it.
    const east = compileSchedule({ timeZone: 'Asia/Tokyo', startDateTime: '9999-12-31T23:59:59' });
    assert.equal(east.next(0), last - 9 * 3600_000);
    // A rule runs up to the last instant and stops there, also past an end in year 10000.
    for (const endDateTime of [undefined, '9999-12-31T23:59:59']) {
      const s = compileSchedule({ timeZone: 'America/Anchorage', startDateTime: '9999-12-31T12:00:00', endDateTime, recurrence: ['RRULE:FREQ=HOURLY'] });
      const times = s.first(100);
      assert.equal(times.at(-1), Date.parse('9999-12-31T23:00:00Z'));
      assert.equal(times.length, 3); // 21:00, 22:00, 23:00 UTC
      assert.equal(s.next(last), null);
    }
  });
  it('rejects an end not after the start', () => {
    rejects({ endDateTime: '2027-01-04T09:00:00' }, 'endDateTime: must be after startDateTime', 'endDateTime');
    rejects({ endDateTime: '2027-01-03T09:00:00' }, 'endDateTime: must be after startDateTime');
  });
  it('requires a start when there are lines', () =>
    rejects({ startDateTime: undefined, recurrence: ['RRULE:FREQ=DAILY'] }, 'startDateTime: is required when recurrence lines are given', 'startDateTime'));
  it('anchorMinuteAfter: the next whole minute, passing over a repeated hour whose wall times read as their first, past instant', () => {
    assert.equal(anchorMinuteAfter('Europe/Zurich', Date.parse('2027-01-04T08:00:10Z')), '2027-01-04T09:01:00');
    // New York repeats 01:00-01:59 on 2027-11-07 (EDT 05:xxZ, then EST 06:xxZ). In the first pass the
    // next minute is fine; in the second, 01:31 would read as 05:31Z, an hour ago: 02:00 EST is next.
    assert.equal(anchorMinuteAfter('America/New_York', Date.parse('2027-11-07T05:30:10Z')), '2027-11-07T01:31:00');
    assert.equal(anchorMinuteAfter('America/New_York', Date.parse('2027-11-07T06:30:10Z')), '2027-11-07T02:00:00');
    assert.equal(anchorMinuteAfter('America/New_York', Date.parse('2027-11-07T05:59:30Z')), '2027-11-07T02:00:00');
    // Lord Howe repeats half an hour.
    assert.equal(anchorMinuteAfter('Australia/Lord_Howe', Date.parse('2027-04-03T15:10:00Z')), '2027-04-04T02:00:00');
    assert.equal(anchorMinuteAfter('Mars/Olympus', 0), null);
  });

  it('localMinuteAt: the wall time of the minute in the zone, null for a name that is not a zone (the anchor of a task sent without a start)', () => {
    assert.equal(localMinuteAt('America/Sao_Paulo', Date.parse('2026-12-01T12:34:56.789Z')), '2026-12-01T09:34:00');
    assert.equal(localMinuteAt('Asia/Kathmandu', Date.parse('2026-12-01T23:59:59Z')), '2026-12-02T05:44:00');
    assert.equal(localMinuteAt('Europe/Zurich', Date.parse('2027-03-28T01:00:00Z')), '2027-03-28T03:00:00'); // just after the spring gap
    assert.equal(localMinuteAt('Mars/Olympus', 0), null);
  });
  it('requires a start for an end', () => rejects({ startDateTime: '', endDateTime: '2027-01-04T09:00:00' }, 'endDateTime: needs a startDateTime'));
  it('rejects a start that is not a string', () => rejects({ startDateTime: 20270104 as unknown as string }, 'startDateTime: must be a string'));
});
