/**
 * Retention under a backlog, on SQLite: how fast the scheduler's pruning deletes records past
 * RELOAD_RETENTION_DAYS, and what it costs the rest of the process meanwhile (the event loop, which
 * firing and the API share with it, and the write-ahead log).
 *
 *   node --import tsx bench/retention/run.ts [--reloads 400000] [--tasks 10000] [--seconds 20] [--store sqlite|postgres]
 *
 * Seeds a fresh database with `--reloads` finished reloads of `--tasks` tasks (app and task per
 * reload cycling, as scheduled reloads interleave), all ended before the retention, then runs the
 * real Scheduler (system clock, no tasks, default retention of 90 days) for `--seconds`, or until
 * nothing is left. Prints reloads deleted per second, the event loop's delay (p99, max) and, on
 * SQLite, the largest `-wal` file seen. `--store postgres` uses a database of its own on the
 * server at BENCH_DATABASE_URL (default the local one; named rt_bench_pg_…, dropped at the end).
 * Nothing else may run on the machine meanwhile.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';
import pg from 'pg';
import { pino } from 'pino';
import { systemClock } from '../../src/clock.js';
import { loadConfig, type SchedulerConfig } from '../../src/config.js';
import { queuedReload } from '../../src/reloads/reload.js';
import { SimulatedExecutor } from '../../src/reloads/executors/simulated.js';
import { Scheduler } from '../../src/scheduler/scheduler.js';
import { INSERT_RELOAD } from '../../src/store/sqlite/reload-sql.js';
import { RELOAD_COLUMNS, reloadToValues } from '../../src/store/reload-row.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { PostgresStore } from '../../src/store/postgres/postgres-store.js';
import type { Store } from '../../src/store/store.js';
import { createDatabase, dropDatabase, PREFIX } from '../postgres/db.js';

const { values } = parseArgs({
  options: {
    reloads: { type: 'string', default: '400000' },
    tasks: { type: 'string', default: '10000' },
    seconds: { type: 'string', default: '20' },
    store: { type: 'string', default: 'sqlite' },
  },
});
const POSTGRES = values.store === 'postgres';
const RELOADS = Number(values.reloads);
const TASKS = Number(values.tasks);
const SECONDS = Number(values.seconds);
const DAY = 86_400_000;

const dir = mkdtempSync(join(tmpdir(), 'reload-tasks-retention-'));
const path = join(dir, 'reload-tasks.db');
const pgName = `${PREFIX}retention_${process.pid}`;
const first = Date.now() - 100 * DAY;
/** Reload i of the backlog: task i mod TASKS, created 10 ms after reload i-1, ended a second later. */
function reloadValues(i: number, booleans: 'integer' | 'boolean'): unknown[] {
  const task = i % TASKS;
  const at = first + i * 10;
  const r = queuedReload(
    { tenantId: 'acme', userId: `user-${task % 100}`, appId: `app-${task}`, partial: false, type: 'chronos', resourceType: 'reload-tasks', resourceId: `task-${String(task).padStart(19, '0')}`, scheduledTime: at },
    at,
  );
  return reloadToValues({ ...r, status: 'SUCCEEDED', startTime: at, endTime: at + 1000, executor: 'simulated' }, booleans);
}

async function seedSqlite(): Promise<Store> {
  // The schema, then a plain connection without fsync for the bulk load.
  await SqliteStore.open({ path }).close();
  const db = new Database(path);
  db.pragma('synchronous = OFF');
  const insert = db.prepare(INSERT_RELOAD);
  const load = db.transaction((from: number, to: number) => {
    for (let i = from; i < to; i++) insert.run(reloadValues(i, 'integer'));
  });
  for (let from = 0; from < RELOADS; from += 10_000) load(from, Math.min(RELOADS, from + 10_000));
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.close();
  const store = SqliteStore.open({ path });
  // A service that has run for a while holds the keys of its old reloads in the large level.
  store.settleKeys();
  return store;
}

async function seedPostgres(): Promise<Store> {
  const url = await createDatabase(pgName);
  await (await PostgresStore.open({ url, poolSize: 2 })).close(); // the schema
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    // One multi-row INSERT per 1,000 reloads, in one transaction, through the store's column order.
    await client.query('BEGIN');
    for (let from = 0; from < RELOADS; from += 1000) {
      const rows: unknown[][] = [];
      for (let i = from; i < Math.min(RELOADS, from + 1000); i++) rows.push(reloadValues(i, 'boolean'));
      const width = rows[0]!.length;
      const placeholders = rows.map((_, r) => `(${Array.from({ length: width }, (_, c) => `$${r * width + c + 1}`).join(', ')})`).join(', ');
      await client.query(`INSERT INTO reloads (${RELOAD_COLUMNS}) VALUES ${placeholders}`, rows.flat());
    }
    await client.query('COMMIT');
    await client.query('VACUUM ANALYZE reloads');
  } finally {
    await client.end();
  }
  return PostgresStore.open({ url, poolSize: 10 });
}

try {
  const seedStarted = performance.now();
  const store = POSTGRES ? await seedPostgres() : await seedSqlite();
  console.log(`seeded ${RELOADS.toLocaleString('en-US')} finished reloads of ${TASKS.toLocaleString('en-US')} tasks (${POSTGRES ? 'PostgreSQL' : 'SQLite'}) in ${((performance.now() - seedStarted) / 1000).toFixed(1)} s`);

  const config = loadConfig({});
  const scheduler = new Scheduler(store, new SimulatedExecutor({ durationMs: 0, failureRate: 0 }), systemClock, pino({ level: 'silent' }), config.scheduler as SchedulerConfig, 'bench');
  let deleted = 0;
  let done!: () => void;
  const drained = new Promise<void>((resolve) => (done = resolve));
  scheduler.on('pruned', (p) => {
    deleted += p.reloads;
    if (deleted >= RELOADS) done();
  });
  let maxWal = 0;
  const watch = setInterval(() => {
    try {
      if (!POSTGRES) maxWal = Math.max(maxWal, statSync(`${path}-wal`).size);
    } catch {
      // no log file at this instant
    }
  }, 50);
  const delay = monitorEventLoopDelay({ resolution: 1 });
  const load0 = loadavg()[0]!;
  delay.enable();
  const started = performance.now();
  scheduler.start();
  await Promise.race([drained, new Promise((resolve) => setTimeout(resolve, SECONDS * 1000))]);
  const seconds = (performance.now() - started) / 1000;
  delay.disable();
  clearInterval(watch);
  await scheduler.stop();
  await store.close();

  const ms = (ns: number): string => (ns / 1e6).toFixed(1);
  console.log(`machine: ${cpus().length} × ${cpus()[0]?.model ?? '?'}, Node ${process.version}, load average ${load0.toFixed(2)} at the start`);
  console.log(
    `pruned ${deleted.toLocaleString('en-US')} of ${RELOADS.toLocaleString('en-US')} reloads in ${seconds.toFixed(1)} s: ` +
      `${Math.round(deleted / seconds).toLocaleString('en-US')} a second; event loop delay p99 ${ms(delay.percentile(99))} ms, ` +
      `max ${ms(delay.max)} ms${POSTGRES ? '' : `; largest write-ahead log ${(maxWal / 2 ** 20).toFixed(1)} MiB`}`,
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
  if (POSTGRES) await dropDatabase(pgName);
}
