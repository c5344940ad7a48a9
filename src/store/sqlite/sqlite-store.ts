/**
 * The Store on an embedded SQLite file (better-sqlite3): the default for one machine, with no
 * set-up. WAL mode lets readers run beside the writer; synchronous=FULL makes every acknowledged
 * write survive a crash or power loss. better-sqlite3 is synchronous, which on one machine is the
 * fastest way to use SQLite; the async interface is what PostgreSQL needs.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { loadMigrations } from '../migrations.js';
import { fromValues, toRow } from '../row.js';
import {
  AppTaskLimitError,
  SchemaTooNewError,
  StoreUnavailableError,
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
  type TaskLimits,
  type TaskListQuery,
} from '../store.js';
import { reloadIdsAfter, type Reload, type ReloadStatus } from '../../reloads/reload.js';
import type { Task } from '../../tasks/task.js';
import { Checkpointer, type CheckpointEvent, type CheckpointResult } from './checkpointer.js';
import { DEFAULT_SETTLER_OPTIONS, KeySettler, type SettleStatus, type SettlerOptions } from './key-settler.js';
import { TaskCache } from './task-cache.js';
import * as reloads from './reloads.js';
import * as scheduling from './scheduling.js';
import * as sql from './task-sql.js';

/** SQLite result codes that mean "not now" rather than "wrong": answered as 503. */
const UNAVAILABLE = /^SQLITE_(BUSY|LOCKED|IOERR|FULL|CANTOPEN|READONLY|PROTOCOL|NOLFS)/;
/** How often the write-ahead log is copied back into the database file. */
const CHECKPOINT_EVERY_MS = 1000;
/**
 * Past this many frames (about 32 MiB) the log is copied whole before the next firing batch, so that
 * the batch writes the log from its beginning again (Checkpointer.catchUp). Under JOURNAL_SIZE_LIMIT
 * with room for a sustained pass's batch, so the log's file keeps its blocks between restarts.
 */
const LOG_RESTART_FRAMES = 8192;
/** What a restarted log's file is cut back to (PRAGMA journal_size_limit). */
const JOURNAL_SIZE_LIMIT = 64 * 1024 * 1024;
/** The page cache when the caller does not say (SQLITE_CACHE_MB's default). */
const DEFAULT_CACHE_MB = 32;
/** How often the list keys are looked at for moving into their large level (key-settler.ts). */
const SETTLE_EVERY_MS = 200;
/** Tasks kept in memory for reads by id when the caller does not say (SQLITE_TASK_CACHE's default). */
const DEFAULT_TASK_CACHE = 10_000;

export interface SqliteStoreOptions {
  /** Path of the database file, or ':memory:'. */
  readonly path: string;
  /** How long a write waits for another connection's lock before failing (ms). */
  readonly busyTimeoutMs?: number;
  /**
   * The page cache, in MiB (SQLite's default is 2). A firing batch of 1,000 changes up to about
   * 6,000 pages (23 MiB) once the reload indexes are large; a cache smaller than that writes pages
   * to the log in the middle of the transaction and reads them back (docs/benchmarks-scheduler.md).
   */
  readonly cacheMb?: number;
  /** Tasks kept in memory for reads by id (task-cache.ts); 0 keeps none. */
  readonly taskCacheSize?: number;
  /** Told when checkpoints start failing and when they recover (the service logs it). */
  readonly onCheckpoint?: (event: CheckpointEvent) => void;
  /** Log frames past which a firing batch first waits for the log to be copied whole; 0: never (tests). */
  readonly logRestartFrames?: number;
  /**
   * When the reloads' list keys move from their small level to their large one (key-settler.ts);
   * `false`: only when `settleKeys()` is called (tests that look at one level or the other).
   */
  readonly settle?: Partial<SettlerOptions> | false;
}

export class SqliteStore implements Store {
  readonly dialect = 'sqlite' as const;
  /** One writer, in process: batches run one after the other. */
  readonly fireConcurrency = 1;
  private readonly db: Database.Database;
  private readonly statements = new Map<string, Database.Statement>();
  private readonly rawStatements = new Map<string, Database.Statement>();
  /** What the reload and scheduler modules need of this store. */
  private readonly ctx: scheduling.SqliteContext;

  /** Copies the log back into the database file, off the commit path and off the main thread. */
  readonly checkpointer: Checkpointer;

  /** Tasks read by id, kept while unchanged. */
  private readonly taskCache: TaskCache;

  private readonly logRestartFrames: number;

  /** Moves list keys into their large level (key-settler.ts), on a timer unless `settle: false`. */
  private readonly settler: KeySettler;
  private readonly settleTimer: NodeJS.Timeout | undefined;
  /** When a reload was last inserted (performance.now()): its keys went into the small level. */
  private lastKeysAt = 0;
  /** When a tick last found the small level empty: until a reload is inserted, ticks do nothing. */
  private settledAt = -1;
  private settleFailures = 0;

  private constructor(db: Database.Database, path: string, taskCacheSize: number, onCheckpoint?: (event: CheckpointEvent) => void, logRestartFrames = LOG_RESTART_FRAMES, settle?: Partial<SettlerOptions> | false) {
    this.db = db;
    this.logRestartFrames = logRestartFrames;
    this.taskCache = new TaskCache(db, taskCacheSize);
    this.ctx = { db, stmt: (text) => this.stmt(text), rawStmt: (text) => this.rawStmt(text) };
    this.checkpointer = new Checkpointer(path, CHECKPOINT_EVERY_MS, () => this.checkpoint(), onCheckpoint);
    this.settler = new KeySettler(db, { ...DEFAULT_SETTLER_OPTIONS, ...(settle || {}) });
    if (settle !== false) {
      this.settleTimer = setInterval(() => this.settleTick(), SETTLE_EVERY_MS);
      this.settleTimer.unref();
    }
  }

  /**
   * Between bursts of firing, moves every list key into its large level, a slice at a time; while
   * reloads keep coming, only what has been above the high-water mark for a while (key-settler.ts).
   * A move that fails (another connection holds the write lock) is tried again at the next tick:
   * the keys stay where they are, and the lists read both levels. Once the small level is empty, ticks do nothing (not even count
   * it) until a reload is inserted: an idle service does not read three tables five times a second.
   */
  private settleTick(): void {
    if (!this.db.open || this.lastKeysAt < this.settledAt) return;
    try {
      const now = performance.now();
      if (this.settler.tick(now - this.lastKeysAt, now) > 0) this.checkpointer.kick();
      if (this.settler.status().freshKeys === 0) this.settledAt = performance.now();
    } catch {
      this.settleFailures += 1;
    }
  }

  /** Moves list keys into their large level now, until at most `keep` are left. Returns how many moved. */
  settleKeys(keep = 0): number {
    return guard(() => this.settler.settle(keep, Number.POSITIVE_INFINITY));
  }

  /** What the key settler has done: keys waiting in the small level (counted now), keys moved, failed moves. */
  settleStatus(): SettleStatus & { readonly failures: number } {
    if (this.db.open) guard(() => this.settler.countFresh());
    return { ...this.settler.status(), failures: this.settleFailures };
  }

  /**
   * Copies the write-ahead log back into the database file on this connection, between
   * transactions rather than inside one (PASSIVE: never waits for readers; what it cannot copy now
   * it copies next time). The checkpointer's fallback when its worker is not there; it throws when
   * the checkpoint fails (busy, failing disk), and the checkpointer counts and reports that.
   */
  checkpoint(): CheckpointResult {
    if (!this.db.open) return { busy: 0, log: 0, checkpointed: 0 };
    return (this.db.pragma('wal_checkpoint(PASSIVE)') as CheckpointResult[])[0]!;
  }

  /** Opens (creating if needed) the database file and applies pending migrations. */
  static open(options: SqliteStoreOptions): SqliteStore {
    if (options.path !== ':memory:') mkdirSync(dirname(options.path), { recursive: true });
    const db = guard(() => new Database(options.path, { timeout: options.busyTimeoutMs ?? 5000 }));
    try {
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = FULL');
      db.pragma('foreign_keys = ON');
      // Checkpoints are taken off the commit path (see checkpoint()): with SQLite's automatic one,
      // every large firing batch's COMMIT also copied the whole batch back into the database file.
      db.pragma('wal_autocheckpoint = 0');
      db.pragma(`journal_size_limit = ${JOURNAL_SIZE_LIMIT}`);
      db.pragma(`cache_size = ${-Math.round((options.cacheMb ?? DEFAULT_CACHE_MB) * 1024)}`);
      migrate(db);
      const newest = db.prepare('SELECT max(id) AS id FROM reloads').get() as { id: string | null };
      if (newest.id !== null) reloadIdsAfter(newest.id);
    } catch (e) {
      db.close();
      throw e;
    }
    return new SqliteStore(db, options.path, options.taskCacheSize ?? DEFAULT_TASK_CACHE, options.onCheckpoint, options.logRestartFrames, options.settle);
  }

  async insertTask(task: Task, limits?: TaskLimits): Promise<void> {
    guard(() =>
      this.db
        .transaction(() => {
          if (limits) this.checkAppLimit(task, limits);
          this.stmt(sql.INSERT_TASK).run(toRow(task, 'integer'));
        })
        .immediate(),
    );
  }

  /** Throws AppTaskLimitError when the task's app has `maxTasksPerApp` other tasks (0: no limit). */
  private checkAppLimit(task: Task, { maxTasksPerApp: max }: TaskLimits): void {
    if (max === 0) return;
    const others = this.stmt(sql.OTHER_TASKS_OF_APP).pluck().get({ tenant_id: task.tenantId, app_id: task.appId, id: task.id, max }) as number;
    if (others >= max) throw new AppTaskLimitError(task.appId, max);
  }

  async getTask(tenantId: string, id: string): Promise<Task | undefined> {
    return guard(() => {
      const kept = this.taskCache.get(id);
      // Ids are unique across tenants: another tenant's task is answered as a missing one.
      if (kept !== undefined) return kept.tenantId === tenantId ? kept : undefined;
      const row = this.rawStmt(sql.GET_TASK).get({ tenant_id: tenantId, id }) as unknown[] | undefined;
      return row && this.taskCache.keep(fromValues(row));
    });
  }

  peekTask(tenantId: string, id: string): Task | undefined {
    try {
      const kept = this.taskCache.get(id);
      return kept?.tenantId === tenantId ? kept : undefined;
    } catch (e) {
      // data_version could not be read (the file busy or gone): getTask will say why.
      if (e instanceof Database.SqliteError) return undefined;
      throw e;
    }
  }

  async updateTask(task: Task, limits?: TaskLimits): Promise<boolean> {
    return guard(() =>
      this.db
        .transaction(() => {
          if (limits) this.checkAppLimit(task, limits);
          return this.stmt(sql.UPDATE_TASK).run(toRow(task, 'integer')).changes === 1;
        })
        .immediate(),
    );
  }

  async deleteTask(tenantId: string, id: string): Promise<boolean> {
    return guard(() => this.stmt(sql.DELETE_TASK).run({ tenant_id: tenantId, id }).changes === 1);
  }

  async listTasks(q: TaskListQuery): Promise<Task[]> {
    const { text, params } = listQuery(q, 'rows');
    const rows = guard(() => this.rawStmt(text).all({ ...params, limit: q.limit }) as unknown[][]);
    const tasks = rows.map(fromValues);
    return q.before !== undefined ? tasks.reverse() : tasks;
  }

  async anyTask(q: Omit<TaskListQuery, 'limit'>): Promise<boolean> {
    const { text, params } = listQuery(q, 'exists');
    return guard(() => this.stmt(text).get(params) !== undefined);
  }

  async secret(name: string): Promise<Buffer> {
    return guard(() => {
      this.stmt(sql.INSERT_META).run({ name, value: randomBytes(32) });
      return (this.stmt(sql.GET_META).get({ name }) as { value: Buffer }).value;
    });
  }

  // Task history and reload records (reloads.ts).

  async listOccurrences(tenantId: string, taskId: string, limit: number, before?: number): Promise<OccurrenceRecord[]> {
    return guard(() => reloads.listOccurrences(this.ctx, tenantId, taskId, limit, before));
  }

  async insertReload(reload: Reload): Promise<void> {
    guard(() => reloads.insertReload(this.ctx, reload));
    this.keysAdded([reload]);
  }

  async insertReloadUnlessPending(reload: Reload): Promise<Reload | undefined> {
    const pending = guard(() => reloads.insertReloadUnlessPending(this.ctx, reload));
    if (!pending) this.keysAdded([reload]);
    return pending;
  }

  /** Reloads inserted: their list keys went into the small level (migration 000009's trigger). */
  private keysAdded(inserted: Iterable<Reload | null>): void {
    if (this.settler.added(inserted) > 0) this.lastKeysAt = performance.now();
  }

  async getReload(tenantId: string, id: string): Promise<Reload | undefined> {
    return guard(() => reloads.getReload(this.ctx, tenantId, id));
  }

  async listReloads(query: ReloadListQuery): Promise<Reload[]> {
    return guard(() => reloads.listReloads(this.ctx, query));
  }

  async anyReload(query: Omit<ReloadListQuery, 'limit'>): Promise<boolean> {
    return guard(() => reloads.anyReload(this.ctx, query));
  }

  async requestCancel(tenantId: string, id: string, now: number): Promise<ReloadStatus | undefined> {
    return guard(() => reloads.requestCancel(this.ctx, tenantId, id, now));
  }

  async prune(before: number, limit: number): Promise<PruneResult> {
    // Each deleted reload dirties a page of its own in most of its indexes: a backlog worked off
    // chunk after chunk writes the log much as firing does, so the log is kept short the same way
    // (bench/retention: at most 46 MiB in 20 s of backlog, 78 MiB without).
    if (this.logRestartFrames > 0) await this.checkpointer.catchUp(this.logRestartFrames);
    const pruned = guard(() => reloads.prune(this.ctx, before, limit));
    if (pruned.reloads > 0 || pruned.occurrences > 0) this.checkpointer.kick();
    return pruned;
  }

  // The scheduler's operations (scheduling.ts).

  async fireDue(now: number, limit: number, planner: Planner, options?: FireOptions): Promise<FiredOccurrence[]> {
    if (this.logRestartFrames > 0) await this.checkpointer.catchUp(this.logRestartFrames);
    const recorded = guard(() => scheduling.fireDue(this.ctx, now, limit, planner, options?.onClaimed));
    if (recorded.length > 0) {
      this.keysAdded(recorded.map((o) => o.reload));
      this.checkpointer.kick();
    }
    return recorded;
  }

  async nextDueTime(): Promise<number | null> {
    return guard(() => scheduling.nextDueTime(this.ctx));
  }

  async claimQueued(now: number, owner: string, leaseUntil: number, executor: string, limits: ClaimLimits): Promise<Reload[]> {
    return guard(() => scheduling.claimQueued(this.ctx, now, owner, leaseUntil, executor, limits));
  }

  async renewLeases(owner: string, ids: readonly string[], leaseUntil: number): Promise<string[]> {
    return guard(() => scheduling.renewLeases(this.ctx, owner, ids, leaseUntil));
  }

  async takeExpiredLeases(now: number, owner: string, leaseUntil: number, limit: number): Promise<Reload[]> {
    return guard(() => scheduling.takeExpiredLeases(this.ctx, now, owner, leaseUntil, limit));
  }

  async nextLeaseExpiry(): Promise<number | null> {
    return guard(() => (this.stmt(`SELECT min(lease_until) AS t FROM reloads WHERE status IN ('RELOADING', 'CANCELING')`).get() as { t: number | null }).t);
  }

  async setExternalId(id: string, externalId: string): Promise<void> {
    guard(() => this.stmt('UPDATE reloads SET external_id = @external_id WHERE id = @id').run({ id, external_id: externalId }));
  }

  async finishReloads(
    items: ReadonlyArray<{ readonly id: string; readonly result: FinishResult }>,
    now: number,
    policy: FailurePolicy,
  ): Promise<Array<{ reload: Reload; disabledTask: Task | undefined } | undefined>> {
    return guard(() => scheduling.finishReloads(this.ctx, items, now, policy));
  }

  async expireQueued(createdBefore: number, now: number, policy: FailurePolicy, limit: number): Promise<Array<{ reload: Reload; disabledTask: Task | undefined }>> {
    const hours = Math.round(((now - createdBefore) / 3_600_000) * 100) / 100;
    const log = `The reload waited in the queue for more than ${hours} hours without a free slot, and was not started.`;
    return guard(() => scheduling.expireQueued(this.ctx, createdBefore, now, policy, limit, log));
  }

  async oldestQueuedTime(): Promise<number | null> {
    return guard(() => scheduling.oldestQueuedTime(this.ctx));
  }

  async autoReloadTasks(tenantId: string, appId: string): Promise<Task[]> {
    return guard(() => scheduling.autoReloadTasks(this.ctx, tenantId, appId));
  }

  async disableUserTasks(tenantId: string, userId: string, code: 'OWNER-DELETED' | 'OWNER-DISABLED', now: number): Promise<number> {
    return guard(() => scheduling.disableUserTasks(this.ctx, tenantId, userId, code, now));
  }

  async deleteAppTasks(tenantId: string, appId: string): Promise<number> {
    return guard(() => scheduling.deleteAppTasks(this.ctx, tenantId, appId));
  }

  async queuedCount(): Promise<number> {
    return guard(() => (this.stmt(`SELECT count(*) AS n FROM reloads WHERE status = 'QUEUED'`).get() as { n: number }).n);
  }

  async schemaVersion(): Promise<{ current: number; expected: number }> {
    const current = guard(() => (this.stmt('SELECT coalesce(max(version), 0) AS v FROM schema_migrations').get() as { v: number }).v);
    return { current, expected: loadMigrations('sqlite').length };
  }

  async databaseTime(): Promise<number> {
    return Date.now();
  }

  async subscribe(): Promise<() => void> {
    return () => {};
  }

  async close(): Promise<void> {
    if (this.settleTimer) clearInterval(this.settleTimer);
    await this.checkpointer.close();
    if (!this.db.open) return;
    try {
      this.db.pragma('wal_checkpoint(TRUNCATE)');
    } catch {
      // Another connection is reading: its last checkpoint will do.
    }
    this.db.close();
  }

  /** A statement whose rows come as arrays (raw mode), cached apart from the same text's row-object statement. */
  private rawStmt(text: string): Database.Statement {
    let s = this.rawStatements.get(text);
    if (!s) {
      s = this.db.prepare(text).raw(true);
      this.rawStatements.set(text, s);
    }
    return s;
  }

  /** Prepared statements are cached by their text: a handful of shapes, reused forever. */
  private stmt(text: string): Database.Statement {
    let s = this.statements.get(text);
    if (!s) {
      s = this.db.prepare(text);
      this.statements.set(text, s);
    }
    return s;
  }
}

function listQuery(q: Omit<TaskListQuery, 'limit'>, select: 'rows' | 'exists'): { text: string; params: Record<string, unknown> } {
  const bound = q.after !== undefined ? 'after' : q.before !== undefined ? 'before' : 'none';
  const shape = { owner: q.userId !== undefined, app: q.appId !== undefined, partial: q.partial !== undefined, bound, inclusive: q.inclusive === true } as const;
  const params: Record<string, unknown> = { tenant_id: q.tenantId };
  if (shape.owner) params.user_id = q.userId;
  if (shape.app) params.app_id = q.appId;
  if (shape.partial) params.partial = q.partial ? 1 : 0;
  if (bound !== 'none') params.bound_id = q.after ?? q.before;
  return { text: sql.listTasksSql(shape, select), params };
}

function migrate(db: Database.Database): void {
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER NOT NULL PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL) STRICT`);
  const migrations = loadMigrations('sqlite');
  const current = (): number => (db.prepare('SELECT coalesce(max(version), 0) AS v FROM schema_migrations').get() as { v: number }).v;
  if (current() > migrations.length) {
    throw new SchemaTooNewError(`the database is at schema version ${current()}, newer than this build (${migrations.length}); run a newer release`);
  }
  for (const m of migrations) {
    // IMMEDIATE takes the write lock first, so two processes starting together apply each once.
    db.transaction(() => {
      if (current() >= m.version) return;
      db.exec(m.sql);
      db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(m.version, m.name, Date.now());
    }).immediate();
  }
}

/** Runs a database call, turning "cannot now" SQLite errors into StoreUnavailableError. */
function guard<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && UNAVAILABLE.test(code)) {
      throw new StoreUnavailableError(`SQLite: ${code}`, { cause: e });
    }
    throw e;
  }
}
