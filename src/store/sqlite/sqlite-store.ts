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
import { fromRow, toRow, type TaskRow } from '../row.js';
import { SchemaTooNewError, StoreUnavailableError, type Store, type TaskListQuery } from '../store.js';
import type { Task } from '../../tasks/task.js';
import * as sql from './task-sql.js';

/** SQLite result codes that mean "not now" rather than "wrong": answered as 503. */
const UNAVAILABLE = /^SQLITE_(BUSY|LOCKED|IOERR|FULL|CANTOPEN|READONLY|PROTOCOL|NOLFS)/;

export interface SqliteStoreOptions {
  /** Path of the database file, or ':memory:'. */
  readonly path: string;
  /** How long a write waits for another connection's lock before failing (ms). */
  readonly busyTimeoutMs?: number;
}

export class SqliteStore implements Store {
  readonly dialect = 'sqlite' as const;
  private readonly db: Database.Database;
  private readonly statements = new Map<string, Database.Statement>();

  private constructor(db: Database.Database) {
    this.db = db;
  }

  /** Opens (creating if needed) the database file and applies pending migrations. */
  static open(options: SqliteStoreOptions): SqliteStore {
    if (options.path !== ':memory:') mkdirSync(dirname(options.path), { recursive: true });
    const db = guard(() => new Database(options.path, { timeout: options.busyTimeoutMs ?? 5000 }));
    try {
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = FULL');
      db.pragma('foreign_keys = ON');
      migrate(db);
    } catch (e) {
      db.close();
      throw e;
    }
    return new SqliteStore(db);
  }

  async insertTask(task: Task): Promise<void> {
    guard(() => this.stmt(sql.INSERT_TASK).run(toRow(task, 'integer')));
  }

  async getTask(tenantId: string, id: string): Promise<Task | undefined> {
    const row = guard(() => this.stmt(sql.GET_TASK).get({ tenant_id: tenantId, id }) as TaskRow | undefined);
    return row && fromRow(row);
  }

  async updateTask(task: Task): Promise<boolean> {
    return guard(() => this.stmt(sql.UPDATE_TASK).run(toRow(task, 'integer')).changes === 1);
  }

  async deleteTask(tenantId: string, id: string): Promise<boolean> {
    return guard(() => this.stmt(sql.DELETE_TASK).run({ tenant_id: tenantId, id }).changes === 1);
  }

  async listTasks(q: TaskListQuery): Promise<Task[]> {
    const { text, params } = listQuery(q, 'rows');
    const rows = guard(() => this.stmt(text).all({ ...params, limit: q.limit }) as TaskRow[]);
    const tasks = rows.map(fromRow);
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

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
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
