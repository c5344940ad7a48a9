// What only PostgreSQL does: migrations under an advisory lock, several instances on one database
// (SKIP LOCKED claims, LISTEN/NOTIFY), errors mapped by SQLSTATE when the server goes away, and the
// database clock that corrects a drifting instance.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import pg from 'pg';
import { CorrectedClock, ManualClock, OffsetClock } from '../../src/clock.js';
import { loadConfig } from '../../src/config.js';
import { SimulatedExecutor } from '../../src/reloads/executors/simulated.js';
import { HELD_RETRY_FIRST_MS, Scheduler } from '../../src/scheduler/scheduler.js';
import { createPool, query } from '../../src/store/postgres/connection.js';
import { PostgresStore } from '../../src/store/postgres/postgres-store.js';
import { SchemaTooNewError, StoreUnavailableError, type DueCursor, type FiredOccurrence, type FireOptions, type Store, type StoreEvent } from '../../src/store/store.js';
import { loadMigrations } from '../../src/store/migrations.js';
import { newTaskId } from '../../src/tasks/ids.js';
import { createTask } from '../../src/tasks/task.js';
import { quiet } from '../helpers/scheduler.js';
import { createTestStore, type TestStore } from '../helpers/store.js';
import { startProxy } from '../helpers/tcp-proxy.js';

const stores: TestStore[] = [];
after(async () => {
  for (const s of stores) await s.drop().catch(() => {});
});
async function fresh(): Promise<TestStore> {
  const s = await createTestStore('/tmp');
  stores.push(s);
  return s;
}

describe('migrations', () => {
  it('instances starting together apply each migration once', async () => {
    const base = await fresh();
    const opened = await Promise.all([1, 2, 3].map(() => PostgresStore.open({ url: base.location, poolSize: 2 })));
    await Promise.all(opened.map((s) => s.close()));
    const c = new pg.Client({ connectionString: base.location });
    await c.connect();
    const { rows } = await c.query('SELECT version, count(*)::int AS n FROM schema_migrations GROUP BY version ORDER BY version');
    await c.end();
    assert.deepEqual(rows, loadMigrations('postgres').map((m) => ({ version: m.version, n: 1 })));
  });

  it('refuses a database whose schema is newer than this build', async () => {
    const base = await fresh();
    const c = new pg.Client({ connectionString: base.location });
    await c.connect();
    await c.query("INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, 'from_the_future', 0)");
    await c.end();
    await assert.rejects(PostgresStore.open({ url: base.location }), SchemaTooNewError);
  });

  it('000006 on a database with reloads on record: they keep their rows, with weight 1 and no variables', async () => {
    const base = await fresh();
    const c = new pg.Client({ connectionString: base.location });
    await c.connect();
    // Back to schema 5, with a reload written as a build of that schema wrote it.
    await c.query('DROP INDEX reloads_occurrence');
    await c.query('ALTER TABLE reloads DROP COLUMN weight, DROP COLUMN variables');
    await c.query('DELETE FROM schema_migrations WHERE version >= 6');
    await c.query(`INSERT INTO reloads (id, tenant_id, user_id, app_id, partial, type, resource_type, status, creation_time, attempts)
      VALUES ('01a200000000000000000001', 'acme', 'alice', 'app', false, 'external', 'api', 'SUCCEEDED', 1, 1)`);
    await c.end();
    const store = await PostgresStore.open({ url: base.location });
    try {
      const r = (await store.getReload('acme', '01a200000000000000000001'))!;
      assert.deepEqual([r.status, r.weight, r.variables], ['SUCCEEDED', 1, null]);
    } finally {
      await store.close();
    }
    // The range check holds for rows written after it.
    const after = new pg.Client({ connectionString: base.location });
    await after.connect();
    try {
      await assert.rejects(after.query("UPDATE reloads SET weight = 11 WHERE id = '01a200000000000000000001'"), /reloads_weight_range/);
    } finally {
      await after.end();
    }
  });
});

describe('migration 000007: a fired occurrence is recorded by its reload alone', () => {
  it('keeps the history written before it, each fired occurrence once, and refuses a second reload of an occurrence', async () => {
    const base = await fresh();
    const c = new pg.Client({ connectionString: base.location });
    await c.connect();
    try {
      // Back to schema 6, with the rows a build of that schema wrote for a task: one occurrence
      // fired (an occurrences row and its reload) and one missed.
      await c.query('DROP INDEX reloads_occurrence');
      await c.query('DROP INDEX reloads_weighted_queue');
      await c.query('DELETE FROM schema_migrations WHERE version >= 7');
      await c.query(`INSERT INTO occurrences (task_id, nominal_time, tenant_id, outcome, reload_id, recorded_at) VALUES
        ('task1', 1000, 'acme', 'missed', NULL, 1500), ('task1', 2000, 'acme', 'fired', '01a200000000000000000002', 2001)`);
      await c.query(`INSERT INTO reloads (id, tenant_id, user_id, app_id, partial, type, resource_type, resource_id, scheduled_time, status, creation_time, attempts)
        VALUES ('01a200000000000000000002', 'acme', 'alice', 'app', false, 'chronos', 'reload-tasks', 'task1', 2000, 'SUCCEEDED', 2001, 1)`);
      const store = await PostgresStore.open({ url: base.location });
      try {
        const history = await store.listOccurrences('acme', 'task1', 10);
        assert.deepEqual(
          history.map((o) => [o.nominalTime, o.outcome, o.reloadId]),
          [[2000, 'fired', '01a200000000000000000002'], [1000, 'missed', null]],
        );
        assert.deepEqual(await store.listOccurrences('other-tenant', 'task1', 10), []);
      } finally {
        await store.close();
      }
      await assert.rejects(
        c.query(`INSERT INTO reloads (id, tenant_id, user_id, app_id, partial, type, resource_type, resource_id, scheduled_time, status, creation_time, attempts)
          VALUES ('01a200000000000000000003', 'acme', 'alice', 'app', false, 'chronos', 'reload-tasks', 'task1', 2000, 'QUEUED', 3000, 0)`),
        /reloads_occurrence/,
      );
    } finally {
      await c.end();
    }
  });
});

describe('prepared statements', () => {
  it('prepares a parameterised statement once per connection, and not at all when told not to', async () => {
    const base = await fresh();
    const text = 'SELECT $1::int + 1 AS n';
    for (const preparedStatements of [true, false]) {
      const pool = createPool(base.location, 1, { preparedStatements });
      try {
        for (let i = 0; i < 3; i++) assert.equal((await query<{ n: number }>(pool, text, [i])).rows[0]!.n, i + 1);
        // The same (only) connection: what it has prepared.
        const { rows } = await query<{ n: number }>(pool, `SELECT count(*)::int AS n FROM pg_prepared_statements WHERE statement = '${text}'`);
        assert.equal(rows[0]!.n, preparedStatements ? 1 : 0, `preparedStatements: ${preparedStatements}`);
      } finally {
        await pool.end();
      }
    }
  });

  it('the store prepares its statements, and works the same either way', async () => {
    const base = await fresh();
    for (const preparedStatements of [true, false]) {
      const store = await PostgresStore.open({ url: base.location, poolSize: 1, preparedStatements });
      try {
        const task = createTask({ appId: 'app-p', timeZone: 'UTC', startDateTime: '2027-01-01T00:00:00', recurrence: ['FREQ=DAILY'] }, newTaskId(Date.now()), { tenantId: 'acme', userId: 'alice' }, Date.now());
        await store.insertTask(task);
        for (let i = 0; i < 7; i++) assert.equal((await store.getTask('acme', task.id))?.id, task.id);
        const c = (store as unknown as { pool: pg.Pool }).pool;
        const { rows } = await c.query<{ n: number }>("SELECT count(*)::int AS n FROM pg_prepared_statements WHERE name LIKE 'rt\\_%'");
        assert.equal(rows[0]!.n > 0, preparedStatements, `preparedStatements: ${preparedStatements}`);
      } finally {
        await store.close();
      }
    }
  });
});

describe('when the database goes away', () => {
  it('answers StoreUnavailableError (by SQLSTATE / network code), and recovers when it is back', async () => {
    const base = await fresh();
    const url = new URL(base.location);
    const proxy = await startProxy(url.hostname, Number(url.port || 5432));
    url.port = String(proxy.port);
    const store = await PostgresStore.open({ url: url.toString(), poolSize: 2 });
    try {
      assert.equal(await store.nextDueTime(), null);
      await proxy.cut();
      await assert.rejects(store.nextDueTime(), StoreUnavailableError);
      await assert.rejects(store.getTask('acme', 'x'.repeat(24)), StoreUnavailableError);
      await proxy.restore();
      assert.equal(await store.nextDueTime(), null);
    } finally {
      await store.close();
      await proxy.close();
    }
    await assert.rejects(PostgresStore.open({ url: 'postgres://postgres@127.0.0.1:1/none' }), StoreUnavailableError);
  });
});

describe('several instances', () => {
  it('wake each other with LISTEN/NOTIFY', async () => {
    const a = await fresh();
    const b = await a.reopen();
    try {
      const events: StoreEvent[] = [];
      let notify: () => void = () => {};
      const seen = new Promise<void>((resolve) => (notify = resolve));
      await b.subscribe((e) => {
        events.push(e);
        if (events.some((x) => x.kind === 'cancel')) notify();
      });
      const now = Date.now();
      const t = createTask({ appId: 'app', timeZone: 'UTC' }, newTaskId(now), { tenantId: 'acme', userId: 'alice' }, now);
      await a.store.insertTask(t);
      await a.store.insertReload({ id: '0'.repeat(23) + '1', tenantId: 'acme', userId: 'alice', appId: 'app', partial: false, type: 'external', resourceType: 'api', resourceId: null, scheduledTime: null, status: 'QUEUED', creationTime: now, startTime: null, endTime: null, log: null, errorCode: null, errorMessage: null, executor: null, externalId: null, leaseOwner: null, leaseUntil: null, attempts: 0, weight: 1, variables: null });
      await a.store.claimQueued(now, 'a', now + 30_000, 'simulated', { global: 10, perTenant: 10, batch: 10 });
      assert.equal(await a.store.requestCancel('acme', '0'.repeat(23) + '1', now), 'CANCELING');
      await seen;
      assert.ok(events.some((e) => e.kind === 'changed'));
      assert.deepEqual(events.find((e) => e.kind === 'cancel'), { kind: 'cancel', reloadId: '0'.repeat(23) + '1' });
    } finally {
      await b.close();
    }
  });

  it('three schedulers firing the same due tasks at once record each occurrence once', async () => {
    const base = await fresh();
    const clock = new ManualClock(Date.parse('2027-01-04T08:00:00Z'));
    const now = clock.now();
    for (let i = 0; i < 300; i++) {
      const t = createTask({ appId: `a${i}`, timeZone: 'UTC', startDateTime: '2027-01-04T00:00:00', recurrence: ['FREQ=MINUTELY'] }, newTaskId(now), { tenantId: 'acme', userId: 'u' }, now);
      await base.store.insertTask(t);
    }
    const config = loadConfig({ MISFIRE_POLICY: 'all', OVERLAP_POLICY: 'queue', MAX_CONCURRENT_RELOADS: '10000', MAX_CONCURRENT_RELOADS_PER_TENANT: '10000' }).scheduler;
    const others = [await base.reopen(), await base.reopen()];
    const schedulers = [base.store, ...others].map((s, i) => new Scheduler(s, new SimulatedExecutor({ durationMs: 0, failureRate: 0 }), clock, quiet, config, `instance-${i}`));
    try {
      clock.set(Date.parse('2027-01-04T08:10:30Z')); // 10 minutes due for each task: 3,000 occurrences
      await Promise.all(schedulers.map((s) => s.tick()));
      await Promise.all(schedulers.map((s) => s.dispatcher.idle()));
      const c = new pg.Client({ connectionString: base.location });
      await c.connect();
      // A fired occurrence's record is its reload (migration 7): no occurrences row beside it.
      const occ = (await c.query('SELECT count(*)::int AS n FROM occurrences')).rows[0];
      const rel = (await c.query("SELECT count(*)::int AS n, count(DISTINCT (resource_id, scheduled_time))::int AS d FROM reloads WHERE type = 'chronos'")).rows[0];
      const owners = (await c.query('SELECT count(DISTINCT lease_owner)::int AS n FROM reloads')).rows[0];
      await c.end();
      assert.deepEqual(occ, { n: 0 });
      assert.deepEqual(rel, { n: 3000, d: 3000 });
      assert.equal(owners.n, 0); // all ended (leases released)
    } finally {
      await Promise.all(schedulers.map((s) => s.stop()));
      for (const o of others) await o.close();
    }
  });
});

describe('firing batches side by side (DATABASE_FIRE_CONCURRENCY)', () => {
  // One instance runs two firing batches at once, each on its own connection: the second claims
  // from where the first one's claim ended, while the first is still writing.
  const DUE = Date.parse('2027-01-04T09:00:00Z');
  async function herd(s: TestStore, n: number): Promise<void> {
    const now = DUE - 3_600_000;
    const tasks = Array.from({ length: n }, (_, i) =>
      createTask({ appId: `a${i}`, timeZone: 'UTC', startDateTime: '2027-01-04T09:00:00', recurrence: ['FREQ=DAILY'] }, newTaskId(now), { tenantId: 'acme', userId: 'u' }, now),
    );
    for (let i = 0; i < tasks.length; i += 5) await Promise.all(tasks.slice(i, i + 5).map((t) => s.store.insertTask(t)));
  }
  async function firedCounts(url: string): Promise<{ n: number; d: number; due: number }> {
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    try {
      return (
        await c.query(`SELECT (SELECT count(*)::int FROM reloads WHERE type = 'chronos') AS n,
          (SELECT count(DISTINCT (resource_id, scheduled_time))::int FROM reloads WHERE type = 'chronos') AS d,
          (SELECT count(*)::int FROM task_due WHERE due_at <= ${DUE}) AS due`)
      ).rows[0];
    } finally {
      await c.end();
    }
  }
  /** The store's fireDue, watched: batches in flight at once, and the cursor each was given. */
  function watch(store: Store, around?: (call: number, original: Store['fireDue'], args: Parameters<Store['fireDue']>) => Promise<FiredOccurrence[]>) {
    const seen = { calls: 0, inFlight: 0, maxInFlight: 0, afters: [] as Array<DueCursor | undefined>, claims: [] as Array<DueCursor | null> };
    const original = store.fireDue.bind(store);
    store.fireDue = async (...args: Parameters<Store['fireDue']>) => {
      const call = ++seen.calls;
      const [now, limit, planner, options] = args;
      seen.afters.push(options?.after);
      const watched: FireOptions = { ...options, onClaimed: (n, last) => (seen.claims.push(last), options?.onClaimed?.(n, last)) };
      seen.inFlight += 1;
      seen.maxInFlight = Math.max(seen.maxInFlight, seen.inFlight);
      try {
        return await (around ? around(call, original, [now, limit, planner, watched]) : original(now, limit, planner, watched));
      } finally {
        seen.inFlight -= 1;
      }
    };
    return seen;
  }

  it('a herd fires once per task, two batches in flight, each claim starting where the one before ended', async () => {
    const base = await fresh();
    assert.equal(base.store.fireConcurrency, 2);
    await herd(base, 2500);
    const seen = watch(base.store);
    const clock = new ManualClock(DUE);
    const scheduler = new Scheduler(base.store, new SimulatedExecutor({ durationMs: 0, failureRate: 0 }), clock, quiet, loadConfig({}).scheduler, 'lanes');
    scheduler.dispatcher.dispatch = async () => 0; // firing only: every reload stays QUEUED
    let recorded = 0;
    scheduler.on('recorded', (r) => (recorded += r.length));
    await scheduler.tick();
    assert.equal(recorded, 2500);
    assert.deepEqual(await firedCounts(base.location), { n: 2500, d: 2500, due: 0 });
    assert.equal(seen.maxInFlight, 2);
    // Every batch after the first of a round starts at the previous claim's end.
    assert.equal(seen.afters[0], undefined);
    for (let i = 1; i < seen.claims.length; i++) if (seen.claims[i - 1]) assert.deepEqual(seen.afters[i], seen.claims[i - 1]);
  });

  it('a claim from a cursor takes only the tasks after it, in claim order', async () => {
    const base = await fresh();
    await herd(base, 5);
    const fire = (t: { nextExecutionTime: number | null }) => ({ kind: 'plan' as const, plan: { occurrences: [{ nominal: t.nextExecutionTime!, outcome: 'fired' as const }], next: t.nextExecutionTime! + 86_400_000 } });
    const order = (await new Promise<string[]>((resolve, reject) => {
      const c = new pg.Client({ connectionString: base.location });
      c.connect()
        .then(() => c.query('SELECT task_id FROM task_due ORDER BY due_at, task_id'))
        .then((r) => resolve(r.rows.map((x) => x.task_id as string)), reject)
        .finally(() => c.end());
    }));
    const claims: Array<[number, DueCursor | null]> = [];
    const fired = await base.store.fireDue(DUE, 10, fire, { after: { dueAt: DUE, taskId: order[2]! }, onClaimed: (n, last) => claims.push([n, last]) });
    assert.deepEqual(fired.map((f) => f.task.id).sort(), order.slice(3).sort());
    assert.deepEqual(claims, [[2, { dueAt: DUE, taskId: order[4] }]]);
    assert.equal((await firedCounts(base.location)).due, 3);
  });

  it('a batch that fails leaves its tasks due: the pass fails once the other batch is done, and the next pass fires them', async () => {
    const base = await fresh();
    await herd(base, 2500);
    const seen = watch(base.store, (call, original, [now, limit, planner, options]) =>
      call === 2
        ? original(now, limit, () => {
            throw new Error('planner broke');
          }, options)
        : original(now, limit, planner, options),
    );
    const clock = new ManualClock(DUE);
    const scheduler = new Scheduler(base.store, new SimulatedExecutor({ durationMs: 0, failureRate: 0 }), clock, quiet, loadConfig({}).scheduler, 'lanes');
    scheduler.dispatcher.dispatch = async () => 0;
    await assert.rejects(scheduler.tick(), /planner broke/);
    assert.equal(seen.inFlight, 0); // the pass waited for the batch beside the failed one
    const after = await firedCounts(base.location);
    assert.ok(after.n >= 1000 && after.n < 2500, `fired ${after.n}`); // the first batch committed, the second rolled back
    assert.equal(after.n + after.due, 2500);
    await scheduler.tick();
    assert.deepEqual(await firedCounts(base.location), { n: 2500, d: 2500, due: 0 });
  });

  it('tasks another connection holds are left behind the cursor; the pass looks for them once more from the front, then leaves them to a pass shortly after', async () => {
    const base = await fresh();
    await herd(base, 1500);
    const holder = new pg.Client({ connectionString: base.location });
    await holder.connect();
    try {
      await holder.query('BEGIN');
      // The first ten due tasks in claim order, locked as another instance's batch would hold them.
      await holder.query('SELECT t.id FROM task_due d JOIN reload_tasks t ON t.id = d.task_id ORDER BY d.due_at, d.task_id LIMIT 10 FOR UPDATE OF t');
      const seen = watch(base.store);
      const clock = new ManualClock(DUE);
      const scheduler = new Scheduler(base.store, new SimulatedExecutor({ durationMs: 0, failureRate: 0 }), clock, quiet, loadConfig({}).scheduler, 'lanes');
      scheduler.dispatcher.dispatch = async () => 0;
      await scheduler.tick(); // does not wait for the holder
      assert.deepEqual(await firedCounts(base.location), { n: 1490, d: 1490, due: 10 });
      assert.ok(seen.afters.slice(1).some((a) => a === undefined), 'a later round starts again from the front');
      assert.equal(await scheduler.nextWakeAt(), DUE + HELD_RETRY_FIRST_MS);
      await holder.query('COMMIT');
      clock.set(DUE + HELD_RETRY_FIRST_MS);
      await scheduler.tick();
      assert.deepEqual(await firedCounts(base.location), { n: 1500, d: 1500, due: 0 });
    } finally {
      await holder.end();
    }
  });

  it('DATABASE_FIRE_CONCURRENCY=1 runs the batches one after the other', async () => {
    const base = await fresh();
    const one = await PostgresStore.open({ url: base.location, poolSize: 5, fireConcurrency: 1 });
    try {
      await herd(base, 2500);
      const seen = watch(one);
      const scheduler = new Scheduler(one, new SimulatedExecutor({ durationMs: 0, failureRate: 0 }), new ManualClock(DUE), quiet, loadConfig({}).scheduler, 'one');
      scheduler.dispatcher.dispatch = async () => 0;
      await scheduler.tick();
      assert.deepEqual(await firedCounts(base.location), { n: 2500, d: 2500, due: 0 });
      assert.equal(seen.maxInFlight, 1);
      assert.ok(seen.afters.every((a) => a === undefined));
      // Never more batches than connections: a pool of one runs one.
      const small = await PostgresStore.open({ url: base.location, poolSize: 1 });
      assert.equal(small.fireConcurrency, 1);
      await small.close();
    } finally {
      await one.close();
    }
  });
});

describe('the due queue (task_due, migration 5)', () => {
  // task_due holds each task's due time (next_execution_time while Enabled, else NULL), kept by
  // statement triggers on reload_tasks so that advancing a task is a HOT update. Whatever writes a
  // task, the two must agree, and the scheduler must fire from it.
  async function mismatches(url: string): Promise<{ tasks: number; due: number; wrong: number }> {
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    try {
      return (
        await c.query(`SELECT (SELECT count(*)::int FROM reload_tasks) AS tasks, (SELECT count(*)::int FROM task_due) AS due,
          (SELECT count(*)::int FROM reload_tasks t LEFT JOIN task_due d ON d.task_id = t.id
            WHERE d.task_id IS NULL OR d.due_at IS DISTINCT FROM CASE WHEN t.state = 'Enabled' THEN t.next_execution_time END) AS wrong`)
      ).rows[0];
    } finally {
      await c.end();
    }
  }

  it('follows every write of a task, and the scheduler fires from it', async () => {
    const base = await fresh();
    const clock = new ManualClock(Date.parse('2027-01-04T08:00:00Z'));
    const now = clock.now();
    const make = (appId: string, recurrence?: string[]) =>
      createTask({ appId, timeZone: 'UTC', startDateTime: '2027-01-04T08:01:00', ...(recurrence && { recurrence }) }, newTaskId(now), { tenantId: 'acme', userId: 'u' }, now);
    const minutely = make('minutely', ['FREQ=MINUTELY']);
    const once = make('once');
    const disabled = make('disabled', ['FREQ=MINUTELY']);
    const deleted = make('deleted', ['FREQ=MINUTELY']);
    for (const t of [minutely, once, disabled, deleted]) await base.store.insertTask(t);
    assert.deepEqual(await mismatches(base.location), { tasks: 4, due: 4, wrong: 0 });

    // The API's writes: disabling takes a task off the queue, deleting removes its row.
    const d0 = (await base.store.getTask('acme', disabled.id))!;
    assert.ok(await base.store.updateTask({ ...d0, state: 'Disabled', disabledCode: 'MANUALLY', version: d0.version + 1 }));
    assert.ok(await base.store.deleteTask('acme', deleted.id));
    assert.deepEqual(await mismatches(base.location), { tasks: 3, due: 3, wrong: 0 });

    const config = loadConfig({ MISFIRE_POLICY: 'all', OVERLAP_POLICY: 'queue' }).scheduler;
    const scheduler = new Scheduler(base.store, new SimulatedExecutor({ durationMs: 0, failureRate: 0 }), clock, quiet, config, 'one');
    try {
      clock.set(Date.parse('2027-01-04T08:03:30Z'));
      await scheduler.tick();
      await scheduler.dispatcher.idle();
      const fired = (await base.store.listReloads({ tenantId: 'acme', limit: 100 })).map((r) => `${r.appId}@${new Date(r.scheduledTime!).toISOString().slice(11, 16)}`);
      assert.deepEqual(fired.sort(), ['minutely@08:01', 'minutely@08:02', 'minutely@08:03', 'once@08:01']);
      // The scheduler's advance: the one-off task is Completed and off the queue, the other is due next at 08:04.
      assert.equal((await base.store.getTask('acme', once.id))!.state, 'Completed');
      assert.equal((await base.store.getTask('acme', minutely.id))!.nextExecutionTime, Date.parse('2027-01-04T08:04:00Z'));
      assert.equal(await base.store.nextDueTime(), Date.parse('2027-01-04T08:04:00Z'));
      assert.deepEqual(await mismatches(base.location), { tasks: 3, due: 3, wrong: 0 });

      // Re-enabled, the disabled task is due again and fires.
      const d1 = (await base.store.getTask('acme', disabled.id))!;
      assert.ok(await base.store.updateTask({ ...d1, state: 'Enabled', disabledCode: null, nextExecutionTime: Date.parse('2027-01-04T08:04:00Z'), version: d1.version + 1 }));
      assert.deepEqual(await mismatches(base.location), { tasks: 3, due: 3, wrong: 0 });
      clock.set(Date.parse('2027-01-04T08:04:00Z'));
      await scheduler.tick();
      await scheduler.dispatcher.idle();
      const at4 = (await base.store.listReloads({ tenantId: 'acme', limit: 100 })).filter((r) => r.scheduledTime === Date.parse('2027-01-04T08:04:00Z')).map((r) => r.appId);
      assert.deepEqual(at4.sort(), ['disabled', 'minutely']);
      assert.deepEqual(await mismatches(base.location), { tasks: 3, due: 3, wrong: 0 });
    } finally {
      await scheduler.stop();
    }
  });
});

describe('clock skew', () => {
  it('an instance whose clock runs 5 minutes fast fires nothing early once corrected against the database', async () => {
    const base = await fresh();
    const truth = new ManualClock(Date.parse('2027-01-04T08:00:00Z'));
    const t = createTask({ appId: 'a', timeZone: 'UTC', startDateTime: '2027-01-04T08:03:00' }, newTaskId(truth.now()), { tenantId: 'acme', userId: 'u' }, truth.now());
    await base.store.insertTask(t);
    const config = loadConfig({}).scheduler;
    const fast = new OffsetClock(truth, 5 * 60_000);
    // Uncorrected, the fast instance would fire at 07:58 true time; corrected against the "database"
    // (here the true clock, as the database's is the one every instance agrees on), it waits.
    const corrected = new CorrectedClock(fast);
    assert.equal(await corrected.sync(async () => truth.now()), -5 * 60_000);
    const scheduler = new Scheduler(base.store, new SimulatedExecutor({ durationMs: 0, failureRate: 0 }), corrected, quiet, config, 'fast');
    try {
      truth.set(Date.parse('2027-01-04T08:02:59Z'));
      await scheduler.tick();
      assert.equal((await base.store.listReloads({ tenantId: 'acme', limit: 10 })).length, 0);
      truth.set(Date.parse('2027-01-04T08:03:00Z'));
      await scheduler.tick();
      await scheduler.dispatcher.idle();
      const [r] = await base.store.listReloads({ tenantId: 'acme', limit: 10 });
      assert.equal(r!.creationTime, Date.parse('2027-01-04T08:03:00Z'));
      // The negative control: the same instance without correction fires early.
      const early = new Scheduler(base.store, new SimulatedExecutor({ durationMs: 0, failureRate: 0 }), fast, quiet, config, 'fast-uncorrected');
      const t2 = createTask({ appId: 'b', timeZone: 'UTC', startDateTime: '2027-01-04T08:06:00' }, newTaskId(truth.now()), { tenantId: 'acme', userId: 'u' }, truth.now());
      await base.store.insertTask(t2);
      truth.set(Date.parse('2027-01-04T08:01:00Z') + 3 * 60_000); // 08:04 true = 08:09 on the fast clock
      await early.tick();
      await early.dispatcher.idle();
      const fired = (await base.store.listReloads({ tenantId: 'acme', limit: 10 })).find((x) => x.appId === 'b');
      assert.ok(fired && fired.creationTime - Date.parse('2027-01-04T08:06:00Z') > 0 && truth.now() < Date.parse('2027-01-04T08:06:00Z'), 'the uncorrected clock should have fired early');
      await early.stop();
    } finally {
      await scheduler.stop();
    }
  });
});
