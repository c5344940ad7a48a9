/**
 * RFC 5545, section 3.8.5.3 ("Recurrence Rule"), every example of the
 * "Example:" block, from "Daily for 10 occurrences" to the invalid-date
 * (February 30) example.
 *
 * The expected occurrences below are typed in from the RFC text (an
 * independent oracle). They were NOT produced by running the engine. The only
 * computation done here is turning the RFC's "(1997 9:00 AM EDT) September 2-11"
 * style into local wall-time strings with the New York UTC offset, using the
 * plain US DST rules of the years involved (see `nyOffset` below).
 *
 * Errata applied (RFC editor errata for RFC 5545):
 *   - EID 3883 (Verified): "Every 3 hours from 9:00 AM to 5:00 PM on a specific
 *     day" has UNTIL=19970902T170000Z in the RFC, which is 1:00 PM EDT; the
 *     erratum corrects it to UNTIL=19970902T210000Z, the listed occurrences
 *     (09:00, 12:00, 15:00) being unchanged. The corrected rule is tested
 *     against the listed occurrences; the original rule is tested separately
 *     against what the erratum says it really produces (09:00 and 12:00 only).
 *   - EID 6212 (Rejected) proposed UNTIL=19971224T140000Z for the "until
 *     December 24, 1997" examples; it was rejected, so those examples keep the
 *     RFC's UNTIL=19971224T000000Z and its listed results (last one Dec 23 for
 *     the daily/weekly rules).
 *   No other verified erratum touches the 3.8.5.3 examples. The "every 20th
 *   Monday", "Monday of week number 20" and "first Saturday that follows the
 *   first Sunday" examples were re-checked by hand against the calendar and
 *   the RFC values are correct as printed:
 *     - 20th Monday: first Mondays are 1997-01-06, 1998-01-05, 1999-01-04;
 *       + 19 weeks = May 19 / May 18 / May 17.
 *     - ISO week 20 (WKST=MO, week 1 = first week with >= 4 days): week 1
 *       starts 1996-12-30, 1997-12-29, 1999-01-04; + 19 weeks = 1997-05-12,
 *       1998-05-11, 1999-05-17.
 *     - first Saturday after the first Sunday: the Saturday in days 7..13.
 *
 * Deliberate difference from the RFC in this engine: DTSTART is not added to
 * the set by itself, it only opens the window (occurrences >= start). In
 * these examples DTSTART always matches the rule except in "Every Friday the
 * 13th", where the RFC removes it with EXDATE anyway, so no expected list
 * below differs from the RFC because of this (see the comment on that test).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { compileSchedule } from '../../src/recurrence/index.js';

const TZ = 'America/New_York';

// ---------------------------------------------------------------------------
// Independent New York offset: US Eastern time rules.
//   1987-2006: DST from the first Sunday of April 02:00 to the last Sunday of
//              October 02:00 (EDT) -> 1996-04-07..10-27, 1997-04-06..10-26,
//              1998-04-05..10-25, 1999-04-04..10-31, 2000-04-02..10-29, ...
//   2007-    : DST from the second Sunday of March 02:00 to the first Sunday
//              of November 02:00 -> 2007-03-11..11-04.
// Only wall times well away from the transition hours are used here.
// ---------------------------------------------------------------------------

/** Day of week, 0 = Sunday, by Zeller-like arithmetic on the civil date. */
function dayOfWeek(y: number, m: number, d: number): number {
  // Sakamoto's method.
  const t = [0, 3, 2, 5, 0, 3, 5, 1, 4, 6, 2, 4];
  const yy = m < 3 ? y - 1 : y;
  return (yy + Math.floor(yy / 4) - Math.floor(yy / 100) + Math.floor(yy / 400) + (t[m - 1] ?? 0) + d) % 7;
}

function daysInMonth(y: number, m: number): number {
  if (m === 2) return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0 ? 29 : 28;
  return [4, 6, 9, 11].includes(m) ? 30 : 31;
}

function nthSunday(y: number, m: number, n: number): number {
  const first = 1 + ((7 - dayOfWeek(y, m, 1)) % 7);
  return first + 7 * (n - 1);
}

function lastSunday(y: number, m: number): number {
  const last = daysInMonth(y, m);
  return last - dayOfWeek(y, m, last);
}

function nyOffset(y: number, mo: number, d: number, h: number, mi: number): string {
  let start: [number, number];
  let end: [number, number];
  if (y >= 2007) {
    start = [3, nthSunday(y, 3, 2)];
    end = [11, nthSunday(y, 11, 1)];
  } else if (y >= 1987) {
    start = [4, nthSunday(y, 4, 1)];
    end = [10, lastSunday(y, 10)];
  } else {
    throw new Error(`no DST rule for ${y} in this test`);
  }
  const key = (m: number, dd: number, hh: number, mm: number) => ((m * 100 + dd) * 100 + hh) * 100 + mm;
  const t = key(mo, d, h, mi);
  const dst = t >= key(start[0], start[1], 2, 0) && t < key(end[0], end[1], 1, 0);
  return dst ? '-04:00' : '-05:00';
}

/** '19970902T090000' (RFC local value, TZID=America/New_York) -> '1997-09-02T09:00:00-04:00'. */
function ny(v: string): string {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})$/.exec(v);
  if (!m) throw new Error(`bad RFC date-time ${v}`);
  const [, Y, M, D, h, mi, s] = m as unknown as [string, string, string, string, string, string, string];
  return `${Y}-${M}-${D}T${h}:${mi}:${s}${nyOffset(+Y, +M, +D, +h, +mi)}`;
}

const MONTHS: Record<string, number> = {
  January: 1, February: 2, March: 3, April: 4, May: 5, June: 6,
  July: 7, August: 8, September: 9, October: 10, November: 11, December: 12,
};

const p2 = (n: number) => String(n).padStart(2, '0');

/**
 * Days of one month as the RFC writes them: on(1997, 'September', '2-11') or
 * on(1997, 'October', '2,14,16'), at 09:00 unless another HHMM time is given.
 * Ranges 'a-b' are inclusive, step 1; 'a-b/2' steps by 2 (for the RFC's
 * "2,4,6...24" style).
 */
function on(year: number, month: string, spec: string, hhmm = '0900'): string[] {
  const mo = MONTHS[month];
  if (mo === undefined) throw new Error(`bad month ${month}`);
  const out: string[] = [];
  for (const part of spec.split(',')) {
    const r = /^(\d+)(?:-(\d+)(?:\/(\d+))?)?$/.exec(part.trim());
    if (!r) throw new Error(`bad day spec ${part}`);
    const a = Number(r[1]);
    const b = r[2] === undefined ? a : Number(r[2]);
    const step = r[3] === undefined ? 1 : Number(r[3]);
    for (let d = a; d <= b; d += step) out.push(ny(`${year}${p2(mo)}${p2(d)}T${hhmm}00`));
  }
  return out;
}

/** Times of one day: at('19970902', '09:00,09:15') */
function at(date: string, times: string): string[] {
  return times.split(',').map((t) => ny(`${date}T${t.trim().replace(':', '')}00`));
}

// ---------------------------------------------------------------------------

interface Example {
  /** The RFC's description of the example. */
  name: string;
  /** DTSTART;TZID=America/New_York value. */
  dtstart: string;
  recurrence: string[];
  /** Expected occurrences, typed in from the RFC. */
  expected: string[];
  /** COUNT/UNTIL: nothing may follow the last expected occurrence. */
  bounded: boolean;
}

function startDateTime(v: string): string {
  return `${v.slice(0, 4)}-${v.slice(4, 6)}-${v.slice(6, 8)}T${v.slice(9, 11)}:${v.slice(11, 13)}:${v.slice(13, 15)}`;
}

function check(ex: Example): void {
  const s = compileSchedule({ timeZone: TZ, startDateTime: startDateTime(ex.dtstart), recurrence: ex.recurrence });
  const n = ex.expected.length;

  const got = s.first(n).map((ms) => s.formatLocal(ms));
  assert.deepEqual(got, ex.expected, `${ex.name}: first(${n})`);

  // Epoch values of the expected occurrences, parsed from the expected
  // strings themselves (not from the engine).
  const expectedMs = ex.expected.map((v) => Date.parse(v));
  const last = expectedMs[n - 1];
  assert.ok(last !== undefined && Number.isFinite(last));

  if (ex.bounded) {
    const after = s.next(last);
    assert.equal(
      after === null ? null : s.formatLocal(after),
      null,
      `${ex.name}: nothing may follow ${ex.expected[n - 1]}`,
    );
  }

  // The other query methods must agree with the same RFC list.
  for (let i = 0; i + 1 < n; i++) {
    const nx = s.next(expectedMs[i] as number);
    assert.equal(nx === null ? null : s.formatLocal(nx), ex.expected[i + 1], `${ex.name}: next(${ex.expected[i]})`);
  }
  const first = expectedMs[0] as number;
  const win = s.between(first - 1, last, n + 1).map((ms) => s.formatLocal(ms));
  assert.deepEqual(win, ex.expected, `${ex.name}: between(first - 1ms, last)`);
}

const rrule = (r: string) => [`RRULE:${r}`];

const examples: Example[] = [
  {
    name: 'Daily for 10 occurrences',
    dtstart: '19970902T090000',
    recurrence: rrule('FREQ=DAILY;COUNT=10'),
    // (1997 9:00 AM EDT) September 2-11
    expected: on(1997, 'September', '2-11'),
    bounded: true,
  },
  {
    name: 'Daily until December 24, 1997',
    dtstart: '19970902T090000',
    recurrence: rrule('FREQ=DAILY;UNTIL=19971224T000000Z'),
    // (1997 9:00 AM EDT) September 2-30;October 1-25
    // (1997 9:00 AM EST) October 26-31;November 1-30;December 1-23
    // (UNTIL is Dec 23 19:00 EST, so Dec 24 09:00 is excluded; EID 6212, which
    // proposed otherwise, was rejected.)
    expected: [
      ...on(1997, 'September', '2-30'),
      ...on(1997, 'October', '1-25'),
      ...on(1997, 'October', '26-31'),
      ...on(1997, 'November', '1-30'),
      ...on(1997, 'December', '1-23'),
    ],
    bounded: true,
  },
  {
    name: 'Every other day - forever',
    dtstart: '19970902T090000',
    recurrence: rrule('FREQ=DAILY;INTERVAL=2'),
    // (1997 9:00 AM EDT) September 2,4,6,8...24,26,28,30;
    //                    October 2,4,6...20,22,24
    // (1997 9:00 AM EST) October 26,28,30;
    //                    November 1,3,5,7...25,27,29;
    //                    December 1,3,...
    expected: [
      ...on(1997, 'September', '2-30/2'),
      ...on(1997, 'October', '2-24/2'),
      ...on(1997, 'October', '26,28,30'),
      ...on(1997, 'November', '1-29/2'),
      ...on(1997, 'December', '1,3'),
    ],
    bounded: false,
  },
  {
    name: 'Every 10 days, 5 occurrences',
    dtstart: '19970902T090000',
    recurrence: rrule('FREQ=DAILY;INTERVAL=10;COUNT=5'),
    // (1997 9:00 AM EDT) September 2,12,22; October 2,12
    expected: [...on(1997, 'September', '2,12,22'), ...on(1997, 'October', '2,12')],
    bounded: true,
  },
  {
    name: 'Every day in January, for 3 years (FREQ=YEARLY form)',
    dtstart: '19980101T090000',
    recurrence: rrule('FREQ=YEARLY;UNTIL=20000131T140000Z;BYMONTH=1;BYDAY=SU,MO,TU,WE,TH,FR,SA'),
    // (1998 9:00 AM EST)January 1-31
    // (1999 9:00 AM EST)January 1-31
    // (2000 9:00 AM EST)January 1-31
    // (UNTIL 2000-01-31T14:00Z is exactly 09:00 EST: inclusive.)
    expected: [...on(1998, 'January', '1-31'), ...on(1999, 'January', '1-31'), ...on(2000, 'January', '1-31')],
    bounded: true,
  },
  {
    name: 'Every day in January, for 3 years (FREQ=DAILY form)',
    dtstart: '19980101T090000',
    recurrence: rrule('FREQ=DAILY;UNTIL=20000131T140000Z;BYMONTH=1'),
    expected: [...on(1998, 'January', '1-31'), ...on(1999, 'January', '1-31'), ...on(2000, 'January', '1-31')],
    bounded: true,
  },
  {
    name: 'Weekly for 10 occurrences',
    dtstart: '19970902T090000',
    recurrence: rrule('FREQ=WEEKLY;COUNT=10'),
    // (1997 9:00 AM EDT) September 2,9,16,23,30;October 7,14,21
    // (1997 9:00 AM EST) October 28;November 4
    expected: [
      ...on(1997, 'September', '2,9,16,23,30'),
      ...on(1997, 'October', '7,14,21'),
      ...on(1997, 'October', '28'),
      ...on(1997, 'November', '4'),
    ],
    bounded: true,
  },
  {
    name: 'Weekly until December 24, 1997',
    dtstart: '19970902T090000',
    recurrence: rrule('FREQ=WEEKLY;UNTIL=19971224T000000Z'),
    // (1997 9:00 AM EDT) September 2,9,16,23,30; October 7,14,21
    // (1997 9:00 AM EST) October 28; November 4,11,18,25; December 2,9,16,23
    expected: [
      ...on(1997, 'September', '2,9,16,23,30'),
      ...on(1997, 'October', '7,14,21'),
      ...on(1997, 'October', '28'),
      ...on(1997, 'November', '4,11,18,25'),
      ...on(1997, 'December', '2,9,16,23'),
    ],
    bounded: true,
  },
  {
    name: 'Every other week - forever',
    dtstart: '19970902T090000',
    recurrence: rrule('FREQ=WEEKLY;INTERVAL=2;WKST=SU'),
    // (1997 9:00 AM EDT) September 2,16,30; October 14
    // (1997 9:00 AM EST) October 28; November 11,25; December 9,23
    // (1998 9:00 AM EST) January 6,20; February 3, 17
    expected: [
      ...on(1997, 'September', '2,16,30'),
      ...on(1997, 'October', '14'),
      ...on(1997, 'October', '28'),
      ...on(1997, 'November', '11,25'),
      ...on(1997, 'December', '9,23'),
      ...on(1998, 'January', '6,20'),
      ...on(1998, 'February', '3,17'),
    ],
    bounded: false,
  },
  {
    name: 'Weekly on Tuesday and Thursday for five weeks (UNTIL form)',
    dtstart: '19970902T090000',
    recurrence: rrule('FREQ=WEEKLY;UNTIL=19971007T000000Z;WKST=SU;BYDAY=TU,TH'),
    // (1997 9:00 AM EDT) September 2,4,9,11,16,18,23,25,30; October 2
    expected: [...on(1997, 'September', '2,4,9,11,16,18,23,25,30'), ...on(1997, 'October', '2')],
    bounded: true,
  },
  {
    name: 'Weekly on Tuesday and Thursday for five weeks (COUNT form)',
    dtstart: '19970902T090000',
    recurrence: rrule('FREQ=WEEKLY;COUNT=10;WKST=SU;BYDAY=TU,TH'),
    expected: [...on(1997, 'September', '2,4,9,11,16,18,23,25,30'), ...on(1997, 'October', '2')],
    bounded: true,
  },
  {
    name: 'Every other week on Monday, Wednesday, and Friday until December 24, 1997, starting on Monday, September 1, 1997',
    dtstart: '19970901T090000',
    recurrence: rrule('FREQ=WEEKLY;INTERVAL=2;UNTIL=19971224T000000Z;WKST=SU;BYDAY=MO,WE,FR'),
    // (1997 9:00 AM EDT) September 1,3,5,15,17,19,29; October 1,3,13,15,17
    // (1997 9:00 AM EST) October 27,29,31; November 10,12,14,24,26,28;
    //                    December 8,10,12,22
    expected: [
      ...on(1997, 'September', '1,3,5,15,17,19,29'),
      ...on(1997, 'October', '1,3,13,15,17'),
      ...on(1997, 'October', '27,29,31'),
      ...on(1997, 'November', '10,12,14,24,26,28'),
      ...on(1997, 'December', '8,10,12,22'),
    ],
    bounded: true,
  },
  {
    name: 'Every other week on Tuesday and Thursday, for 8 occurrences',
    dtstart: '19970902T090000',
    recurrence: rrule('FREQ=WEEKLY;INTERVAL=2;COUNT=8;WKST=SU;BYDAY=TU,TH'),
    // (1997 9:00 AM EDT) September 2,4,16,18,30; October 2,14,16
    expected: [...on(1997, 'September', '2,4,16,18,30'), ...on(1997, 'October', '2,14,16')],
    bounded: true,
  },
  {
    name: 'Monthly on the first Friday for 10 occurrences',
    dtstart: '19970905T090000',
    recurrence: rrule('FREQ=MONTHLY;COUNT=10;BYDAY=1FR'),
    // (1997 9:00 AM EDT) September 5;October 3
    // (1997 9:00 AM EST) November 7;December 5
    // (1998 9:00 AM EST) January 2;February 6;March 6;April 3
    // (1998 9:00 AM EDT) May 1;June 5
    expected: [
      ...on(1997, 'September', '5'),
      ...on(1997, 'October', '3'),
      ...on(1997, 'November', '7'),
      ...on(1997, 'December', '5'),
      ...on(1998, 'January', '2'),
      ...on(1998, 'February', '6'),
      ...on(1998, 'March', '6'),
      ...on(1998, 'April', '3'),
      ...on(1998, 'May', '1'),
      ...on(1998, 'June', '5'),
    ],
    bounded: true,
  },
  {
    name: 'Monthly on the first Friday until December 24, 1997',
    dtstart: '19970905T090000',
    recurrence: rrule('FREQ=MONTHLY;UNTIL=19971224T000000Z;BYDAY=1FR'),
    // (1997 9:00 AM EDT) September 5; October 3
    // (1997 9:00 AM EST) November 7; December 5
    expected: [
      ...on(1997, 'September', '5'),
      ...on(1997, 'October', '3'),
      ...on(1997, 'November', '7'),
      ...on(1997, 'December', '5'),
    ],
    bounded: true,
  },
  {
    name: 'Every other month on the first and last Sunday of the month for 10 occurrences',
    dtstart: '19970907T090000',
    recurrence: rrule('FREQ=MONTHLY;INTERVAL=2;COUNT=10;BYDAY=1SU,-1SU'),
    // (1997 9:00 AM EDT) September 7,28
    // (1997 9:00 AM EST) November 2,30
    // (1998 9:00 AM EST) January 4,25;March 1,29
    // (1998 9:00 AM EDT) May 3,31
    expected: [
      ...on(1997, 'September', '7,28'),
      ...on(1997, 'November', '2,30'),
      ...on(1998, 'January', '4,25'),
      ...on(1998, 'March', '1,29'),
      ...on(1998, 'May', '3,31'),
    ],
    bounded: true,
  },
  {
    name: 'Monthly on the second-to-last Monday of the month for 6 months',
    dtstart: '19970922T090000',
    recurrence: rrule('FREQ=MONTHLY;COUNT=6;BYDAY=-2MO'),
    // (1997 9:00 AM EDT) September 22;October 20
    // (1997 9:00 AM EST) November 17;December 22
    // (1998 9:00 AM EST) January 19;February 16
    expected: [
      ...on(1997, 'September', '22'),
      ...on(1997, 'October', '20'),
      ...on(1997, 'November', '17'),
      ...on(1997, 'December', '22'),
      ...on(1998, 'January', '19'),
      ...on(1998, 'February', '16'),
    ],
    bounded: true,
  },
  {
    name: 'Monthly on the third-to-the-last day of the month, forever',
    dtstart: '19970928T090000',
    recurrence: rrule('FREQ=MONTHLY;BYMONTHDAY=-3'),
    // (1997 9:00 AM EDT) September 28
    // (1997 9:00 AM EST) October 29;November 28;December 29
    // (1998 9:00 AM EST) January 29;February 26
    expected: [
      ...on(1997, 'September', '28'),
      ...on(1997, 'October', '29'),
      ...on(1997, 'November', '28'),
      ...on(1997, 'December', '29'),
      ...on(1998, 'January', '29'),
      ...on(1998, 'February', '26'),
    ],
    bounded: false,
  },
  {
    name: 'Monthly on the 2nd and 15th of the month for 10 occurrences',
    dtstart: '19970902T090000',
    recurrence: rrule('FREQ=MONTHLY;COUNT=10;BYMONTHDAY=2,15'),
    // (1997 9:00 AM EDT) September 2,15;October 2,15
    // (1997 9:00 AM EST) November 2,15;December 2,15
    // (1998 9:00 AM EST) January 2,15
    expected: [
      ...on(1997, 'September', '2,15'),
      ...on(1997, 'October', '2,15'),
      ...on(1997, 'November', '2,15'),
      ...on(1997, 'December', '2,15'),
      ...on(1998, 'January', '2,15'),
    ],
    bounded: true,
  },
  {
    name: 'Monthly on the first and last day of the month for 10 occurrences',
    dtstart: '19970930T090000',
    recurrence: rrule('FREQ=MONTHLY;COUNT=10;BYMONTHDAY=1,-1'),
    // (1997 9:00 AM EDT) September 30;October 1
    // (1997 9:00 AM EST) October 31;November 1,30;December 1,31
    // (1998 9:00 AM EST) January 1,31;February 1
    expected: [
      ...on(1997, 'September', '30'),
      ...on(1997, 'October', '1'),
      ...on(1997, 'October', '31'),
      ...on(1997, 'November', '1,30'),
      ...on(1997, 'December', '1,31'),
      ...on(1998, 'January', '1,31'),
      ...on(1998, 'February', '1'),
    ],
    bounded: true,
  },
  {
    name: 'Every 18 months on the 10th thru 15th of the month for 10 occurrences',
    dtstart: '19970910T090000',
    recurrence: rrule('FREQ=MONTHLY;INTERVAL=18;COUNT=10;BYMONTHDAY=10,11,12,13,14,15'),
    // (1997 9:00 AM EDT) September 10,11,12,13,14,15
    // (1999 9:00 AM EST) March 10,11,12,13
    expected: [...on(1997, 'September', '10-15'), ...on(1999, 'March', '10-13')],
    bounded: true,
  },
  {
    name: 'Every Tuesday, every other month',
    dtstart: '19970902T090000',
    recurrence: rrule('FREQ=MONTHLY;INTERVAL=2;BYDAY=TU'),
    // (1997 9:00 AM EDT) September 2,9,16,23,30
    // (1997 9:00 AM EST) November 4,11,18,25
    // (1998 9:00 AM EST) January 6,13,20,27;March 3,10,17,24,31
    expected: [
      ...on(1997, 'September', '2,9,16,23,30'),
      ...on(1997, 'November', '4,11,18,25'),
      ...on(1998, 'January', '6,13,20,27'),
      ...on(1998, 'March', '3,10,17,24,31'),
    ],
    bounded: false,
  },
  {
    name: 'Yearly in June and July for 10 occurrences',
    dtstart: '19970610T090000',
    recurrence: rrule('FREQ=YEARLY;COUNT=10;BYMONTH=6,7'),
    // (1997..2001 9:00 AM EDT) June 10;July 10
    expected: [1997, 1998, 1999, 2000, 2001].flatMap((y) => [...on(y, 'June', '10'), ...on(y, 'July', '10')]),
    bounded: true,
  },
  {
    name: 'Every other year on January, February, and March for 10 occurrences',
    dtstart: '19970310T090000',
    recurrence: rrule('FREQ=YEARLY;INTERVAL=2;COUNT=10;BYMONTH=1,2,3'),
    // (1997 9:00 AM EST) March 10
    // (1999 9:00 AM EST) January 10;February 10;March 10
    // (2001 9:00 AM EST) January 10;February 10;March 10
    // (2003 9:00 AM EST) January 10;February 10;March 10
    expected: [
      ...on(1997, 'March', '10'),
      ...on(1999, 'January', '10'),
      ...on(1999, 'February', '10'),
      ...on(1999, 'March', '10'),
      ...on(2001, 'January', '10'),
      ...on(2001, 'February', '10'),
      ...on(2001, 'March', '10'),
      ...on(2003, 'January', '10'),
      ...on(2003, 'February', '10'),
      ...on(2003, 'March', '10'),
    ],
    bounded: true,
  },
  {
    name: 'Every third year on the 1st, 100th, and 200th day for 10 occurrences',
    dtstart: '19970101T090000',
    recurrence: rrule('FREQ=YEARLY;INTERVAL=3;COUNT=10;BYYEARDAY=1,100,200'),
    // (1997 9:00 AM EST) January 1
    // (1997 9:00 AM EDT) April 10;July 19
    // (2000 9:00 AM EST) January 1
    // (2000 9:00 AM EDT) April 9;July 18
    // (2003 9:00 AM EST) January 1
    // (2003 9:00 AM EDT) April 10;July 19
    // (2006 9:00 AM EST) January 1
    expected: [
      ...on(1997, 'January', '1'),
      ...on(1997, 'April', '10'),
      ...on(1997, 'July', '19'),
      ...on(2000, 'January', '1'),
      ...on(2000, 'April', '9'),
      ...on(2000, 'July', '18'),
      ...on(2003, 'January', '1'),
      ...on(2003, 'April', '10'),
      ...on(2003, 'July', '19'),
      ...on(2006, 'January', '1'),
    ],
    bounded: true,
  },
  {
    name: 'Every 20th Monday of the year, forever',
    dtstart: '19970519T090000',
    recurrence: rrule('FREQ=YEARLY;BYDAY=20MO'),
    // (1997 9:00 AM EDT) May 19
    // (1998 9:00 AM EDT) May 18
    // (1999 9:00 AM EDT) May 17
    expected: [...on(1997, 'May', '19'), ...on(1998, 'May', '18'), ...on(1999, 'May', '17')],
    bounded: false,
  },
  {
    name: 'Monday of week number 20 (where the default start of the week is Monday), forever',
    dtstart: '19970512T090000',
    recurrence: rrule('FREQ=YEARLY;BYWEEKNO=20;BYDAY=MO'),
    // (1997 9:00 AM EDT) May 12
    // (1998 9:00 AM EDT) May 11
    // (1999 9:00 AM EDT) May 17
    expected: [...on(1997, 'May', '12'), ...on(1998, 'May', '11'), ...on(1999, 'May', '17')],
    bounded: false,
  },
  {
    name: 'Every Thursday in March, forever',
    dtstart: '19970313T090000',
    recurrence: rrule('FREQ=YEARLY;BYMONTH=3;BYDAY=TH'),
    // (1997 9:00 AM EST) March 13,20,27
    // (1998 9:00 AM EST) March 5,12,19,26
    // (1999 9:00 AM EST) March 4,11,18,25
    expected: [
      ...on(1997, 'March', '13,20,27'),
      ...on(1998, 'March', '5,12,19,26'),
      ...on(1999, 'March', '4,11,18,25'),
    ],
    bounded: false,
  },
  {
    name: 'Every Thursday, but only during June, July, and August, forever',
    dtstart: '19970605T090000',
    recurrence: rrule('FREQ=YEARLY;BYDAY=TH;BYMONTH=6,7,8'),
    // (1997 9:00 AM EDT) June 5,12,19,26;July 3,10,17,24,31; August 7,14,21,28
    // (1998 9:00 AM EDT) June 4,11,18,25;July 2,9,16,23,30; August 6,13,20,27
    // (1999 9:00 AM EDT) June 3,10,17,24;July 1,8,15,22,29; August 5,12,19,26
    expected: [
      ...on(1997, 'June', '5,12,19,26'),
      ...on(1997, 'July', '3,10,17,24,31'),
      ...on(1997, 'August', '7,14,21,28'),
      ...on(1998, 'June', '4,11,18,25'),
      ...on(1998, 'July', '2,9,16,23,30'),
      ...on(1998, 'August', '6,13,20,27'),
      ...on(1999, 'June', '3,10,17,24'),
      ...on(1999, 'July', '1,8,15,22,29'),
      ...on(1999, 'August', '5,12,19,26'),
    ],
    bounded: false,
  },
  {
    // DTSTART (Tue 1997-09-02) does not match the rule. The RFC removes it
    // with the EXDATE; in this engine DTSTART is never an occurrence by itself
    // anyway, so the expected list is exactly the RFC's either way. The EXDATE
    // line is kept to check that an EXDATE that removes nothing is harmless.
    name: 'Every Friday the 13th, forever',
    dtstart: '19970902T090000',
    recurrence: ['EXDATE;TZID=America/New_York:19970902T090000', 'RRULE:FREQ=MONTHLY;BYDAY=FR;BYMONTHDAY=13'],
    // (1998 9:00 AM EST) February 13;March 13;November 13
    // (1999 9:00 AM EDT) August 13
    // (2000 9:00 AM EDT) October 13
    expected: [
      ...on(1998, 'February', '13'),
      ...on(1998, 'March', '13'),
      ...on(1998, 'November', '13'),
      ...on(1999, 'August', '13'),
      ...on(2000, 'October', '13'),
    ],
    bounded: false,
  },
  {
    name: 'The first Saturday that follows the first Sunday of the month, forever',
    dtstart: '19970913T090000',
    recurrence: rrule('FREQ=MONTHLY;BYDAY=SA;BYMONTHDAY=7,8,9,10,11,12,13'),
    // (1997 9:00 AM EDT) September 13;October 11
    // (1997 9:00 AM EST) November 8;December 13
    // (1998 9:00 AM EST) January 10;February 7;March 7
    // (1998 9:00 AM EDT) April 11;May 9;June 13...
    expected: [
      ...on(1997, 'September', '13'),
      ...on(1997, 'October', '11'),
      ...on(1997, 'November', '8'),
      ...on(1997, 'December', '13'),
      ...on(1998, 'January', '10'),
      ...on(1998, 'February', '7'),
      ...on(1998, 'March', '7'),
      ...on(1998, 'April', '11'),
      ...on(1998, 'May', '9'),
      ...on(1998, 'June', '13'),
    ],
    bounded: false,
  },
  {
    name: 'Every 4 years, the first Tuesday after a Monday in November, forever (U.S. Presidential Election day)',
    dtstart: '19961105T090000',
    recurrence: rrule('FREQ=YEARLY;INTERVAL=4;BYMONTH=11;BYDAY=TU;BYMONTHDAY=2,3,4,5,6,7,8'),
    // (1996 9:00 AM EST) November 5
    // (2000 9:00 AM EST) November 7
    // (2004 9:00 AM EST) November 2
    expected: [...on(1996, 'November', '5'), ...on(2000, 'November', '7'), ...on(2004, 'November', '2')],
    bounded: false,
  },
  {
    name: 'The third instance into the month of one of Tuesday, Wednesday, or Thursday, for the next 3 months',
    dtstart: '19970904T090000',
    recurrence: rrule('FREQ=MONTHLY;COUNT=3;BYDAY=TU,WE,TH;BYSETPOS=3'),
    // (1997 9:00 AM EDT) September 4;October 7
    // (1997 9:00 AM EST) November 6
    expected: [...on(1997, 'September', '4'), ...on(1997, 'October', '7'), ...on(1997, 'November', '6')],
    bounded: true,
  },
  {
    name: 'The second-to-last weekday of the month',
    dtstart: '19970929T090000',
    recurrence: rrule('FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-2'),
    // (1997 9:00 AM EDT) September 29
    // (1997 9:00 AM EST) October 30;November 27;December 30
    // (1998 9:00 AM EST) January 29;February 26;March 30
    expected: [
      ...on(1997, 'September', '29'),
      ...on(1997, 'October', '30'),
      ...on(1997, 'November', '27'),
      ...on(1997, 'December', '30'),
      ...on(1998, 'January', '29'),
      ...on(1998, 'February', '26'),
      ...on(1998, 'March', '30'),
    ],
    bounded: false,
  },
  {
    // Erratum EID 3883 (Verified): the RFC prints UNTIL=19970902T170000Z,
    // which is 1:00 PM EDT; it should say UNTIL=19970902T210000Z (5:00 PM EDT).
    // The listed occurrences are unchanged.
    name: 'Every 3 hours from 9:00 AM to 5:00 PM on a specific day (UNTIL corrected by erratum EID 3883)',
    dtstart: '19970902T090000',
    recurrence: rrule('FREQ=HOURLY;INTERVAL=3;UNTIL=19970902T210000Z'),
    // (September 2, 1997 EDT) 09:00,12:00,15:00
    expected: at('19970902', '09:00,12:00,15:00'),
    bounded: true,
  },
  {
    // The rule exactly as printed in the RFC. Per EID 3883, 17:00Z is only
    // 1:00 PM EDT, so 15:00 EDT (19:00Z) is past UNTIL; what remains is
    // 09:00 (13:00Z) and 12:00 (16:00Z).
    name: 'Every 3 hours from 9:00 AM to 5:00 PM on a specific day (UNTIL=19970902T170000Z as printed; see erratum EID 3883)',
    dtstart: '19970902T090000',
    recurrence: rrule('FREQ=HOURLY;INTERVAL=3;UNTIL=19970902T170000Z'),
    expected: at('19970902', '09:00,12:00'),
    bounded: true,
  },
  {
    name: 'Every 15 minutes for 6 occurrences',
    dtstart: '19970902T090000',
    recurrence: rrule('FREQ=MINUTELY;INTERVAL=15;COUNT=6'),
    // (September 2, 1997 EDT) 09:00,09:15,09:30,09:45,10:00,10:15
    expected: at('19970902', '09:00,09:15,09:30,09:45,10:00,10:15'),
    bounded: true,
  },
  {
    name: 'Every hour and a half for 4 occurrences',
    dtstart: '19970902T090000',
    recurrence: rrule('FREQ=MINUTELY;INTERVAL=90;COUNT=4'),
    // (September 2, 1997 EDT) 09:00,10:30;12:00;13:30
    expected: at('19970902', '09:00,10:30,12:00,13:30'),
    bounded: true,
  },
  {
    name: 'Every 20 minutes from 9:00 AM to 4:40 PM every day (FREQ=DAILY form)',
    dtstart: '19970902T090000',
    recurrence: rrule('FREQ=DAILY;BYHOUR=9,10,11,12,13,14,15,16;BYMINUTE=0,20,40'),
    // (September 2, 1997 EDT) 9:00,9:20,9:40,10:00,10:20, ... 16:00,16:20,16:40
    // (September 3, 1997 EDT) 9:00,9:20,9:40,10:00,10:20, ...16:00,16:20,16:40
    expected: [...twentyMinutes('19970902'), ...twentyMinutes('19970903')],
    bounded: false,
  },
  {
    name: 'Every 20 minutes from 9:00 AM to 4:40 PM every day (FREQ=MINUTELY form)',
    dtstart: '19970902T090000',
    recurrence: rrule('FREQ=MINUTELY;INTERVAL=20;BYHOUR=9,10,11,12,13,14,15,16'),
    expected: [...twentyMinutes('19970902'), ...twentyMinutes('19970903')],
    bounded: false,
  },
  {
    name: 'An example where the days generated makes a difference because of WKST (WKST=MO)',
    dtstart: '19970805T090000',
    recurrence: rrule('FREQ=WEEKLY;INTERVAL=2;COUNT=4;BYDAY=TU,SU;WKST=MO'),
    // (1997 EDT) August 5,10,19,24
    expected: on(1997, 'August', '5,10,19,24'),
    bounded: true,
  },
  {
    name: 'Changing only WKST from MO to SU, yields different results (WKST=SU)',
    dtstart: '19970805T090000',
    recurrence: rrule('FREQ=WEEKLY;INTERVAL=2;COUNT=4;BYDAY=TU,SU;WKST=SU'),
    // (1997 EDT) August 5,17,19,31
    expected: on(1997, 'August', '5,17,19,31'),
    bounded: true,
  },
  {
    name: 'An example where an invalid date (i.e., February 30) is ignored',
    dtstart: '20070115T090000',
    recurrence: rrule('FREQ=MONTHLY;BYMONTHDAY=15,30;COUNT=5'),
    // (2007 EST) January 15,30
    // (2007 EST) February 15
    // (2007 EDT) March 15,30
    expected: [...on(2007, 'January', '15,30'), ...on(2007, 'February', '15'), ...on(2007, 'March', '15,30')],
    bounded: true,
  },
];

/** 9:00, 9:20, 9:40, ..., 16:00, 16:20, 16:40 on one day (RFC lists them with "..."). */
function twentyMinutes(date: string): string[] {
  const times: string[] = [];
  for (let h = 9; h <= 16; h++) for (const m of [0, 20, 40]) times.push(`${p2(h)}:${p2(m)}`);
  return at(date, times.join(','));
}

describe('RFC 5545 section 3.8.5.3 recurrence rule examples (America/New_York)', () => {
  it('the offset helper agrees with the RFC EDT/EST labels at the 1997 and 2007 transitions', () => {
    // Self-check of the independent helper, against labels printed in the RFC.
    assert.equal(ny('19971025T090000'), '1997-10-25T09:00:00-04:00'); // "October 1-25" EDT
    assert.equal(ny('19971026T090000'), '1997-10-26T09:00:00-05:00'); // "October 26-31" EST
    assert.equal(ny('19980403T090000'), '1998-04-03T09:00:00-05:00'); // "April 3" EST
    assert.equal(ny('19980501T090000'), '1998-05-01T09:00:00-04:00'); // "May 1" EDT
    assert.equal(ny('20070215T090000'), '2007-02-15T09:00:00-05:00'); // "February 15" EST
    assert.equal(ny('20070315T090000'), '2007-03-15T09:00:00-04:00'); // "March 15,30" EDT
  });

  for (const ex of examples) {
    it(ex.name, () => check(ex));
  }
});
