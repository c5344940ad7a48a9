/**
 * Retention on PostgreSQL with several instances: a prune passes over rows another instance's prune
 * holds and deletes the next ones, instead of waiting for that transaction and then finding its
 * rows gone (which made every instance but one prune nothing while they ran together).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { queuedReload, type Reload } from '../../src/reloads/reload.js';
import { rigWithConnection } from '../helpers/scheduler.js';

const T0 = Date.parse('2027-01-04T08:00:00Z');
const FIELDS = { tenantId: 'acme', userId: 'alice', appId: 'app-r', partial: false, type: 'external', resourceType: 'api', resourceId: null, scheduledTime: null } as const;

test('a prune passes over the reloads another prune holds and deletes the next oldest', async (t) => {
  const { rig, client: holder } = await rigWithConnection(t);
  const reloads: Reload[] = [];
  for (let i = 0; i < 6; i++) {
    const created = T0 - 10 * 86_400_000 + i * 1000;
    reloads.push({ ...queuedReload(FIELDS, created), status: 'SUCCEEDED', startTime: created, endTime: created + 500 });
  }
  for (const r of reloads) await rig.store.insertReload(r);

  // Another instance's prune, in the middle of its transaction: it holds the three oldest.
  await holder.query('BEGIN');
  await holder.query('SELECT id FROM reloads ORDER BY end_time LIMIT 3 FOR UPDATE');
  const pruned = await Promise.race([
    rig.store.prune(T0, 3),
    new Promise<'waited'>((resolve) => setTimeout(() => resolve('waited'), 5000).unref()),
  ]);
  assert.deepEqual(pruned, { reloads: 3, occurrences: 0 });
  await holder.query('ROLLBACK');
  const left = (await rig.store.listReloads({ tenantId: 'acme', limit: 10 })).map((r) => r.id).sort();
  assert.deepEqual(left, reloads.slice(0, 3).map((r) => r.id).sort(), 'the three the other held are left for it');
});
