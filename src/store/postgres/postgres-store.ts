/**
 * The Store on PostgreSQL: what several instances share, and their coordination engine. Due tasks
 * and queued reloads are claimed with FOR UPDATE SKIP LOCKED, the (task, nominal time) identity is a
 * primary key, instances wake each other with LISTEN/NOTIFY, and the database's clock is the one
 * every instance corrects its own against. SQL lives in ./sql.ts, one named statement each.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { loadMigrations } from '../migrations.js';
import { fromRow, TASK_FIELDS, toRow, type TaskRow } from '../row.js';
import { reloadFromRow, reloadToValues, type ReloadRow } from '../reload-row.js';
import {
  AppTaskLimitError,
  SchemaTooNewError,
  type ClaimLimits,
  type FailurePolicy,
  type FinishResult,
  type FiredOccurrence,
  type FireOptions,
  type OccurrenceRecord,
  type Planner,
  type PruneResult,
  type ReloadListQuery,
  type Store,
  type StoreEvent,
  type TaskLimits,
  type TaskListQuery,
} from '../store.js';
import { reloadIdTime, type Reload, type ReloadStatus } from '../../reloads/reload.js';
import type { Outcome } from '../../scheduler/plan.js';
import type { Task } from '../../tasks/task.js';
import { createPool, query, transaction } from './connection.js';
import * as scheduling from './scheduling.js';
import * as sql from './sql.js';

export interface PostgresStoreOptions {
  readonly url: string;
  readonly poolSize?: number;
  /** Named prepared statements (default true); false behind PgBouncer in transaction mode before 1.21. */
  readonly preparedStatements?: boolean;
  /**
   * Firing batches the scheduler runs at once, each on its own connection (default 2; 1 runs them
   * one after the other). See SchedulerStore.fireConcurrency.
   */
  readonly fireConcurrency?: number;
}

/** The key of the advisory lock that serialises migrations across instances starting together. */
const MIGRATION_LOCK = 0x7265_6c64; // 'reld'
const CHANNEL = 'reload_tasks';

export class PostgresStore implements Store {
  readonly dialect = 'postgres' as const;
  private listeners = new Set<(e: StoreEvent) => void>();
  private listener: pg.Client | undefined;
  private closed = false;

  private constructor(
    private readonly pool: pg.Pool,
    private readonly url: string,
    readonly fireConcurrency: number,
  ) {}

  /** Connects and applies pending migrations (under an advisory lock, each in one transaction with its ledger row). */
  static async open(options: PostgresStoreOptions): Promise<PostgresStore> {
    const pool = createPool(options.url, options.poolSize ?? 10, { preparedStatements: options.preparedStatements ?? true });
    try {
      await migrate(pool);
    } catch (e) {
      await pool.end();
      throw e;
    }
    return new PostgresStore(pool, options.url, Math.max(1, Math.min(options.fireConcurrency ?? 2, options.poolSize ?? 10)));
  }

  // Tasks.

  async insertTask(task: Task, limits?: TaskLimits): Promise<void> {
    if (limits?.maxTasksPerApp) {
      await transaction(this.pool, async (c) => {
        await checkAppLimit(c, task, limits.maxTasksPerApp);
        await query(c, sql.INSERT_TASK, taskParams(task));
      });
    } else {
      await query(this.pool, sql.INSERT_TASK, taskParams(task));
    }
    this.notify('tasks');
  }

  async getTask(tenantId: string, id: string): Promise<Task | undefined> {
    const { rows } = await query<TaskRow>(this.pool, sql.GET_TASK, [tenantId, id]);
    return rows[0] && fromRow(rows[0]);
  }

  async updateTask(task: Task, limits?: TaskLimits): Promise<boolean> {
    const { rowCount } = limits?.maxTasksPerApp
      ? await transaction(this.pool, async (c) => {
          await checkAppLimit(c, task, limits.maxTasksPerApp);
          return query(c, sql.UPDATE_TASK, taskParams(task));
        })
      : await query(this.pool, sql.UPDATE_TASK, taskParams(task));
    if (rowCount === 1) this.notify('tasks');
    return rowCount === 1;
  }

  async deleteTask(tenantId: string, id: string): Promise<boolean> {
    const { rowCount } = await query(this.pool, sql.DELETE_TASK, [tenantId, id]);
    if (rowCount === 1) this.notify('tasks');
    return rowCount === 1;
  }

  async listTasks(q: TaskListQuery): Promise<Task[]> {
    const { text, params } = sql.listTasks(q, 'rows');
    const { rows } = await query<TaskRow>(this.pool, text, params);
    const tasks = rows.map(fromRow);
    return q.before !== undefined ? tasks.reverse() : tasks;
  }

  async anyTask(q: Omit<TaskListQuery, 'limit'>): Promise<boolean> {
    const { text, params } = sql.listTasks({ ...q, limit: 1 }, 'exists');
    return (await query(this.pool, text, params)).rows.length > 0;
  }

  async listOccurrences(tenantId: string, taskId: string, limit: number, before?: number): Promise<OccurrenceRecord[]> {
    const { rows } = await query<{ task_id: string; nominal_time: number; outcome: Outcome; reload_id: string | null; recorded_at: number }>(
      this.pool,
      sql.LIST_OCCURRENCES,
      [tenantId, taskId, before ?? Number.MAX_SAFE_INTEGER, limit],
    );
    return rows.map((r) => ({ taskId: r.task_id, nominalTime: r.nominal_time, outcome: r.outcome, reloadId: r.reload_id, recordedAt: r.recorded_at }));
  }

  // Reloads.

  async insertReload(reload: Reload): Promise<void> {
    await query(this.pool, sql.INSERT_RELOAD, reloadToValues(reload, 'boolean'));
    this.notify('reloads');
  }

  async insertReloadUnlessPending(reload: Reload): Promise<Reload | undefined> {
    const pending = await transaction(this.pool, async (c) => {
      await query(c, sql.APP_RELOAD_LOCK, [reload.tenantId, reload.appId]);
      const { rows } = await query<ReloadRow>(c, sql.PENDING_RELOAD_OF_APP, [reload.tenantId, reload.appId]);
      if (rows[0]) return reloadFromRow(rows[0]);
      await query(c, sql.INSERT_RELOAD, reloadToValues(reload, 'boolean'));
      return undefined;
    });
    if (!pending) this.notify('reloads');
    return pending;
  }

  async getReload(tenantId: string, id: string): Promise<Reload | undefined> {
    const { rows } = await query<ReloadRow>(this.pool, sql.GET_RELOAD, [tenantId, id]);
    return rows[0] && reloadFromRow(rows[0]);
  }

  async listReloads(q: ReloadListQuery): Promise<Reload[]> {
    const { text, params } = sql.listReloads(q, 'rows');
    const rows = (await query<ReloadRow>(this.pool, text, params)).rows.map(reloadFromRow);
    return q.above !== undefined ? rows.reverse() : rows;
  }

  async anyReload(q: Omit<ReloadListQuery, 'limit'>): Promise<boolean> {
    const { text, params } = sql.listReloads({ ...q, limit: 1 }, 'exists');
    return (await query(this.pool, text, params)).rows.length > 0;
  }

  async requestCancel(tenantId: string, id: string, now: number): Promise<ReloadStatus | undefined> {
    const { rows } = await query<{ status: ReloadStatus }>(this.pool, sql.REQUEST_CANCEL, [tenantId, id, now]);
    const status = rows[0]?.status;
    if (status === 'CANCELING') this.notify(`cancel:${id}`);
    return status;
  }

  async prune(before: number, limit: number): Promise<PruneResult> {
    const reloads = (await query(this.pool, sql.PRUNE_RELOADS, [before, limit])).rowCount ?? 0;
    const occurrences = (await query(this.pool, sql.PRUNE_OCCURRENCES, [before, limit])).rowCount ?? 0;
    return { reloads, occurrences };
  }

  // The scheduler (scheduling.ts).

  fireDue(now: number, limit: number, planner: Planner, options?: FireOptions): Promise<FiredOccurrence[]> {
    return transaction(this.pool, (c) => scheduling.fireDue(c, now, limit, planner, options));
  }

  async nextDueTime(): Promise<number | null> {
    return (await query<{ t: number | null }>(this.pool, sql.NEXT_DUE)).rows[0]?.t ?? null;
  }

  claimQueued(now: number, owner: string, leaseUntil: number, executor: string, limits: ClaimLimits): Promise<Reload[]> {
    return transaction(this.pool, (c) => scheduling.claimQueued(c, now, owner, leaseUntil, executor, limits));
  }

  async renewLeases(owner: string, ids: readonly string[], leaseUntil: number): Promise<string[]> {
    if (ids.length === 0) return [];
    await query(this.pool, sql.RENEW_LEASES, [owner, ids, leaseUntil]);
    return (await query<{ id: string }>(this.pool, sql.CANCELING_AMONG, [ids])).rows.map((r) => r.id);
  }

  async takeExpiredLeases(now: number, owner: string, leaseUntil: number, limit: number): Promise<Reload[]> {
    return (await query<ReloadRow>(this.pool, sql.TAKE_EXPIRED_LEASES, [now, owner, leaseUntil, limit])).rows.map(reloadFromRow);
  }

  async nextLeaseExpiry(): Promise<number | null> {
    return (await query<{ t: number | null }>(this.pool, sql.NEXT_LEASE_EXPIRY)).rows[0]?.t ?? null;
  }

  async setExternalId(id: string, externalId: string): Promise<void> {
    await query(this.pool, sql.SET_EXTERNAL_ID, [id, externalId]);
  }

  finishReloads(items: ReadonlyArray<{ readonly id: string; readonly result: FinishResult }>, now: number, policy: FailurePolicy) {
    return transaction(this.pool, (c) => scheduling.finishReloads(c, items, now, policy));
  }

  async expireQueued(createdBefore: number, now: number, policy: FailurePolicy, limit: number): Promise<Array<{ reload: Reload; disabledTask: Task | undefined }>> {
    const hours = Math.round(((now - createdBefore) / 3_600_000) * 100) / 100;
    const log = `The reload waited in the queue for more than ${hours} hours without a free slot, and was not started.`;
    return transaction(this.pool, (c) => scheduling.expireQueued(c, createdBefore, now, policy, limit, log));
  }

  async oldestQueuedTime(): Promise<number | null> {
    const row = (await query<{ id: string; t: number }>(this.pool, sql.OLDEST_QUEUED)).rows[0];
    return row ? Math.max(row.t, reloadIdTime(row.id)) : null;
  }

  async autoReloadTasks(tenantId: string, appId: string): Promise<Task[]> {
    return (await query<TaskRow>(this.pool, sql.AUTO_RELOAD_TASKS, [tenantId, appId])).rows.map(fromRow);
  }

  async disableUserTasks(tenantId: string, userId: string, code: 'OWNER-DELETED' | 'OWNER-DISABLED', now: number): Promise<number> {
    const n = (await query(this.pool, sql.DISABLE_USER_TASKS, [tenantId, userId, code, now])).rowCount ?? 0;
    if (n > 0) this.notify('tasks');
    return n;
  }

  async deleteAppTasks(tenantId: string, appId: string): Promise<number> {
    const n = (await query(this.pool, sql.DELETE_APP_TASKS, [tenantId, appId])).rowCount ?? 0;
    if (n > 0) this.notify('tasks');
    return n;
  }

  // Service-wide values, the database clock, and notifications between instances.

  async secret(name: string): Promise<Buffer> {
    await query(this.pool, sql.INSERT_META, [name, randomBytes(32)]);
    return (await query<{ value: Buffer }>(this.pool, sql.GET_META, [name])).rows[0]!.value;
  }

  async queuedCount(): Promise<number> {
    return (await query<{ n: number }>(this.pool, `SELECT count(*)::int AS n FROM reloads WHERE status = 'QUEUED'`)).rows[0]!.n;
  }

  async schemaVersion(): Promise<{ current: number; expected: number }> {
    const current = (await query<{ v: number }>(this.pool, 'SELECT coalesce(max(version), 0)::int AS v FROM schema_migrations')).rows[0]!.v;
    return { current, expected: loadMigrations('postgres').length };
  }

  async databaseTime(): Promise<number> {
    return (await query<{ t: number }>(this.pool, sql.DATABASE_TIME)).rows[0]!.t;
  }

  /**
   * Listens for other instances' changes on a dedicated connection (LISTEN cannot share a pooled
   * one). When that connection drops, it reconnects with back-off and reports `reconnected`, since
   * notifications sent meanwhile are lost and the listener must look again.
   */
  async subscribe(listener: (e: StoreEvent) => void): Promise<() => void> {
    this.listeners.add(listener);
    if (!this.listener) await this.listen(0);
    return () => this.listeners.delete(listener);
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.listener?.end().catch(() => {});
    await this.pool.end();
  }

  /** Tells every instance (this one included) that something changed; best effort. */
  private notify(payload: string): void {
    this.pool.query('SELECT pg_notify($1, $2)', [CHANNEL, payload]).catch(() => {});
  }

  private emit(e: StoreEvent): void {
    for (const l of this.listeners) l(e);
  }

  private async listen(attempt: number): Promise<void> {
    if (this.closed) return;
    const client = new pg.Client({ connectionString: this.url, application_name: 'reload-tasks-listener' });
    const retry = (): void => {
      if (this.listener === client) this.listener = undefined;
      client.end().catch(() => {});
      if (this.closed) return;
      const wait = Math.min(30_000, 250 * 2 ** Math.min(attempt, 7));
      setTimeout(() => void this.listen(attempt + 1), wait).unref();
    };
    client.on('error', retry);
    client.on('notification', (n) => {
      const payload = n.payload ?? '';
      this.emit(payload.startsWith('cancel:') ? { kind: 'cancel', reloadId: payload.slice(7) } : { kind: 'changed' });
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${CHANNEL}`);
      this.listener = client;
      if (attempt > 0) this.emit({ kind: 'reconnected' });
    } catch {
      retry();
    }
  }
}

function taskParams(task: Task): unknown[] {
  const row = toRow(task, 'boolean');
  return TASK_FIELDS.map((f) => row[f]);
}

/**
 * Throws AppTaskLimitError when the task's app has `max` other tasks. Inside a transaction: the
 * app's lock makes instances that add tasks to the same app at once count one after another.
 */
async function checkAppLimit(c: pg.PoolClient, task: Task, max: number): Promise<void> {
  await query(c, sql.APP_TASKS_LOCK, [task.tenantId, task.appId]);
  const { rows } = await query<{ n: number }>(c, sql.OTHER_TASKS_OF_APP, [task.tenantId, task.appId, task.id, max]);
  if (rows[0]!.n >= max) throw new AppTaskLimitError(task.appId, max);
}

async function migrate(pool: pg.Pool): Promise<void> {
  const migrations = loadMigrations('postgres');
  await transaction(pool, async (c) => {
    // One instance migrates at a time; the others wait here, then find nothing left to do.
    await query(c, 'SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
    await query(c, `CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER NOT NULL PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)`);
  });
  for (const m of migrations) {
    await transaction(pool, async (c) => {
      await query(c, 'SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
      const current = (await query<{ v: number }>(c, 'SELECT coalesce(max(version), 0)::int AS v FROM schema_migrations')).rows[0]!.v;
      if (current > migrations.length) {
        throw new SchemaTooNewError(`the database is at schema version ${current}, newer than this build (${migrations.length}); run a newer release`);
      }
      if (current >= m.version) return;
      await query(c, m.sql);
      await query(c, 'INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)', [m.version, m.name, Date.now()]);
    });
  }
  if (migrations.length === 0) return;
}
