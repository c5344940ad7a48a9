/**
 * Starting and stopping the service: configuration, the store (migrated), the verifier, the HTTP
 * app and the scheduler. SIGTERM and SIGINT close it cleanly: stop accepting requests and firing,
 * give running reloads the shutdown grace, hand the rest off under their leases, close the database.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { pino, type Logger } from 'pino';
import { systemClock, type Clock } from './clock.js';
import type { Config } from './config.js';
import { loadOrCreateLocalKey } from './auth/local-key.js';
import { createVerifier } from './auth/verifier.js';
import { buildApp } from './http/app.js';
import { createExecutor } from './reloads/executors/index.js';
import { Scheduler } from './scheduler/scheduler.js';
import { SqliteStore } from './store/sqlite/sqlite-store.js';
import type { Store } from './store/store.js';

export interface Running {
  readonly app: FastifyInstance;
  readonly store: Store;
  readonly scheduler: Scheduler | undefined;
  readonly url: string;
  readonly log: Logger;
  close(): Promise<void>;
}

export const SQLITE_FILE = 'reload-tasks.db';

/** Log redaction: the request serializer logs no headers, but never let a token or key through. */
const REDACT = ['req.headers.authorization', 'headers.authorization', 'authorization', 'apiKey', 'secret'];

export async function startServer(config: Config, clock: Clock = systemClock): Promise<Running> {
  const log = pino({ level: config.logLevel, redact: REDACT });
  const store = SqliteStore.open({ path: join(config.dataDir, SQLITE_FILE) });
  let scheduler: Scheduler | undefined;
  try {
    // This process's name on the leases of the reloads it runs.
    const owner = `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
    if (config.scheduler.enabled) {
      scheduler = new Scheduler(store, createExecutor(config.executor), clock, log.child({ component: 'scheduler' }), config.scheduler, owner);
    }
    const verify = createVerifier(config.auth, () => loadOrCreateLocalKey(config.dataDir));
    const app = await buildApp({
      config,
      store,
      clock,
      verify,
      logger: log,
      ...(scheduler && { scheduler: { nudge: () => scheduler!.nudge(), cancel: (id: string) => scheduler!.dispatcher.cancel(id) } }),
    });
    const address = await app.listen({ host: config.host, port: config.port });
    scheduler?.start();
    let closing: Promise<void> | undefined;
    const close = (): Promise<void> =>
      (closing ??= (async () => {
        await app.close();
        await scheduler?.stop();
        await store.close();
      })());
    return { app, store, scheduler, log, url: address.replace('0.0.0.0', 'localhost').replace('[::]', 'localhost'), close };
  } catch (e) {
    await scheduler?.stop();
    await store.close();
    throw e;
  }
}
