// The schedule as a whole: the window, unions and exclusions, COUNT and UNTIL, the query methods,
// and the guarantees that queries never hang.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compileSchedule, MAX_LIST, RecurrenceError, type ScheduleInput } from '../../src/recurrence/index.js';

const zurich = (startDateTime: string, recurrence: string[], extra: Partial<ScheduleInput> = {}) =>
  compileSchedule({ timeZone: 'Europe/Zurich', startDateTime, recurrence, ...extra });
const local = (s: ReturnType<typeof compileSchedule>, n = 10, after?: number) => s.first(n, after).map((t) => s.formatLocal(t));
const ms = (iso: string) => Date.parse(iso);

describe('the window', () => {
  it('a start without lines is a single occurrence', () => {
    const s = zurich('2027-01-04T09:00:00', []);
    assert.deepEqual(local(s), ['2027-01-04T09:00:00+01:00']);
    assert.equal(s.next(ms('2027-01-04T08:00:00Z')), null);
    assert.equal(s.next(ms('2027-01-04T07:59:59Z')), ms('2027-01-04T08:00:00Z'));
  });

  it('no start and no lines is "no schedule"', () => {
    for (const input of [{}, { startDateTime: '' }, { startDateTime: null, recurrence: [] }]) {
      const s = compileSchedule({ timeZone: 'Europe/Zurich', ...input });
      assert.equal(s.isEmpty, true);
      assert.equal(s.start, null);
      assert.deepEqual(s.first(5), []);
      assert.equal(s.next(0), null);
    }
  });

  it('the start opens the window but is not itself an occurrence', () => {
    const s = zurich('2027-01-04T10:00:00', ['RRULE:FREQ=DAILY;BYHOUR=9;BYMINUTE=0;BYSECOND=0']);
    assert.deepEqual(local(s, 2), ['2027-01-05T09:00:00+01:00', '2027-01-06T09:00:00+01:00']);
  });

  it('the end closes the window, inclusive', () => {
    const s = zurich('2027-01-04T09:00:00', ['FREQ=DAILY'], { endDateTime: '2027-01-06T09:00:00' });
    assert.deepEqual(local(s), ['2027-01-04T09:00:00+01:00', '2027-01-05T09:00:00+01:00', '2027-01-06T09:00:00+01:00']);
    assert.equal(s.end, ms('2027-01-06T08:00:00Z'));
  });

  it('RDATEs outside the window are dropped', () => {
    const s = zurich('2027-01-04T09:00:00', ['RDATE:20270101T090000,20270105T120000,20270301T090000'], { endDateTime: '2027-02-01T00:00:00' });
    assert.deepEqual(local(s), ['2027-01-05T12:00:00+01:00']);
  });
});

describe('unions and exclusions', () => {
  it('several RRULEs are a union in time order, and the same instant twice is one occurrence', () => {
    const s = zurich('2027-01-04T09:00:00', ['FREQ=DAILY;BYHOUR=9,18;COUNT=4', 'FREQ=DAILY;BYHOUR=9,12;COUNT=4']);
    assert.deepEqual(local(s), [
      '2027-01-04T09:00:00+01:00',
      '2027-01-04T12:00:00+01:00',
      '2027-01-04T18:00:00+01:00',
      '2027-01-05T09:00:00+01:00',
      '2027-01-05T12:00:00+01:00',
      '2027-01-05T18:00:00+01:00',
    ]);
  });

  it('RDATE takes local, UTC, TZID, DATE and PERIOD values', () => {
    const s = zurich('2027-01-04T09:30:00', [
      'RDATE:20270110T080000',
      'RDATE:20270111T080000Z',
      'RDATE;TZID=America/New_York:20270112T080000',
      'RDATE;VALUE=DATE:20270113,20270114',
      'RDATE;VALUE=PERIOD:20270115T070000Z/PT1H,20270116T070000Z/20270116T090000Z',
    ]);
    assert.deepEqual(local(s), [
      '2027-01-10T08:00:00+01:00',
      '2027-01-11T09:00:00+01:00',
      '2027-01-12T14:00:00+01:00',
      '2027-01-13T09:30:00+01:00', // a DATE takes the start's time of day
      '2027-01-14T09:30:00+01:00',
      '2027-01-15T08:00:00+01:00',
      '2027-01-16T08:00:00+01:00',
    ]);
  });

  it('EXDATE removes local, UTC, TZID and whole-day values', () => {
    const s = zurich('2027-01-04T09:00:00', [
      'FREQ=DAILY;COUNT=8',
      'EXDATE:20270105T090000',
      'EXDATE:20270106T080000Z',
      'EXDATE;TZID=America/New_York:20270107T030000',
      'EXDATE;VALUE=DATE:20270108,20270109',
      'EXDATE:20270110T100000', // not an occurrence: removes nothing
    ]);
    assert.deepEqual(local(s), ['2027-01-04T09:00:00+01:00', '2027-01-10T09:00:00+01:00', '2027-01-11T09:00:00+01:00']);
  });

  it('EXDATE does not change what COUNT counts (RFC 5545)', () => {
    const s = zurich('2027-01-04T09:00:00', ['FREQ=DAILY;COUNT=3', 'EXDATE:20270105T090000']);
    assert.deepEqual(local(s), ['2027-01-04T09:00:00+01:00', '2027-01-06T09:00:00+01:00']);
  });

  it('EXRULE removes what it matches', () => {
    const s = zurich('2027-01-04T09:00:00', ['FREQ=DAILY', 'EXRULE:FREQ=WEEKLY;BYDAY=SA,SU']);
    assert.deepEqual(local(s, 6), [
      '2027-01-04T09:00:00+01:00',
      '2027-01-05T09:00:00+01:00',
      '2027-01-06T09:00:00+01:00',
      '2027-01-07T09:00:00+01:00',
      '2027-01-08T09:00:00+01:00',
      '2027-01-11T09:00:00+01:00',
    ]);
  });

  it('EXDATE can remove the single occurrence of a start without rules', () => {
    assert.deepEqual(local(zurich('2027-01-04T09:00:00', ['EXDATE:20270104T090000'])), []);
  });

  it('an EXDATE in a fall-back overlap removes both instants of a sub-daily rule', () => {
    const s = compileSchedule({
      timeZone: 'America/New_York',
      startDateTime: '2026-11-01T00:30:00',
      recurrence: ['FREQ=HOURLY;COUNT=5', 'EXDATE:20261101T013000'],
    });
    assert.deepEqual(local(s), ['2026-11-01T00:30:00-04:00', '2026-11-01T02:30:00-05:00', '2026-11-01T03:30:00-05:00']);
  });
});

describe('COUNT and UNTIL', () => {
  it('UNTIL in UTC, local and DATE form is inclusive', () => {
    const utc = zurich('2027-01-04T09:00:00', ['FREQ=DAILY;UNTIL=20270106T080000Z']);
    const loc = zurich('2027-01-04T09:00:00', ['FREQ=DAILY;UNTIL=20270106T090000']);
    const date = zurich('2027-01-04T09:00:00', ['FREQ=DAILY;UNTIL=20270106']);
    for (const s of [utc, loc, date]) assert.deepEqual(local(s).at(-1), '2027-01-06T09:00:00+01:00');
    for (const s of [utc, loc, date]) assert.equal(s.first(10).length, 3);
  });

  it('COUNT counts an instant that a DST gap produced twice only once', () => {
    // 02:00 does not exist on 2026-03-08 in New York; shifted, it is 03:00, which the rule has anyway.
    const s = compileSchedule({ timeZone: 'America/New_York', startDateTime: '2026-03-08T00:00:00', recurrence: ['FREQ=HOURLY;COUNT=4'] });
    assert.deepEqual(local(s), ['2026-03-08T00:00:00-05:00', '2026-03-08T01:00:00-05:00', '2026-03-08T03:00:00-04:00', '2026-03-08T04:00:00-04:00']);
  });

  it('COUNT answers a query far ahead first, and earlier ones after', () => {
    const s = zurich('2027-01-04T09:00:00', ['FREQ=DAILY;COUNT=100']);
    assert.equal(s.formatLocal(s.next(ms('2027-04-12T07:00:00Z'))!), '2027-04-13T09:00:00+02:00');
    assert.equal(s.next(ms('2027-04-13T07:00:00Z')), null); // the 100th was 2027-04-13
    assert.equal(s.formatLocal(s.next(ms('2027-01-10T00:00:00Z'))!), '2027-01-10T09:00:00+01:00');
    assert.equal(s.first(1000).length, 100);
  });

  it('a COUNT too large to count within the budget is an error, not a wrong answer', () => {
    const s = compileSchedule({ timeZone: 'UTC', startDateTime: '2020-01-01T00:00:00', recurrence: ['FREQ=SECONDLY;COUNT=2000000000'] });
    assert.throws(() => s.next(ms('2026-01-01T00:00:00Z')), (e: unknown) => e instanceof RecurrenceError && e.field === 'recurrence[0]' && /search budget/.test(e.message));
    // Counting progress is kept, so near the start the same schedule answers.
    assert.equal(s.next(ms('2020-01-01T00:00:10Z')), ms('2020-01-01T00:00:11Z'));
  });

  it('checkCountable refuses a COUNT that a process compiling the schedule afresh could not count to its end', () => {
    const huge = compileSchedule({ timeZone: 'UTC', startDateTime: '2027-01-01T00:00:00', recurrence: ['FREQ=DAILY', 'EXRULE:FREQ=MINUTELY;COUNT=1000000'] });
    assert.throws(() => huge.checkCountable(), (e: unknown) => e instanceof RecurrenceError && e.field === 'recurrence[1]' && /COUNT is more occurrences than can be counted; use UNTIL/.test(e.message));
    // What it passes stays answerable at the end of the count, for a schedule compiled afresh (a
    // restart), which counts from the start in one query.
    const input = { timeZone: 'UTC', startDateTime: '2027-01-01T00:00:00', recurrence: ['FREQ=MINUTELY;COUNT=120000'] };
    compileSchedule(input).checkCountable();
    const fresh = compileSchedule(input);
    const last = ms('2027-01-01T00:00:00Z') + 119_999 * 60_000;
    assert.equal(fresh.next(last - 60_000), last);
    assert.equal(fresh.next(last), null);
  });
});

describe('the calendar', () => {
  it('a yearly rule from February 29 fires in leap years only', () => {
    const s = compileSchedule({ timeZone: 'UTC', startDateTime: '2024-02-29T12:00:00', recurrence: ['FREQ=YEARLY'] });
    assert.deepEqual(local(s, 3), ['2024-02-29T12:00:00+00:00', '2028-02-29T12:00:00+00:00', '2032-02-29T12:00:00+00:00']);
  });

  it('BYMONTHDAY=31 skips months without a 31st, and -1 is every last day', () => {
    const s31 = compileSchedule({ timeZone: 'UTC', startDateTime: '2027-01-01T00:00:00', recurrence: ['FREQ=MONTHLY;BYMONTHDAY=31'] });
    assert.deepEqual(local(s31, 4).map((x) => x.slice(0, 10)), ['2027-01-31', '2027-03-31', '2027-05-31', '2027-07-31']);
    const last = compileSchedule({ timeZone: 'UTC', startDateTime: '2028-01-01T00:00:00', recurrence: ['FREQ=MONTHLY;BYMONTHDAY=-1'] });
    assert.deepEqual(local(last, 3).map((x) => x.slice(0, 10)), ['2028-01-31', '2028-02-29', '2028-03-31']);
  });

  it('BYSECOND=60 (a leap second) is valid but never fires', () => {
    const s = compileSchedule({ timeZone: 'UTC', startDateTime: '2027-01-01T00:00:00', recurrence: ['FREQ=MINUTELY;BYSECOND=60'] });
    assert.deepEqual(s.first(3), []);
  });

  it('the answer for an old rule does not depend on walking from its start', () => {
    // Every 3rd day from 2016-01-01 at 06:00 UTC: 2026-11-29 is day 3985 = 3 * 1328 + 1.
    const s = compileSchedule({ timeZone: 'UTC', startDateTime: '2016-01-01T06:00:00', recurrence: ['FREQ=DAILY;INTERVAL=3'] });
    assert.equal(new Date(s.next(ms('2026-11-29T12:00:00Z'))!).toISOString(), '2026-12-01T06:00:00.000Z');
    const w = compileSchedule({ timeZone: 'UTC', startDateTime: '2016-01-04T06:00:00', recurrence: ['FREQ=WEEKLY;INTERVAL=5;BYDAY=MO'] });
    // 2016-01-04 is a Monday; 2026-11-30 is 569 weeks later (not a multiple of 5), 2026-12-07 is 570 = 5 * 114.
    assert.equal(new Date(w.next(ms('2026-11-29T12:00:00Z'))!).toISOString(), '2026-12-07T06:00:00.000Z');
  });
});

describe('the query methods', () => {
  const s = zurich('2027-01-04T09:00:00', ['FREQ=DAILY;BYHOUR=9,21']);

  it('first(n, after) is next() repeated', () => {
    const list = s.first(6, ms('2027-01-05T00:00:00Z'));
    let t = ms('2027-01-05T00:00:00Z');
    for (const x of list) {
      assert.equal(s.next(t), x);
      t = x;
    }
  });

  it('between is after < t <= until, and respects its limit', () => {
    const b = s.between(ms('2027-01-04T08:00:00Z'), ms('2027-01-05T20:00:00Z'));
    assert.deepEqual(b.map((t) => s.formatLocal(t)), ['2027-01-04T21:00:00+01:00', '2027-01-05T09:00:00+01:00', '2027-01-05T21:00:00+01:00']);
    assert.equal(s.between(0, ms('2030-01-01T00:00:00Z'), 5).length, 5);
  });

  it('caps lists at MAX_LIST', () => {
    const secondly = compileSchedule({ timeZone: 'UTC', startDateTime: '2027-01-01T00:00:00', recurrence: ['FREQ=SECONDLY'] });
    assert.equal(secondly.first(MAX_LIST + 10).length, MAX_LIST);
  });

  it('a millisecond instant is "strictly after" at second precision', () => {
    const t = ms('2027-01-04T08:00:00Z');
    assert.equal(s.next(t - 1), t);
    assert.equal(s.next(t + 999), ms('2027-01-04T20:00:00Z'));
  });
});

describe('rules that can never fire answer at once', () => {
  const never = [
    'FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30',
    'FREQ=MONTHLY;BYMONTH=4,6,9,11;BYMONTHDAY=31',
    'FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30',
    'FREQ=HOURLY;BYMONTH=2;BYMONTHDAY=31',
    'FREQ=SECONDLY;BYMONTH=2;BYMONTHDAY=30',
    'FREQ=HOURLY;INTERVAL=2;BYHOUR=1',
    'FREQ=MINUTELY;INTERVAL=2;BYMINUTE=1,3,5',
    'FREQ=DAILY;INTERVAL=14;BYDAY=TU',
    'FREQ=HOURLY;INTERVAL=168;BYDAY=TU',
    'FREQ=YEARLY;BYYEARDAY=366;BYMONTH=1',
    'FREQ=YEARLY;BYWEEKNO=53;BYMONTH=6',
    'FREQ=MONTHLY;INTERVAL=12;BYMONTHDAY=30',
  ];

  for (const rule of never) {
    it(rule, () => {
      // 2027-02-01 is a Monday in February, so the INTERVAL cases start on the wrong weekday/month.
      const s = compileSchedule({ timeZone: 'Europe/Zurich', startDateTime: '2027-02-01T00:00:00', recurrence: [rule] });
      assert.deepEqual(s.first(3), []);
      assert.equal(s.next(ms('2030-01-01T00:00:00Z')), null);
    });
  }
});
