/** The store the configuration asks for: PostgreSQL when DATABASE_URL is set, else SQLite in DATA_DIR. */
import { join } from 'node:path';
import type { Config } from '../config.js';
import { PostgresStore } from './postgres/postgres-store.js';
import type { CheckpointEvent } from './sqlite/checkpointer.js';
import { SqliteStore } from './sqlite/sqlite-store.js';
import type { Store } from './store.js';

export const SQLITE_FILE = 'reload-tasks.db';

export interface StoreHooks {
  /** SQLite: checkpoints started failing, or recovered (see sqlite/checkpointer.ts). */
  readonly onCheckpoint?: (event: CheckpointEvent) => void;
}

export async function openStore(
  config: Pick<Config, 'databaseUrl' | 'databasePoolSize' | 'dataDir'> & Partial<Pick<Config, 'databasePreparedStatements' | 'databaseFireConcurrency' | 'sqliteCacheMb' | 'sqliteTaskCache'>>,
  hooks: StoreHooks = {},
): Promise<Store> {
  if (config.databaseUrl) {
    return PostgresStore.open({
      url: config.databaseUrl,
      poolSize: config.databasePoolSize,
      preparedStatements: config.databasePreparedStatements ?? true,
      ...(config.databaseFireConcurrency !== undefined && { fireConcurrency: config.databaseFireConcurrency }),
    });
  }
  return SqliteStore.open({
    path: join(config.dataDir, SQLITE_FILE),
    ...(config.sqliteCacheMb !== undefined && { cacheMb: config.sqliteCacheMb }),
    ...(config.sqliteTaskCache !== undefined && { taskCacheSize: config.sqliteTaskCache }),
    ...(hooks.onCheckpoint && { onCheckpoint: hooks.onCheckpoint }),
  });
}
