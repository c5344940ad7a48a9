// Firing: each occurrence once, at its instant, with its reload record and the task advanced; the
// misfire and overlap policies; Completed tasks. Everything on a ManualClock, passes run by hand.
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { FIRE_BATCH_FIRST } from '../../src/scheduler/scheduler.js';
import type { FiredOccurrence } from '../../src/store/store.js';
import { createRig, type SchedulerRig } from '../helpers/scheduler.js';

let rig: SchedulerRig;
afterEach(() => rig?.close());

const ms = Date.parse;
const daily9 = { startDateTime: '2027-01-04T00:00:00', recurrence: ['FREQ=DAILY;BYHOUR=9;BYMINUTE=0;BYSECOND=0'] };
const hourly = { startDateTime: '2027-01-04T00:00:00', recurrence: ['FREQ=HOURLY;BYMINUTE=0;BYSECOND=0'] };

describe('firing', () => {
  it('fires at the occurrence, records the reload, and advances the task', async () => {
    rig = await createRig();
    const t = await rig.task(daily9);
    assert.equal(t.nextExecutionTime, ms('2027-01-04T09:00:00Z'));
    await rig.at('2027-01-04T08:59:59Z');
    assert.equal((await rig.reloads()).length, 0);
    await rig.at('2027-01-04T09:00:00Z');
    await rig.scheduler.dispatcher.idle();
    const [r] = await rig.reloads();
    assert.ok(r);
    assert.equal(r.type, 'chronos');
    assert.equal(r.resourceType, 'reload-tasks');
    assert.equal(r.resourceId, t.id);
    assert.equal(r.scheduledTime, ms('2027-01-04T09:00:00Z'));
    assert.equal(r.creationTime, ms('2027-01-04T09:00:00Z'));
    assert.equal(r.status, 'SUCCEEDED');
    assert.equal(r.userId, 'alice');
    const after = await rig.get(t.id);
    assert.equal(after.lastExecutionTime, ms('2027-01-04T09:00:00Z'));
    assert.equal(after.nextExecutionTime, ms('2027-01-05T09:00:00Z'));
    assert.equal(after.state, 'Enabled');
  });

  it('fires an occurrence once, even when a stale write puts the task back', async () => {
    rig = await createRig();
    const t = await rig.task(daily9);
    await rig.at('2027-01-04T09:00:00Z');
    await rig.at('2027-01-04T09:00:01Z');
    // A writer that read the task before the firing writes it back with the old next execution.
    const fired = await rig.get(t.id);
    await rig.store.updateTask({ ...fired, nextExecutionTime: t.nextExecutionTime, version: fired.version + 1 });
    await rig.at('2027-01-04T09:00:02Z');
    await rig.scheduler.dispatcher.idle();
    assert.equal((await rig.reloads(t.id)).length, 1);
    assert.equal((await rig.get(t.id)).nextExecutionTime, ms('2027-01-05T09:00:00Z'));
  });

  it('a finished schedule makes the task Completed', async () => {
    rig = await createRig();
    const t = await rig.task({ startDateTime: '2027-01-04T00:00:00', recurrence: ['FREQ=DAILY;BYHOUR=9;COUNT=2'] });
    await rig.at('2027-01-04T09:00:00Z');
    await rig.scheduler.dispatcher.idle(); // the first reload ends before the second occurrence
    assert.equal((await rig.get(t.id)).state, 'Enabled');
    await rig.at('2027-01-05T09:00:00Z');
    const done = await rig.get(t.id);
    assert.equal(done.state, 'Completed');
    assert.equal(done.nextExecutionTime, null);
    assert.equal(done.lastExecutionTime, ms('2027-01-05T09:00:00Z'));
    await rig.scheduler.dispatcher.idle();
    assert.equal((await rig.reloads(t.id)).length, 2);
  });

  it('a single-run task fires once and is Completed', async () => {
    rig = await createRig();
    const t = await rig.task({ startDateTime: '2027-01-04T10:30:00' });
    await rig.at('2027-01-04T10:30:00Z');
    assert.equal((await rig.get(t.id)).state, 'Completed');
    await rig.scheduler.dispatcher.idle();
    assert.equal((await rig.reloads(t.id)).length, 1);
  });

  it('an occurrence late within the grace period fires normally', async () => {
    rig = await createRig({ MISFIRE_GRACE_SECONDS: '60' });
    const t = await rig.task(daily9);
    await rig.at('2027-01-04T09:00:59Z');
    const history = await rig.store.listOccurrences('acme', t.id, 10);
    assert.deepEqual(history.map((o) => o.outcome), ['fired']);
  });
});

describe('schedules shared by tasks started on different days', () => {
  it('each task fires on the days its own start gives it (weekday, day of the month), and never before its start', async () => {
    rig = await createRig();
    const weekly = (start: string) => rig.task({ startDateTime: start, recurrence: ['RRULE:FREQ=WEEKLY'] });
    const monday = await weekly('2026-03-02T09:00:00'); // a Monday, long before
    const wednesday = await weekly('2026-03-04T09:00:00');
    const monthly = await rig.task({ startDateTime: '2026-01-31T09:00:00', recurrence: ['RRULE:FREQ=MONTHLY'] });
    const daily = (start: string) => rig.task({ startDateTime: start, recurrence: ['RRULE:FREQ=DAILY;BYHOUR=9;BYMINUTE=0;BYSECOND=0'] });
    const old = await daily('2025-05-05T00:00:00');
    const fresh = await daily('2027-01-06T00:00:00'); // starts in two days: nothing before it
    const at = async (iso: string): Promise<void> => {
      await rig.at(iso);
      await rig.scheduler.dispatcher.idle(); // each reload ends before the next occurrence (no overlap)
    };
    for (let day = 4; day <= 31; day++) await at(`2027-01-${String(day).padStart(2, '0')}T09:00:00Z`);
    await at('2027-02-28T09:00:00Z'); // no 31 February: nothing
    await at('2027-03-31T09:00:00Z');
    const fired = async (t: { id: string }, month = '2027-01') =>
      (await rig.reloads(t.id)).map((r) => new Date(r.scheduledTime!).toISOString().slice(0, 10)).filter((d) => month === '' || d.startsWith(month));
    assert.deepEqual(await fired(monday), ['2027-01-04', '2027-01-11', '2027-01-18', '2027-01-25']);
    assert.deepEqual(await fired(wednesday), ['2027-01-06', '2027-01-13', '2027-01-20', '2027-01-27']);
    assert.deepEqual(await fired(monthly, ''), ['2027-01-31', '2027-03-31']);
    assert.equal((await fired(old)).length, 28);
    assert.deepEqual((await fired(fresh))[0], '2027-01-06');
    assert.equal((await fired(fresh)).length, 26);
  });
});

describe('herds', () => {
  it('fires a herd larger than a batch in one pass, each task once, the first batch small', async () => {
    rig = await createRig({ MAX_CONCURRENT_RELOADS: '1' });
    const n = FIRE_BATCH_FIRST * 2 + 500;
    const tasks = [];
    for (let i = 0; i < n; i++) tasks.push(await rig.task({ ...daily9, appId: `app-${i}` }));
    const batches: FiredOccurrence[][] = [];
    rig.scheduler.on('recorded', (occurrences) => batches.push(occurrences));
    await rig.at('2027-01-04T09:00:00Z');
    assert.ok(batches[0]!.length <= FIRE_BATCH_FIRST, `the first batch holds ${batches[0]!.length}`);
    const fired = batches.flat();
    assert.equal(fired.length, n);
    assert.equal(new Set(fired.map((o) => o.task.id)).size, n);
    assert.ok(fired.every((o) => o.outcome === 'fired' && o.nominal === ms('2027-01-04T09:00:00Z')));
    for (const t of [tasks[0]!, tasks[n - 1]!]) assert.equal((await rig.get(t.id)).nextExecutionTime, ms('2027-01-05T09:00:00Z'));
  });
});

describe('steady load', () => {
  it('a pass within two seconds of one that fired goes on with its batch; after a pause it starts small again', async () => {
    rig = await createRig({ MAX_CONCURRENT_RELOADS: '1' });
    const n = FIRE_BATCH_FIRST + 500;
    const everySecond = { startDateTime: '2027-01-04T09:00:00', recurrence: ['FREQ=SECONDLY'] };
    for (let i = 0; i < n; i++) await rig.task({ ...everySecond, appId: `app-${i}` });
    let commits = 0;
    let tasks = new Set<string>();
    rig.scheduler.on('recorded', (occurrences) => {
      commits += 1;
      for (const o of occurrences) tasks.add(o.task.id);
    });
    const pass = async (at: string): Promise<number> => {
      commits = 0;
      tasks = new Set();
      await rig.at(at);
      assert.equal(tasks.size, n, `${at}: every task due`);
      return commits;
    };
    assert.equal(await pass('2027-01-04T09:00:00Z'), 2, 'the first pass: a small batch, then the rest');
    // One second later, as many are due: the batch the last pass grew to takes them in one commit.
    assert.equal(await pass('2027-01-04T09:00:01Z'), 1);
    assert.equal(await pass('2027-01-04T09:00:03Z'), 1, 'two seconds later');
    // After a pause, the first batch is small again.
    assert.equal(await pass('2027-01-04T09:00:06Z'), 2);
  });
});

describe('after downtime (misfire policy)', () => {
  async function downFiveHours(policy: string, extra: Record<string, string> = {}) {
    rig = await createRig({ MISFIRE_POLICY: policy, ...extra });
    const t = await rig.task(hourly);
    await rig.at('2027-01-04T08:00:00Z'); // nothing due yet: the first is 09:00
    await rig.at('2027-01-04T13:30:00Z'); // 09, 10, 11, 12 and 13 were due while "down"
    await rig.scheduler.dispatcher.idle();
    const history = (await rig.store.listOccurrences('acme', t.id, 100)).reverse();
    return { t, history: history.map((o) => [new Date(o.nominalTime).toISOString().slice(11, 16), o.outcome]) };
  }

  it('once (default): fires the most recent missed occurrence, records the older ones as missed', async () => {
    const { t, history } = await downFiveHours('once');
    assert.deepEqual(history, [['09:00', 'missed'], ['10:00', 'missed'], ['11:00', 'missed'], ['12:00', 'missed'], ['13:00', 'fired']]);
    const after = await rig.get(t.id);
    assert.equal(after.missedCount, 4);
    assert.equal(after.lastExecutionTime, ms('2027-01-04T13:00:00Z'));
    assert.equal(after.nextExecutionTime, ms('2027-01-04T14:00:00Z'));
    assert.deepEqual((await rig.reloads(t.id)).map((r) => r.scheduledTime), [ms('2027-01-04T13:00:00Z')]);
  });

  it('skip: records every missed occurrence, fires none', async () => {
    const { t, history } = await downFiveHours('skip');
    assert.ok(history.every(([, o]) => o === 'missed'));
    assert.equal(history.length, 5);
    assert.equal((await rig.get(t.id)).missedCount, 5);
    assert.equal((await rig.reloads(t.id)).length, 0);
  });

  for (const overlap of ['skip', 'queue']) {
    it(`all (with overlap ${overlap}): fires every missed occurrence in order, one after another`, async () => {
      const { t, history } = await downFiveHours('all', { OVERLAP_POLICY: overlap });
      assert.ok(history.every(([, o]) => o === 'fired'));
      // They run one at a time: run the queue down.
      for (let i = 0; i < 6; i++) {
        await rig.scheduler.tick();
        await rig.scheduler.dispatcher.idle();
      }
      const reloads = await rig.reloads(t.id);
      assert.deepEqual(reloads.map((r) => new Date(r.scheduledTime!).toISOString().slice(11, 16)), ['09:00', '10:00', '11:00', '12:00', '13:00']);
      assert.ok(reloads.every((r) => r.status === 'SUCCEEDED'));
      for (let i = 1; i < reloads.length; i++) assert.ok(reloads[i]!.startTime! >= reloads[i - 1]!.endTime!, 'two reloads of one task overlapped');
    });
  }

  it('all: occurrences older than the catch-up window are missed', async () => {
    rig = await createRig({ MISFIRE_POLICY: 'all', OVERLAP_POLICY: 'queue', CATCH_UP_WINDOW_HOURS: '2' });
    const t = await rig.task(hourly);
    await rig.at('2027-01-04T13:30:00Z');
    const history = (await rig.store.listOccurrences('acme', t.id, 100)).reverse().map((o) => o.outcome);
    assert.deepEqual(history, ['missed', 'missed', 'missed', 'fired', 'fired']);
  });

  it('a long backlog is worked off over passes, and the policy still fires only the latest', async () => {
    rig = await createRig({ MISFIRE_POLICY: 'once' });
    const t = await rig.task({ startDateTime: '2027-01-04T00:00:00', recurrence: ['FREQ=MINUTELY'] });
    // Created at 08:00, so 08:01 on the 4th to 00:00 on the 6th are due: 2,400 minutes.
    await rig.at('2027-01-06T00:00:30Z');
    const after = await rig.get(t.id);
    assert.equal(after.missedCount, 2399);
    assert.equal(after.lastExecutionTime, ms('2027-01-06T00:00:00Z'));
    assert.equal(after.nextExecutionTime, ms('2027-01-06T00:01:00Z'));
    assert.equal((await rig.reloads(t.id)).length, 1);
  });
});

describe('overlap', () => {
  it('skip (default): an occurrence while the last reload still runs is recorded as skipped', async () => {
    rig = await createRig({ SIMULATED_DURATION_MS: String(90 * 60_000) });
    const t = await rig.task(hourly);
    await rig.at('2027-01-04T09:00:00Z');
    await rig.at('2027-01-04T10:00:00Z');
    const history = (await rig.store.listOccurrences('acme', t.id, 10)).reverse().map((o) => o.outcome);
    assert.deepEqual(history, ['fired', 'skipped']);
    assert.equal((await rig.reloads(t.id)).length, 1);
  });

  it('skip: of tasks with one schedule due together, only the one whose reload still runs is skipped', async () => {
    // The two are planned in one batch, with the same schedule and due time: only the active
    // reload tells their plans apart.
    rig = await createRig({ SIMULATED_DURATION_MS: String(90 * 60_000) });
    const busy = await rig.task(hourly);
    await rig.at('2027-01-04T09:00:00Z');
    const idle = await rig.task(hourly); // created after 09:00: its first occurrence is 10:00
    await rig.at('2027-01-04T10:00:00Z');
    const outcomes = async (id: string) => (await rig.store.listOccurrences('acme', id, 10)).reverse().map((o) => o.outcome);
    assert.deepEqual(await outcomes(busy.id), ['fired', 'skipped']);
    assert.deepEqual(await outcomes(idle.id), ['fired']);
  });

  it('queue: it is queued and starts when the previous one ends', async () => {
    rig = await createRig({ SIMULATED_DURATION_MS: String(90 * 60_000), OVERLAP_POLICY: 'queue' });
    const t = await rig.task(hourly);
    await rig.at('2027-01-04T09:00:00Z');
    await rig.at('2027-01-04T10:00:00Z');
    let [first, second] = await rig.reloads(t.id);
    assert.equal(first!.status, 'RELOADING');
    assert.equal(second!.status, 'QUEUED');
    await rig.at('2027-01-04T10:30:00Z'); // the first ends (90 min) and the second starts
    // Its outcome is written asynchronously (a batch, on PostgreSQL a round trip): wait for it, not for a turn of the loop.
    await rig.scheduler.dispatcher.settled(first!.id);
    await rig.scheduler.tick();
    [first, second] = await rig.reloads(t.id);
    assert.equal(first!.status, 'SUCCEEDED');
    assert.equal(second!.status, 'RELOADING');
    assert.equal(second!.startTime, ms('2027-01-04T10:30:00Z'));
  });
});
