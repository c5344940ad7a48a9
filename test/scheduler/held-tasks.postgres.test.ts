/**
 * Due tasks held by another writer (PostgreSQL: claims skip locked rows). Before, a pass whose claim
 * came back empty asked again at once while `nextDueTime` still said due, in a loop of queries for as
 * long as the holder's transaction lasted: another instance's batch, an API change of the task, or a
 * stalled instance until its connection dropped.
 */
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { HELD_RETRY_FIRST_MS, HELD_RETRY_MAX_MS } from '../../src/scheduler/scheduler.js';
import { createRig, rigWithConnection, type SchedulerRig } from '../helpers/scheduler.js';

const NINE = Date.parse('2027-01-04T09:00:00Z');
const DAILY_9 = { recurrence: ['RRULE:FREQ=DAILY;BYHOUR=9;BYMINUTE=0;BYSECOND=0'], startDateTime: '2027-01-04T08:30:00' };
const MINUTELY = { recurrence: ['RRULE:FREQ=MINUTELY'], startDateTime: '2027-01-04T08:30:00' };
const HOLD_DUE_ROW = 'SELECT 1 FROM task_due WHERE task_id = $1 FOR UPDATE';

/** A scheduler on a fresh database, and a connection of its own that holds a task's row (`hold`) until `release`. */
async function heldRig(t: TestContext): Promise<{ rig: SchedulerRig; hold(taskId: string, lock?: string): Promise<void>; release(): Promise<void> }> {
  const { rig, client: holder } = await rigWithConnection(t);
  return {
    rig,
    async hold(taskId, lock = HOLD_DUE_ROW) {
      await holder.query('BEGIN');
      await holder.query(lock, [taskId]);
    },
    async release() {
      await holder.query('ROLLBACK');
    },
  };
}

const holders = [
  { what: "another instance's firing batch (the task's due row)", lock: HOLD_DUE_ROW },
  { what: 'an API change of the task (its row)', lock: 'SELECT 1 FROM reload_tasks WHERE id = $1 FOR UPDATE' },
];

for (const { what, lock } of holders) {
  test(`a due task held by ${what}: the scheduler looks again after a wait that doubles, then fires it once when it is let go`, async (t) => {
    const { rig, hold, release } = await heldRig(t);
    const task = await rig.task(DAILY_9);
    await hold(task.id, lock);

    let claims = 0;
    const fireDue = rig.store.fireDue.bind(rig.store);
    rig.store.fireDue = (...args) => {
      claims += 1;
      if (claims > 100) throw new Error('the scheduler keeps claiming a held task');
      return fireDue(...args);
    };

    await rig.at(NINE);
    assert.equal(claims, 1, 'one claim, then the pass ends');
    assert.equal(await rig.scheduler.nextWakeAt(), NINE + HELD_RETRY_FIRST_MS);
    await rig.at(NINE + HELD_RETRY_FIRST_MS - 1);
    assert.equal(claims, 1, 'no claim before the wait is over');

    // Still held: each look doubles the wait, up to its cap.
    const waits: number[] = [];
    for (let i = 0; i < 8; i++) {
      const at = await rig.scheduler.nextWakeAt();
      await rig.at(at);
      waits.push((await rig.scheduler.nextWakeAt()) - at);
    }
    assert.deepEqual(waits, [50, 100, 200, 400, 800, 1000, 1000, 1000].map((w) => Math.min(w, HELD_RETRY_MAX_MS)));
    assert.equal(claims, 9);
    assert.equal((await rig.reloads(task.id)).length, 0);

    // Let go (the holder rolled back, as a crashed instance's transaction does): fired once, at its time.
    await release();
    await rig.at(await rig.scheduler.nextWakeAt());
    const reloads = await rig.reloads(task.id);
    assert.equal(reloads.length, 1);
    assert.equal(reloads[0]!.scheduledTime, NINE);
    assert.equal((await rig.get(task.id)).lastExecutionTime, NINE);
    assert.equal(await rig.store.nextDueTime(), NINE + 86_400_000, 'next due tomorrow');
  });
}

// Nothing held any more, whichever way it was let go: the next hold starts with the shortest wait.
for (const { how, byOther } of [
  { how: 'this scheduler fired it once it was let go', byOther: false },
  { how: 'another instance fired it first', byOther: true },
]) {
  test(`the wait starts again at the shortest for the next hold: ${how}`, async (t) => {
    const { rig, hold, release } = await heldRig(t);
    const task = await rig.task(MINUTELY);
    await hold(task.id);
    for (const at of [NINE, NINE + 25, NINE + 75]) await rig.at(at);
    assert.equal(await rig.scheduler.nextWakeAt(), NINE + 175, 'the wait has doubled twice');
    await release();
    if (byOther) {
      const other = await createRig({}, undefined, { location: rig.location, clock: rig.clock, owner: 'other-instance' });
      t.after(() => other.close()); // its connection only: the database goes with heldRig's rig
      await other.at(NINE + 100);
    }
    await rig.at(NINE + 175); // fires it, or (fired by the other) finds nothing due
    assert.equal((await rig.reloads(task.id)).length, 1);

    await hold(task.id);
    await rig.at(NINE + 60_000);
    assert.equal(await rig.scheduler.nextWakeAt(), NINE + 60_000 + HELD_RETRY_FIRST_MS, 'back to the first wait');
    await release();
  });
}

test('a clock set back while tasks were held does not keep the scheduler from firing until it catches up', async (t) => {
  const { rig, hold, release } = await heldRig(t);
  const late = await rig.task(DAILY_9);
  await hold(late.id);
  await rig.at(NINE + 3_600_000); // 10:00, the 09:00 occurrence held
  assert.equal(await rig.scheduler.nextWakeAt(), NINE + 3_600_000 + HELD_RETRY_FIRST_MS);
  await release();
  await rig.at(NINE + 10); // the clock is set back an hour: 09:00 is due, and nothing holds it now
  assert.deepEqual((await rig.reloads(late.id)).map((r) => r.scheduledTime), [NINE]);
});
