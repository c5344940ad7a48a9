// Reload ids stay in creation order across a restart with the clock set back (in a file of its own:
// it moves the process's id generator to the year 2100).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { newReloadId, queuedReload, reloadIdsAfter } from '../../src/reloads/reload.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';

const dir = mkdtempSync(join(tmpdir(), 'reload-tasks-ids-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('reload ids', () => {
  it('a store opened on reloads newer than its clock gives ids after the newest on record', async () => {
    const path = join(dir, 'ids.db');
    const now = Date.parse('2026-12-01T12:00:00Z');
    const store = SqliteStore.open({ path });
    await store.insertReload(queuedReload({ tenantId: 'acme', userId: 'alice', appId: 'a', partial: false, type: 'external', resourceType: 'api', resourceId: null, scheduledTime: null }, now));
    await store.close();
    // A reload written by a run whose clock was ahead (here: by 74 years), as the newest on record.
    const ahead = Date.parse('2100-01-01T00:00:00Z');
    const newest = `${ahead.toString(16).padStart(12, '0')}00000a` + 'abcdef';
    const db = new Database(path);
    db.prepare(`INSERT INTO reloads (id, tenant_id, user_id, app_id, partial, type, status, creation_time) VALUES (?, 'acme', 'alice', 'a', 0, 'external', 'QUEUED', ?)`).run(newest, ahead);
    db.close();
    const reopened = SqliteStore.open({ path });
    try {
      const next = newReloadId(now);
      assert.ok(next > newest, `${next} after ${newest}`);
      assert.equal(next.slice(0, 18), `${ahead.toString(16).padStart(12, '0')}00000b`);
    } finally {
      await reopened.close();
    }
  });

  it('ids increase strictly, also past 16,777,216 in one millisecond, and ignore ids of another form', () => {
    const ms = Date.parse('2100-06-01T00:00:00Z');
    reloadIdsAfter(`${ms.toString(16).padStart(12, '0')}fffffe` + '000000');
    const a = newReloadId(ms);
    const b = newReloadId(ms);
    assert.equal(a.slice(12, 18), 'ffffff');
    assert.equal(b.slice(0, 18), `${(ms + 1).toString(16).padStart(12, '0')}000000`);
    assert.ok(a < b);
    reloadIdsAfter('not-a-reload-id');
    reloadIdsAfter('g'.repeat(24));
    assert.ok(newReloadId(ms) > b);
  });
});
