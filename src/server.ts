/**
 * Starting and stopping the service: configuration, the store (migrated), the verifier, the HTTP
 * app. SIGTERM and SIGINT close it cleanly: stop accepting, finish requests in flight, close the
 * database.
 */
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { systemClock, type Clock } from './clock.js';
import type { Config } from './config.js';
import { loadOrCreateLocalKey } from './auth/local-key.js';
import { createVerifier } from './auth/verifier.js';
import { buildApp } from './http/app.js';
import { SqliteStore } from './store/sqlite/sqlite-store.js';
import type { Store } from './store/store.js';

export interface Running {
  readonly app: FastifyInstance;
  readonly store: Store;
  readonly url: string;
  close(): Promise<void>;
}

export const SQLITE_FILE = 'reload-tasks.db';

export async function startServer(config: Config, clock: Clock = systemClock): Promise<Running> {
  const store = SqliteStore.open({ path: join(config.dataDir, SQLITE_FILE) });
  try {
    const verify = createVerifier(config.auth, () => loadOrCreateLocalKey(config.dataDir));
    const app = await buildApp({
      config,
      store,
      clock,
      verify,
      logger: {
        level: config.logLevel,
        // Belt and braces: the request serializer logs no headers, but never let a token through.
        redact: ['req.headers.authorization', 'headers.authorization', 'authorization'],
      },
    });
    const address = await app.listen({ host: config.host, port: config.port });
    let closing: Promise<void> | undefined;
    const close = (): Promise<void> =>
      (closing ??= (async () => {
        await app.close();
        await store.close();
      })());
    return { app, store, url: address.replace('0.0.0.0', 'localhost').replace('[::]', 'localhost'), close };
  } catch (e) {
    await store.close();
    throw e;
  }
}
