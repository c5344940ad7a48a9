/**
 * The benchmark's databases: its own PostgreSQL databases (every name starts with `rt_bench_pg_`
 * and this run's id, so nothing else on the server is touched; all are dropped at the end), and the
 * seeding of the scheduler's backlog into PostgreSQL (unnest inserts in one transaction) and into a
 * SQLite file (one better-sqlite3 transaction), both through the store's own migrations, column
 * list (TASK_FIELDS / INSERT_TASK) and row mapping (toRow), each task built by createTask.
 */
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, rmSync } from 'node:fs';
import Database from 'better-sqlite3';
import pg from 'pg';
import { PostgresStore } from '../../src/store/postgres/postgres-store.js';
import { TASK_FIELDS, toRow, type TaskRow } from '../../src/store/row.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { INSERT_TASK as SQLITE_INSERT_TASK } from '../../src/store/sqlite/task-sql.js';
import { newTaskId } from '../../src/tasks/ids.js';
import { createTask, type Owner, type Task, type TaskCreate } from '../../src/tasks/task.js';

export const ADMIN_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
/** Every database this benchmark creates starts with this. */
export const PREFIX = 'rt_bench_pg_';

export function urlOf(name: string): string {
  const u = new URL(ADMIN_URL);
  u.pathname = `/${name}`;
  return u.toString();
}

export async function admin<R extends pg.QueryResultRow = pg.QueryResultRow>(statement: string, params: unknown[] = [], url = ADMIN_URL): Promise<R[]> {
  const client = new pg.Client({ connectionString: url, application_name: 'rt-bench-admin' });
  await client.connect();
  try {
    return (await client.query<R>(statement, params)).rows;
  } finally {
    await client.end();
  }
}

function checkName(name: string): void {
  if (!name.startsWith(PREFIX) || !/^[a-z0-9_]+$/.test(name)) throw new Error(`refusing to touch database ${name}: not one of this benchmark's`);
}

export async function createDatabase(name: string, template?: string): Promise<string> {
  checkName(name);
  if (template) checkName(template);
  await admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  // A template must have no other session; autovacuum may visit it for a moment: try again.
  for (let attempt = 1; ; attempt++) {
    try {
      await admin(`CREATE DATABASE ${name}${template ? ` TEMPLATE ${template}` : ''}`);
      return urlOf(name);
    } catch (e) {
      if ((e as { code?: string }).code !== '55006' || attempt >= 20) throw e;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

export async function dropDatabase(name: string): Promise<void> {
  checkName(name);
  await admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
}

/** Drops every database of this run (its id is part of each name). */
export async function dropRunDatabases(runId: string): Promise<string[]> {
  const like = `${PREFIX}${runId}_`.replace(/_/g, '\\_') + '%';
  const rows = await admin<{ datname: string }>('SELECT datname FROM pg_database WHERE datname LIKE $1', [like]);
  for (const r of rows) await dropDatabase(r.datname);
  return rows.map((r) => r.datname);
}

// ---------------------------------------------------------------------------------------------
// The backlog: N tasks, all due at the same instant (or each due K times by then).

/** The instant the backlog is due (a Monday 09:00 UTC). */
export const DUE_AT = Date.parse('2027-01-04T09:00:00Z');
/** Tasks are created (and the instances' clocks wait) before it. */
export const CREATED_AT = Date.parse('2027-01-04T08:00:00Z');
export const TENANTS = 100;
export const USERS_PER_TENANT = 10;

export interface Backlog {
  readonly tasks: number;
  /** Occurrences due per task at `now` (1: a daily task due at DUE_AT; K > 1: a minutely task due K times). */
  readonly perTask: number;
}

/** The clock every instance is fixed at: the last due occurrence. */
export function nowOf(b: Backlog): number {
  return DUE_AT + (b.perTask - 1) * 60_000;
}

export function ownerOf(i: number): Owner {
  const tenant = i % TENANTS;
  return { tenantId: `tenant-${String(tenant).padStart(3, '0')}`, userId: `user-${String(tenant).padStart(3, '0')}-${Math.floor(i / TENANTS) % USERS_PER_TENANT}` };
}

/**
 * One schedule for every task (so its compiled form is cached, as the scheduler bench's "shared"
 * mix): daily at 09:00:00 UTC when one occurrence is due per task, minutely from 09:00 otherwise.
 */
function body(b: Backlog): TaskCreate {
  return b.perTask === 1
    ? { appId: 'x', timeZone: 'UTC', startDateTime: '2027-01-01T09:00:00', recurrence: ['RRULE:FREQ=DAILY;BYHOUR=9;BYMINUTE=0;BYSECOND=0'] }
    : { appId: 'x', timeZone: 'UTC', startDateTime: '2027-01-04T09:00:00', recurrence: ['RRULE:FREQ=MINUTELY'] };
}

/**
 * Task i's id: newTaskId's shape (the creation second, then 16 hex digits), with the random part
 * derived from i, so the PostgreSQL and SQLite copies hold the same ids in the same random order.
 */
export function taskIdOf(i: number): string {
  return newTaskId(CREATED_AT).slice(0, 8) + createHash('sha256').update(`task-${i}`).digest('hex').slice(0, 16);
}

/** The tasks, built by createTask once and copied with their own id, owner and app. */
function* tasks(b: Backlog): Generator<Task> {
  const template = createTask(body(b), taskIdOf(0), ownerOf(0), CREATED_AT);
  if (template.nextExecutionTime !== DUE_AT) throw new Error(`the backlog's first occurrence is ${template.nextExecutionTime}, not ${DUE_AT}`);
  for (let i = 0; i < b.tasks; i++) {
    const owner = ownerOf(i);
    yield { ...template, id: taskIdOf(i), tenantId: owner.tenantId, userId: owner.userId, appId: `app-${i}` };
  }
}

const PG_TYPES: Record<keyof TaskRow, string> = {
  id: 'text', tenant_id: 'text', user_id: 'text', app_id: 'text', partial: 'boolean', auto_reload: 'boolean',
  auto_reload_partial: 'boolean', time_zone: 'text', recurrence: 'text', start_date_time: 'text', end_date_time: 'text',
  state: 'text', disabled_code: 'text', log: 'text', migrated: 'boolean', last_execution_time: 'bigint',
  next_execution_time: 'bigint', consecutive_failures: 'integer', missed_count: 'bigint', created_at: 'bigint',
  updated_at: 'bigint', version: 'integer',
};

/** Many tasks in one statement: one array per column (TASK_FIELDS), taken apart by unnest. */
export const INSERT_TASKS_UNNEST = `INSERT INTO reload_tasks (${TASK_FIELDS.join(', ')})
  SELECT * FROM unnest(${TASK_FIELDS.map((f, i) => `$${i + 1}::${PG_TYPES[f]}[]`).join(', ')})`;

/**
 * Creates and migrates the database (PostgresStore.open), then inserts the backlog in one
 * transaction, 10,000 rows per statement, and VACUUM ANALYZEs it (a database in service has its
 * statistics). Returns the seconds it took.
 */
export async function seedPostgres(url: string, b: Backlog): Promise<number> {
  const t0 = performance.now();
  const store = await PostgresStore.open({ url, poolSize: 1 });
  await store.close();
  const client = new pg.Client({ connectionString: url, application_name: 'rt-bench-seed' });
  await client.connect();
  try {
    await client.query('BEGIN');
    let cols: unknown[][] = TASK_FIELDS.map(() => []);
    const flush = async (): Promise<void> => {
      if (cols[0]!.length === 0) return;
      await client.query(INSERT_TASKS_UNNEST, cols);
      cols = TASK_FIELDS.map(() => []);
    };
    for (const t of tasks(b)) {
      const row = toRow(t, 'boolean');
      TASK_FIELDS.forEach((f, i) => cols[i]!.push(row[f]));
      if (cols[0]!.length >= 10_000) await flush();
    }
    await flush();
    await client.query('COMMIT');
    await client.query('VACUUM (ANALYZE) reload_tasks');
  } finally {
    await client.end();
  }
  return (performance.now() - t0) / 1000;
}

/**
 * The same backlog in a SQLite file (the store's schema, WAL), checkpointed so it can be copied. No
 * ANALYZE: the SQLite store never runs one, so a database in service has no statistics either.
 */
export async function seedSqlite(path: string, b: Backlog): Promise<number> {
  const t0 = performance.now();
  rmSync(path, { force: true });
  const store = SqliteStore.open({ path });
  await store.close();
  const db = new Database(path);
  try {
    const insert = db.prepare(SQLITE_INSERT_TASK);
    db.transaction(() => {
      for (const t of tasks(b)) insert.run(toRow(t, 'integer'));
    }).immediate();
    db.pragma('wal_checkpoint(TRUNCATE)');
  } finally {
    db.close();
  }
  return (performance.now() - t0) / 1000;
}

/** A fresh copy of the seeded SQLite file (the template stays untouched). */
export function copySqlite(template: string, path: string): void {
  for (const suffix of ['', '-wal', '-shm']) rmSync(path + suffix, { force: true });
  copyFileSync(template, path);
  if (existsSync(`${template}-wal`)) copyFileSync(`${template}-wal`, `${path}-wal`);
}
