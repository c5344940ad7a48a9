/**
 * How long a SQLite database with reloads on record takes to open with this build, when its last
 * migration is older: the time a new version adds to the first start after an upgrade.
 *
 *   node --import tsx bench/scheduler/migration-time.ts [--reloads 2000000] [--from 8]
 *
 * Builds a database with migrations up to `--from` and `--reloads` finished scheduled reloads of
 * 100,000 tasks (100 tenants, 1,000 owners), then times SqliteStore.open, which applies the rest.
 * The database is in a temporary directory, removed at the end.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';
import { loadMigrations } from '../../src/store/migrations.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';

const { values } = parseArgs({ options: { reloads: { type: 'string', default: '2000000' }, from: { type: 'string', default: '8' } } });
const n = Number(values.reloads);
const from = Number(values.from);
const dir = mkdtempSync(join(tmpdir(), 'rt-migration-time-'));
const path = join(dir, 'reload-tasks.db');
try {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = OFF'); // nobody else uses the file while it is built
  // The ledger as the store keeps it (sqlite-store.ts, migrate()).
  db.exec('CREATE TABLE schema_migrations (version INTEGER NOT NULL PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL) STRICT');
  for (const m of loadMigrations('sqlite').filter((m) => m.version <= from)) {
    db.exec(m.sql);
    db.prepare('INSERT INTO schema_migrations VALUES (?, ?, 0)').run(m.version, m.name);
  }
  const insert = db.prepare(`INSERT INTO reloads (id, tenant_id, user_id, app_id, partial, type, resource_type, resource_id, status, creation_time, attempts)
    VALUES (?, ?, ?, ?, 0, 'chronos', 'reload-tasks', ?, 'SUCCEEDED', ?, 1)`);
  db.transaction(() => {
    for (let i = 0; i < n; i++) {
      const task = i % 100_000;
      insert.run(`${String(i).padStart(12, '0')}${String(task).padStart(12, '0')}`, `tenant-${task % 100}`, `user-${task % 1000}`, `app-${task}`, `task-${task}`, i);
    }
  })();
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.close();
  const t0 = performance.now();
  const store = SqliteStore.open({ path, settle: false });
  const ms = performance.now() - t0;
  await store.close();
  console.log(`opened a database at migration ${from} with ${n.toLocaleString('en-US')} reloads in ${ms.toFixed(0)} ms (the migrations after ${from} included)`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
