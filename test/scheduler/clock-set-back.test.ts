// A clock set back. Reload ids go on from the newest one made (id order stays creation order), so a
// reload made after the step carries a later time in its id than its creation time. Its own file:
// the id generator's memory of the newest id is the process's, and would move the ids of other tests.
import assert from 'node:assert/strict';
import { afterEach, it } from 'node:test';
import { newReloadId, queuedReload } from '../../src/reloads/reload.js';
import { createRig, type SchedulerRig } from '../helpers/scheduler.js';

let rig: SchedulerRig;
afterEach(() => rig?.close());
const ms = Date.parse;
const H = 3_600_000;

it('a queued reload expires by the time its id carries, and the scheduler sleeps until then instead of waking at once, again and again', async () => {
  rig = await createRig({ MAX_CONCURRENT_RELOADS: '1', SIMULATED_DURATION_MS: String(20 * H), RELOAD_TIMEOUT_MINUTES: '1440' });
  newReloadId(ms('2027-01-04T10:00:00Z')); // ids were made up to 10:00, then the clock went back to 08:00
  const manual = (appId: string) =>
    queuedReload({ tenantId: 'acme', userId: 'alice', appId, partial: false, type: 'external', resourceType: 'api', resourceId: null, scheduledTime: null }, rig.clock.now());
  await rig.store.insertReload(manual('a'));
  await rig.scheduler.tick(); // a takes the one slot for 20 h
  const b = manual('b');
  await rig.store.insertReload(b);
  assert.equal(b.creationTime, ms('2027-01-04T08:00:00Z'));

  for (const at of ['2027-01-04T14:00:00.001Z', '2027-01-04T15:30:00Z']) {
    await rig.at(at);
    assert.equal((await rig.store.getReload('acme', b.id))!.status, 'QUEUED', at);
    // It used to wake at once (its creation time plus the limit had passed) and find nothing to
    // expire: a loop that never let the event loop run.
    const wake = await rig.scheduler.nextWakeAt();
    assert.ok(wake > rig.clock.now(), `${at}: wakes ${wake - rig.clock.now()} ms from now`);
  }
  await rig.at('2027-01-04T16:00:00.001Z');
  assert.equal((await rig.store.getReload('acme', b.id))!.status, 'EXCEEDED_LIMIT');
});
