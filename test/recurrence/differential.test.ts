/**
 * Differential property tests: random RRULEs, our engine against two independent implementations.
 *
 *   - rrule.js 2.8.1 (`rrule`, a port of python-dateutil): calendar logic in UTC, which it computes
 *     in "floating" time. In a DST zone it is used only for the floating wall-clock times (the
 *     local expansion), never for instants.
 *   - rrule-temporal 2.2.8: real IANA zones through Temporal (its bundled polyfill on Node 20).
 *
 * Properties (the seed comes from FUZZ_SEED, which `npm test` sets per commit; a failure prints the
 * seed, the DTSTART/RRULE text and both answers):
 *   1. UTC, every FREQ (sub-daily ones compared on 20 occurrences, the others on 30): rrule.js.
 *   2. UTC, every FREQ: rrule-temporal.
 *   3. America/New_York, Europe/Berlin, Australia/Sydney, DAILY..YEARLY, every time of day at
 *      04:00 or later (so no DST gap or overlap is involved), dates biased to the DST months:
 *      rrule-temporal (instants) and rrule.js (wall-clock times).
 *   4. Shapes both peers get wrong: YEARLY;BYWEEKNO against a brute-force model written here,
 *      and mixed plain/ordinal BYDAY against the union of rrule.js's answers for each half.
 *   5. No oracle, any zone and time of day (gaps and overlaps included): first/next/between
 *      consistency, order, the start/end window, COUNT.
 *
 * Each oracle is consulted only on the rule shapes where it is right. Everything left out is a
 * KNOWN PEER BUG below: the generator maps a generated rule to the nearest shape that avoids it
 * (`forRruleJs`, `forRruleTemporal`), so every remaining disagreement is a failure of ours. Our
 * semantics that DTSTART is not an occurrence unless the rule produces it needs no filtering: both
 * peers do the same (rrule-temporal's `includeDtstart` defaults to false), as the "premise" test
 * pins down. A bug of ours that a property found is listed as OUR BUG, reproduced by a TODO test
 * at the end of the file, and skipped by the properties on exactly its symptom.
 *
 * KNOWN PEER BUGS (each example checked by hand against RFC 5545 and the decided semantics in the
 * recurrence module's header; "right" is also what our engine answers)
 *
 * rrule.js 2.8.1
 *   R1 BYSETPOS: a negative position beyond the period's set picks the set's FIRST element
 *      (iter/poslist.js takes `tmp.slice(daypos)[0]`, and slice clamps), where there is none.
 *        DTSTART:20250101T090000Z  FREQ=MONTHLY;BYMONTHDAY=1;BYHOUR=9,17;BYSETPOS=-3;COUNT=3
 *        -> rrule.js 2025-01-01T17:00:00Z, 2025-02-01T17:00:00Z, 2025-03-01T17:00:00Z;
 *        right: none (each month's set is {1st 09:00, 1st 17:00}; -3 selects nothing).
 *      Avoided: one BYSETPOS position, and a negative one only within -(times per day)..-1,
 *      which always exists when the period has a day at all.
 *   R2 BYSETPOS: two positions selecting the same instant emit it twice, and both count toward
 *      COUNT (poslist.js de-duplicates with `includes` on Date objects, i.e. by identity).
 *        DTSTART:20250101T090000Z  FREQ=MONTHLY;BYMONTHDAY=1;BYSETPOS=1,-1;COUNT=4
 *        -> rrule.js 2025-01-01T09:00:00Z twice, 2025-02-01T09:00:00Z twice;
 *        right: 2025-01-01, 02-01, 03-01, 04-01 at 09:00Z (1 and -1 select the same element).
 *      Avoided: one BYSETPOS position (several positions are compared against rrule-temporal).
 *   R3 WEEKLY with BYSETPOS: the first week's set starts at DTSTART's date instead of the week
 *      start (dateutil's wdayset does the same), so positions count from DTSTART in that week.
 *      Ours applies BYSETPOS to the whole period, as for every other FREQ.
 *        DTSTART:20300704T025101Z (a Thursday)  FREQ=WEEKLY;INTERVAL=3;BYDAY=TH,MO,SU;BYHOUR=2,17;
 *        BYSETPOS=1  -> rrule.js first 2030-07-04T02:51:01Z; right: 2030-07-22T02:51:01Z (the
 *        first week's position 1 is Monday 2030-07-01, before DTSTART, so that week has none).
 *      Avoided: WEEKLY rules with BYSETPOS start on their WKST weekday.
 *   R4 BYDAY mixing plain and ordinal weekdays intersects them instead of taking their union
 *      (dateutil too).
 *        DTSTART:20230101T090000Z  FREQ=YEARLY;BYMONTH=11;BYDAY=2FR,FR;COUNT=4
 *        -> rrule.js 2023-11-10, 2024-11-08, 2025-11-14, 2026-11-13; right: every Friday of
 *        November: 2023-11-03, 11-10, 11-17, 11-24 (all at 09:00Z).
 *      Avoided: BYDAY is all plain or all ordinal (the plain entries are dropped).
 *   R5 BYWEEKNO=-52/-53 naming week 1 of the NEXT week-year: the days of that week that fall in
 *      late December of the current calendar year are missing (dateutil's "TODO: Check
 *      -numweeks for next year"). Ours includes them, as it does for BYWEEKNO=1 (dateutil too).
 *        DTSTART:20250101T090000Z  FREQ=YEARLY;BYWEEKNO=-53,10;BYDAY=MO;COUNT=3
 *        -> rrule.js 2025-03-03, 2026-03-02, 2027-03-08; right: 2025-03-03, 2025-12-29, 2026-03-02
 *        (ISO week-year 2026 has 53 weeks, its week 1 = week -53 starts Monday 2025-12-29).
 *      Avoided: BYWEEKNO values 52, 53, -52, -53 (see R6) are shifted by 20 weeks.
 *   R6 The number of weeks of the PREVIOUS week-year, which decides whether the first days of
 *      January belong to its week 52 or 53, is computed from the current year's length and start
 *      offset (`52 + (yearlen - no1wkst) % 7 / 4`, dateutil too), so it can be one too many.
 *        DTSTART:20350101T090000Z  FREQ=YEARLY;BYWEEKNO=53;WKST=WE;COUNT=3
 *        -> rrule.js 2035-01-01, 2035-01-02, 2039-12-28; right: 2039-12-28, 12-29, 12-30
 *        (with WKST=WE, week-year 2034 runs 2034-01-04..2035-01-02 and has 52 weeks, so
 *        2035-01-01/02 are in its week 52; 2039 is the next year with a week 53).
 *      Avoided: as R5.
 *   R7 MINUTELY/SECONDLY with a coarser BYxxx (BYHOUR; for SECONDLY also BYMINUTE): at the carry
 *      into the next hour (minute) rrule.js steps whole hours (minutes) until that part matches,
 *      which breaks the INTERVAL phase unless INTERVAL divides 60. (dateutil steps by INTERVAL.)
 *        DTSTART:20270301T200705Z  FREQ=SECONDLY;INTERVAL=50;BYHOUR=6,15,22
 *        -> rrule.js first 2027-03-01T22:00:45Z; right: 22:00:25Z (= DTSTART + 136 x 50 s).
 *      When no value of that part is reachable at all it never returns (dateutil gives up):
 *        DTSTART:20250101T000000Z  FREQ=HOURLY;INTERVAL=2;BYHOUR=1  -> infinite loop; right: none.
 *      Avoided: sub-daily time parts are built around a time of day the rule reaches (for both
 *      peers), and for rrule.js the coarser part is dropped unless 60 % INTERVAL == 0.
 *   R8 MINUTELY/SECONDLY whose day-level part (BYMONTH, BYMONTHDAY, BYYEARDAY, BYDAY) excludes a
 *      day, with BYHOUR (for SECONDLY also BYMINUTE): the jump to the end of the excluded day is
 *      carried as a many-hour step that is then repeated until BYHOUR matches, skipping days.
 *        DTSTART:20280430T021554Z  FREQ=MINUTELY;INTERVAL=4;BYMONTHDAY=11;BYHOUR=2,8,17
 *        -> rrule.js first 2028-06-11T08:03:54Z; right: 2028-05-11T02:03:54Z.
 *      Avoided: for rrule.js, such rules lose BYHOUR (and BYMINUTE for SECONDLY).
 *   R9 Sub-daily BYSETPOS with a negative position when DTSTART's own period fails BYHOUR /
 *      BYMINUTE / BYSECOND: the period's time set is empty, poslist.js divides by its length and
 *      `combine(date, undefined)` falls back to `date.getHours()` etc., i.e. midnight UTC read in
 *      the PROCESS's zone. That bogus instant is emitted whenever it is >= DTSTART.
 *        DTSTART:20011130T000000Z  FREQ=HOURLY;INTERVAL=3;BYHOUR=3;BYSETPOS=-1  (TZ=UTC)
 *        -> rrule.js 2001-11-30T00:00:00Z, 03:00:00Z, ...; right: 2001-11-30T03:00:00Z first.
 *        DTSTART:20150730T010005Z  FREQ=MINUTELY;INTERVAL=6;COUNT=1;BYMINUTE=6;BYSETPOS=-1
 *        (TZ=America/New_York) -> rrule.js 2015-07-30T20:00:00Z; right: 2015-07-30T01:06:05Z.
 *      Avoided: sub-daily rules get a positive position (for which the empty set yields nothing).
 *   Not a bug, a cost: a rule that never matches is iterated to year 9999 (seconds for DAILY), so
 *   rrule.js is asked about a rule ours finds empty only for FREQ=YEARLY.
 *
 * rrule-temporal 2.2.8 (every item seen with FREQ=YEARLY only; MONTHLY and shorter agree)
 *   T1 BYWEEKNO without BYDAY expands to DTSTART's weekday only (dateutil and ours: the whole
 *      week; RFC 5545's table marks BYWEEKNO "Expand" for YEARLY).
 *        DTSTART;TZID=UTC:20260301T174055  FREQ=YEARLY;INTERVAL=5;BYWEEKNO=22;BYHOUR=17;BYSECOND=30
 *        -> rrule-temporal 2026-05-31T17:40:30Z, 2031-06-01T17:40:30Z, ...; right: every day of
 *        ISO week 22, 2026-05-25..31, then 2031-05-26.. (all at 17:40:30Z).
 *      Avoided: no BYWEEKNO for rrule-temporal (rrule.js covers it).
 *   T2 BYYEARDAY together with BYMONTHDAY or BYDAY: the second part is ignored.
 *        DTSTART;TZID=UTC:20250101T090000  FREQ=YEARLY;BYYEARDAY=6;BYMONTHDAY=-1;COUNT=3
 *        -> rrule-temporal 2025-01-06, 2026-01-06, 2027-01-06; right: none (Jan 6 is never the
 *        last day of its month).
 *      Avoided: BYYEARDAY only alone or with BYMONTH.
 *   T3 BYDAY mixing plain and ordinal weekdays drops the plain ones.
 *        DTSTART;TZID=UTC:20250101T090000  FREQ=YEARLY;BYDAY=TH,4TU;COUNT=6
 *        -> rrule-temporal 2025-01-28, 2026-01-27, ...; right: 2025-01-02, 01-09, 01-16, 01-23,
 *        01-28, 01-30 (every Thursday, and the 4th Tuesday of the year).
 *      Avoided: as R4.
 *   T4 Ordinal BYDAY counted in the year (no BYMONTH) together with BYMONTHDAY: BYMONTHDAY ignored.
 *        DTSTART;TZID=UTC:20250101T090000  FREQ=YEARLY;BYMONTHDAY=1,2,3,4,5,6,7;BYDAY=10SU;COUNT=6
 *        -> rrule-temporal 2025-03-09, 2026-03-08, ...; right: 2027-03-07, 2028-03-05,
 *        2032-03-07, ... (the years whose 10th Sunday is in the first week of March).
 *      Avoided: no BYMONTHDAY with year-scoped ordinals.
 *   T5 BYDAY=53XX / -53XX in a year with only 52 such weekdays yields a day of the adjacent year.
 *        DTSTART;TZID=UTC:20310101T090000  FREQ=YEARLY;BYDAY=53SU;COUNT=3
 *        -> rrule-temporal 2032-01-04, 2033-01-02, 2034-01-01; right: 2034-12-31, 2040-12-30,
 *        2045-12-31 (the years with 53 Sundays).
 *      Avoided: year-scoped ordinals within -52..52.
 *   Not bugs: rules that never match (or too rarely) throw "Maximum iterations" / "Maximum
 *   candidate evaluations" / "Out-of-bounds date" instead of answering; such a comparison is
 *   inconclusive and skipped. Generated times inside a DST gap are dropped, not shifted (its
 *   documented choice): the DST-zone property therefore keeps times of day at 04:00 and later.
 *
 * OUR BUGS found by this file, fixed, and kept as regression tests at the end:
 *   E1 A sub-daily rule whose INTERVAL only ever lands on weekdays its BYDAY excludes (or at times
 *      its BYHOUR excludes) was not recognised as empty, and its search did not stop at UNTIL: it
 *      ran to the search budget and threw. Now the week-residue check in rule.ts recognises it
 *      and every search stops at UNTIL and the window's end.
 *
 * Run counts: 400 + 300 + 200 (properties 1-3), 150 + 100 (4), 300 (5): about 11 s in all on this
 * 2-core machine when it is otherwise idle;
 * DIFF_TEST_SCALE=10 (an environment variable) multiplies them for a longer hunt.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { RRuleTemporal } from 'rrule-temporal';
import rrulePkg from 'rrule';
import { RecurrenceError, compileSchedule } from '../../src/recurrence/index.js';

const { rrulestr } = rrulePkg;

const SCALE = Number(process.env.DIFF_TEST_SCALE ?? 1);
const runs = (n: number): number => Math.max(1, Math.round(n * SCALE));

// ---------------------------------------------------------------------------------------------
// Rules

type FreqName = 'YEARLY' | 'MONTHLY' | 'WEEKLY' | 'DAILY' | 'HOURLY' | 'MINUTELY' | 'SECONDLY';
const ALL_FREQS: FreqName[] = ['YEARLY', 'MONTHLY', 'WEEKLY', 'DAILY', 'HOURLY', 'MINUTELY', 'SECONDLY'];
const WEEKDAYS = ['MO', 'TU', 'WE', 'TH', 'FR', 'SA', 'SU'] as const;
const isSubDaily = (f: FreqName): boolean => f === 'HOURLY' || f === 'MINUTELY' || f === 'SECONDLY';

interface Local {
  y: number;
  mo: number;
  d: number;
  h: number;
  mi: number;
  s: number;
}

interface Rule {
  freq: FreqName;
  interval: number;
  count?: number | undefined;
  /** UNTIL as seconds after the start instant; written as a UTC DATE-TIME. */
  untilAfter?: number | undefined;
  byMonth?: number[] | undefined;
  byWeekNo?: number[] | undefined;
  byYearDay?: number[] | undefined;
  byMonthDay?: number[] | undefined;
  /** [ordinal (0 = none), weekday (MO = 0)] */
  byDay?: Array<[number, number]> | undefined;
  byHour?: number[] | undefined;
  byMinute?: number[] | undefined;
  bySecond?: number[] | undefined;
  bySetPos?: number[] | undefined;
  wkst?: number | undefined;
}

interface Case {
  zone: string;
  start: Local;
  rule: Rule;
}

const pad = (n: number): string => String(n).padStart(2, '0');
const isoLocal = (l: Local): string => `${l.y}-${pad(l.mo)}-${pad(l.d)}T${pad(l.h)}:${pad(l.mi)}:${pad(l.s)}`;
const basicLocal = (l: Local): string => `${l.y}${pad(l.mo)}${pad(l.d)}T${pad(l.h)}${pad(l.mi)}${pad(l.s)}`;
const basicUtc = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z').replace(/[-:]/g, '');
const isoUtc = (ms: number): string => new Date(ms).toISOString().replace('.000Z', 'Z');
const localAsUtcMs = (l: Local): number => Date.UTC(l.y, l.mo - 1, l.d, l.h, l.mi, l.s);

function ruleText(r: Rule, startMs: number): string {
  const parts = [`FREQ=${r.freq}`];
  if (r.interval !== 1) parts.push(`INTERVAL=${r.interval}`);
  if (r.count !== undefined) parts.push(`COUNT=${r.count}`);
  if (r.untilAfter !== undefined) parts.push(`UNTIL=${basicUtc(startMs + r.untilAfter * 1000)}`);
  const list = (name: string, v: number[] | undefined): void => {
    if (v) parts.push(`${name}=${v.join(',')}`);
  };
  list('BYMONTH', r.byMonth);
  list('BYWEEKNO', r.byWeekNo);
  list('BYYEARDAY', r.byYearDay);
  list('BYMONTHDAY', r.byMonthDay);
  if (r.byDay) parts.push(`BYDAY=${r.byDay.map(([n, w]) => `${n === 0 ? '' : n}${WEEKDAYS[w]}`).join(',')}`);
  list('BYHOUR', r.byHour);
  list('BYMINUTE', r.byMinute);
  list('BYSECOND', r.bySecond);
  list('BYSETPOS', r.bySetPos);
  if (r.wkst !== undefined) parts.push(`WKST=${WEEKDAYS[r.wkst]}`);
  return parts.join(';');
}

const hasOtherByPart = (r: Rule): boolean =>
  !!(r.byMonth || r.byWeekNo || r.byYearDay || r.byMonthDay || r.byDay || r.byHour || r.byMinute || r.bySecond);
const hasDayPart = (r: Rule): boolean => !!(r.byMonth || r.byWeekNo || r.byYearDay || r.byMonthDay || r.byDay);
const mixedByDay = (r: Rule): boolean => !!r.byDay && r.byDay.some(([n]) => n !== 0) && r.byDay.some(([n]) => n === 0);

/** Times of day a DAILY-or-longer rule yields per day; for shorter rules, instants per period. */
function timesPerDay(r: Rule): number {
  if (r.freq === 'HOURLY') return (r.byMinute?.length ?? 1) * (r.bySecond?.length ?? 1);
  if (r.freq === 'MINUTELY') return r.bySecond?.length ?? 1;
  if (r.freq === 'SECONDLY') return 1;
  return (r.byHour?.length ?? 1) * (r.byMinute?.length ?? 1) * (r.bySecond?.length ?? 1);
}

// ---------------------------------------------------------------------------------------------
// Generators (every rule obeys RFC 5545's MUSTs, which our parser enforces)

const daysIn = (y: number, m: number): number => new Date(Date.UTC(y, m, 0)).getUTCDate();
const sortedSet = (arb: fc.Arbitrary<number>, max: number): fc.Arbitrary<number[]> =>
  fc.uniqueArray(arb, { minLength: 1, maxLength: max }).map((a) => [...a].sort((x, y) => x - y));
const signed = (max: number): fc.Arbitrary<number> => fc.tuple(fc.integer({ min: 1, max }), fc.boolean()).map(([v, neg]) => (neg ? -v : v));
const weighted = <T>(...choices: Array<[number, fc.Arbitrary<T>]>): fc.Arbitrary<T> =>
  fc.oneof(...choices.map(([weight, arbitrary]) => ({ weight, arbitrary })));

interface StartOptions {
  years: [number, number];
  minHour: number;
  /** Bias the dates towards the months and days where DST changes happen. */
  nearDst?: boolean;
}

function startArb(o: StartOptions): fc.Arbitrary<Local> {
  const anyDay = weighted([3, fc.integer({ min: 1, max: 31 })], [1, fc.integer({ min: 26, max: 31 })]);
  const date = fc.record({ mo: fc.integer({ min: 1, max: 12 }), d: anyDay });
  const dstDate = fc.record({ mo: fc.constantFrom(3, 4, 10, 11), d: weighted([1, fc.integer({ min: 1, max: 14 })], [1, fc.integer({ min: 24, max: 31 })]) });
  return fc
    .record({
      y: fc.integer({ min: o.years[0], max: o.years[1] }),
      date: o.nearDst ? weighted([1, date], [2, dstDate]) : date,
      // Near DST changes, half the starts are at 00:00-03:59 (where the changes are), when allowed.
      h: o.nearDst && o.minHour === 0 ? weighted([1, fc.integer({ min: 4, max: 23 })], [1, fc.integer({ min: 0, max: 3 })]) : fc.integer({ min: o.minHour, max: 23 }),
      mi: weighted([2, fc.integer({ min: 0, max: 59 })], [1, fc.constant(0)], [1, fc.constant(30)]),
      s: weighted([2, fc.integer({ min: 0, max: 59 })], [1, fc.constant(0)]),
    })
    .map(({ y, date, h, mi, s }) => ({ y, mo: date.mo, d: Math.min(date.d, daysIn(y, date.mo)), h, mi, s }));
}

const PERIOD_SECONDS: Record<FreqName, number> = {
  YEARLY: 365 * 86400,
  MONTHLY: 30 * 86400,
  WEEKLY: 7 * 86400,
  DAILY: 86400,
  HOURLY: 3600,
  MINUTELY: 60,
  SECONDLY: 1,
};

type DayPart = 'byMonth' | 'byWeekNo' | 'byYearDay' | 'byMonthDay' | 'byDay';
/** Day-level parts allowed per FREQ (BYWEEKNO only YEARLY; no BYYEARDAY with DAILY/WEEKLY/MONTHLY; no BYMONTHDAY with WEEKLY). */
const DAY_PARTS: Record<FreqName, DayPart[]> = {
  YEARLY: ['byMonth', 'byWeekNo', 'byYearDay', 'byMonthDay', 'byDay'],
  MONTHLY: ['byMonth', 'byMonthDay', 'byDay'],
  WEEKLY: ['byMonth', 'byDay'],
  DAILY: ['byMonth', 'byMonthDay', 'byDay'],
  HOURLY: ['byMonth', 'byYearDay', 'byMonthDay', 'byDay'],
  MINUTELY: ['byMonth', 'byYearDay', 'byMonthDay', 'byDay'],
  SECONDLY: ['byMonth', 'byYearDay', 'byMonthDay', 'byDay'],
};

interface RuleOptions {
  minHour: number;
  /** Sub-daily time parts may be unreachable (only for the oracle-free property: see R7). */
  unreachableTimes?: boolean;
}

function ruleArb(freq: FreqName, start: Local, o: RuleOptions): fc.Arbitrary<Rule> {
  const interval = isSubDaily(freq)
    ? weighted([4, fc.integer({ min: 1, max: 5 })], [1, fc.integer({ min: 6, max: 59 })])
    : weighted([4, fc.integer({ min: 1, max: 5 })], [1, fc.integer({ min: 6, max: 30 })]);
  return interval.chain((iv) => ruleWithInterval(freq, start, iv, o));
}

function ruleWithInterval(freq: FreqName, start: Local, interval: number, o: RuleOptions): fc.Arbitrary<Rule> {
  const sub = isSubDaily(freq);
  const ordinals = freq === 'MONTHLY' || freq === 'YEARLY';
  const parts = DAY_PARTS[freq];
  const howMany = sub ? weighted([5, fc.constant(0)], [4, fc.constant(1)], [1, fc.constant(2)]) : weighted([2, fc.constant(0)], [4, fc.constant(1)], [3, fc.constant(2)], [1, fc.constant(3)]);
  const which = howMany.chain((k) => fc.shuffledSubarray(parts, { minLength: Math.min(k, parts.length), maxLength: Math.min(k, parts.length) }));
  const untilMax = Math.max(40 * interval * PERIOD_SECONDS[freq], sub ? 3 * 86400 : 0);
  return fc
    .record({
      which,
      end: weighted<Pick<Rule, 'count' | 'untilAfter'>>(
        [2, fc.constant({})],
        [2, fc.integer({ min: 1, max: sub ? 20 : 50 }).map((count) => ({ count }))],
        [1, fc.integer({ min: 0, max: untilMax }).map((untilAfter) => ({ untilAfter }))],
      ),
      byMonth: sortedSet(fc.integer({ min: 1, max: 12 }), 4),
      byWeekNo: sortedSet(signed(53), 3),
      byYearDay: sortedSet(signed(366), 3),
      byMonthDay: sortedSet(weighted([3, signed(28)], [1, signed(31)]), 3),
      byDay: fc.uniqueArray(
        fc.tuple(ordinals ? weighted([2, fc.constant(0)], [2, signed(5)], [1, signed(freq === 'YEARLY' ? 53 : 5)]) : fc.constant(0), fc.integer({ min: 0, max: 6 })),
        { minLength: 1, maxLength: 3, selector: ([n, w]) => `${n}/${w}` },
      ),
      time: sub ? subDailyTimeArb(freq, start, interval, o.unreachableTimes ?? false) : dailyTimeArb(o.minHour),
      bySetPos: fc.option(fc.array(fc.tuple(fc.nat(), fc.boolean(), fc.nat(9)), { minLength: 1, maxLength: 2 }), { freq: 3, nil: undefined }),
      wkst: fc.option(fc.integer({ min: 0, max: 6 }), { freq: 2, nil: undefined }),
      monthStep: fc.option(fc.nat(100), { freq: 4, nil: undefined }),
    })
    .map((b): Rule => {
      const has = (p: DayPart): boolean => b.which.includes(p);
      let byDay = has('byDay') ? b.byDay : undefined;
      // No ordinals together with BYWEEKNO.
      if (byDay && has('byWeekNo')) byDay = dedupeByDay(byDay.map(([, w]) => [0, w]));
      let byMonth = has('byMonth') ? b.byMonth : undefined;
      if (byMonth && freq === 'MONTHLY' && interval > 1 && b.monthStep !== undefined) {
        // Mostly a month the INTERVAL reaches: MONTHLY;INTERVAL=2;BYMONTH=8 from March never fires.
        byMonth = [...new Set([...byMonth, ((start.mo - 1 + b.monthStep * interval) % 12) + 1])].sort((x, y) => x - y);
      }
      const r: Rule = {
        freq,
        interval,
        ...b.end,
        byMonth,
        byWeekNo: has('byWeekNo') ? b.byWeekNo : undefined,
        byYearDay: has('byYearDay') ? b.byYearDay : undefined,
        byMonthDay: has('byMonthDay') ? b.byMonthDay : undefined,
        byDay,
        ...b.time,
        wkst: b.wkst,
      };
      // BYSETPOS only with another BYxxx part; positions mostly within the period's set.
      if (b.bySetPos && hasOtherByPart(r)) {
        const size = setSizeGuess(r);
        const positions = b.bySetPos.map(([seed, negative, mode]) => {
          // RFC 5545 allows positions 1 to 366 only, however large the period's set.
          const v = 1 + (seed % (mode < 6 ? Math.min(size, 3) : mode < 9 ? Math.min(size, 366) : 366));
          return negative ? -v : v;
        });
        r.bySetPos = [...new Set(positions)].sort((x, y) => x - y);
      }
      return r;
    });
}

/** A rough size of one period's set, to draw BYSETPOS positions that mostly exist. */
function setSizeGuess(r: Rule): number {
  const times = timesPerDay(r);
  const weekdays = r.byDay ? r.byDay.reduce((sum, [n]) => sum + (n === 0 ? 4 : 1), 0) : undefined;
  switch (r.freq) {
    case 'YEARLY':
      return times * (r.byYearDay?.length ?? (r.byWeekNo ? 7 * r.byWeekNo.length : (r.byMonth?.length ?? 1) * (r.byMonthDay?.length ?? weekdays ?? 1)));
    case 'MONTHLY':
      return times * (r.byMonthDay?.length ?? weekdays ?? 1);
    case 'WEEKLY':
      return times * (r.byDay?.length ?? 1);
    default:
      return times;
  }
}

function dedupeByDay(list: Array<[number, number]>): Array<[number, number]> {
  const seen = new Set<string>();
  return list.filter(([n, w]) => {
    const key = `${n}/${w}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

const dailyTimeArb = (minHour: number): fc.Arbitrary<Pick<Rule, 'byHour' | 'byMinute' | 'bySecond'>> =>
  fc.record({
    byHour: fc.option(sortedSet(fc.integer({ min: minHour, max: 23 }), 3), { freq: 2, nil: undefined }),
    byMinute: fc.option(sortedSet(fc.integer({ min: 0, max: 59 }), 3), { freq: 2, nil: undefined }),
    bySecond: fc.option(sortedSet(fc.integer({ min: 0, max: 59 }), 2), { freq: 4, nil: undefined }),
  });

/**
 * Time parts of a sub-daily rule, built around one time of day the rule reaches: its periods
 * start INTERVAL units apart from the start, so HOURLY;INTERVAL=2 from 00:00 never has an odd hour
 * (rrule.js would loop forever on an unreachable value, R7).
 */
function subDailyTimeArb(freq: FreqName, start: Local, interval: number, unreachable: boolean): fc.Arbitrary<Pick<Rule, 'byHour' | 'byMinute' | 'bySecond'>> {
  const unit = freq === 'HOURLY' ? 3600 : freq === 'MINUTELY' ? 60 : 1;
  const x0 = Math.floor((start.h * 3600 + start.mi * 60 + start.s) / unit);
  const perDay = 86400 / unit;
  const extra = (max: number): fc.Arbitrary<number[]> => fc.uniqueArray(fc.integer({ min: 0, max }), { maxLength: 2 });
  return fc
    .record({ k: fc.nat({ max: 100_000 }), use: fc.tuple(fc.boolean(), fc.boolean(), fc.boolean()), eh: extra(23), em: extra(59), es: extra(59), wild: fc.nat(3).map((x) => x === 0) })
    .map(({ k, use, eh, em, es, wild }) => {
      const r = ((x0 + k * interval) % perDay) * unit; // a second of the day some period starts at
      const withValue = (v: number, ex: number[]): number[] => [...new Set(unreachable && wild ? (ex.length > 0 ? ex : [v]) : [v, ...ex])].sort((a, b) => a - b);
      const out: Pick<Rule, 'byHour' | 'byMinute' | 'bySecond'> = {};
      if (use[0]) out.byHour = withValue(Math.floor(r / 3600), eh);
      if (use[1]) out.byMinute = freq === 'HOURLY' ? withValue(em[0] ?? 0, em) : withValue(Math.floor(r / 60) % 60, em);
      if (use[2]) out.bySecond = freq === 'SECONDLY' ? withValue(r % 60, es) : withValue(es[0] ?? 0, es);
      return out;
    });
}

function caseArb(zones: string[], freqs: FreqName[], s: StartOptions, o: RuleOptions): fc.Arbitrary<Case> {
  return fc
    .record({ zone: fc.constantFrom(...zones), freq: fc.constantFrom(...freqs), start: startArb(s) })
    .chain(({ zone, freq, start }) => ruleArb(freq, start, o).map((rule) => ({ zone, start, rule })));
}

// ---------------------------------------------------------------------------------------------
// Peer-specific shapes (see KNOWN PEER BUGS)

function withoutLoneBySetPos(r: Rule): Rule {
  if (r.bySetPos && !hasOtherByPart(r)) r.bySetPos = undefined;
  return r;
}

/** The nearest rule shape on which rrule.js is right. */
function forRruleJs(c: Case): Case {
  const r: Rule = { ...c.rule };
  let start = c.start;
  if (mixedByDay(r)) r.byDay = r.byDay!.filter(([n]) => n !== 0); // R4
  if (r.byWeekNo) r.byWeekNo = [...new Set(r.byWeekNo.map((v) => (v >= 52 ? v - 20 : v <= -52 ? v + 20 : v)))].sort((a, b) => a - b); // R5, R6
  if (r.freq === 'MINUTELY' || r.freq === 'SECONDLY') {
    if (hasDayPart(r) || 60 % r.interval !== 0) {
      // R7, R8
      r.byHour = undefined;
      if (r.freq === 'SECONDLY') r.byMinute = undefined;
    }
  }
  withoutLoneBySetPos(r);
  if (r.bySetPos) {
    // R1, R2: one position; a negative one within the times of a single day.
    const p = r.bySetPos[0]!;
    const t = timesPerDay(r);
    r.bySetPos = [p < 0 && -p > t ? -1 - ((-p - 1) % t) : p];
    // R9: a sub-daily rule gets a positive position.
    if (isSubDaily(r.freq)) r.bySetPos = [Math.abs(r.bySetPos[0]!)];
    if (r.freq === 'WEEKLY') {
      // R3: start on the week's first day.
      const d = new Date(Date.UTC(start.y, start.mo - 1, start.d));
      const weekday = (d.getUTCDay() + 6) % 7;
      d.setUTCDate(d.getUTCDate() - ((weekday - (r.wkst ?? 0) + 7) % 7));
      start = { ...start, y: d.getUTCFullYear(), mo: d.getUTCMonth() + 1, d: d.getUTCDate() };
    }
  }
  return { ...c, start, rule: r };
}

/** The nearest rule shape on which rrule-temporal is right. */
function forRruleTemporal(c: Case): Case {
  const r: Rule = { ...c.rule };
  if (r.freq === 'YEARLY') {
    r.byWeekNo = undefined; // T1
    if (r.byYearDay && (r.byMonthDay || r.byDay)) r.byYearDay = undefined; // T2
    if (mixedByDay(r)) r.byDay = r.byDay!.filter(([n]) => n !== 0); // T3
    if (r.byDay && r.byDay.some(([n]) => n !== 0) && !r.byMonth) {
      r.byMonthDay = undefined; // T4
      r.byDay = dedupeByDay(r.byDay.map(([n, w]) => [Math.max(-52, Math.min(52, n)), w])); // T5
    }
  }
  return { ...c, rule: withoutLoneBySetPos(r) };
}

// ---------------------------------------------------------------------------------------------
// Running the implementations

interface Ours {
  text: string;
  list: number[];
  schedule: ReturnType<typeof compileSchedule>;
}

/** Our first `n` occurrences. */
function runOurs(c: Case, n: number): Ours | null {
  const startMs = compileSchedule({ timeZone: c.zone, startDateTime: isoLocal(c.start) }).start!;
  const text = ruleText(c.rule, startMs);
  const schedule = compileSchedule({ timeZone: c.zone, startDateTime: isoLocal(c.start), recurrence: [`RRULE:${text}`] });
  return { text, list: schedule.first(n), schedule };
}

/** rrule.js's first `n` occurrences up to `untilMs`, in floating time (epoch ms of the wall time read as UTC). */
function runRruleJs(c: Case, text: string, n: number, untilMs: number): number[] {
  const rule = rrulestr(`DTSTART:${basicLocal(c.start)}Z\nRRULE:${text}`);
  const out: number[] = [];
  rule.all((d, i) => {
    if (i >= n || d.getTime() > untilMs) return false;
    out.push(d.getTime());
    return true;
  });
  return out;
}

/** rrule-temporal's first `n` occurrences up to `untilMs`, or null when it gives up (see "Not bugs"). */
function runRruleTemporal(c: Case, text: string, n: number, untilMs: number, maxIterations?: number): number[] | null {
  const out: number[] = [];
  try {
    const rule = new RRuleTemporal({
      rruleString: `DTSTART;TZID=${c.zone}:${basicLocal(c.start)}\nRRULE:${text}`,
      ...(maxIterations === undefined ? {} : { maxIterations }),
    });
    rule.all((d, i) => {
      if (i >= n || d.epochMilliseconds > untilMs) return false;
      out.push(d.epochMilliseconds);
      return true;
    });
  } catch (e) {
    if (/Maximum (iterations|candidate evaluations)|Out-of-bounds/.test(String(e))) return null;
    throw e;
  }
  return out;
}

const limitFor = (r: Rule): number => (isSubDaily(r.freq) ? 20 : 30);

function describeCase(c: Case, text: string): string {
  return `DTSTART;TZID=${c.zone}:${basicLocal(c.start)}\nRRULE:${text}`;
}

/** Wall-clock time (as a UTC-read epoch ms) of an instant in our schedule's zone. */
function wallClock(s: ReturnType<typeof compileSchedule>, ms: number): number {
  return Date.parse(`${s.formatLocal(ms).slice(0, 19)}Z`);
}

/**
 * Whether the rule, bounded by UNTIL, would fire after UNTIL without it (per our engine): then a
 * peer passes UNTIL on a candidate soon and stops, even if nothing is left before UNTIL.
 */
function matchesAfterUntil(c: Case): boolean {
  if (c.rule.untilAfter === undefined) return false;
  const unbounded = runOurs({ ...c, rule: { ...c.rule, untilAfter: undefined } }, 1);
  return unbounded !== null && unbounded.list.length > 0;
}

/** Our occurrences against rrule.js, compared as wall-clock times (= instants in UTC). */
function checkAgainstRruleJs(c: Case): void {
  const n = limitFor(c.rule);
  const ours = runOurs(c, n);
  if (ours === null) return;
  // A rule ours finds empty may never match; rrule.js then iterates to year 9999 (see above).
  if (ours.list.length === 0 && c.rule.freq !== 'YEARLY' && !matchesAfterUntil(c)) return;
  const wall = ours.list.map((ms) => wallClock(ours.schedule, ms));
  const until = wall.length === n ? wall[n - 1]! : Number.MAX_SAFE_INTEGER;
  const peer = runRruleJs(c, ours.text, n, until);
  assert.deepEqual(peer.map(isoUtc), wall.map(isoUtc), `rrule.js disagrees on\n${describeCase(c, ours.text)}\n(wall-clock times)`);
}

/** Our occurrences against rrule-temporal, compared as instants. */
function checkAgainstRruleTemporal(c: Case): void {
  const n = limitFor(c.rule);
  const ours = runOurs(c, n);
  if (ours === null) return;
  const until = ours.list.length === n ? ours.list[n - 1]! : Number.MAX_SAFE_INTEGER;
  // When ours finds nothing at all, give the peer a short leash: it either finds something (a
  // failure) or gives up.
  const leash = ours.list.length === 0 && !matchesAfterUntil(c) ? 60 : undefined;
  const peer = runRruleTemporal(c, ours.text, n, until, leash);
  if (peer === null) return;
  const fmt = (list: number[]): string[] => list.map((ms) => ours.schedule.formatLocal(ms));
  assert.deepEqual(fmt(peer), fmt(ours.list), `rrule-temporal disagrees on\n${describeCase(c, ours.text)}`);
}

// ---------------------------------------------------------------------------------------------

const DST_ZONES = ['America/New_York', 'Europe/Berlin', 'Australia/Sydney'];

describe('differential: our engine against rrule.js and rrule-temporal', () => {
  const options = { includeErrorInReport: true };

  it('premise: no implementation adds a DTSTART the rule does not produce, nor counts it', () => {
    // DTSTART is a Tuesday; the rule fires on Mondays and Fridays.
    const c: Case = { zone: 'UTC', start: { y: 2027, mo: 1, d: 5, h: 9, mi: 30, s: 0 }, rule: { freq: 'WEEKLY', interval: 1, count: 3, byDay: [[0, 0], [0, 4]] } };
    const expected = ['2027-01-08T09:30:00Z', '2027-01-11T09:30:00Z', '2027-01-15T09:30:00Z'];
    const ours = runOurs(c, 10)!;
    assert.deepEqual(ours.list.map(isoUtc), expected);
    assert.deepEqual(runRruleJs(c, ours.text, 10, Infinity).map(isoUtc), expected);
    assert.deepEqual(runRruleTemporal(c, ours.text, 10, Infinity)?.map(isoUtc), expected);
  });

  it('UTC, every FREQ: same occurrences as rrule.js (calendar logic)', () => {
    fc.assert(
      fc.property(caseArb(['UTC'], ALL_FREQS, { years: [1971, 2090], minHour: 0 }, { minHour: 0 }).map(forRruleJs), checkAgainstRruleJs),
      { ...options, numRuns: runs(400) },
    );
  });

  it('UTC, every FREQ: same occurrences as rrule-temporal', () => {
    fc.assert(
      fc.property(caseArb(['UTC'], ALL_FREQS, { years: [1971, 2090], minHour: 0 }, { minHour: 0 }).map(forRruleTemporal), checkAgainstRruleTemporal),
      { ...options, numRuns: runs(300) },
    );
  });

  it('DST zones, DAILY..YEARLY at 04:00-23:59 local: same instants as rrule-temporal, same wall times as rrule.js', () => {
    fc.assert(
      fc.property(
        caseArb(DST_ZONES, ['YEARLY', 'MONTHLY', 'WEEKLY', 'DAILY'], { years: [1990, 2060], minHour: 4, nearDst: true }, { minHour: 4 }).map(forRruleTemporal),
        (c) => {
          checkAgainstRruleTemporal(c);
          // rrule.js expands in floating time: the same wall times, whatever the zone. UNTIL is an
          // instant, which floating time cannot express.
          if (c.rule.untilAfter === undefined) checkAgainstRruleJs(forRruleJs(c));
        },
      ),
      { ...options, numRuns: runs(200) },
    );
  });
});

// ---------------------------------------------------------------------------------------------
// The shapes both peers get wrong, checked another way.

const DAY_MS = 86_400_000;
const dayNumber = (y: number, m: number, d: number): number => Date.UTC(y, m - 1, d) / DAY_MS;
const weekdayOf = (day: number): number => (new Date(day * DAY_MS).getUTCDay() + 6) % 7; // MO = 0

/** First day of week 1 of week-year `y`: the WKST weekday among Dec 29 .. Jan 4 (a week with >= 4 days in `y`). */
function week1Start(y: number, wkst: number): number {
  const d = dayNumber(y - 1, 12, 29);
  return d + ((wkst - weekdayOf(d) + 7) % 7);
}

/**
 * A brute-force model of FREQ=YEARLY;BYWEEKNO (with plain BYDAY and times), written from the RFC
 * rather than from our engine: each day of the calendar years the rule visits, matched against
 * its own week-year's week number (so the late-December days of week 1 of the next week-year and
 * the early-January days of the last week of the previous one count, the semantics we decided).
 */
function weekNoModel(start: Local, r: Rule, n: number): { list: number[]; horizon: number } {
  const wkst = r.wkst ?? 0;
  const hours = r.byHour ?? [start.h];
  const minutes = r.byMinute ?? [start.mi];
  const seconds = r.bySecond ?? [start.s];
  const times = hours.flatMap((h) => minutes.flatMap((m) => seconds.map((s) => (h * 3600 + m * 60 + s) * 1000))).sort((a, b) => a - b);
  const startMs = localAsUtcMs(start);
  const out: number[] = [];
  let y = start.y;
  for (; out.length < n && y < start.y + 400; y += r.interval) {
    for (let day = dayNumber(y, 1, 1); day < dayNumber(y + 1, 1, 1); day++) {
      let weekYear = y + 1;
      while (week1Start(weekYear, wkst) > day) weekYear--;
      const week = Math.floor((day - week1Start(weekYear, wkst)) / 7) + 1;
      const weeks = (week1Start(weekYear + 1, wkst) - week1Start(weekYear, wkst)) / 7;
      if (!r.byWeekNo!.some((v) => (v > 0 ? v : weeks + v + 1) === week)) continue;
      if (r.byDay && !r.byDay.some(([, w]) => w === weekdayOf(day))) continue;
      for (const t of times) if (day * DAY_MS + t >= startMs) out.push(day * DAY_MS + t);
    }
  }
  // Years from `y` on were not visited.
  return { list: out.slice(0, n), horizon: Date.UTC(y, 0, 1) };
}

const EDGE_WEEKS = [1, 2, 52, 53, -1, -2, -52, -53];

describe('shapes no peer gets right, checked another way', () => {
  const options = { includeErrorInReport: true };

  it('UTC, YEARLY;BYWEEKNO (edge weeks 1, 52, 53, -1, -52, -53 included, any WKST): same as a brute-force model', () => {
    const arb = fc
      .record({
        start: startArb({ years: [1971, 2080], minHour: 0 }),
        interval: weighted([3, fc.constant(1)], [1, fc.integer({ min: 2, max: 4 })]),
        byWeekNo: sortedSet(weighted([1, fc.constantFrom(...EDGE_WEEKS)], [1, signed(53)]), 3),
        byDay: fc.option(fc.uniqueArray(fc.integer({ min: 0, max: 6 }), { minLength: 1, maxLength: 3 }), { freq: 2, nil: undefined }),
        time: dailyTimeArb(0),
        wkst: fc.option(fc.integer({ min: 0, max: 6 }), { freq: 3, nil: undefined }),
      })
      .map(({ start, interval, byWeekNo, byDay, time, wkst }): Case => ({
        zone: 'UTC',
        start,
        rule: { freq: 'YEARLY', interval, byWeekNo, byDay: byDay?.map((w): [number, number] => [0, w]), ...time, wkst },
      }));
    fc.assert(
      fc.property(arb, (c) => {
        const n = 30;
        const ours = runOurs(c, n)!;
        const model = weekNoModel(c.start, c.rule, n);
        const mine = ours.list.filter((t) => t < model.horizon);
        assert.deepEqual(mine.map(isoUtc), model.list.map(isoUtc), `the model disagrees on\n${describeCase(c, ours.text)}`);
      }),
      { ...options, numRuns: runs(150) },
    );
  });

  it('UTC, MONTHLY/YEARLY with BYDAY mixing plain and ordinal weekdays: the union of rrule.js on each half', () => {
    const arb = fc
      .record({ freq: fc.constantFrom<FreqName>('MONTHLY', 'YEARLY'), start: startArb({ years: [1971, 2080], minHour: 0 }) })
      .chain(({ freq, start }) =>
        fc.record({
          c: ruleArb(freq, start, { minHour: 0 }).map((rule): Case => ({ zone: 'UTC', start, rule })),
          plain: fc.uniqueArray(fc.integer({ min: 0, max: 6 }), { minLength: 1, maxLength: 2 }),
          ordinal: fc.uniqueArray(fc.tuple(signed(freq === 'YEARLY' ? 53 : 5), fc.integer({ min: 0, max: 6 })), { minLength: 1, maxLength: 2, selector: ([k, w]) => `${k}/${w}` }),
        }),
      )
      .map(({ c, plain, ordinal }): Case => {
        // No COUNT or BYSETPOS (they do not distribute over a union); no BYWEEKNO (no ordinals
        // with it); no BYMONTHDAY or BYYEARDAY (a half that never matches would send rrule.js to
        // year 9999).
        const byDay: Array<[number, number]> = [...plain.map((w): [number, number] => [0, w]), ...ordinal];
        const rule: Rule = { ...c.rule, count: undefined, bySetPos: undefined, byWeekNo: undefined, byMonthDay: undefined, byYearDay: undefined, byDay };
        return { ...c, rule };
      });
    fc.assert(
      fc.property(arb, (c) => {
        const n = limitFor(c.rule);
        const ours = runOurs(c, n)!;
        const until = ours.list.length === n ? ours.list[n - 1]! : Number.MAX_SAFE_INTEGER;
        const half = (keep: (k: number) => boolean): number[] => {
          const h: Case = { ...c, rule: { ...c.rule, byDay: c.rule.byDay!.filter(([k]) => keep(k)) } };
          return runRruleJs(h, ruleText(h.rule, localAsUtcMs(c.start)), n, until);
        };
        const union = [...new Set([...half((k) => k === 0), ...half((k) => k !== 0)])].sort((a, b) => a - b).slice(0, n);
        assert.deepEqual(ours.list.map(isoUtc), union.map(isoUtc), `the union of the halves disagrees on\n${describeCase(c, ours.text)}`);
      }),
      { ...options, numRuns: runs(100) },
    );
  });
});

describe('oracle-free properties (any zone, any time of day, DST gaps and overlaps included)', () => {
  const zones = ['UTC', ...DST_ZONES, 'Australia/Lord_Howe', 'America/Santiago'];
  const arb = caseArb(zones, ALL_FREQS, { years: [1971, 2070], minHour: 0, nearDst: true }, { minHour: 0, unreachableTimes: true }).chain((c) =>
    fc.record({
      c: fc.constant(c),
      endAfterHours: fc.option(fc.integer({ min: 3, max: 24 * 800 }), { freq: 3, nil: undefined }),
      picks: fc.array(fc.tuple(fc.nat(), fc.nat(), fc.integer({ min: -1500, max: 1500 }), fc.integer({ min: -1500, max: 1500 })), { minLength: 3, maxLength: 3 }),
    }),
  );

  it('first/next/between agree, are increasing, within the window and within COUNT', () => {
    fc.assert(
      fc.property(arb, ({ c, endAfterHours, picks }) => {
        const startMs = compileSchedule({ timeZone: c.zone, startDateTime: isoLocal(c.start) }).start!;
        const text = ruleText(c.rule, startMs);
        const endDateTime = endAfterHours === undefined ? undefined : new Date(localAsUtcMs(c.start) + endAfterHours * 3_600_000).toISOString().slice(0, 19);
        const s = compileSchedule({ timeZone: c.zone, startDateTime: isoLocal(c.start), endDateTime, recurrence: [`RRULE:${text}`] });
        const what = `${describeCase(c, text)}${endDateTime ? `\nendDateTime ${endDateTime}` : ''}`;
        const n = 40;
        const xs = s.first(n);
        const complete = xs.length < n; // the whole schedule, not a prefix
        const show = (list: Array<number | null>): string => list.map((x) => (x === null ? 'null' : s.formatLocal(x))).join(', ');

        for (let i = 0; i < xs.length; i++) {
          const x = xs[i]!;
          assert.equal(x % 1000, 0, `${what}\noccurrence ${i} is not a whole second`);
          assert.ok(x >= s.start!, `${what}\noccurrence ${i} ${s.formatLocal(x)} is before the start`);
          if (s.end !== null) assert.ok(x <= s.end, `${what}\noccurrence ${i} ${s.formatLocal(x)} is after the end`);
          if (i > 0) assert.ok(x > xs[i - 1]!, `${what}\nnot strictly increasing at ${i}: ${show(xs.slice(i - 1, i + 1))}`);
        }
        if (c.rule.count !== undefined) assert.ok(s.first(c.rule.count + 5).length <= c.rule.count, `${what}\nmore than COUNT occurrences`);

        // next() walks the same list.
        assert.equal(s.next(s.start! - 1), xs[0] ?? null, `${what}\nnext(start - 1) is not the first occurrence`);
        for (let i = 0; i < xs.length; i++) {
          const expected = i + 1 < xs.length ? xs[i + 1]! : complete ? null : undefined;
          if (expected === undefined) continue;
          const got = s.next(xs[i]!);
          assert.equal(got, expected, `${what}\nnext(${s.formatLocal(xs[i]!)}) = ${show([got])}, first() has ${show([expected])}`);
        }

        // between() and first(k, after) are the same list, filtered. A bound is taken near an
        // occurrence, off by up to 1.5 s either way, so that whole-second rounding is exercised.
        const lo = s.start! - 2000;
        const hi = xs.length === 0 ? lo + 86_400_000 : xs[xs.length - 1]!;
        // Both bounds stay within [lo, hi], the span the `xs` prefix covers.
        const near = (k: number, delta: number): number => Math.min(hi, Math.max(lo, xs.length === 0 ? lo + (k % 86_400_000) : xs[k % xs.length]! + delta));
        for (const [i, j, d1, d2] of picks) {
          let a = near(i, d1);
          let b = near(j, d2);
          if (a > b) [a, b] = [b, a];
          const expected = xs.filter((t) => a < t && t <= b);
          const got = s.between(a, b);
          assert.deepEqual(show(got), show(expected), `${what}\nbetween(${a}, ${b})`);
          const limited = s.between(a, b, 3);
          assert.deepEqual(show(limited), show(expected.slice(0, 3)), `${what}\nbetween(${a}, ${b}, 3)`);

          const after = a;
          const five = s.first(5, after);
          assert.equal(five[0] ?? null, s.next(after), `${what}\nfirst(5, ${after})[0] is not next(${after})`);
          const fromList = xs.filter((t) => t > after).slice(0, 5);
          if (complete || fromList.length === 5) assert.deepEqual(show(five), show(fromList), `${what}\nfirst(5, ${after})`);
        }
      }),
      { includeErrorInReport: true, numRuns: runs(300) },
    );
  });
});

describe('engine bugs this file found (regressions)', () => {
  it('E1: a sub-daily rule that can never fire answers none, not a search-budget error', () => {
    const cases: Array<[string, string]> = [
      // From Thursday 00:00, 42-hour steps repeat weekly at Thu 00:00, Fri 18:00, Sun 12:00, Tue 06:00.
      ['2028-03-30T00:00:00', 'FREQ=HOURLY;INTERVAL=42;BYDAY=SA;UNTIL=20280410T000000Z'],
      ['2028-03-30T00:00:00', 'FREQ=HOURLY;INTERVAL=42;BYDAY=SA;COUNT=1'],
      // Every 7 hours from Tuesday 05:00, 02:00 comes every 7 days, always on a Wednesday.
      ['2015-02-03T05:00:00', 'FREQ=HOURLY;INTERVAL=7;BYDAY=MO;BYHOUR=2'],
    ];
    for (const [startDateTime, rule] of cases) {
      const s = compileSchedule({ timeZone: 'UTC', startDateTime, recurrence: [`RRULE:${rule}`] });
      assert.deepEqual(s.first(5), [], rule);
      assert.equal(s.next(s.start!), null, rule);
    }
  });
});
