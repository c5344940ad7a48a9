/**
 * The store under test, picked by TEST_STORE (`sqlite`, the default, or `postgres`), so one suite
 * runs against both (pg-boss's DB_TYPE). On PostgreSQL every store gets its own fresh database,
 * so test files can run in parallel; TEST_DATABASE_URL points at the server (default: the local one).
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import pg from 'pg';
import { PostgresStore } from '../../src/store/postgres/postgres-store.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import type { Store } from '../../src/store/store.js';

export const TEST_STORE: 'sqlite' | 'postgres' = process.env.TEST_STORE === 'postgres' ? 'postgres' : 'sqlite';
export const ADMIN_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export interface TestStore {
  readonly store: Store;
  /** Where the data is: a SQLite file path or a PostgreSQL URL; `reopen` opens it again. */
  readonly location: string;
  reopen(): Promise<Store>;
  /** Closes the store and removes its database. */
  drop(): Promise<void>;
}

/** A new, empty, migrated store (or, with `location`, another connection to an existing one). */
export async function createTestStore(dir: string, location?: string): Promise<TestStore> {
  if (TEST_STORE === 'sqlite') {
    const path = location ?? join(dir, `store-${randomBytes(4).toString('hex')}.db`);
    const store = SqliteStore.open({ path });
    return { store, location: path, reopen: async () => SqliteStore.open({ path }), drop: () => store.close() };
  }
  let url = location;
  let name: string | undefined;
  if (!url) {
    name = `rt_test_${process.pid}_${randomBytes(4).toString('hex')}`;
    await admin(`CREATE DATABASE ${name}`);
    const u = new URL(ADMIN_URL);
    u.pathname = `/${name}`;
    url = u.toString();
  }
  const store = await PostgresStore.open({ url, poolSize: 5 });
  return {
    store,
    location: url,
    reopen: () => PostgresStore.open({ url: url!, poolSize: 5 }),
    drop: async () => {
      await store.close();
      if (name) await admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    },
  };
}

async function admin(statement: string): Promise<void> {
  const client = new pg.Client({ connectionString: ADMIN_URL });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}
