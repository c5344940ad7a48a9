/**
 * Starting and stopping the service: configuration, the store (migrated; SQLite or PostgreSQL), the
 * clock (corrected against the database's), the verifier, the HTTP app and the scheduler. SIGTERM
 * and SIGINT close it cleanly: stop accepting requests and firing, give running reloads the
 * shutdown grace, hand the rest off under their leases, close the database.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { FastifyInstance } from 'fastify';
import { pino, type Logger } from 'pino';
import { CorrectedClock, systemClock, type Clock } from './clock.js';
import type { Config } from './config.js';
import { loadOrCreateLocalKey } from './auth/local-key.js';
import { createVerifier } from './auth/verifier.js';
import { buildApp } from './http/app.js';
import { Metrics } from './metrics.js';
import { createExecutor } from './reloads/executors/index.js';
import { Scheduler } from './scheduler/scheduler.js';
import { openStore } from './store/open.js';
import { SqliteStore } from './store/sqlite/sqlite-store.js';
import type { Store } from './store/store.js';

export interface Running {
  readonly app: FastifyInstance;
  readonly store: Store;
  readonly scheduler: Scheduler | undefined;
  readonly clock: CorrectedClock;
  readonly url: string;
  readonly log: Logger;
  close(): Promise<void>;
}

/** Log redaction: the request serializer logs no headers, but never let a token or key through. */
const REDACT = ['req.headers.authorization', 'headers.authorization', 'authorization', 'apiKey', 'secret'];
/** How often the clock is corrected against the database. */
const CLOCK_SYNC_MS = 60_000;

export async function startServer(config: Config, baseClock: Clock = systemClock): Promise<Running> {
  const log = pino({ level: config.logLevel, redact: REDACT });
  let schedulerRef: Scheduler | undefined;
  const opened = await openStore(config, {
    onCheckpoint: (e) =>
      e.kind === 'failed'
        ? log.warn({ err: e.error, consecutive: e.consecutive }, 'SQLite checkpoint failed: the write-ahead log grows until one succeeds')
        : log.info({ failures: e.failures }, 'SQLite checkpoints succeed again'),
  });
  const metrics = new Metrics({
    ...(opened instanceof SqliteStore && { checkpoints: () => opened.checkpointer.status(), listKeys: () => opened.settleStatus() }),
    queueDepth: () => opened.queuedCount(),
    oldestQueuedAge: async () => {
      const t = await opened.oldestQueuedTime();
      return t === null ? 0 : Math.max(0, (Date.now() - t) / 1000);
    },
    running: () => schedulerRef?.dispatcher.running ?? 0,
  });
  const store = metrics.timedStore(opened);
  let scheduler: Scheduler | undefined;
  let stopSync = (): void => {};
  try {
    const clock = new CorrectedClock(baseClock);
    const sync = async (): Promise<void> => {
      const offset = await clock.sync(() => store.databaseTime());
      if (Math.abs(offset) > 1000) log.warn({ offsetMs: offset }, "this machine's clock differs from the database's; using the database's");
    };
    await sync();
    const timer = setInterval(() => void sync().catch((e: unknown) => log.warn({ err: e }, 'clock sync failed')), CLOCK_SYNC_MS);
    timer.unref();
    stopSync = () => clearInterval(timer);

    // This process's name on the leases of the reloads it runs.
    const owner = `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
    if (config.scheduler.enabled) {
      scheduler = new Scheduler(store, createExecutor(config.executor), clock, log.child({ component: 'scheduler' }), config.scheduler, owner);
      schedulerRef = scheduler;
      const s = scheduler;
      s.on('recorded', (occurrences, at) => metrics.recorded(occurrences, at));
      s.on('finished', (f) => metrics.finished(f));
      s.on('pruned', (p) => metrics.pruned(p));
      // Other instances' changes (PostgreSQL LISTEN/NOTIFY) wake this one's scheduler.
      await store.subscribe((e) => (e.kind === 'cancel' ? s.dispatcher.cancel(e.reloadId) : s.nudge()));
    }
    const verify = createVerifier(config.auth, () => loadOrCreateLocalKey(config.dataDir), {
      now: () => clock.now(),
      onAccept: (how) => metrics.tokenAccepted(how),
    });
    const app = await buildApp({
      config,
      store,
      clock,
      verify,
      logger: log,
      metrics,
      ...(scheduler && {
        scheduler: { nudge: () => scheduler!.nudge(), cancel: (id: string) => scheduler!.dispatcher.cancel(id), running: () => scheduler!.started },
      }),
    });
    const address = await app.listen({ host: config.host, port: config.port });
    scheduler?.start();
    let closing: Promise<void> | undefined;
    const close = (): Promise<void> =>
      (closing ??= (async () => {
        stopSync();
        await app.close();
        await scheduler?.stop();
        await store.close();
      })());
    return { app, store, scheduler, clock, log, url: address.replace('0.0.0.0', 'localhost').replace('[::]', 'localhost'), close };
  } catch (e) {
    stopSync();
    await scheduler?.stop();
    await store.close();
    throw e;
  }
}
