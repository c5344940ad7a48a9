// The SQLite store's cache of tasks read by id: a read answered from it is exactly what a read of
// the row would answer, whoever changed the row (this connection's API writes, firings, events, or
// another connection on the same file), and a task is only ever kept as committed.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { TaskCache } from '../../src/store/sqlite/task-cache.js';
import { createTask, type Task } from '../../src/tasks/task.js';

const NOW = Date.parse('2026-12-01T12:00:00Z');
const DAY = 86_400_000;
let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'reload-tasks-task-cache-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

let seq = 0;
function task(over: Partial<{ tenantId: string; userId: string; appId: string }> = {}): Task {
  seq += 1;
  const id = (0x6c000000 + seq).toString(16).padStart(8, '0') + '0'.repeat(16);
  return createTask(
    { appId: over.appId ?? 'app', timeZone: 'UTC', startDateTime: '2027-01-01T00:00:00', recurrence: ['FREQ=DAILY'] },
    id,
    { tenantId: over.tenantId ?? 'acme', userId: over.userId ?? 'alice' },
    NOW,
  );
}

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/** A store on a fresh file, and that file's path. */
function open(name: string, taskCacheSize?: number): { store: SqliteStore; path: string } {
  const path = join(dir, `${name}.db`);
  return { store: SqliteStore.open({ path, ...(taskCacheSize !== undefined && { taskCacheSize }) }), path };
}

/** Runs `fn` on a store on a fresh file, and closes it. */
async function withStore(name: string, fn: (store: SqliteStore) => Promise<void>, taskCacheSize?: number): Promise<void> {
  const { store } = open(name, taskCacheSize);
  try {
    await fn(store);
  } finally {
    await store.close();
  }
}

describe('the SQLite task cache', () => {
  it('answers a second read by id from memory (the same frozen object), and only within the tenant', async () => {
    await withStore('hit', async (store) => {
      const t = task();
      await store.insertTask(t);
      const first = await store.getTask('acme', t.id);
      const second = await store.getTask('acme', t.id);
      assert.deepEqual(first, t);
      assert.equal(second, first, 'the second read is the kept object');
      assert.ok(Object.isFrozen(second) && Object.isFrozen(second!.recurrence), 'callers share it, so it cannot be changed');
      assert.equal(await store.getTask('globex', t.id), undefined, 'another tenant still sees nothing');
      assert.equal(await store.getTask('acme', t.id), first);
    });
  });

  it("forgets a task at this connection's update and delete, and at a stale update that changed nothing it keeps it", async () => {
    await withStore('writes', async (store) => {
      const t = task();
      await store.insertTask(t);
      await store.getTask('acme', t.id);
      assert.equal(await store.updateTask({ ...t, appId: 'changed', version: t.version + 1 }), true);
      const updated = await store.getTask('acme', t.id);
      assert.equal(updated?.appId, 'changed');
      assert.equal(updated?.version, t.version + 1);
      // A stale write is refused by the store and leaves the kept task as it is (and right).
      assert.equal(await store.updateTask({ ...t, appId: 'stale', version: t.version + 1 }), false);
      assert.equal(await store.getTask('acme', t.id), updated);
      assert.equal(await store.deleteTask('acme', t.id), true);
      assert.equal(await store.getTask('acme', t.id), undefined);
    });
  });

  it('sees a firing move nextExecutionTime and lastExecutionTime', async () => {
    await withStore('firing', async (store) => {
      const due = Date.parse('2026-06-01T00:00:00Z');
      const t = { ...task(), nextExecutionTime: due };
      await store.insertTask(t);
      assert.equal((await store.getTask('acme', t.id))?.nextExecutionTime, due);
      const fired = await store.fireDue(due, 10, () => ({ kind: 'plan' as const, plan: { occurrences: [{ nominal: due, outcome: 'fired' as const }], next: due + DAY } }));
      assert.equal(fired.length, 1);
      const after = await store.getTask('acme', t.id);
      assert.equal(after?.nextExecutionTime, due + DAY);
      assert.equal(after?.lastExecutionTime, due);
    });
  });

  it("sees the events' changes: an owner's tasks disabled, an app's tasks deleted", async () => {
    await withStore('events', async (store) => {
      const mine = task({ userId: 'bob' });
      const app = task({ appId: 'gone' });
      await store.insertTask(mine);
      await store.insertTask(app);
      await store.getTask('acme', mine.id);
      await store.getTask('acme', app.id);
      assert.equal(await store.disableUserTasks('acme', 'bob', 'OWNER-DELETED', NOW), 1);
      const disabled = await store.getTask('acme', mine.id);
      assert.equal(disabled?.state, 'Disabled');
      assert.equal(disabled?.disabledCode, 'OWNER-DELETED');
      assert.equal(await store.deleteAppTasks('acme', 'gone'), 1);
      assert.equal(await store.getTask('acme', app.id), undefined);
    });
  });

  it('sees what another connection on the same file commits, from the next turn of the event loop', async () => {
    const { store, path } = open('other');
    const other = new Database(path);
    try {
      const t = task();
      await store.insertTask(t);
      const kept = await store.getTask('acme', t.id);
      other.prepare("UPDATE reload_tasks SET app_id = 'from-elsewhere' WHERE id = ?").run(t.id);
      await nextTurn(); // another connection's commits are looked for once per turn of the event loop
      const seen = await store.getTask('acme', t.id);
      assert.notEqual(seen, kept);
      assert.equal(seen?.appId, 'from-elsewhere');
      other.prepare('DELETE FROM reload_tasks WHERE id = ?').run(t.id);
      await nextTurn();
      assert.equal(await store.getTask('acme', t.id), undefined);
    } finally {
      other.close();
      await store.close();
    }
  });

  it('keeps nothing when SQLITE_TASK_CACHE is 0: every read is a fresh row', async () => {
    await withStore('off', async (store) => {
      const t = task();
      await store.insertTask(t);
      const a = await store.getTask('acme', t.id);
      const b = await store.getTask('acme', t.id);
      assert.deepEqual(a, b);
      assert.notEqual(a, b);
      assert.ok(!Object.isFrozen(a));
    }, 0);
  });
});

describe('TaskCache', () => {
  function setup(limit: number) {
    const db = new Database(':memory:');
    db.exec('CREATE TABLE reload_tasks (id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL)');
    const cache = new TaskCache(db, limit);
    return { db, cache };
  }

  it('keeps nothing read inside a transaction, which may yet be rolled back', () => {
    const { db, cache } = setup(10);
    const t = task();
    db.transaction(() => cache.keep(t))();
    assert.equal(cache.get(t.id), undefined);
    cache.keep(t);
    assert.equal(cache.get(t.id), t);
    db.close();
  });

  it('forgets on update, on a change of id (old and new), and on delete, even when the change is rolled back', () => {
    const { db, cache } = setup(10);
    const [a, b, c] = [task(), task(), task()];
    db.prepare('INSERT INTO reload_tasks VALUES (?, ?), (?, ?)').run(a.id, 'acme', c.id, 'acme');
    for (const t of [a, b, c]) cache.keep(t);
    db.prepare('UPDATE reload_tasks SET id = ? WHERE id = ?').run(b.id, a.id);
    assert.equal(cache.get(a.id), undefined);
    assert.equal(cache.get(b.id), undefined);
    assert.equal(cache.get(c.id), c);
    try {
      db.transaction(() => {
        db.prepare('DELETE FROM reload_tasks WHERE id = ?').run(c.id);
        throw new Error('roll back');
      })();
    } catch {
      // rolled back: c is still in the table, and no longer kept (a read brings it back)
    }
    assert.equal(cache.get(c.id), undefined);
    db.close();
  });

  it('installs no trigger when its limit is 0', () => {
    const { db } = setup(0);
    assert.deepEqual(db.prepare("SELECT name FROM sqlite_temp_master WHERE type = 'trigger'").all(), []);
    db.close();
  });

  it('never holds more than its limit while tasks are kept, dropped by triggers and kept again', () => {
    const { db, cache } = setup(3);
    const tasks = Array.from({ length: 6 }, () => task());
    const insert = db.prepare('INSERT OR REPLACE INTO reload_tasks VALUES (?, ?)');
    const remove = db.prepare('DELETE FROM reload_tasks WHERE id = ?');
    for (const t of tasks) insert.run(t.id, 'acme');
    let seed = 7;
    const random = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
    for (let step = 0; step < 500; step++) {
      const t = tasks[random(tasks.length)]!;
      if (random(3) === 0) {
        remove.run(t.id); // the trigger drops it
        insert.run(t.id, 'acme');
        assert.equal(cache.get(t.id), undefined, `step ${step}`);
      } else if (cache.get(t.id) === undefined) {
        cache.keep(t); // as getTask does on a miss
      }
      assert.ok(cache.size <= 3, `step ${step}: ${cache.size} kept`);
    }
    db.close();
  });

  it('keeps at most its limit, letting the oldest go first', () => {
    const { db, cache } = setup(2);
    const [a, b, c] = [task(), task(), task()];
    for (const t of [a, b, c]) cache.keep(t);
    assert.equal(cache.size, 2);
    assert.equal(cache.get(a.id), undefined);
    assert.equal(cache.get(b.id), b);
    assert.equal(cache.get(c.id), c);
    db.close();
  });
});
