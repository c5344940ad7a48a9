/**
 * Recurrence across daylight-saving and other UTC-offset transitions.
 *
 * Every expected value below is a literal. The transition instants and offsets
 * were determined independently by scanning Node's Intl.DateTimeFormat output
 * (Node 20, ICU 78.2, tz 2025c):
 *
 *   America/New_York    2007-03-11T07:00Z  -05:00 -> -04:00  (02:00 -> 03:00 local)
 *                       2026-03-08T07:00Z  -05:00 -> -04:00  (02:00 -> 03:00 local)
 *                       2026-11-01T06:00Z  -04:00 -> -05:00  (02:00 -> 01:00 local)
 *                       2027-11-07T06:00Z, 2028-11-05T06:00Z  (same rule)
 *   Europe/London       2026-03-29T01:00Z  +00:00 -> +01:00  (01:00 -> 02:00 local)
 *                       2026-10-25T01:00Z  +01:00 -> +00:00  (02:00 -> 01:00 local)
 *   Australia/Lord_Howe 2026-04-04T15:00Z  +11:00 -> +10:30  (04-05 02:00 -> 01:30 local)
 *                       2026-10-03T15:30Z  +10:30 -> +11:00  (10-04 02:00 -> 02:30 local)
 *   America/Santiago    2026-04-05T03:00Z  -03:00 -> -04:00  (04-05 00:00 -> 04-04 23:00 local)
 *                       2026-09-06T04:00Z  -04:00 -> -03:00  (09-06 00:00 -> 01:00 local)
 *   America/Havana      2026-03-08T05:00Z  -05:00 -> -04:00  (03-08 00:00 -> 01:00 local)
 *                       2026-11-01T05:00Z  -04:00 -> -05:00  (11-01 01:00 -> 00:00 local)
 *   Asia/Tehran         2021-03-21T20:30Z  +03:30 -> +04:30  (03-22 00:00 -> 01:00 local)
 *                       2021-09-21T19:30Z  +04:30 -> +03:30  (09-22 00:00 -> 09-21 23:00 local)
 *                       last transition 2022-09-21T19:30Z; no DST from 2023 on (+03:30 all year)
 *   Pacific/Apia        2011-12-30T10:00Z  -10:00 -> +14:00  (12-29 24:00 -> 12-31 00:00 local;
 *                                                             all of 2011-12-30 is skipped)
 *                       2012-03-31T14:00Z  +14:00 -> +13:00  (04-01 04:00 -> 03:00 local)
 *                       2012-09-29T14:00Z  +13:00 -> +14:00  (09-30 03:00 -> 04:00 local)
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { compileSchedule } from '../../src/recurrence/index.js';

type Schedule = ReturnType<typeof compileSchedule>;

function sched(timeZone: string, startDateTime: string, rule: string, endDateTime?: string): Schedule {
  const opts: {
    timeZone: string;
    startDateTime: string;
    endDateTime?: string;
    recurrence: string[];
  } = { timeZone, startDateTime, recurrence: [`RRULE:${rule}`] };
  if (endDateTime !== undefined) opts.endDateTime = endDateTime;
  return compileSchedule(opts);
}

function local(s: Schedule, list: number[]): string[] {
  return list.map((ms) => s.formatLocal(ms));
}

function utc(list: number[]): string[] {
  return list.map((ms) => new Date(ms).toISOString());
}

function firstLocal(s: Schedule, n: number): string[] {
  return local(s, s.first(n));
}

function assertStrictlyIncreasing(list: number[]): void {
  for (let i = 1; i < list.length; i++) {
    assert.ok(list[i]! > list[i - 1]!, `occurrence ${i} (${list[i]}) is not after occurrence ${i - 1} (${list[i - 1]})`);
  }
}

const NY = 'America/New_York';
const LON = 'Europe/London';
const LHI = 'Australia/Lord_Howe';
const SCL = 'America/Santiago';
const HAV = 'America/Havana';
const THR = 'Asia/Tehran';
const APIA = 'Pacific/Apia';

// ---------------------------------------------------------------------------
describe('America/New_York', () => {
  describe('spring forward (2:00 -> 3:00)', () => {
    it('New York daily 02:30 on spring-forward day 2007-03-11 shifts to 03:30 EDT', () => {
      const s = sched(NY, '2007-03-10T00:00:00', 'FREQ=DAILY;BYHOUR=2;BYMINUTE=30;BYSECOND=0');
      const got = s.first(3);
      assert.deepEqual(local(s, got), [
        '2007-03-10T02:30:00-05:00',
        '2007-03-11T03:30:00-04:00',
        '2007-03-12T02:30:00-04:00',
      ]);
      assert.deepEqual(utc(got), [
        '2007-03-10T07:30:00.000Z',
        '2007-03-11T07:30:00.000Z',
        '2007-03-12T06:30:00.000Z',
      ]);
    });

    it('New York daily 09:00 stays at 09:00 local across spring-forward; UTC moves from 14:00Z to 13:00Z', () => {
      const s = sched(NY, '2026-03-07T00:00:00', 'FREQ=DAILY;BYHOUR=9;BYMINUTE=0;BYSECOND=0');
      const got = s.first(3);
      assert.deepEqual(local(s, got), [
        '2026-03-07T09:00:00-05:00',
        '2026-03-08T09:00:00-04:00',
        '2026-03-09T09:00:00-04:00',
      ]);
      assert.deepEqual(utc(got), [
        '2026-03-07T14:00:00.000Z',
        '2026-03-08T13:00:00.000Z',
        '2026-03-09T13:00:00.000Z',
      ]);
    });

    it('New York weekly Sunday 02:30 shifts to 03:30 EDT on 2026-03-08 only', () => {
      const s = sched(NY, '2026-03-01T00:00:00', 'FREQ=WEEKLY;BYDAY=SU;BYHOUR=2;BYMINUTE=30;BYSECOND=0');
      assert.deepEqual(firstLocal(s, 3), [
        '2026-03-01T02:30:00-05:00',
        '2026-03-08T03:30:00-04:00',
        '2026-03-15T02:30:00-04:00',
      ]);
    });

    it('New York monthly day-8 02:30 shifts to 03:30 EDT in March 2026', () => {
      const s = sched(NY, '2026-02-01T00:00:00', 'FREQ=MONTHLY;BYMONTHDAY=8;BYHOUR=2;BYMINUTE=30;BYSECOND=0');
      assert.deepEqual(firstLocal(s, 3), [
        '2026-02-08T02:30:00-05:00',
        '2026-03-08T03:30:00-04:00',
        '2026-04-08T02:30:00-04:00',
      ]);
    });

    it('New York hourly from 00:00 on spring-forward day: 02:00 shifts to 03:00 and merges with it', () => {
      const s = sched(NY, '2026-03-08T00:00:00', 'FREQ=HOURLY');
      const got = s.first(4);
      assert.deepEqual(local(s, got), [
        '2026-03-08T00:00:00-05:00',
        '2026-03-08T01:00:00-05:00',
        '2026-03-08T03:00:00-04:00',
        '2026-03-08T04:00:00-04:00',
      ]);
      assert.deepEqual(utc(got), [
        '2026-03-08T05:00:00.000Z',
        '2026-03-08T06:00:00.000Z',
        '2026-03-08T07:00:00.000Z',
        '2026-03-08T08:00:00.000Z',
      ]);
    });

    it('New York hourly INTERVAL=2 counts local hours: nonexistent 02:00 fires as 03:00 EDT, then 04:00', () => {
      const s = sched(NY, '2026-03-08T00:00:00', 'FREQ=HOURLY;INTERVAL=2');
      assert.deepEqual(firstLocal(s, 4), [
        '2026-03-08T00:00:00-05:00',
        '2026-03-08T03:00:00-04:00',
        '2026-03-08T04:00:00-04:00',
        '2026-03-08T06:00:00-04:00',
      ]);
    });

    it('New York hourly BYHOUR=2 fires at 03:00 EDT on the day 02:00 does not exist', () => {
      const s = sched(NY, '2026-03-07T00:00:00', 'FREQ=HOURLY;BYHOUR=2;BYMINUTE=0;BYSECOND=0');
      assert.deepEqual(firstLocal(s, 3), [
        '2026-03-07T02:00:00-05:00',
        '2026-03-08T03:00:00-04:00',
        '2026-03-09T02:00:00-04:00',
      ]);
    });

    it('New York hourly over the whole spring-forward day (end inclusive at next midnight) gives 24 occurrences', () => {
      const s = sched(NY, '2026-03-08T00:00:00', 'FREQ=HOURLY', '2026-03-09T00:00:00');
      const got = s.first(100);
      assert.equal(got.length, 24);
      assertStrictlyIncreasing(got);
      assert.equal(s.formatLocal(got[0]!), '2026-03-08T00:00:00-05:00');
      assert.equal(s.formatLocal(got[23]!), '2026-03-09T00:00:00-04:00');
      assert.equal(new Date(got[23]!).toISOString(), '2026-03-09T04:00:00.000Z');
    });

    it('New York endDateTime inside the gap (02:30) maps to 03:30 EDT and includes 03:00 EDT', () => {
      const s = sched(NY, '2026-03-08T00:00:00', 'FREQ=HOURLY', '2026-03-08T02:30:00');
      assert.deepEqual(local(s, s.first(10)), [
        '2026-03-08T00:00:00-05:00',
        '2026-03-08T01:00:00-05:00',
        '2026-03-08T03:00:00-04:00',
      ]);
    });

    it('New York MINUTELY;INTERVAL=15 jumps from 01:45 EST to 03:00 EDT', () => {
      const s = sched(NY, '2026-03-08T01:00:00', 'FREQ=MINUTELY;INTERVAL=15');
      const got = s.first(8);
      assert.deepEqual(local(s, got), [
        '2026-03-08T01:00:00-05:00',
        '2026-03-08T01:15:00-05:00',
        '2026-03-08T01:30:00-05:00',
        '2026-03-08T01:45:00-05:00',
        '2026-03-08T03:00:00-04:00',
        '2026-03-08T03:15:00-04:00',
        '2026-03-08T03:30:00-04:00',
        '2026-03-08T03:45:00-04:00',
      ]);
      assert.deepEqual(utc(got), [
        '2026-03-08T06:00:00.000Z',
        '2026-03-08T06:15:00.000Z',
        '2026-03-08T06:30:00.000Z',
        '2026-03-08T06:45:00.000Z',
        '2026-03-08T07:00:00.000Z',
        '2026-03-08T07:15:00.000Z',
        '2026-03-08T07:30:00.000Z',
        '2026-03-08T07:45:00.000Z',
      ]);
    });

    it('New York MINUTELY;INTERVAL=15 between() across the gap lists each instant once', () => {
      const s = sched(NY, '2026-03-08T00:00:00', 'FREQ=MINUTELY;INTERVAL=15');
      const got = s.between(Date.parse('2026-03-08T06:40:00Z'), Date.parse('2026-03-08T07:20:00Z'));
      assert.deepEqual(local(s, got), [
        '2026-03-08T01:45:00-05:00',
        '2026-03-08T03:00:00-04:00',
        '2026-03-08T03:15:00-04:00',
      ]);
    });
  });

  describe('fall back (2:00 -> 1:00)', () => {
    it('New York daily 09:00 stays at 09:00 local across fall-back; UTC moves from 13:00Z to 14:00Z', () => {
      const s = sched(NY, '2026-10-31T00:00:00', 'FREQ=DAILY;BYHOUR=9;BYMINUTE=0;BYSECOND=0');
      const got = s.first(3);
      assert.deepEqual(local(s, got), [
        '2026-10-31T09:00:00-04:00',
        '2026-11-01T09:00:00-05:00',
        '2026-11-02T09:00:00-05:00',
      ]);
      assert.deepEqual(utc(got), [
        '2026-10-31T13:00:00.000Z',
        '2026-11-01T14:00:00.000Z',
        '2026-11-02T14:00:00.000Z',
      ]);
    });

    it('New York daily 01:30 on fall-back day fires once, at the first (EDT) instant', () => {
      const s = sched(NY, '2026-10-31T00:00:00', 'FREQ=DAILY;BYHOUR=1;BYMINUTE=30;BYSECOND=0');
      const got = s.first(3);
      assert.deepEqual(local(s, got), [
        '2026-10-31T01:30:00-04:00',
        '2026-11-01T01:30:00-04:00',
        '2026-11-02T01:30:00-05:00',
      ]);
      assert.deepEqual(utc(got), [
        '2026-10-31T05:30:00.000Z',
        '2026-11-01T05:30:00.000Z',
        '2026-11-02T06:30:00.000Z',
      ]);
    });

    it('New York daily 01:30: next() after the EDT 01:30 skips the repeated EST 01:30', () => {
      const s = sched(NY, '2026-10-31T00:00:00', 'FREQ=DAILY;BYHOUR=1;BYMINUTE=30;BYSECOND=0');
      const after = Date.parse('2026-11-01T05:30:00Z'); // 01:30 EDT
      const n = s.next(after);
      assert.notEqual(n, null);
      assert.equal(s.formatLocal(n!), '2026-11-02T01:30:00-05:00');
      assert.deepEqual(s.between(after, Date.parse('2026-11-01T07:00:00Z')), []);
    });

    it('New York weekly Sunday 01:30 fires once (EDT) on 2026-11-01', () => {
      const s = sched(NY, '2026-10-25T00:00:00', 'FREQ=WEEKLY;BYDAY=SU;BYHOUR=1;BYMINUTE=30;BYSECOND=0');
      assert.deepEqual(firstLocal(s, 3), [
        '2026-10-25T01:30:00-04:00',
        '2026-11-01T01:30:00-04:00',
        '2026-11-08T01:30:00-05:00',
      ]);
    });

    it('New York monthly first-Sunday 01:30 fires once (EDT) on 2026-11-01', () => {
      const s = sched(NY, '2026-10-01T00:00:00', 'FREQ=MONTHLY;BYDAY=1SU;BYHOUR=1;BYMINUTE=30;BYSECOND=0');
      assert.deepEqual(firstLocal(s, 3), [
        '2026-10-04T01:30:00-04:00',
        '2026-11-01T01:30:00-04:00',
        '2026-12-06T01:30:00-05:00',
      ]);
    });

    it('New York yearly first-Sunday-of-November 01:30 is always the EDT instant', () => {
      const s = sched(NY, '2026-01-01T00:00:00', 'FREQ=YEARLY;BYMONTH=11;BYDAY=1SU;BYHOUR=1;BYMINUTE=30;BYSECOND=0');
      const got = s.first(3);
      assert.deepEqual(local(s, got), [
        '2026-11-01T01:30:00-04:00',
        '2027-11-07T01:30:00-04:00',
        '2028-11-05T01:30:00-04:00',
      ]);
      assert.deepEqual(utc(got), [
        '2026-11-01T05:30:00.000Z',
        '2027-11-07T05:30:00.000Z',
        '2028-11-05T05:30:00.000Z',
      ]);
    });

    it('New York hourly from 00:00 on fall-back day fires every real hour through the repeated 01:00', () => {
      const s = sched(NY, '2026-11-01T00:00:00', 'FREQ=HOURLY');
      const got = s.first(4);
      assert.deepEqual(local(s, got), [
        '2026-11-01T00:00:00-04:00',
        '2026-11-01T01:00:00-04:00',
        '2026-11-01T01:00:00-05:00',
        '2026-11-01T02:00:00-05:00',
      ]);
      assert.deepEqual(utc(got), [
        '2026-11-01T04:00:00.000Z',
        '2026-11-01T05:00:00.000Z',
        '2026-11-01T06:00:00.000Z',
        '2026-11-01T07:00:00.000Z',
      ]);
    });

    it('New York hourly INTERVAL=2 counts local hours: 00:00 EDT then 02:00 EST (3 real hours later)', () => {
      const s = sched(NY, '2026-11-01T00:00:00', 'FREQ=HOURLY;INTERVAL=2');
      const got = s.first(3);
      assert.deepEqual(local(s, got), [
        '2026-11-01T00:00:00-04:00',
        '2026-11-01T02:00:00-05:00',
        '2026-11-01T04:00:00-05:00',
      ]);
      assert.deepEqual(utc(got), [
        '2026-11-01T04:00:00.000Z',
        '2026-11-01T07:00:00.000Z',
        '2026-11-01T09:00:00.000Z',
      ]);
    });

    it('New York hourly BYHOUR=1,2 fires at both 01:00 instants on fall-back day', () => {
      const s = sched(NY, '2026-10-31T00:00:00', 'FREQ=HOURLY;BYHOUR=1,2;BYMINUTE=0;BYSECOND=0');
      assert.deepEqual(firstLocal(s, 6), [
        '2026-10-31T01:00:00-04:00',
        '2026-10-31T02:00:00-04:00',
        '2026-11-01T01:00:00-04:00',
        '2026-11-01T01:00:00-05:00',
        '2026-11-01T02:00:00-05:00',
        '2026-11-02T01:00:00-05:00',
      ]);
    });

    it('New York hourly over the whole fall-back day (end inclusive at next midnight) gives 26 occurrences', () => {
      const s = sched(NY, '2026-11-01T00:00:00', 'FREQ=HOURLY', '2026-11-02T00:00:00');
      const got = s.first(100);
      assert.equal(got.length, 26);
      assertStrictlyIncreasing(got);
      for (let i = 1; i < got.length; i++) assert.equal(got[i]! - got[i - 1]!, 3_600_000);
      assert.equal(s.formatLocal(got[25]!), '2026-11-02T00:00:00-05:00');
      assert.equal(new Date(got[25]!).toISOString(), '2026-11-02T05:00:00.000Z');
    });

    it('New York MINUTELY;INTERVAL=15 fires every 15 real minutes through the repeated hour', () => {
      const s = sched(NY, '2026-11-01T00:45:00', 'FREQ=MINUTELY;INTERVAL=15');
      const got = s.first(10);
      assert.deepEqual(local(s, got), [
        '2026-11-01T00:45:00-04:00',
        '2026-11-01T01:00:00-04:00',
        '2026-11-01T01:15:00-04:00',
        '2026-11-01T01:30:00-04:00',
        '2026-11-01T01:45:00-04:00',
        '2026-11-01T01:00:00-05:00',
        '2026-11-01T01:15:00-05:00',
        '2026-11-01T01:30:00-05:00',
        '2026-11-01T01:45:00-05:00',
        '2026-11-01T02:00:00-05:00',
      ]);
      assert.equal(new Date(got[0]!).toISOString(), '2026-11-01T04:45:00.000Z');
      assert.equal(new Date(got[9]!).toISOString(), '2026-11-01T07:00:00.000Z');
      for (let i = 1; i < got.length; i++) assert.equal(got[i]! - got[i - 1]!, 900_000);
    });

    it('New York MINUTELY;INTERVAL=15 from 00:00 to 03:00 local on fall-back day gives 17 occurrences (4 real hours)', () => {
      const s = sched(NY, '2026-11-01T00:00:00', 'FREQ=MINUTELY;INTERVAL=15', '2026-11-01T03:00:00');
      const got = s.first(100);
      assert.equal(got.length, 17);
      assertStrictlyIncreasing(got);
      assert.equal(s.formatLocal(got[16]!), '2026-11-01T03:00:00-05:00');
    });
  });
});

// ---------------------------------------------------------------------------
describe('Europe/London', () => {
  it('London daily 01:30 on spring-forward day 2026-03-29 shifts to 02:30 BST', () => {
    const s = sched(LON, '2026-03-28T00:00:00', 'FREQ=DAILY;BYHOUR=1;BYMINUTE=30;BYSECOND=0');
    const got = s.first(3);
    assert.deepEqual(local(s, got), [
      '2026-03-28T01:30:00+00:00',
      '2026-03-29T02:30:00+01:00',
      '2026-03-30T01:30:00+01:00',
    ]);
    assert.deepEqual(utc(got), [
      '2026-03-28T01:30:00.000Z',
      '2026-03-29T01:30:00.000Z',
      '2026-03-30T00:30:00.000Z',
    ]);
  });

  it('London daily 01:30 on fall-back day 2026-10-25 fires once, at 01:30 BST', () => {
    const s = sched(LON, '2026-10-24T00:00:00', 'FREQ=DAILY;BYHOUR=1;BYMINUTE=30;BYSECOND=0');
    const got = s.first(3);
    assert.deepEqual(local(s, got), [
      '2026-10-24T01:30:00+01:00',
      '2026-10-25T01:30:00+01:00',
      '2026-10-26T01:30:00+00:00',
    ]);
    assert.deepEqual(utc(got), [
      '2026-10-24T00:30:00.000Z',
      '2026-10-25T00:30:00.000Z',
      '2026-10-26T01:30:00.000Z',
    ]);
  });

  it('London hourly from 00:00 on spring-forward day skips 01:00 (shifted into 02:00 BST)', () => {
    const s = sched(LON, '2026-03-29T00:00:00', 'FREQ=HOURLY');
    const got = s.first(3);
    assert.deepEqual(local(s, got), [
      '2026-03-29T00:00:00+00:00',
      '2026-03-29T02:00:00+01:00',
      '2026-03-29T03:00:00+01:00',
    ]);
    assert.deepEqual(utc(got), [
      '2026-03-29T00:00:00.000Z',
      '2026-03-29T01:00:00.000Z',
      '2026-03-29T02:00:00.000Z',
    ]);
  });

  it('London hourly from 00:00 on fall-back day fires at both 01:00 instants', () => {
    const s = sched(LON, '2026-10-25T00:00:00', 'FREQ=HOURLY');
    const got = s.first(4);
    assert.deepEqual(local(s, got), [
      '2026-10-25T00:00:00+01:00',
      '2026-10-25T01:00:00+01:00',
      '2026-10-25T01:00:00+00:00',
      '2026-10-25T02:00:00+00:00',
    ]);
    assert.deepEqual(utc(got), [
      '2026-10-24T23:00:00.000Z',
      '2026-10-25T00:00:00.000Z',
      '2026-10-25T01:00:00.000Z',
      '2026-10-25T02:00:00.000Z',
    ]);
  });

  it('London hourly INTERVAL=2 from 01:00 on fall-back day fires 01:00 BST, 01:00 GMT, then odd local hours', () => {
    const s = sched(LON, '2026-10-25T01:00:00', 'FREQ=HOURLY;INTERVAL=2');
    assert.deepEqual(firstLocal(s, 4), [
      '2026-10-25T01:00:00+01:00',
      '2026-10-25T01:00:00+00:00',
      '2026-10-25T03:00:00+00:00',
      '2026-10-25T05:00:00+00:00',
    ]);
  });

  it('London weekly Sunday 09:00 stays 09:00 local across spring-forward (UTC 09:00Z -> 08:00Z)', () => {
    const s = sched(LON, '2026-03-22T00:00:00', 'FREQ=WEEKLY;BYDAY=SU;BYHOUR=9;BYMINUTE=0;BYSECOND=0');
    const got = s.first(3);
    assert.deepEqual(local(s, got), [
      '2026-03-22T09:00:00+00:00',
      '2026-03-29T09:00:00+01:00',
      '2026-04-05T09:00:00+01:00',
    ]);
    assert.deepEqual(utc(got), [
      '2026-03-22T09:00:00.000Z',
      '2026-03-29T08:00:00.000Z',
      '2026-04-05T08:00:00.000Z',
    ]);
  });

  it('London monthly last-Sunday 01:30 shifts to 02:30 BST in March 2026', () => {
    const s = sched(LON, '2026-02-01T00:00:00', 'FREQ=MONTHLY;BYDAY=-1SU;BYHOUR=1;BYMINUTE=30;BYSECOND=0');
    assert.deepEqual(firstLocal(s, 3), [
      '2026-02-22T01:30:00+00:00',
      '2026-03-29T02:30:00+01:00',
      '2026-04-26T01:30:00+01:00',
    ]);
  });

  it('London monthly day-25 01:30 fires once (BST) on fall-back day 2026-10-25', () => {
    const s = sched(LON, '2026-09-01T00:00:00', 'FREQ=MONTHLY;BYMONTHDAY=25;BYHOUR=1;BYMINUTE=30;BYSECOND=0');
    assert.deepEqual(firstLocal(s, 3), [
      '2026-09-25T01:30:00+01:00',
      '2026-10-25T01:30:00+01:00',
      '2026-11-25T01:30:00+00:00',
    ]);
  });
});

// ---------------------------------------------------------------------------
describe('Australia/Lord_Howe (30-minute shift)', () => {
  it('Lord Howe daily 02:10 on spring-forward day 2026-10-04 shifts 30 minutes to 02:40 (+11:00)', () => {
    const s = sched(LHI, '2026-10-03T00:00:00', 'FREQ=DAILY;BYHOUR=2;BYMINUTE=10;BYSECOND=0');
    const got = s.first(3);
    assert.deepEqual(local(s, got), [
      '2026-10-03T02:10:00+10:30',
      '2026-10-04T02:40:00+11:00',
      '2026-10-05T02:10:00+11:00',
    ]);
    assert.deepEqual(utc(got), [
      '2026-10-02T15:40:00.000Z',
      '2026-10-03T15:40:00.000Z',
      '2026-10-04T15:10:00.000Z',
    ]);
  });

  it('Lord Howe daily 01:45 on fall-back day 2026-04-05 fires once, at the +11:00 instant', () => {
    const s = sched(LHI, '2026-04-04T00:00:00', 'FREQ=DAILY;BYHOUR=1;BYMINUTE=45;BYSECOND=0');
    const got = s.first(3);
    assert.deepEqual(local(s, got), [
      '2026-04-04T01:45:00+11:00',
      '2026-04-05T01:45:00+11:00',
      '2026-04-06T01:45:00+10:30',
    ]);
    assert.deepEqual(utc(got), [
      '2026-04-03T14:45:00.000Z',
      '2026-04-04T14:45:00.000Z',
      '2026-04-05T15:15:00.000Z',
    ]);
  });

  it('Lord Howe hourly on the hour across the 02:00-02:30 gap: 02:00 becomes 02:30 (+11:00)', () => {
    const s = sched(LHI, '2026-10-04T00:00:00', 'FREQ=HOURLY');
    const got = s.first(4);
    assert.deepEqual(local(s, got), [
      '2026-10-04T00:00:00+10:30',
      '2026-10-04T01:00:00+10:30',
      '2026-10-04T02:30:00+11:00',
      '2026-10-04T03:00:00+11:00',
    ]);
    assert.deepEqual(utc(got), [
      '2026-10-03T13:30:00.000Z',
      '2026-10-03T14:30:00.000Z',
      '2026-10-03T15:30:00.000Z',
      '2026-10-03T16:00:00.000Z',
    ]);
  });

  it('Lord Howe hourly on the hour through fall-back: 01:00 is not repeated (only 01:30-02:00 is)', () => {
    const s = sched(LHI, '2026-04-05T00:00:00', 'FREQ=HOURLY');
    const got = s.first(4);
    assert.deepEqual(local(s, got), [
      '2026-04-05T00:00:00+11:00',
      '2026-04-05T01:00:00+11:00',
      '2026-04-05T02:00:00+10:30',
      '2026-04-05T03:00:00+10:30',
    ]);
    assert.deepEqual(utc(got), [
      '2026-04-04T13:00:00.000Z',
      '2026-04-04T14:00:00.000Z',
      '2026-04-04T15:30:00.000Z',
      '2026-04-04T16:30:00.000Z',
    ]);
  });

  it('Lord Howe hourly at :45 fires at both 01:45 instants, 30 minutes apart', () => {
    const s = sched(LHI, '2026-04-05T00:45:00', 'FREQ=HOURLY');
    const got = s.first(4);
    assert.deepEqual(local(s, got), [
      '2026-04-05T00:45:00+11:00',
      '2026-04-05T01:45:00+11:00',
      '2026-04-05T01:45:00+10:30',
      '2026-04-05T02:45:00+10:30',
    ]);
    assert.deepEqual(utc(got), [
      '2026-04-04T13:45:00.000Z',
      '2026-04-04T14:45:00.000Z',
      '2026-04-04T15:15:00.000Z',
      '2026-04-04T16:15:00.000Z',
    ]);
  });

  it('Lord Howe MINUTELY;INTERVAL=15 fires every 15 real minutes through the repeated half hour', () => {
    const s = sched(LHI, '2026-04-05T01:15:00', 'FREQ=MINUTELY;INTERVAL=15');
    const got = s.first(6);
    assert.deepEqual(local(s, got), [
      '2026-04-05T01:15:00+11:00',
      '2026-04-05T01:30:00+11:00',
      '2026-04-05T01:45:00+11:00',
      '2026-04-05T01:30:00+10:30',
      '2026-04-05T01:45:00+10:30',
      '2026-04-05T02:00:00+10:30',
    ]);
    for (let i = 1; i < got.length; i++) assert.equal(got[i]! - got[i - 1]!, 900_000);
  });

  it('Lord Howe weekly Sunday 02:15 shifts to 02:45 (+11:00) on 2026-10-04', () => {
    const s = sched(LHI, '2026-09-27T00:00:00', 'FREQ=WEEKLY;BYDAY=SU;BYHOUR=2;BYMINUTE=15;BYSECOND=0');
    assert.deepEqual(firstLocal(s, 3), [
      '2026-09-27T02:15:00+10:30',
      '2026-10-04T02:45:00+11:00',
      '2026-10-11T02:15:00+11:00',
    ]);
  });

  it('Lord Howe monthly day-5 01:45 fires once (+11:00) on fall-back day 2026-04-05', () => {
    const s = sched(LHI, '2026-03-01T00:00:00', 'FREQ=MONTHLY;BYMONTHDAY=5;BYHOUR=1;BYMINUTE=45;BYSECOND=0');
    assert.deepEqual(firstLocal(s, 3), [
      '2026-03-05T01:45:00+11:00',
      '2026-04-05T01:45:00+11:00',
      '2026-05-05T01:45:00+10:30',
    ]);
  });
});

// ---------------------------------------------------------------------------
// Santiago: clocks go 00:00 -> 01:00 on 2026-09-06 (00:00-01:00 missing) and
// 24:00 -> 23:00 at the end of 2026-04-04 (23:00-24:00 on 04-04 repeats).
describe('America/Santiago (transitions at local midnight)', () => {
  it('Santiago daily 00:30 on spring-forward day 2026-09-06 fires at 01:30 (-03:00)', () => {
    const s = sched(SCL, '2026-09-05T00:00:00', 'FREQ=DAILY;BYHOUR=0;BYMINUTE=30;BYSECOND=0');
    const got = s.first(3);
    assert.deepEqual(local(s, got), [
      '2026-09-05T00:30:00-04:00',
      '2026-09-06T01:30:00-03:00',
      '2026-09-07T00:30:00-03:00',
    ]);
    assert.deepEqual(utc(got), [
      '2026-09-05T04:30:00.000Z',
      '2026-09-06T04:30:00.000Z',
      '2026-09-07T03:30:00.000Z',
    ]);
  });

  it('Santiago daily 23:30 on fall-back day 2026-04-04 fires once, at the -03:00 instant', () => {
    const s = sched(SCL, '2026-04-03T00:00:00', 'FREQ=DAILY;BYHOUR=23;BYMINUTE=30;BYSECOND=0');
    const got = s.first(3);
    assert.deepEqual(local(s, got), [
      '2026-04-03T23:30:00-03:00',
      '2026-04-04T23:30:00-03:00',
      '2026-04-05T23:30:00-04:00',
    ]);
    assert.deepEqual(utc(got), [
      '2026-04-04T02:30:00.000Z',
      '2026-04-05T02:30:00.000Z',
      '2026-04-06T03:30:00.000Z',
    ]);
  });

  it('Santiago hourly through fall-back fires at both 23:00 instants, then 00:00 (-04:00)', () => {
    const s = sched(SCL, '2026-04-04T22:00:00', 'FREQ=HOURLY');
    const got = s.first(4);
    assert.deepEqual(local(s, got), [
      '2026-04-04T22:00:00-03:00',
      '2026-04-04T23:00:00-03:00',
      '2026-04-04T23:00:00-04:00',
      '2026-04-05T00:00:00-04:00',
    ]);
    assert.deepEqual(utc(got), [
      '2026-04-05T01:00:00.000Z',
      '2026-04-05T02:00:00.000Z',
      '2026-04-05T03:00:00.000Z',
      '2026-04-05T04:00:00.000Z',
    ]);
  });

  it('Santiago hourly through spring-forward goes 23:00 (-04:00) -> 01:00 (-03:00); 00:00 merges into 01:00', () => {
    const s = sched(SCL, '2026-09-05T22:00:00', 'FREQ=HOURLY');
    const got = s.first(4);
    assert.deepEqual(local(s, got), [
      '2026-09-05T22:00:00-04:00',
      '2026-09-05T23:00:00-04:00',
      '2026-09-06T01:00:00-03:00',
      '2026-09-06T02:00:00-03:00',
    ]);
    assert.deepEqual(utc(got), [
      '2026-09-06T02:00:00.000Z',
      '2026-09-06T03:00:00.000Z',
      '2026-09-06T04:00:00.000Z',
      '2026-09-06T05:00:00.000Z',
    ]);
  });

  it('Santiago weekly Sunday 00:30 fires at 01:30 on 2026-09-06', () => {
    const s = sched(SCL, '2026-08-30T00:00:00', 'FREQ=WEEKLY;BYDAY=SU;BYHOUR=0;BYMINUTE=30;BYSECOND=0');
    assert.deepEqual(firstLocal(s, 3), [
      '2026-08-30T00:30:00-04:00',
      '2026-09-06T01:30:00-03:00',
      '2026-09-13T00:30:00-03:00',
    ]);
  });

  it('Santiago monthly day-4 23:30 fires once (-03:00) on 2026-04-04', () => {
    const s = sched(SCL, '2026-03-01T00:00:00', 'FREQ=MONTHLY;BYMONTHDAY=4;BYHOUR=23;BYMINUTE=30;BYSECOND=0');
    assert.deepEqual(firstLocal(s, 3), [
      '2026-03-04T23:30:00-03:00',
      '2026-04-04T23:30:00-03:00',
      '2026-05-04T23:30:00-04:00',
    ]);
  });
});

// ---------------------------------------------------------------------------
// Havana: clocks go 00:00 -> 01:00 on 2026-03-08 (00:00-01:00 missing) and
// 01:00 -> 00:00 on 2026-11-01 (00:00-01:00 on 11-01 repeats; 23:00-24:00 does not).
describe('America/Havana (transitions at local midnight)', () => {
  it('Havana daily 00:30 on spring-forward day 2026-03-08 fires at 01:30 (-04:00)', () => {
    const s = sched(HAV, '2026-03-07T00:00:00', 'FREQ=DAILY;BYHOUR=0;BYMINUTE=30;BYSECOND=0');
    const got = s.first(3);
    assert.deepEqual(local(s, got), [
      '2026-03-07T00:30:00-05:00',
      '2026-03-08T01:30:00-04:00',
      '2026-03-09T00:30:00-04:00',
    ]);
    assert.deepEqual(utc(got), [
      '2026-03-07T05:30:00.000Z',
      '2026-03-08T05:30:00.000Z',
      '2026-03-09T04:30:00.000Z',
    ]);
  });

  it('Havana daily 00:30 on fall-back day 2026-11-01 fires once, at the -04:00 instant', () => {
    const s = sched(HAV, '2026-10-31T00:00:00', 'FREQ=DAILY;BYHOUR=0;BYMINUTE=30;BYSECOND=0');
    const got = s.first(3);
    assert.deepEqual(local(s, got), [
      '2026-10-31T00:30:00-04:00',
      '2026-11-01T00:30:00-04:00',
      '2026-11-02T00:30:00-05:00',
    ]);
    assert.deepEqual(utc(got), [
      '2026-10-31T04:30:00.000Z',
      '2026-11-01T04:30:00.000Z',
      '2026-11-02T05:30:00.000Z',
    ]);
  });

  it('Havana daily 23:30 is never ambiguous (the repeated hour is 00:00-01:00)', () => {
    const s = sched(HAV, '2026-10-31T00:00:00', 'FREQ=DAILY;BYHOUR=23;BYMINUTE=30;BYSECOND=0');
    const got = s.first(2);
    assert.deepEqual(local(s, got), ['2026-10-31T23:30:00-04:00', '2026-11-01T23:30:00-05:00']);
    assert.deepEqual(utc(got), ['2026-11-01T03:30:00.000Z', '2026-11-02T04:30:00.000Z']);
  });

  it('Havana hourly through fall-back fires at both 00:00 instants of 2026-11-01', () => {
    const s = sched(HAV, '2026-10-31T23:00:00', 'FREQ=HOURLY');
    const got = s.first(4);
    assert.deepEqual(local(s, got), [
      '2026-10-31T23:00:00-04:00',
      '2026-11-01T00:00:00-04:00',
      '2026-11-01T00:00:00-05:00',
      '2026-11-01T01:00:00-05:00',
    ]);
    assert.deepEqual(utc(got), [
      '2026-11-01T03:00:00.000Z',
      '2026-11-01T04:00:00.000Z',
      '2026-11-01T05:00:00.000Z',
      '2026-11-01T06:00:00.000Z',
    ]);
  });

  it('Havana hourly through spring-forward goes 23:00 (-05:00) -> 01:00 (-04:00)', () => {
    const s = sched(HAV, '2026-03-07T23:00:00', 'FREQ=HOURLY');
    const got = s.first(3);
    assert.deepEqual(local(s, got), [
      '2026-03-07T23:00:00-05:00',
      '2026-03-08T01:00:00-04:00',
      '2026-03-08T02:00:00-04:00',
    ]);
    assert.deepEqual(utc(got), [
      '2026-03-08T04:00:00.000Z',
      '2026-03-08T05:00:00.000Z',
      '2026-03-08T06:00:00.000Z',
    ]);
  });

  it('Havana weekly Sunday 00:00 fires once (-04:00) on 2026-11-01', () => {
    const s = sched(HAV, '2026-10-25T00:00:00', 'FREQ=WEEKLY;BYDAY=SU;BYHOUR=0;BYMINUTE=0;BYSECOND=0');
    assert.deepEqual(firstLocal(s, 3), [
      '2026-10-25T00:00:00-04:00',
      '2026-11-01T00:00:00-04:00',
      '2026-11-08T00:00:00-05:00',
    ]);
  });
});

// ---------------------------------------------------------------------------
// Tehran: DST until 2022 (last transition 2022-09-21T19:30Z); +03:30 all year from 2023.
describe('Asia/Tehran (DST in 2021, abolished from 2023)', () => {
  it('Tehran 2021 daily 00:30 on spring-forward day 2021-03-22 fires at 01:30 (+04:30)', () => {
    const s = sched(THR, '2021-03-21T00:00:00', 'FREQ=DAILY;BYHOUR=0;BYMINUTE=30;BYSECOND=0');
    const got = s.first(3);
    assert.deepEqual(local(s, got), [
      '2021-03-21T00:30:00+03:30',
      '2021-03-22T01:30:00+04:30',
      '2021-03-23T00:30:00+04:30',
    ]);
    assert.deepEqual(utc(got), [
      '2021-03-20T21:00:00.000Z',
      '2021-03-21T21:00:00.000Z',
      '2021-03-22T20:00:00.000Z',
    ]);
  });

  it('Tehran 2021 daily 23:30 on fall-back day 2021-09-21 fires once, at the +04:30 instant', () => {
    const s = sched(THR, '2021-09-20T00:00:00', 'FREQ=DAILY;BYHOUR=23;BYMINUTE=30;BYSECOND=0');
    const got = s.first(3);
    assert.deepEqual(local(s, got), [
      '2021-09-20T23:30:00+04:30',
      '2021-09-21T23:30:00+04:30',
      '2021-09-22T23:30:00+03:30',
    ]);
    assert.deepEqual(utc(got), [
      '2021-09-20T19:00:00.000Z',
      '2021-09-21T19:00:00.000Z',
      '2021-09-22T20:00:00.000Z',
    ]);
  });

  it('Tehran 2021 hourly through fall-back fires at both 23:00 instants of 2021-09-21', () => {
    const s = sched(THR, '2021-09-21T22:00:00', 'FREQ=HOURLY');
    const got = s.first(4);
    assert.deepEqual(local(s, got), [
      '2021-09-21T22:00:00+04:30',
      '2021-09-21T23:00:00+04:30',
      '2021-09-21T23:00:00+03:30',
      '2021-09-22T00:00:00+03:30',
    ]);
    assert.deepEqual(utc(got), [
      '2021-09-21T17:30:00.000Z',
      '2021-09-21T18:30:00.000Z',
      '2021-09-21T19:30:00.000Z',
      '2021-09-21T20:30:00.000Z',
    ]);
  });

  it('Tehran 2023 (no DST) daily 00:30 around 2023-03-22 stays at +03:30 with no shift', () => {
    const s = sched(THR, '2023-03-21T00:00:00', 'FREQ=DAILY;BYHOUR=0;BYMINUTE=30;BYSECOND=0');
    const got = s.first(3);
    assert.deepEqual(local(s, got), [
      '2023-03-21T00:30:00+03:30',
      '2023-03-22T00:30:00+03:30',
      '2023-03-23T00:30:00+03:30',
    ]);
    assert.deepEqual(utc(got), [
      '2023-03-20T21:00:00.000Z',
      '2023-03-21T21:00:00.000Z',
      '2023-03-22T21:00:00.000Z',
    ]);
  });

  it('Tehran 2023 (no DST) hourly around 2023-09-21 23:00 fires once per local hour', () => {
    const s = sched(THR, '2023-09-21T22:00:00', 'FREQ=HOURLY');
    assert.deepEqual(firstLocal(s, 4), [
      '2023-09-21T22:00:00+03:30',
      '2023-09-21T23:00:00+03:30',
      '2023-09-22T00:00:00+03:30',
      '2023-09-22T01:00:00+03:30',
    ]);
  });
});

// ---------------------------------------------------------------------------
// Apia: 2011-12-29 23:59:59 -10:00 is followed by 2011-12-31 00:00:00 +14:00.
describe('Pacific/Apia (skipped day 2011-12-30)', () => {
  it('Apia daily 09:00: the skipped 2011-12-30 merges into 2011-12-31 09:00 +14:00 (one occurrence)', () => {
    const s = sched(APIA, '2011-12-28T00:00:00', 'FREQ=DAILY;BYHOUR=9;BYMINUTE=0;BYSECOND=0');
    const got = s.first(4);
    assert.deepEqual(local(s, got), [
      '2011-12-28T09:00:00-10:00',
      '2011-12-29T09:00:00-10:00',
      '2011-12-31T09:00:00+14:00',
      '2012-01-01T09:00:00+14:00',
    ]);
    assert.deepEqual(utc(got), [
      '2011-12-28T19:00:00.000Z',
      '2011-12-29T19:00:00.000Z',
      '2011-12-30T19:00:00.000Z',
      '2011-12-31T19:00:00.000Z',
    ]);
  });

  it('Apia daily 09:00 between() over the skipped day lists 2011-12-31 once', () => {
    const s = sched(APIA, '2011-12-28T00:00:00', 'FREQ=DAILY;BYHOUR=9;BYMINUTE=0;BYSECOND=0');
    const got = s.between(Date.parse('2011-12-29T19:00:00Z'), Date.parse('2011-12-31T19:00:00Z'));
    assert.deepEqual(local(s, got), ['2011-12-31T09:00:00+14:00', '2012-01-01T09:00:00+14:00']);
  });

  it('Apia hourly through the jump: 23:00 (-10:00) on 12-29 is followed by 00:00 (+14:00) on 12-31', () => {
    const s = sched(APIA, '2011-12-29T22:00:00', 'FREQ=HOURLY');
    const got = s.first(4);
    assert.deepEqual(local(s, got), [
      '2011-12-29T22:00:00-10:00',
      '2011-12-29T23:00:00-10:00',
      '2011-12-31T00:00:00+14:00',
      '2011-12-31T01:00:00+14:00',
    ]);
    assert.deepEqual(utc(got), [
      '2011-12-30T08:00:00.000Z',
      '2011-12-30T09:00:00.000Z',
      '2011-12-30T10:00:00.000Z',
      '2011-12-30T11:00:00.000Z',
    ]);
  });

  it('Apia weekly Friday 09:00: Friday 2011-12-30 does not exist and is shifted 24 h to Sat 12-31 09:00 +14:00', () => {
    const s = sched(APIA, '2011-12-16T00:00:00', 'FREQ=WEEKLY;BYDAY=FR;BYHOUR=9;BYMINUTE=0;BYSECOND=0');
    assert.deepEqual(firstLocal(s, 4), [
      '2011-12-16T09:00:00-10:00',
      '2011-12-23T09:00:00-10:00',
      '2011-12-31T09:00:00+14:00',
      '2012-01-06T09:00:00+14:00',
    ]);
  });

  it('Apia monthly days 30,31 at 09:00: Dec 30 and Dec 31 2011 merge into one occurrence', () => {
    const s = sched(APIA, '2011-11-01T00:00:00', 'FREQ=MONTHLY;BYMONTHDAY=30,31;BYHOUR=9;BYMINUTE=0;BYSECOND=0');
    const got = s.first(4);
    assert.deepEqual(local(s, got), [
      '2011-11-30T09:00:00-10:00',
      '2011-12-31T09:00:00+14:00',
      '2012-01-30T09:00:00+14:00',
      '2012-01-31T09:00:00+14:00',
    ]);
    assertStrictlyIncreasing(got);
  });

  it('Apia 2012 daily 03:30 on fall-back day 2012-04-01 fires once, at the +14:00 instant', () => {
    const s = sched(APIA, '2012-03-31T00:00:00', 'FREQ=DAILY;BYHOUR=3;BYMINUTE=30;BYSECOND=0');
    const got = s.first(3);
    assert.deepEqual(local(s, got), [
      '2012-03-31T03:30:00+14:00',
      '2012-04-01T03:30:00+14:00',
      '2012-04-02T03:30:00+13:00',
    ]);
    assert.deepEqual(utc(got), [
      '2012-03-30T13:30:00.000Z',
      '2012-03-31T13:30:00.000Z',
      '2012-04-01T14:30:00.000Z',
    ]);
  });

  it('Apia 2012 daily 03:30 on spring-forward day 2012-09-30 shifts to 04:30 (+14:00)', () => {
    const s = sched(APIA, '2012-09-29T00:00:00', 'FREQ=DAILY;BYHOUR=3;BYMINUTE=30;BYSECOND=0');
    assert.deepEqual(firstLocal(s, 3), [
      '2012-09-29T03:30:00+13:00',
      '2012-09-30T04:30:00+14:00',
      '2012-10-01T03:30:00+14:00',
    ]);
  });

});
