/**
 * Shared starts (src/recurrence/shared-start.ts): a schedule compiled from the shared start answers
 * every question about times after the task's own start as the task's own schedule does. Random
 * rules of the admitted shapes (every FREQ and BYxxx part, UNTIL, WKST, EXRULE, EXDATE,
 * endDateTime), zones with DST gaps and overlaps, odd offsets and a skipped day, starts at any time
 * of day; the seed comes from FUZZ_SEED as for the other properties.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { compileSchedule, formatLocalSeconds, sharedStart, startDependence, type Schedule, type StartDependence } from '../../src/recurrence/index.js';

const FREQS = ['YEARLY', 'MONTHLY', 'WEEKLY', 'DAILY', 'HOURLY', 'MINUTELY', 'SECONDLY'] as const;
const DAYS = ['MO', 'TU', 'WE', 'TH', 'FR', 'SA', 'SU'] as const;
const ZONES = ['UTC', 'Europe/Zurich', 'America/New_York', 'Australia/Lord_Howe', 'Asia/Kathmandu', 'Pacific/Apia', 'America/Santiago'] as const;
const pad = (n: number, w = 2): string => String(n).padStart(w, '0');

const list = (min: number, max: number, nonZero = false): fc.Arbitrary<number[]> =>
  fc.uniqueArray(fc.integer({ min, max }).filter((v) => !nonZero || v !== 0), { minLength: 1, maxLength: 3 });

const ruleText = fc
  .record({
    freq: fc.constantFrom(...FREQS),
    byMonth: fc.option(list(1, 12), { freq: 3 }),
    byMonthDay: fc.option(list(-31, 31, true), { freq: 4 }),
    byDay: fc.option(fc.uniqueArray(fc.tuple(fc.integer({ min: -5, max: 5 }), fc.constantFrom(...DAYS)), { minLength: 1, maxLength: 3, selector: ([, d]) => d }), { freq: 3 }),
    byYearDay: fc.option(list(-366, 366, true), { freq: 8 }),
    byWeekNo: fc.option(list(-53, 53, true), { freq: 8 }),
    byHour: fc.option(list(0, 23), { freq: 3 }),
    byMinute: fc.option(list(0, 59), { freq: 3 }),
    bySecond: fc.option(list(0, 59), { freq: 4 }),
    wkst: fc.option(fc.constantFrom(...DAYS), { freq: 4 }),
    until: fc.option(fc.integer({ min: 0, max: 20 * 365 }), { freq: 4 }),
  })
  .map((r) => {
    const parts = [`FREQ=${r.freq}`];
    const monthlyOrYearly = r.freq === 'MONTHLY' || r.freq === 'YEARLY';
    if (r.byMonth) parts.push(`BYMONTH=${r.byMonth.join(',')}`);
    if (r.byMonthDay) parts.push(`BYMONTHDAY=${r.byMonthDay.join(',')}`);
    // Ordinal weekdays only where RFC 5545 allows them (MONTHLY, YEARLY without BYWEEKNO).
    if (r.byDay) parts.push(`BYDAY=${r.byDay.map(([n, d]) => (monthlyOrYearly && !r.byWeekNo && n !== 0 ? `${n}${d}` : d)).join(',')}`);
    if (r.byYearDay && r.freq !== 'MONTHLY' && r.freq !== 'WEEKLY' && r.freq !== 'DAILY') parts.push(`BYYEARDAY=${r.byYearDay.join(',')}`);
    if (r.byWeekNo && r.freq === 'YEARLY') parts.push(`BYWEEKNO=${r.byWeekNo.join(',')}`);
    if (r.byHour) parts.push(`BYHOUR=${r.byHour.join(',')}`);
    if (r.byMinute) parts.push(`BYMINUTE=${r.byMinute.join(',')}`);
    if (r.bySecond) parts.push(`BYSECOND=${r.bySecond.join(',')}`);
    if (r.wkst) parts.push(`WKST=${r.wkst}`);
    return { parts, until: r.until };
  });

const local = fc
  .record({
    y: fc.integer({ min: 1975, max: 2040 }),
    mo: fc.integer({ min: 1, max: 12 }),
    d: fc.integer({ min: 1, max: 31 }),
    h: fc.integer({ min: 0, max: 23 }),
    mi: fc.constantFrom(0, 0, 15, 30, 59),
    s: fc.constantFrom(0, 0, 0, 30, 59),
  })
  .map(({ y, mo, d, h, mi, s }) => {
    const last = new Date(Date.UTC(y, mo, 0)).getUTCDate();
    return { y, mo, d: Math.min(d, last), h, mi, s };
  });
type Local = { y: number; mo: number; d: number; h: number; mi: number; s: number };
const text = (l: Local): string => `${pad(l.y, 4)}-${pad(l.mo)}-${pad(l.d)}T${pad(l.h)}:${pad(l.mi)}:${pad(l.s)}`;
const basic = (ms: number): string => new Date(ms).toISOString().replace(/[-:]/g, '').slice(0, 15);

const schedule = fc.record({
  zone: fc.constantFrom(...ZONES),
  start: local,
  rules: fc.array(ruleText, { minLength: 1, maxLength: 2 }),
  exrule: fc.option(ruleText, { freq: 5 }),
  exdate: fc.option(fc.integer({ min: 0, max: 3 * 365 * 86_400 }), { freq: 4 }),
  endDays: fc.option(fc.integer({ min: 2, max: 5 * 365 }), { freq: 4 }),
  probes: fc.array(fc.integer({ min: 0, max: 4 * 365 * 86_400 }), { minLength: 1, maxLength: 4 }),
});

/** What a schedule answers at `t`: next, and the next few by `between`, or the error it throws. */
function answers(s: Schedule, t: number): string {
  try {
    return JSON.stringify([s.next(t), s.between(t, t + 400 * 86_400_000, 12)]);
  } catch (e) {
    return `throws ${(e as Error).name}`;
  }
}

describe('shared starts', () => {
  it('the lines a shared start admits, and what of the start they depend on', () => {
    const none = { month: false, dayOfMonth: false, weekday: false, hour: false, minute: false, second: false };
    const time = { hour: true, minute: true, second: true };
    assert.deepEqual(startDependence(['RRULE:FREQ=DAILY;BYHOUR=9;BYMINUTE=0;BYSECOND=0']), none);
    assert.deepEqual(startDependence(['RRULE:FREQ=DAILY;BYHOUR=9']), { ...none, minute: true, second: true });
    assert.deepEqual(startDependence(['FREQ=WEEKLY']), { ...none, ...time, weekday: true });
    assert.deepEqual(startDependence(['RRULE:FREQ=WEEKLY;BYDAY=MO,FR']), { ...none, ...time });
    assert.deepEqual(startDependence(['RRULE:FREQ=MONTHLY']), { ...none, ...time, dayOfMonth: true });
    assert.deepEqual(startDependence(['RRULE:FREQ=YEARLY']), { ...none, ...time, month: true, dayOfMonth: true });
    assert.deepEqual(startDependence(['RRULE:FREQ=YEARLY;BYMONTH=3']), { ...none, ...time, dayOfMonth: true });
    assert.deepEqual(startDependence(['RRULE:FREQ=HOURLY']), { ...none, minute: true, second: true });
    assert.deepEqual(startDependence(['RRULE:FREQ=MINUTELY']), { ...none, second: true });
    assert.deepEqual(startDependence(['RRULE:FREQ=SECONDLY']), none);
    assert.deepEqual(startDependence(['RRULE:FREQ=DAILY', 'EXRULE:FREQ=WEEKLY', 'EXDATE:20270105T090000']), { ...none, ...time, weekday: true });
    for (const lines of [['RRULE:FREQ=DAILY;COUNT=3'], ['RRULE:FREQ=DAILY;INTERVAL=2'], ['RRULE:FREQ=MONTHLY;BYDAY=MO;BYSETPOS=1'], ['RRULE:FREQ=DAILY', 'RDATE:20270105T090000'], ['EXDATE:20270105T090000'], ['RRULE:FREQ=NOPE'], [], null]) {
      assert.equal(startDependence(lines), null, JSON.stringify(lines));
    }
  });

  it('the shared start keeps the parts of the start the rules take from it', () => {
    const none = { month: false, dayOfMonth: false, weekday: false, hour: false, minute: false, second: false };
    const time = { hour: true, minute: true, second: true };
    assert.equal(sharedStart('2026-11-29T09:15:30', { ...none, ...time })!.agreesAfter, Date.parse('2026-11-30T11:15:30Z'));
    assert.equal(at('2026-11-29T09:15:30', { ...none, ...time }), '1972-01-01T09:15:30');
    assert.equal(at('2026-11-29T09:15:30', none), '1972-01-01T00:00:00');
    assert.equal(at('2026-11-29T09:15:30', { ...none, second: true }), '1972-01-01T00:00:30');
    assert.equal(at('2026-11-29T09:15:30', { ...none, minute: true, second: true }), '1972-01-01T00:15:30');
    assert.equal(at('2026-11-29T09:15:30', { ...none, ...time, weekday: true }), '1972-01-02T09:15:30'); // both Sundays
    assert.equal(at('2026-11-29T09:15:30', { ...none, ...time, dayOfMonth: true }), '1972-01-29T09:15:30');
    assert.equal(at('2026-11-29T09:15:30', { ...none, ...time, month: true, dayOfMonth: true }), '1972-11-29T09:15:30');
    assert.equal(at('2027-03-01T08:00:00', { ...none, month: true, dayOfMonth: true, weekday: true }), '1976-03-01T00:00:00'); // the first 1 March on a Monday
    assert.equal(at('2028-02-29T00:00:00', { ...none, month: true, dayOfMonth: true, weekday: true }), '1972-02-29T00:00:00'); // both Tuesdays
    assert.equal(sharedStart('1971-06-01T00:00:00', none), null, 'a start before the shared one is its own');
    assert.equal(sharedStart('not a time', none), null);
    assert.equal(sharedStart('2027-02-30T09:00:00', none), null, 'no such day');
    assert.equal(sharedStart('2027-01-04T24:00:00', none), null, 'no such hour');
    assert.equal(at('2027-01-04T09:05:07.000', { ...none, ...time }), '1972-01-01T09:05:07', 'other shapes the API takes');
    assert.equal(at('2027-01-04t09:05', { ...none, ...time }), '1972-01-01T09:05:00');
  });

  it('property: after the task\'s own start, the shared start\'s schedule answers as the task\'s own', () => {
    fc.assert(
      fc.property(schedule, (c) => {
        const startDateTime = text(c.start);
        const lines = c.rules.map((r) => `RRULE:${[...r.parts, ...(r.until === null ? [] : [`UNTIL=${basic(Date.UTC(c.start.y, c.start.mo - 1, c.start.d) + r.until * 86_400_000)}Z`])].join(';')}`);
        if (c.exrule) lines.push(`EXRULE:${c.exrule.parts.join(';')}`);
        if (c.exdate !== null) lines.push(`EXDATE:${basic(Date.UTC(c.start.y, c.start.mo - 1, c.start.d, c.start.h, c.start.mi, c.start.s) + c.exdate * 1000)}`);
        const endDateTime = c.endDays === null ? null : text({ ...c.start, ...ymd(Date.UTC(c.start.y, c.start.mo - 1, c.start.d) + c.endDays * 86_400_000) });
        let own: Schedule;
        try {
          own = compileSchedule({ timeZone: c.zone, startDateTime, endDateTime, recurrence: lines });
        } catch {
          return; // not a valid schedule: never stored, never fired
        }
        const dependence = startDependence(lines);
        assert.ok(dependence, `admitted: ${lines.join(' ')}`);
        const shared = sharedStart(startDateTime, dependence);
        assert.ok(shared, startDateTime);
        const other = compileSchedule({ timeZone: c.zone, startDateTime: formatLocalSeconds(shared.local), endDateTime, recurrence: lines });
        for (const probe of [0, ...c.probes]) {
          const t: number = shared.agreesAfter + probe * 1000;
          assert.equal(answers(other, t), answers(own, t), `${c.zone} ${startDateTime} (shared ${formatLocalSeconds(shared.local)}) end ${endDateTime} ${lines.join(' ')} at ${new Date(t).toISOString()}`);
        }
      }),
      { includeErrorInReport: true, numRuns: 1000 },
    );
  });
});

/** The shared start of `start`, as a startDateTime. */
function at(start: string, dependence: StartDependence): string | undefined {
  const shared = sharedStart(start, dependence);
  return shared === null ? undefined : formatLocalSeconds(shared.local);
}

function ymd(ms: number): { y: number; mo: number; d: number } {
  const d = new Date(ms);
  return { y: d.getUTCFullYear(), mo: d.getUTCMonth() + 1, d: d.getUTCDate() };
}
