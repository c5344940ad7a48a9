// The SQLite store against real database files: migrations and their ledger, the task rows,
// keyset pages, optimistic concurrency, and database errors mapped by their codes.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { loadMigrations } from '../../src/store/migrations.js';
import { Checkpointer, type CheckpointEvent } from '../../src/store/sqlite/checkpointer.js';
import { KeySettler } from '../../src/store/sqlite/key-settler.js';
import * as schedulerSql from '../../src/store/sqlite/scheduler-sql.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { SchemaTooNewError, StoreUnavailableError, type ReloadListQuery } from '../../src/store/store.js';
import { queuedReload, type Reload } from '../../src/reloads/reload.js';
import { createTask, type Task } from '../../src/tasks/task.js';

const NOW = Date.parse('2026-12-01T12:00:00Z');
let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'reload-tasks-store-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

let seq = 0;
function task(over: Partial<{ tenantId: string; userId: string; appId: string; partial: boolean }> = {}): Task {
  seq += 1;
  const id = (0x6b000000 + seq).toString(16).padStart(8, '0') + '0'.repeat(16);
  return createTask(
    { appId: over.appId ?? 'app', timeZone: 'UTC', partial: over.partial ?? false, startDateTime: '2027-01-01T00:00:00', recurrence: ['FREQ=DAILY'] },
    id,
    { tenantId: over.tenantId ?? 'acme', userId: over.userId ?? 'alice' },
    NOW,
  );
}

describe('migrations', () => {
  it('applies every migration once, each with its ledger row, and reopening applies none', async () => {
    const path = join(dir, 'm.db');
    await (SqliteStore.open({ path })).close();
    await (SqliteStore.open({ path })).close();
    const db = new Database(path, { readonly: true });
    const rows = db.prepare('SELECT version, name FROM schema_migrations ORDER BY version').all();
    assert.deepEqual(rows, loadMigrations('sqlite').map((m) => ({ version: m.version, name: m.name })));
    assert.equal((db.prepare('PRAGMA journal_mode').get() as { journal_mode: string }).journal_mode, 'wal');
    db.close();
  });

  it('refuses a database whose schema is newer than this build', async () => {
    const path = join(dir, 'newer.db');
    await (SqliteStore.open({ path })).close();
    const db = new Database(path);
    db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, ?, 0)').run('from_the_future');
    db.close();
    assert.throws(() => SqliteStore.open({ path }), SchemaTooNewError);
  });
});

describe('SQLite specifics', () => {
  it('keeps a service secret across reopening', async () => {
    const path = join(dir, 'secret.db');
    const a = SqliteStore.open({ path });
    const s1 = await a.secret('cursor-hmac');
    assert.equal(s1.length, 32);
    assert.deepEqual(await a.secret('cursor-hmac'), s1);
    await a.close();
    const b = SqliteStore.open({ path });
    assert.deepEqual(await b.secret('cursor-hmac'), s1);
    assert.notDeepEqual(await b.secret('other'), s1);
    await b.close();
  });

  it('maps a locked database to StoreUnavailableError by its code', async () => {
    const path = join(dir, 'locked.db');
    const s = SqliteStore.open({ path, busyTimeoutMs: 50 });
    const other = new Database(path);
    other.exec('BEGIN EXCLUSIVE');
    try {
      await assert.rejects(s.insertTask(task()), StoreUnavailableError);
    } finally {
      other.exec('ROLLBACK');
      other.close();
      await s.close();
    }
  });
});

describe('query plans of the scheduler', () => {
  // Each statement runs every pass, with tables of millions of reloads: a plan that scans a table
  // instead of seeking an index is a pass that slows down as the history grows.
  function plans(): Map<string, string[]> {
    const path = join(dir, 'plans.db');
    SqliteStore.open({ path }).close();
    const db = new Database(path, { readonly: true });
    try {
      const out = new Map<string, string[]>();
      for (const [name, text] of Object.entries(schedulerSql)) {
        if (!/^\s*(SELECT|WITH|UPDATE|DELETE)/.test(text)) continue;
        // Named parameters (@name) or, in the statements run once per firing, positional ones (?).
        const named = Object.fromEntries([...text.matchAll(/@(\w+)/g)].map((m) => [m[1], m[1] === 'ids' ? '[]' : 1]));
        const positional = [...text.matchAll(/\?/g)].map(() => 1);
        const stmt = db.prepare(`EXPLAIN QUERY PLAN ${text}`);
        const rows = (Object.keys(named).length > 0 ? stmt.all(named) : stmt.all(...positional)) as Array<{ detail: string }>;
        out.set(name, rows.map((r) => r.detail));
      }
      return out;
    } finally {
      db.close();
    }
  }

  it('no scheduler statement scans a table', () => {
    const all = plans();
    assert.ok(all.size >= 10, `${all.size} statements`);
    for (const [name, steps] of all) {
      const scans = steps.filter((d) => /^SCAN (reloads|reload_tasks|occurrences)\b/.test(d) && !/USING (COVERING )?INDEX/.test(d));
      assert.deepEqual(scans, [], `${name}: ${steps.join(' | ')}`);
    }
  });

  it('a firing\'s check of the misses and skips seeks their key', () => {
    const all = plans();
    assert.ok(all.get('OCCURRENCE_RECORDED')!.some((d) => d.includes('USING PRIMARY KEY')), all.get('OCCURRENCE_RECORDED')!.join(' | '));
  });

  it('"is a reload of this task active?" reads the task\'s reloads newest first from both levels of its keys, merged, never sorting them', () => {
    const steps = plans().get('ACTIVE_WALK')!;
    assert.ok(steps.includes('MERGE (UNION ALL)'), steps.join(' | '));
    const seeks = steps.filter((d) => d === 'SEARCH k USING PRIMARY KEY (tenant_id=? AND resource_id=? AND id<?)');
    assert.equal(seeks.length, 2, steps.join(' | '));
    assert.ok(!steps.some((d) => d.includes('TEMP B-TREE')), steps.join(' | '));
    // The due tasks are read alone: the check runs only when the overlap policy asks.
    assert.ok(!/FROM reloads/.test(schedulerSql.DUE_TASKS), schedulerSql.DUE_TASKS);
  });

  it("a claim reads each tenant's queue in order from an index, never sorting it", () => {
    const all = plans();
    const expect = { TENANT_QUEUED: 'reloads_by_status (status=? AND tenant_id=?)', TENANT_QUEUED_WEIGHTED: 'reloads_weighted_queue (tenant_id=? AND weight>?)' };
    for (const [name, index] of Object.entries(expect)) {
      const steps = all.get(name)!;
      assert.ok(steps.some((d) => d.startsWith('SEARCH q USING INDEX ' + index)), `${name}: ${steps.join(' | ')}`);
      assert.ok(!steps.some((d) => d.includes('TEMP B-TREE')), `${name}: ${steps.join(' | ')}`);
    }
    // The tenants with a queue: one seek each within the queued entries (the skip scan), not a
    // pass over the reloads, nor a seek per tenant on record.
    const tenants = all.get('QUEUED_TENANTS')!;
    assert.ok(tenants.some((d) => d.includes('reloads_by_status (status=? AND tenant_id>?)')), tenants.join(' | '));
    assert.ok(!tenants.some((d) => d.includes('reloads_by_tenant')), tenants.join(' | '));
  });
});

describe('occurrence records', () => {
  it('a fired occurrence is its reload alone; history written by older versions (a fired row and its reload) lists it once', async () => {
    const path = join(dir, 'history.db');
    const store = SqliteStore.open({ path });
    try {
      const t = { ...task({ tenantId: 'hist' }), nextExecutionTime: Date.parse('2026-03-01T00:00:00Z') };
      await store.insertTask(t);
      const day = 86_400_000;
      const fire = (nominal: number) => ({ kind: 'plan' as const, plan: { occurrences: [{ nominal: nominal - day, outcome: 'missed' as const }, { nominal, outcome: 'fired' as const }], next: nominal + day } });
      const first = t.nextExecutionTime! + day;
      await store.updateTask({ ...t, nextExecutionTime: first - day, version: t.version + 1 });
      assert.equal((await store.fireDue(first, 10, () => fire(first))).length, 2);
      const db = new Database(path);
      try {
        assert.deepEqual(db.prepare('SELECT outcome FROM occurrences').pluck().all(), ['missed']);
        // As an older version recorded a firing: an occurrences row as well as the reload.
        const reload = db.prepare("SELECT id FROM reloads WHERE resource_id = ?").pluck().get(t.id) as string;
        db.prepare("INSERT INTO occurrences (task_id, nominal_time, tenant_id, outcome, reload_id, recorded_at) VALUES (?, ?, 'hist', 'fired', ?, ?)").run(t.id, first, reload, first);
      } finally {
        db.close();
      }
      const history = await store.listOccurrences('hist', t.id, 10);
      assert.deepEqual(history.map((o) => [o.outcome, o.nominalTime]), [['fired', first], ['missed', first - day]]);
      assert.ok(history[0]!.reloadId);
      // Paging back by time.
      assert.deepEqual((await store.listOccurrences('hist', t.id, 10, first)).map((o) => o.outcome), ['missed']);
    } finally {
      store.close();
    }
  });
});

describe('checkpoints', () => {
  it('keeps the log short under back-to-back firing batches: a long log is copied whole before the next batch', async () => {
    // A checkpoint on a timer never finds the log copied whole at the instant a write begins while
    // batches follow each other, and SQLite restarts the log only then: the log would only grow.
    const path = join(dir, 'restart.db');
    const tasks = Array.from({ length: 400 }, () => task());
    const seeding = SqliteStore.open({ path });
    for (const t of tasks) await seeding.insertTask(t);
    await seeding.close(); // copies the log and empties its file
    const store = SqliteStore.open({ path, logRestartFrames: 64 });
    try {
      assert.equal(statSync(`${path}-wal`).size, 0);
      assert.ok(await store.checkpointer.checkpoint(), 'the worker runs');
      const day = 86_400_000;
      let now = tasks[0]!.nextExecutionTime!;
      let fired = 0;
      let largest = 0;
      for (let round = 0; round < 25; round++, now += day) {
        for (;;) {
          const batch = await store.fireDue(now, 50, (t) => ({ kind: 'plan', plan: { occurrences: [{ nominal: t.nextExecutionTime!, outcome: 'fired' }], next: t.nextExecutionTime! + day } }));
          if (batch.length === 0) break;
          fired += batch.length;
          largest = Math.max(largest, statSync(`${path}-wal`).size);
          await new Promise((resolve) => setImmediate(resolve)); // as the scheduler does between batches
        }
      }
      assert.equal(fired, 400 * 25);
      const frame = 4096 + 24;
      // 10,000 firings in 200 batches wrote over 10,000 frames; the log's file
      // never held more than the restart point and a few batches (about 300 frames here; 10,000 and
      // more without the catch-up).
      assert.ok(largest < 1000 * frame, `the log reached ${Math.round(largest / frame)} frames`);
    } finally {
      await store.close();
    }
  });

  it('while a reader keeps the log from being copied whole, a firing batch does not wait for it each time', async () => {
    const path = join(dir, 'restart-reader.db');
    const tasks = Array.from({ length: 400 }, () => task());
    const seeding = SqliteStore.open({ path });
    for (const t of tasks) await seeding.insertTask(t);
    await seeding.close();
    // No key settler: its timer's moves would be a second writer, and the last check needs the log
    // to stop growing while the checkpoint copies it.
    const store = SqliteStore.open({ path, logRestartFrames: 256, settle: false });
    const reader = new Database(path, { readonly: true });
    try {
      assert.ok(await store.checkpointer.checkpoint(), 'the worker runs');
      const checkpoints = { n: 0 };
      const original = store.checkpointer.checkpoint.bind(store.checkpointer);
      store.checkpointer.checkpoint = () => {
        checkpoints.n += 1;
        return original();
      };
      const day = 86_400_000;
      let now = tasks[0]!.nextExecutionTime!;
      const fireRound = async (): Promise<number> => {
        let batches = 0;
        for (;;) {
          const batch = await store.fireDue(now, 50, (t) => ({ kind: 'plan', plan: { occurrences: [{ nominal: t.nextExecutionTime!, outcome: 'fired' }], next: t.nextExecutionTime! + day } }));
          if (batch.length === 0) break;
          batches += 1;
          await new Promise((resolve) => setImmediate(resolve));
        }
        now += day;
        return batches;
      };
      await fireRound(); // the log past the restart point
      // A reader's snapshot from now on: nothing written after it can be copied.
      reader.prepare('BEGIN').run();
      reader.prepare('SELECT count(*) FROM reloads').get();
      checkpoints.n = 0;
      let batches = 0;
      for (let round = 0; round < 5; round++) batches += await fireRound();
      // One kick per batch, and catch-up tries (three each) only once the log has grown by another
      // 256 frames, every ten batches or so: without the back-off, three more per batch (about 4×).
      assert.ok(checkpoints.n < 2.5 * batches, `${checkpoints.n} checkpoints for ${batches} batches`);
      reader.prepare('COMMIT').run();
      await fireRound();
      // A call joins a checkpoint still running, which the last batch's kick may have started
      // before that batch committed: the next one sees the whole log.
      let settled = (await original())!;
      if (settled.checkpointed !== settled.log) settled = (await original())!;
      assert.equal(settled.checkpointed, settled.log, 'copied whole once the reader is gone');
    } finally {
      reader.close();
      await store.close();
    }
  });

  it('copies the log into the database file on a worker thread, and stops it on close', async () => {
    const path = join(dir, 'cp.db');
    const store = SqliteStore.open({ path });
    for (let i = 0; i < 50; i++) await store.insertTask(task());
    const result = await store.checkpointer.checkpoint();
    assert.ok(result, 'the checkpoint ran on the worker');
    assert.ok(result.log > 0, 'the log held frames');
    assert.equal(result.checkpointed, result.log, 'every frame was copied');
    assert.equal(result.busy, 0);
    assert.deepEqual(store.checkpointer.status(), { failures: 0, consecutiveFailures: 0, lastError: undefined, logFrames: result.log, pendingFrames: 0 });
    await store.close();
    // Closed: the worker is gone (no result), and the data is there for the next opening.
    assert.equal(await store.checkpointer.checkpoint(), undefined);
    const db = new Database(path, { readonly: true });
    assert.equal((db.prepare('SELECT count(*) AS n FROM reload_tasks').get() as { n: number }).n, 50);
    db.close();
  });

  it('goes on writing while the worker copies, and falls back to the main thread when the worker dies', async () => {
    const events: CheckpointEvent[] = [];
    const store = SqliteStore.open({ path: join(dir, 'cp2.db'), onCheckpoint: (e) => events.push(e) });
    const pending = store.checkpointer.checkpoint();
    for (let i = 0; i < 20; i++) await store.insertTask(task());
    assert.ok(await pending);
    // Kill the worker as a crash would: checkpoints carry on inline and report no worker result.
    await (store.checkpointer as unknown as { worker: import('node:worker_threads').Worker }).worker.terminate();
    assert.equal(await store.checkpointer.checkpoint(), undefined);
    await store.insertTask(task());
    assert.equal((await store.listTasks({ tenantId: 'acme', limit: 100 })).length, 21);
    // The worker's end was reported, and the main thread's checkpoint that followed as the recovery.
    assert.equal(events.length, 2, JSON.stringify(events));
    assert.equal(events[0]!.kind, 'failed');
    assert.match((events[0] as { error: string }).error, /checkpoint worker exited.*main thread from now on/);
    assert.deepEqual(events[1], { kind: 'recovered', failures: 1 });
    assert.equal(store.checkpointer.status().failures, 1);
    assert.equal(store.checkpointer.status().consecutiveFailures, 0);
    await store.close();
  });

  it('counts a worker that cannot open the database as a failure, and checkpoints on the main thread', async () => {
    const path = join(dir, 'cp3.db');
    await SqliteStore.open({ path }).close();
    // The worker cannot open the log where a directory stands in its way.
    mkdirSync(`${path}-wal`);
    const events: CheckpointEvent[] = [];
    let inline = 0;
    const checkpointer = new Checkpointer(path, 3_600_000, () => ({ busy: 0, log: 10 + inline++, checkpointed: 4 }), (e) => events.push(e));
    try {
      assert.equal(await checkpointer.checkpoint(), undefined);
      assert.equal(events[0]!.kind, 'failed');
      assert.match((events[0] as { error: string }).error, /checkpoint worker failed: SQLITE_CANTOPEN/);
      assert.equal(checkpointer.status().consecutiveFailures, 1);
      // The next checkpoint runs on the main thread (the fallback), and its success is the recovery.
      assert.equal(await checkpointer.checkpoint(), undefined);
      assert.equal(inline, 1);
      assert.deepEqual(events[1], { kind: 'recovered', failures: 1 });
      assert.deepEqual(checkpointer.status(), { failures: 1, consecutiveFailures: 0, lastError: events[0]!.kind === 'failed' ? events[0]!.error : '', logFrames: 10, pendingFrames: 6 });
    } finally {
      await checkpointer.close();
      rmSync(`${path}-wal`, { recursive: true });
    }
  });

  it('while checkpoints keep failing, reports the first failure, then one in 60, then the recovery', async () => {
    let failing = true;
    const events: CheckpointEvent[] = [];
    const checkpointer = new Checkpointer(
      ':memory:',
      3_600_000,
      () => {
        if (failing) throw new Error('disk I/O error');
        return { busy: 0, log: 3, checkpointed: 3 };
      },
      (e) => events.push(e),
    );
    for (let i = 0; i < 125; i++) await checkpointer.checkpoint();
    assert.deepEqual(
      events.map((e) => (e.kind === 'failed' ? e.consecutive : -1)),
      [1, 60, 120],
    );
    assert.equal(checkpointer.status().lastError, 'disk I/O error');
    assert.equal(checkpointer.status().consecutiveFailures, 125);
    failing = false;
    await checkpointer.checkpoint();
    assert.deepEqual(events.at(-1), { kind: 'recovered', failures: 125 });
    assert.deepEqual(checkpointer.status(), { failures: 125, consecutiveFailures: 0, lastError: 'disk I/O error', logFrames: 3, pendingFrames: 0 });
    await checkpointer.close();
  });

  it('an in-memory database checkpoints on the main thread', async () => {
    const store = SqliteStore.open({ path: ':memory:' });
    assert.equal(await store.checkpointer.checkpoint(), undefined);
    await store.close();
  });
});

describe('list keys in two levels (migration 9)', () => {
  // Firings write a reload's keys by app, owner and task into a small level; the settler moves them,
  // a run of neighbouring keys at a time, into the large one. Lists read both, at every moment.
  type Q = Omit<ReloadListQuery, 'tenantId' | 'limit'>;
  const reference = (all: Reload[], tenantId: string, q: Q, limit: number): string[] => {
    const value = (r: Reload): string | number =>
      q.sortKey === 'status' ? r.status : q.sortKey === 'end_time' ? (r.endTime ?? -1) : q.sortKey === 'start_time' ? (r.startTime ?? -1) : 0;
    const rows = all
      .filter((r) => r.tenantId === tenantId && (q.appId === undefined || r.appId === q.appId) && (q.resourceId === undefined || r.resourceId === q.resourceId))
      .filter((r) => q.userId === undefined || r.userId === q.userId)
      .filter((r) => q.status === undefined || r.status === q.status)
      .sort((a, b) => (value(a) < value(b) ? 1 : value(a) > value(b) ? -1 : a.id < b.id ? 1 : -1));
    return rows.slice(0, limit).map((r) => r.id);
  };

  it('lists by app, owner and task read both levels, before, during and after the keys move; deletes reach both', async () => {
    const path = join(dir, 'levels.db');
    const store = SqliteStore.open({ path, settle: { chunk: 7 } });
    const rnd = mulberry(42);
    const all: Reload[] = [];
    try {
      for (let i = 0; i < 120; i++) {
        const tenantId = rnd() < 0.8 ? 'acme' : 'other';
        const resourceId = rnd() < 0.15 ? null : `task-${Math.floor(rnd() * 5)}`;
        const r = queuedReload(
          { tenantId, userId: `user-${Math.floor(rnd() * 3)}`, appId: `app-${Math.floor(rnd() * 4)}`, partial: false, type: resourceId ? 'chronos' : 'external', resourceType: resourceId ? 'reload-tasks' : 'api', resourceId, scheduledTime: null },
          NOW + i * 1000,
        );
        await store.insertReload(r);
        all.push(r);
        if (i === 60) store.settleKeys(); // history: the first half in the large level, as after a quiet spell
      }
      // Some ended (with an end time to sort by), most still queued.
      for (const r of all.filter((_, i) => i % 3 === 0)) {
        assert.equal(await store.requestCancel(r.tenantId, r.id, r.creationTime + 500), 'CANCELED');
        Object.assign(r, { status: 'CANCELED', endTime: r.creationTime + 500 });
      }
      const queries: Q[] = [
        { appId: 'app-1' },
        { resourceId: 'task-2' },
        { appId: 'app-0', resourceId: 'task-3' },
        { appId: 'app-2', status: 'QUEUED' },
        { resourceId: 'task-4', sortKey: 'end_time' },
        { appId: 'app-3', sortKey: 'status' },
        { userId: 'user-1' },
        { userId: 'user-0', appId: 'app-2' },
        { userId: 'user-2', status: 'CANCELED', sortKey: 'end_time' },
      ];
      const check = async (when: string) => {
        for (const tenantId of ['acme', 'other']) {
          for (const q of queries) {
            const expected = reference(all, tenantId, q, 1000);
            const got = (await store.listReloads({ tenantId, ...q, limit: 1000 })).map((r) => r.id);
            assert.deepEqual(got, expected, `${when} ${tenantId} ${JSON.stringify(q)}`);
            assert.equal(await store.anyReload({ tenantId, ...q }), expected.length > 0, `${when} exists ${JSON.stringify(q)}`);
            if (q.sortKey !== undefined || expected.length < 4) continue;
            // Keyset pages below and above a reload in the middle.
            const mid = expected[2]!;
            const below = (await store.listReloads({ tenantId, ...q, below: mid, limit: 3 })).map((r) => r.id);
            assert.deepEqual(below, expected.slice(3, 6), `${when} below ${JSON.stringify(q)}`);
            const above = (await store.listReloads({ tenantId, ...q, above: mid, limit: 3 })).map((r) => r.id);
            assert.deepEqual(above, expected.slice(0, 2), `${when} above ${JSON.stringify(q)}`);
          }
        }
        // Each reload's keys are in exactly one level.
        const db = new Database(path, { readonly: true });
        try {
          const keys = (table: string) => db.prepare(`SELECT id FROM ${table}`).pluck().all() as string[];
          const byApp = [...keys('reload_keys_by_app'), ...keys('reload_keys_by_app_new')].sort();
          const byResource = [...keys('reload_keys_by_resource'), ...keys('reload_keys_by_resource_new')].sort();
          const byUser = [...keys('reload_keys_by_user'), ...keys('reload_keys_by_user_new')].sort();
          assert.deepEqual(byApp, all.map((r) => r.id).sort(), when);
          assert.deepEqual(byUser, all.map((r) => r.id).sort(), when);
          assert.deepEqual(byResource, all.filter((r) => r.resourceId !== null).map((r) => r.id).sort(), when);
          return keys('reload_keys_by_app_new').length;
        } finally {
          db.close();
        }
      };
      assert.ok((await check('half moved')) > 50);
      // Move a run at a time (7 keys per level), checking the lists after each.
      const settler = (store as unknown as { settler: { moveOnce(): number } }).settler;
      let moves = 0;
      while (settler.moveOnce() > 0) {
        moves += 1;
        if (moves % 3 === 0) await check(`after ${moves} moves`);
      }
      assert.ok(moves >= 8, `${moves} moves`);
      assert.equal(await check('all moved'), 0);
      // Reloads inserted after the keys moved land in the small level again and are listed with them.
      const late = queuedReload({ tenantId: 'acme', userId: 'u', appId: 'app-1', partial: false, type: 'chronos', resourceType: 'reload-tasks', resourceId: 'task-2', scheduledTime: null }, NOW + 999_000);
      await store.insertReload(late);
      all.push(late);
      assert.equal(await check('one new'), 1);
      // Retention deletes ended reloads, and their keys, from either level.
      const pruned = await store.prune(NOW + 200_000, 1000);
      assert.equal(pruned.reloads, all.filter((r) => r.endTime !== null).length);
      all.splice(0, all.length, ...all.filter((r) => r.endTime === null));
      await check('after pruning');
    } finally {
      await store.close();
    }
  });

  it('the settler moves everything when firings pause, and only what stays above the high-water mark while they keep coming', async () => {
    const store = SqliteStore.open({ path: join(dir, 'tick.db'), settle: false });
    try {
      for (let i = 0; i < 30; i++) {
        await store.insertReload(queuedReload({ tenantId: 'acme', userId: `user-${i % 3}`, appId: `app-${i % 5}`, partial: false, type: 'chronos', resourceType: 'reload-tasks', resourceId: `task-${i % 7}`, scheduledTime: null }, NOW + i));
      }
      // The store's own tables, with a policy small enough to see (time slices that never end).
      // Times are the settler's monotonic ms: ticks 200 ms apart, as the store's timer runs them.
      const db = (store as unknown as { db: Database.Database }).db;
      const policy = { chunk: 4, quietMs: 500, sliceMs: 1e9, catchUpMs: 1e9, catchUpAfterMs: 1000 };
      const under = new KeySettler(db, { ...policy, highWater: 100 });
      assert.equal(under.countFresh(), 90, 'three keys per reload');
      assert.equal(under.tick(100, 0), 0, 'firings keep coming and the small level is under its mark: nothing moves');
      assert.equal(under.tick(100, 5000), 0);
      const busy = new KeySettler(db, { ...policy, highWater: 40 });
      for (let t = 0; t < 1000; t += 200) assert.equal(busy.tick(100, t), 0, `above the mark for ${t} ms only: a herd is fired first`);
      const movedBusy = busy.tick(100, 1000);
      assert.ok(movedBusy >= 50 && busy.countFresh() <= 40, `above the mark for 1 s: moved ${movedBusy}, left ${busy.countFresh()}`);
      assert.ok(busy.countFresh() > 40 - 12, 'not much more than what is above the mark (a move is up to a chunk per level)');
      assert.equal(busy.tick(500, 1200), 90 - movedBusy, 'quiet: everything');
      assert.equal(busy.countFresh(), 0);
      assert.equal(busy.status().moved, 90);
      // The lists did not notice.
      assert.equal((await store.listReloads({ tenantId: 'acme', resourceId: 'task-3', limit: 100 })).length, 4);
    } finally {
      await store.close();
    }
  });

  it("the store's settle timer moves new keys, and does not look again until a reload is inserted", async () => {
    // quietMs 0: every tick is "between bursts". The tick is called here as its timer would call it.
    const store = SqliteStore.open({ path: join(dir, 'timer.db'), settle: { quietMs: 0 } });
    const inner = store as unknown as { settleTick(): void; settler: KeySettler };
    let counts = 0;
    const countFresh = inner.settler.countFresh.bind(inner.settler);
    inner.settler.countFresh = () => (counts++, countFresh());
    const insert = (i: number) =>
      store.insertReload(queuedReload({ tenantId: 'acme', userId: 'u', appId: `app-${i}`, partial: false, type: 'chronos', resourceType: 'reload-tasks', resourceId: `task-${i}`, scheduledTime: null }, NOW + i));
    try {
      await insert(1);
      inner.settleTick();
      assert.equal(inner.settler.status().moved, 3);
      assert.equal(inner.settler.countFresh(), 0);
      counts = 0;
      inner.settleTick();
      inner.settleTick();
      assert.equal(counts, 0, 'idle: the small level is not counted');
      await insert(2);
      await store.insertReload(queuedReload({ tenantId: 'acme', userId: 'u', appId: 'app-9', partial: false, type: 'external', resourceType: 'api', resourceId: null, scheduledTime: null }, NOW + 9));
      assert.equal(inner.settler.status().freshKeys, 5, 'kept track of, not counted: three keys for a task\'s reload, two for one by hand');
      assert.equal(counts, 0);
      assert.equal(countFresh(), 5);
      inner.settleTick();
      assert.equal(inner.settler.status().moved, 8, 'a new reload wakes it');
      assert.equal(inner.settler.status().freshKeys, 0);
      assert.deepEqual((await store.listReloads({ tenantId: 'acme', limit: 10 })).length, 3);
    } finally {
      await store.close();
    }
  });

  it('a database from before the levels keeps its reloads listed: the migration puts their keys in the large level', async () => {
    const path = join(dir, 'premigration.db');
    const db = new Database(path);
    db.exec('CREATE TABLE schema_migrations (version INTEGER NOT NULL PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL) STRICT');
    for (const m of loadMigrations('sqlite').filter((m) => m.version <= 8)) {
      db.exec(m.sql);
      db.prepare('INSERT INTO schema_migrations VALUES (?, ?, 0)').run(m.version, m.name);
    }
    const insert = db.prepare(`INSERT INTO reloads (id, tenant_id, user_id, app_id, partial, type, resource_type, resource_id, status, creation_time, attempts)
      VALUES (?, 'acme', 'u', ?, 0, 'chronos', 'reload-tasks', ?, 'SUCCEEDED', 0, 1)`);
    insert.run('000000000001000000aaaaaa', 'app-a', 'task-1');
    insert.run('000000000002000000aaaaaa', 'app-b', 'task-1');
    insert.run('000000000003000000aaaaaa', 'app-a', null);
    db.close();
    const store = SqliteStore.open({ path, settle: false });
    try {
      const ids = async (q: Q) => (await store.listReloads({ tenantId: 'acme', ...q, limit: 10 })).map((r) => r.id.slice(0, 12));
      assert.deepEqual(await ids({ appId: 'app-a' }), ['000000000003', '000000000001']);
      assert.deepEqual(await ids({ userId: 'u' }), ['000000000003', '000000000002', '000000000001']);
      assert.deepEqual(await ids({ resourceId: 'task-1' }), ['000000000002', '000000000001']);
      assert.equal(store.settleKeys(), 0, 'nothing waits in the small level');
    } finally {
      await store.close();
    }
  });

  it('refuses to change a reload\'s tenant, owner, app or resource, which its keys depend on', async () => {
    const path = join(dir, 'fixed.db');
    const store = SqliteStore.open({ path, settle: false });
    const r = queuedReload({ tenantId: 'acme', userId: 'u', appId: 'a', partial: false, type: 'external', resourceType: 'api', resourceId: null, scheduledTime: null }, NOW);
    await store.insertReload(r);
    await store.close();
    const db = new Database(path);
    try {
      assert.throws(() => db.prepare("UPDATE reloads SET app_id = 'b'").run(), /do not change/);
      assert.throws(() => db.prepare("UPDATE reloads SET user_id = 'v'").run(), /do not change/);
      db.prepare("UPDATE reloads SET status = 'CANCELED'").run();
    } finally {
      db.close();
    }
  });
});

function mulberry(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
