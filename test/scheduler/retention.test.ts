// Retention: finished reloads and occurrence records older than RELOAD_RETENTION_DAYS are deleted,
// a chunk at a time, soon after they pass it, however many there are. On a ManualClock, passes run
// by hand; the same tests run on both stores.
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { queuedReload, type Reload } from '../../src/reloads/reload.js';
import { PRUNE_CHUNK } from '../../src/scheduler/scheduler.js';
import type { PruneResult } from '../../src/store/store.js';
import { createRig, type SchedulerRig } from '../helpers/scheduler.js';

let rig: SchedulerRig;
afterEach(() => rig?.close());

const ms = Date.parse;
const DAY = 86_400_000;
const T0 = ms('2027-01-04T08:00:00Z');

const FIELDS = { tenantId: 'acme', userId: 'alice', appId: 'app-r', partial: false, type: 'external', resourceType: 'api', resourceId: null, scheduledTime: null } as const;

/** A reload of acme's app that ran from `created` for a second and ended with `status`. */
function ended(created: number, status: Reload['status'] = 'SUCCEEDED'): Reload {
  return { ...queuedReload(FIELDS, created), status, startTime: created, endTime: created + 1000 };
}

async function allReloads(): Promise<Reload[]> {
  return rig.store.listReloads({ tenantId: 'acme', limit: 100_000 });
}

describe('the store: prune', () => {
  it('deletes finished reloads that ended before the bound, oldest first, at most `limit`, and leaves active ones', async () => {
    rig = await createRig();
    const old = [ended(T0 - 5 * DAY, 'FAILED'), ended(T0 - 4 * DAY), ended(T0 - 3 * DAY, 'CANCELED'), ended(T0 - 2 * DAY, 'EXCEEDED_LIMIT')];
    const recent = ended(T0 - 1000);
    const running: Reload = { ...queuedReload(FIELDS, T0 - 6 * DAY), status: 'RELOADING', startTime: T0 - 6 * DAY };
    const queued = queuedReload(FIELDS, T0 - 6 * DAY);
    for (const r of [...old, recent, running, queued]) await rig.store.insertReload(r);

    assert.deepEqual(await rig.store.prune(T0 - DAY, 3), { reloads: 3, occurrences: 0 });
    assert.deepEqual((await allReloads()).map((r) => r.id).sort(), [old[3]!.id, recent.id, running.id, queued.id].sort(), 'the three that ended first');
    assert.deepEqual(await rig.store.prune(T0 - DAY, 3), { reloads: 1, occurrences: 0 });
    assert.deepEqual(await rig.store.prune(T0 - DAY, 3), { reloads: 0, occurrences: 0 });
    assert.deepEqual((await allReloads()).map((r) => r.id).sort(), [recent.id, running.id, queued.id].sort());
  });
});

describe('retention', () => {
  it('works off a backlog of many chunks in slices that follow each other closely, gives way to a task that comes due, and keeps what is within the retention', async () => {
    rig = await createRig({ RELOAD_RETENTION_DAYS: '1' });
    const old = 2 * PRUNE_CHUNK + 500;
    for (let i = 0; i < old; i++) await rig.store.insertReload(ended(T0 - 3 * DAY + i * 1000));
    const kept = [ended(T0 - DAY + 300_000), ended(T0 - 3_600_000)]; // within the retention for the next five minutes
    for (const r of kept) await rig.store.insertReload(r);
    const t = await rig.task({ startDateTime: '2027-01-04T08:01:00', recurrence: ['FREQ=MINUTELY'] });
    const pruned: PruneResult[] = [];
    rig.scheduler.on('pruned', (p) => {
      pruned.push(p);
      // While the first chunk is deleted, the task's first occurrence comes due.
      if (pruned.length === 1) rig.clock.set(ms('2027-01-04T08:01:00Z'));
    });

    await rig.at(T0);
    assert.equal((await allReloads()).length, old - PRUNE_CHUNK + kept.length, 'the slice stopped after its first chunk: a task is due');
    assert.equal(await rig.scheduler.nextWakeAt(), ms('2027-01-04T08:01:00Z'), 'the due task is next');
    await rig.at(await rig.scheduler.nextWakeAt());
    const [fired] = await rig.reloads(t.id);
    assert.equal(fired?.creationTime, ms('2027-01-04T08:01:00Z'), 'fired on time');

    let passes = 0;
    while ((await allReloads()).length > kept.length + 1) {
      const wake = await rig.scheduler.nextWakeAt();
      assert.ok(wake - rig.clock.now() <= 200, `with records left to prune, the next pass comes soon (in ${wake - rig.clock.now()} ms)`);
      await rig.at(wake);
      passes += 1;
      assert.ok(passes <= 50, 'the backlog is worked off');
    }
    assert.deepEqual((await allReloads()).map((r) => r.id).sort(), [...kept, fired].map((r) => r.id).sort());
    assert.equal(
      pruned.reduce((n, p) => n + p.reloads, 0),
      old,
      'every deleted reload is reported (the records-pruned metric)',
    );
    // Nothing left: retention no longer sets the pace.
    const wake = await rig.scheduler.nextWakeAt();
    assert.ok(wake > rig.clock.now() + 1000, 'the next pass is the next occurrence');
  });

  it('reloads and missed occurrences are gone within a minute of passing the retention', async () => {
    rig = await createRig({ RELOAD_RETENTION_DAYS: '1', MISFIRE_POLICY: 'skip', MISFIRE_GRACE_SECONDS: '0' });
    const t = await rig.task({ startDateTime: '2027-01-04T08:01:00', recurrence: ['FREQ=MINUTELY;COUNT=5'] });
    await rig.at('2027-01-04T08:10:00Z'); // 08:01–08:05 missed, recorded now
    assert.equal((await rig.store.listOccurrences('acme', t.id, 10)).length, 5);
    assert.equal((await rig.get(t.id)).state, 'Completed');
    const reload = ended(ms('2027-01-04T08:09:59Z')); // ended 08:10:00
    await rig.store.insertReload(reload);

    await rig.at('2027-01-05T08:09:30Z'); // a pass 30 s before they pass the retention
    assert.equal((await rig.store.listOccurrences('acme', t.id, 10)).length, 5, 'not before');
    assert.equal((await rig.store.getReload('acme', reload.id))?.id, reload.id);
    await rig.at('2027-01-05T08:10:31Z'); // a minute later
    assert.deepEqual(await rig.store.listOccurrences('acme', t.id, 10), []);
    assert.equal(await rig.store.getReload('acme', reload.id), undefined);
    assert.equal((await rig.get(t.id)).state, 'Completed', 'the task itself stays');
  });

  it('a clock set back does not hold retention up until it catches up', async () => {
    rig = await createRig({ RELOAD_RETENTION_DAYS: '1' });
    await rig.at(T0); // nothing to prune; the next look is a minute later
    const old = ended(T0 - 5 * DAY);
    await rig.store.insertReload(old);
    await rig.at(T0 - 2 * 3_600_000);
    assert.equal(await rig.store.getReload('acme', old.id), undefined);
  });
});
