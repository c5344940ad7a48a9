/**
 * Seeding the benchmark database: N tasks of one tenant and one owner, written straight into the
 * SQLite file with the service's own SQL (INSERT_TASK) and row mapping (toRow), in a few large
 * transactions, instead of N HTTP calls. The schema comes from SqliteStore.open (the real
 * migrations). The database is built in `<dataDir>.partial` and renamed when complete, so an
 * interrupted seed is never reused; a complete one is reused by later runs.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { SQLITE_FILE } from '../../src/store/open.js';
import { toRow } from '../../src/store/row.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { INSERT_TASK } from '../../src/store/sqlite/task-sql.js';
import { newTaskId } from '../../src/tasks/ids.js';
import { createTask, type Task, type TaskCreate } from '../../src/tasks/task.js';

export const TENANT = 'bench-tenant';
export const OWNER = 'bench-owner';
/** Creation time of task 0; task i is created i seconds later, so ids ascend with i. */
export const FIRST_CREATED_MS = Date.parse('2024-01-01T00:00:00Z');
const TEMPLATE_NOW_MS = Date.parse('2026-12-01T12:00:00Z');
const MARKER = 'seeded.json';
const BATCH = 50_000;

export interface SeedInfo {
  readonly dataDir: string;
  readonly dbPath: string;
  readonly tasks: number;
  readonly reused: boolean;
  /** Seconds the seed took (when it ran in this process, else when it was made). */
  readonly seconds: number;
  readonly dbBytes: number;
  readonly seededAt: string;
}

/**
 * Task bodies as clients send them: mostly daily and weekly schedules in several zones, some
 * auto-reload-only tasks, a tenth partial. Each goes through createTask once (validation, schedule,
 * next execution) and is then cloned with its own id, app and times.
 */
const BODIES: readonly TaskCreate[] = [
  { appId: 'x', timeZone: 'Europe/Zurich', startDateTime: '2030-01-01T06:00:00', recurrence: ['RRULE:FREQ=DAILY;INTERVAL=1;BYHOUR=6;BYMINUTE=0;BYSECOND=0'] },
  { appId: 'x', timeZone: 'America/Toronto', startDateTime: '2030-01-01T11:18:00', recurrence: ['RRULE:FREQ=DAILY;INTERVAL=1;BYHOUR=11;BYMINUTE=18;BYSECOND=0', 'RRULE:FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,TU;BYHOUR=13;BYMINUTE=17;BYSECOND=0'] },
  { appId: 'x', timeZone: 'Asia/Tokyo', startDateTime: '2030-01-07T02:30:00', recurrence: ['RRULE:FREQ=WEEKLY;BYDAY=MO,WE,FR;BYHOUR=2;BYMINUTE=30;BYSECOND=0'], endDateTime: '2035-12-31T23:59:59' },
  { appId: 'x', timeZone: 'UTC', startDateTime: '2030-01-01T00:15:00', recurrence: ['RRULE:FREQ=HOURLY;INTERVAL=4;BYMINUTE=15;BYSECOND=0'] },
  { appId: 'x', timeZone: 'Europe/London', startDateTime: '2030-01-01T23:00:00', recurrence: ['RRULE:FREQ=MONTHLY;BYMONTHDAY=1;BYHOUR=23;BYMINUTE=0;BYSECOND=0'], partial: true },
  { appId: 'x', timeZone: 'Australia/Sydney', startDateTime: '2030-01-01T05:45:00', recurrence: ['RRULE:FREQ=DAILY;BYHOUR=5;BYMINUTE=45;BYSECOND=0'] },
  { appId: 'x', timeZone: 'America/New_York', startDateTime: '2030-01-01T08:00:00', recurrence: ['RRULE:FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR;BYHOUR=8;BYMINUTE=0;BYSECOND=0'] },
  { appId: 'x', timeZone: 'Europe/Berlin', autoReload: true, autoReloadPartial: false },
  { appId: 'x', timeZone: 'Asia/Kolkata', startDateTime: '2030-01-01T09:30:00', recurrence: ['RRULE:FREQ=DAILY;BYHOUR=9;BYMINUTE=30;BYSECOND=0'] },
  { appId: 'x', timeZone: 'UTC', autoReload: true, autoReloadPartial: true, partial: true },
];

/** A Qlik-like app id (a UUID) derived from a number, so pages have realistic sizes. */
function appIdOf(i: number): string {
  const h = (i * 2654435761) >>> 0;
  const a = h.toString(16).padStart(8, '0');
  const b = (i % 0x1000000000000).toString(16).padStart(12, '0');
  return `${a}-${b.slice(0, 4)}-4${b.slice(4, 7)}-8${b.slice(7, 10)}-${a}${b.slice(8, 12)}`;
}

export function seedDataDir(root: string, tasks: number): string {
  return join(root, `reload-tasks-bench-api-${tasks}`);
}

/**
 * What the seeded file depends on: the SQLite migrations, the insert statement and the row shape.
 * The schema is still changing; a file seeded under another schema is seeded again, not migrated.
 */
function schemaFingerprint(): string {
  const dir = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'migrations', 'sqlite');
  const h = createHash('sha256');
  for (const f of readdirSync(dir).filter((f) => f.endsWith('.sql')).sort()) h.update(f).update(readFileSync(join(dir, f)));
  h.update(INSERT_TASK);
  h.update(JSON.stringify(Object.keys(toRow(createTask(BODIES[0]!, newTaskId(TEMPLATE_NOW_MS), { tenantId: TENANT, userId: OWNER }, TEMPLATE_NOW_MS), 'integer'))));
  return h.digest('hex').slice(0, 16);
}

/** Reuses `dataDir` when a previous seed of the same size and schema completed there; else seeds it. */
export function ensureSeeded(dataDir: string, tasks: number, log: (line: string) => void): SeedInfo {
  const dbPath = join(dataDir, SQLITE_FILE);
  const markerPath = join(dataDir, MARKER);
  const schema = schemaFingerprint();
  if (existsSync(markerPath) && existsSync(dbPath)) {
    const m = JSON.parse(readFileSync(markerPath, 'utf8')) as { tasks: number; seconds: number; seededAt: string; schema?: string };
    if (m.schema !== schema) log(`seed: ${dbPath} was seeded under another schema (${m.schema ?? 'unknown'}, now ${schema}); seeding again`);
    else if (m.tasks === tasks) {
      const db = new Database(dbPath, { readonly: true });
      try {
        const count = (db.prepare('SELECT count(*) AS n FROM reload_tasks WHERE tenant_id = ?').get(TENANT) as { n: number }).n;
        if (count === tasks) {
          log(`seed: reusing ${dbPath} (${count.toLocaleString('en-US')} tasks, seeded ${m.seededAt} in ${m.seconds.toFixed(1)} s)`);
          return { dataDir, dbPath, tasks, reused: true, seconds: m.seconds, dbBytes: dbBytes(db), seededAt: m.seededAt };
        }
        log(`seed: ${dbPath} holds ${count} tasks, not ${tasks}; seeding again`);
      } finally {
        db.close();
      }
    }
  }
  return seed(dataDir, tasks, schema, log);
}

function seed(dataDir: string, tasks: number, schema: string, log: (line: string) => void): SeedInfo {
  const started = performance.now();
  const partialDir = `${dataDir}.partial`;
  rmSync(partialDir, { recursive: true, force: true });
  mkdirSync(partialDir, { recursive: true });
  const partialDb = join(partialDir, SQLITE_FILE);

  // The real schema (migrations, WAL), then a plain connection for the bulk load.
  const opened = SqliteStore.open({ path: partialDb });
  void opened.close();

  const owner = { tenantId: TENANT, userId: OWNER };
  const templates: Task[] = BODIES.map((b, i) => createTask(b, newTaskId(TEMPLATE_NOW_MS), owner, TEMPLATE_NOW_MS - i));
  const db = new Database(partialDb);
  try {
    // Nobody else uses this file while it is seeded; durability comes from the final checkpoint.
    db.pragma('synchronous = OFF');
    db.pragma('cache_size = -262144');
    const insert = db.prepare(INSERT_TASK);
    const insertBatch = db.transaction((from: number, to: number) => {
      for (let i = from; i < to; i++) {
        const t = templates[i % templates.length]!;
        const createdAt = FIRST_CREATED_MS + i * 1000 + (i % 997);
        const task: Task = { ...t, id: newTaskId(createdAt), appId: appIdOf(i), createdAt, updatedAt: createdAt };
        insert.run(toRow(task, 'integer'));
      }
    });
    for (let from = 0; from < tasks; from += BATCH) {
      const to = Math.min(tasks, from + BATCH);
      insertBatch(from, to);
      if (to % 200_000 === 0 || to === tasks) {
        log(`seed: ${to.toLocaleString('en-US')} / ${tasks.toLocaleString('en-US')} tasks (${((performance.now() - started) / 1000).toFixed(1)} s)`);
      }
    }
    db.pragma('wal_checkpoint(TRUNCATE)');
  } finally {
    db.close();
  }
  const seconds = (performance.now() - started) / 1000;
  const seededAt = new Date().toISOString();
  writeFileSync(join(partialDir, MARKER), JSON.stringify({ tasks, tenant: TENANT, owner: OWNER, schema, seconds, seededAt }, null, 2));
  rmSync(dataDir, { recursive: true, force: true });
  renameSync(partialDir, dataDir);
  const dbPath = join(dataDir, SQLITE_FILE);
  const check = new Database(dbPath, { readonly: true });
  try {
    log(`seed: ${tasks.toLocaleString('en-US')} tasks written to ${dbPath} in ${seconds.toFixed(1)} s`);
    return { dataDir, dbPath, tasks, reused: false, seconds, dbBytes: dbBytes(check), seededAt };
  } finally {
    check.close();
  }
}

function dbBytes(db: Database.Database): number {
  const pages = db.pragma('page_count', { simple: true }) as number;
  const size = db.pragma('page_size', { simple: true }) as number;
  return pages * size;
}

/** `count` task ids spread over the whole table (a random sample), for GET-by-id. */
export function sampleIds(dbPath: string, count: number): string[] {
  const db = new Database(dbPath, { readonly: true });
  try {
    const rows = db.prepare('SELECT id FROM reload_tasks WHERE tenant_id = ? ORDER BY random() LIMIT ?').all(TENANT, count) as Array<{ id: string }>;
    return rows.map((r) => r.id);
  } finally {
    db.close();
  }
}

/** SQLite's plan for the statements the benchmarked endpoints run (evidence for the report). */
export function queryPlans(dbPath: string, sqlOf: Record<string, { sql: string; params: Record<string, unknown> }>): Record<string, string[]> {
  const db = new Database(dbPath, { readonly: true });
  try {
    const out: Record<string, string[]> = {};
    for (const [name, q] of Object.entries(sqlOf)) {
      out[name] = (db.prepare(`EXPLAIN QUERY PLAN ${q.sql}`).all(q.params) as Array<{ detail: string }>).map((r) => r.detail);
    }
    return out;
  } finally {
    db.close();
  }
}

/** The id of the task at 1-based position `n` of the tenant's id order. */
export function idAtPosition(dbPath: string, n: number): string {
  const db = new Database(dbPath, { readonly: true });
  try {
    return (db.prepare('SELECT id FROM reload_tasks WHERE tenant_id = ? ORDER BY id LIMIT 1 OFFSET ?').get(TENANT, n - 1) as { id: string }).id;
  } finally {
    db.close();
  }
}
