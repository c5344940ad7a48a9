// The reload row mappings agree: the positional values the SQLite store binds on its hot insert
// are the named row's values in RELOAD_COLUMNS order, and a reload survives the round trip.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Reload } from '../../src/reloads/reload.js';
import { RELOAD_COLUMNS, reloadFromRow, reloadToRow, reloadToValues } from '../../src/store/reload-row.js';

// Every field distinct, so a value bound to the wrong column cannot go unnoticed.
const reload: Reload = {
  id: 'r-1',
  tenantId: 'tenant',
  userId: 'user',
  appId: 'app',
  partial: true,
  type: 'chronos',
  resourceType: 'reload-tasks',
  resourceId: 'task',
  scheduledTime: 1,
  status: 'RELOADING',
  creationTime: 2,
  startTime: 3,
  endTime: 4,
  log: 'log',
  errorCode: 'code',
  errorMessage: 'message',
  executor: 'simulated',
  externalId: 'ext',
  leaseOwner: 'owner',
  leaseUntil: 5,
  attempts: 6,
  weight: 7,
  variables: { vRegion: 'EMEA', 'v Name with spaces': 'ü "quoted"' },
};

describe('reload rows', () => {
  const columns = RELOAD_COLUMNS.split(',').map((c) => c.trim());

  it('has one positional value per column, in RELOAD_COLUMNS order', () => {
    for (const booleans of ['integer', 'boolean'] as const) {
      const row = reloadToRow(reload, booleans) as unknown as Record<string, unknown>;
      assert.deepEqual(Object.keys(row).sort(), [...columns].sort());
      assert.deepEqual(reloadToValues(reload, booleans), columns.map((c) => row[c]));
    }
  });

  it('round-trips through a row', () => {
    assert.deepEqual(reloadFromRow(reloadToRow(reload, 'integer')), reload);
    assert.deepEqual(reloadFromRow(reloadToRow({ ...reload, partial: false }, 'boolean')), { ...reload, partial: false });
  });
});
