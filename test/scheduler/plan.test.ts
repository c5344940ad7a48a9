// planFirings, the pure decision of what fires: on time, missed, skipped, and where the task goes.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { compileSchedule } from '../../src/recurrence/index.js';
import { planFirings, type PlanPolicy } from '../../src/scheduler/plan.js';
import { FIRE_BATCH_FIRST, FIRE_BATCH_MAX, FIRE_BATCH_SLOW_MS, nextFireBatch, scheduleKey } from '../../src/scheduler/scheduler.js';

const hourly = compileSchedule({ timeZone: 'UTC', startDateTime: '2027-01-01T00:00:00', recurrence: ['FREQ=HOURLY'] });
const H = 3_600_000;
const t0 = Date.parse('2027-01-01T01:00:00Z');
const policy = (over: Partial<PlanPolicy> = {}): PlanPolicy => ({ misfire: 'once', graceMs: 60_000, catchUpWindowMs: 24 * H, overlap: 'skip', maxPerPass: 1000, ...over });
const outcomes = (p: ReturnType<typeof planFirings>) => p.occurrences.map((o) => o.outcome);

describe('planFirings', () => {
  it('an on-time occurrence fires and the next is the one after now', () => {
    const p = planFirings(t0, hourly, t0 + 500, false, policy());
    assert.deepEqual(outcomes(p), ['fired']);
    assert.equal(p.next, t0 + H);
  });

  it('the overlap policy decides for an active reload', () => {
    assert.deepEqual(outcomes(planFirings(t0, hourly, t0, true, policy())), ['skipped']);
    assert.deepEqual(outcomes(planFirings(t0, hourly, t0, true, policy({ overlap: 'queue' }))), ['fired']);
  });

  it('once: fires nothing old when something is on time', () => {
    const p = planFirings(t0, hourly, t0 + 3 * H + 1000, false, policy());
    assert.deepEqual(outcomes(p), ['missed', 'missed', 'missed', 'fired']);
  });

  it('once: a backlog of exactly one pass fires its last occurrence in that pass', () => {
    for (const n of [3, 4, 5]) {
      const p = planFirings(t0, hourly, t0 + (n - 1) * H + 30 * 60_000, false, policy({ maxPerPass: 4 }));
      const handled = Math.min(n, 4);
      const expected = n <= 4 ? [...Array(n - 1).fill('missed'), 'fired'] : Array(4).fill('missed');
      assert.deepEqual(outcomes(p), expected, `backlog of ${n}`);
      assert.equal(p.next, t0 + handled * H, `backlog of ${n}`);
    }
  });

  it('once: a backlog longer than one pass is only recorded until its last pass', () => {
    const first = planFirings(t0, hourly, t0 + 10 * H + 30 * 60_000, false, policy({ maxPerPass: 4 }));
    assert.deepEqual(outcomes(first), ['missed', 'missed', 'missed', 'missed']);
    assert.equal(first.next, t0 + 4 * H);
    const last = planFirings(t0 + 8 * H, hourly, t0 + 10 * H + 30 * 60_000, false, policy({ maxPerPass: 4 }));
    assert.deepEqual(outcomes(last), ['missed', 'missed', 'fired']);
    assert.equal(last.next, t0 + 11 * H);
  });

  it('next is null when the schedule has nothing after now', () => {
    const once = compileSchedule({ timeZone: 'UTC', startDateTime: '2027-01-01T01:00:00' });
    assert.equal(planFirings(t0, once, t0, false, policy()).next, null);
  });

  it('every due occurrence is handled exactly once, in order, whatever the policy', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 48 * 60 }),
        fc.constantFrom('once' as const, 'skip' as const, 'all' as const),
        fc.constantFrom('skip' as const, 'queue' as const),
        fc.boolean(),
        (lateMinutes, misfire, overlap, active) => {
          const now = t0 + lateMinutes * 60_000;
          const p = planFirings(t0, hourly, now, active, policy({ misfire, overlap }));
          const due = [t0, ...hourly.between(t0, now)];
          assert.deepEqual(p.occurrences.map((o) => o.nominal), due);
          assert.equal(p.next, hourly.next(now));
          const fired = p.occurrences.filter((o) => o.outcome === 'fired').length;
          if (misfire === 'skip') assert.ok(p.occurrences.filter((o) => now - o.nominal > 60_000).every((o) => o.outcome === 'missed'));
          // The firings of one plan queue behind each other; only a reload active before skips them.
          if (overlap === 'skip' && active) assert.equal(fired, 0);
          if (misfire !== 'all' && overlap === 'skip') assert.ok(fired <= 1);
          if (misfire === 'all' && !(overlap === 'skip' && active)) assert.equal(fired, p.occurrences.filter((o) => now - o.nominal <= 24 * H).length);
          if (misfire === 'once' && overlap === 'queue') assert.ok(fired >= 1);
        },
      ),
    );
  });
});

describe('firing batch size', () => {
  it('batches double while they are quick, hold when slow, halve when very slow, within bounds', () => {
    assert.equal(nextFireBatch(FIRE_BATCH_FIRST, 10), FIRE_BATCH_FIRST * 2);
    assert.equal(nextFireBatch(FIRE_BATCH_MAX, 10), FIRE_BATCH_MAX);
    assert.equal(nextFireBatch(FIRE_BATCH_MAX / 2 + 1, 10), FIRE_BATCH_MAX);
    assert.equal(nextFireBatch(4000, FIRE_BATCH_SLOW_MS), 4000);
    assert.equal(nextFireBatch(4000, 2 * FIRE_BATCH_SLOW_MS), 4000);
    assert.equal(nextFireBatch(4000, 2 * FIRE_BATCH_SLOW_MS + 1), 2000);
    assert.equal(nextFireBatch(FIRE_BATCH_FIRST, 10 * FIRE_BATCH_SLOW_MS), FIRE_BATCH_FIRST);
  });
});

describe('schedule keys (compiled schedules are shared by key)', () => {
  // Characters that could blur a field boundary: digits, the separator, the null marker.
  const text = fc.string({ unit: fc.constantFrom('1', '2', ':', 'n', 'a', ' '), maxLength: 6 });
  const schedule = fc.record({
    timeZone: text,
    startDateTime: fc.option(text),
    endDateTime: fc.option(text),
    recurrence: fc.option(fc.array(text, { maxLength: 3 })),
  });
  const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

  it('two schedules share a key only when every field is the same', () => {
    fc.assert(
      fc.property(schedule, schedule, (a, b) => {
        assert.equal(scheduleKey(a) === scheduleKey(b), same(a, b), `${JSON.stringify(a)} / ${JSON.stringify(b)}`);
      }),
      { numRuns: 2000 },
    );
    const base = { timeZone: 'UTC', startDateTime: '2027-01-01T00:00:00', endDateTime: null };
    const keys = [
      scheduleKey({ ...base, recurrence: null }),
      scheduleKey({ ...base, recurrence: [] }),
      scheduleKey({ ...base, recurrence: [''] }),
      scheduleKey({ ...base, recurrence: ['a', 'b'] }),
      scheduleKey({ ...base, recurrence: ['a1:b'] }),
      scheduleKey({ ...base, endDateTime: 'n', recurrence: null }),
      // A field's text that looks like the next field's start, or like the null marker.
      scheduleKey({ timeZone: 'a:b', startDateTime: null, endDateTime: null, recurrence: [] }),
      scheduleKey({ timeZone: 'a', startDateTime: 'bn', endDateTime: null, recurrence: [] }),
      scheduleKey({ timeZone: '1:a', startDateTime: null, endDateTime: null, recurrence: [] }),
      scheduleKey({ timeZone: '', startDateTime: 'a', endDateTime: 'n', recurrence: [] }),
    ];
    assert.equal(new Set(keys).size, keys.length);
  });
});
