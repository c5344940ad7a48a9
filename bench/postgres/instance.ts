/**
 * One scheduler instance in its own process: `node --import tsx bench/postgres/instance.ts '<job>'`,
 * started by run.ts with an IPC channel. It opens the store (PostgreSQL, or the SQLite file), builds
 * the real Scheduler (loadConfig(env), SimulatedExecutor, a ManualClock), runs one pass with nothing
 * due (as a running scheduler has: pool connected, statements prepared, schedule compiled), says
 * `ready`, and on `go` sets the clock to the backlog's last due occurrence and calls `tick()` until
 * nothing is due (mode `fire`), or until nothing is due or queued and its own reloads have finished
 * (mode `dispatch`). It sends back what it recorded, when, and where its time went.
 */
import { ManualClock } from '../../src/clock.js';
import { loadConfig } from '../../src/config.js';
import { SimulatedExecutor } from '../../src/reloads/executors/simulated.js';
import { Scheduler } from '../../src/scheduler/scheduler.js';
import { PostgresStore } from '../../src/store/postgres/postgres-store.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import type { Store } from '../../src/store/store.js';
import { quiet } from '../../test/helpers/scheduler.js';
import { CREATED_AT, nowOf, type Backlog } from './db.js';
import { installTrace, type Trace } from './sql-trace.js';

export type StoreSpec = { readonly kind: 'postgres'; readonly url: string; readonly poolSize: number } | { readonly kind: 'sqlite'; readonly path: string };

export interface InstanceJob {
  readonly name: string;
  readonly store: StoreSpec;
  readonly backlog: Backlog;
  /** `fire`: the dispatcher starts nothing (its dispatch() is a no-op on this instance); `dispatch`: it starts and finishes every reload. */
  readonly mode: 'fire' | 'dispatch';
  readonly env: Record<string, string>;
  /** Evidence run: trace every statement, EXPLAIN (ANALYZE, BUFFERS) these calls. */
  readonly trace?: Record<string, readonly number[]>;
}

export interface OpTime {
  calls: number;
  ms: number;
  /** fireDue: occurrences returned; calls that returned none. */
  items: number;
  empty: number;
  /** The most calls of this operation in flight at once, and the longest call (ms). */
  maxInFlight: number;
  maxMs: number;
}

export interface InstanceResult {
  readonly name: string;
  readonly goAt: number;
  readonly firstRecordAt: number | null;
  readonly lastRecordAt: number | null;
  readonly lastFinishedAt: number | null;
  readonly doneAt: number;
  readonly recorded: { fired: number; skipped: number; missed: number };
  readonly batches: number;
  readonly finished: number;
  readonly ticks: number;
  /** Passes that threw (the scheduler's loop would log and back off), with when and why. */
  readonly failures: ReadonlyArray<{ at: number; error: string }>;
  readonly cpuMs: { user: number; system: number };
  readonly ops: Record<string, OpTime>;
  readonly trace: Trace | undefined;
}

type Message = { kind: 'go' };

const OPS = ['fireDue', 'nextDueTime', 'expireQueued', 'nextLeaseExpiry', 'takeExpiredLeases', 'claimQueued', 'finishReloads', 'renewLeases', 'oldestQueuedTime', 'prune'] as const;

/** Times the store's scheduler calls on this instance (not the class). */
function instrument(store: Store): Record<string, OpTime> {
  const ops: Record<string, OpTime> = {};
  const target = store as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>;
  for (const op of OPS) {
    const original = target[op];
    if (typeof original !== 'function') continue;
    const bound = original.bind(store);
    const entry: OpTime = (ops[op] = { calls: 0, ms: 0, items: 0, empty: 0, maxInFlight: 0, maxMs: 0 });
    let inFlight = 0;
    target[op] = async (...args: unknown[]) => {
      const t0 = performance.now();
      inFlight += 1;
      entry.maxInFlight = Math.max(entry.maxInFlight, inFlight);
      try {
        const r = await bound(...args);
        if (Array.isArray(r)) {
          entry.items += r.length;
          if (r.length === 0) entry.empty += 1;
        }
        return r;
      } finally {
        inFlight -= 1;
        const ms = performance.now() - t0;
        entry.calls += 1;
        entry.ms += ms;
        entry.maxMs = Math.max(entry.maxMs, ms);
      }
    };
  }
  return ops;
}

async function main(): Promise<void> {
  const job = JSON.parse(process.argv[2] ?? '') as InstanceJob;
  const trace = job.trace ? installTrace(job.trace) : undefined;
  const config = loadConfig(job.env);
  const store: Store =
    job.store.kind === 'postgres'
      ? await PostgresStore.open({ url: job.store.url, poolSize: job.store.poolSize, fireConcurrency: config.databaseFireConcurrency })
      : SqliteStore.open({ path: job.store.path });
  if (config.executor.kind !== 'simulated') throw new Error('the bench uses the simulated executor');
  const clock = new ManualClock(CREATED_AT);
  const executor = new SimulatedExecutor({ durationMs: config.executor.durationMs, failureRate: 0 });
  const scheduler = new Scheduler(store, executor, clock, quiet, config.scheduler, `bench-${job.name}-${process.pid}`);
  if (job.mode === 'fire') scheduler.dispatcher.dispatch = async () => 0;

  await scheduler.tick(); // nothing due yet
  const ops = instrument(store);
  const recorded = { fired: 0, skipped: 0, missed: 0 };
  let batches = 0;
  let finished = 0;
  let firstRecordAt: number | null = null;
  let lastRecordAt: number | null = null;
  let lastFinishedAt: number | null = null;
  scheduler.on('recorded', (occurrences) => {
    const at = Date.now();
    firstRecordAt ??= at;
    lastRecordAt = at;
    batches += 1;
    for (const o of occurrences) recorded[o.outcome] += 1;
  });
  scheduler.on('finished', () => {
    finished += 1;
    lastFinishedAt = Date.now();
  });

  await new Promise<void>((resolve) => {
    process.on('message', (m: Message) => m.kind === 'go' && resolve());
    process.send!({ kind: 'ready' });
  });
  const goAt = Date.now();
  const cpu0 = process.cpuUsage();
  const now = nowOf(job.backlog);
  clock.set(now);
  let ticks = 0;
  const failures: Array<{ at: number; error: string }> = [];
  let failed = 0;
  for (;;) {
    const before = recorded.fired + recorded.skipped + recorded.missed + finished;
    try {
      await scheduler.tick();
      ticks += 1;
      if (job.mode === 'dispatch') {
        await scheduler.dispatcher.idle();
        while (scheduler.dispatcher.recording) await new Promise((r) => setTimeout(r, 1));
      }
      const due = await store.nextDueTime();
      failed = 0;
      if (due !== null && due <= now) continue;
      if (job.mode === 'fire') break;
      if ((await store.oldestQueuedTime()) === null) break;
    } catch (e) {
      // What the scheduler's own loop does with a failed pass (Scheduler.run): note it, back off
      // 1 s, 2 s, … 30 s, and try again.
      failed += 1;
      const error = e instanceof Error ? `${e.name}: ${e.message}${e.cause instanceof Error ? ` (${e.cause.message})` : ''}` : String(e);
      failures.push({ at: Date.now(), error });
      process.stderr.write(`[bench:postgres] instance ${job.name}: pass failed (${error}); retrying\n`);
      await new Promise((r) => setTimeout(r, Math.min(30_000, 1000 * 2 ** Math.min(failed - 1, 5))));
      continue;
    }
    // Queued reloads remain but another instance holds them: look again shortly (a running
    // scheduler would sleep until another instance's change or a freed slot nudges it).
    if (recorded.fired + recorded.skipped + recorded.missed + finished === before) await new Promise((r) => setTimeout(r, 5));
  }
  const doneAt = Date.now();
  const cpu = process.cpuUsage(cpu0);
  await scheduler.stop();
  await store.close();
  const result: InstanceResult = {
    name: job.name,
    goAt,
    firstRecordAt,
    lastRecordAt,
    lastFinishedAt,
    doneAt,
    recorded,
    batches,
    finished,
    ticks,
    failures,
    cpuMs: { user: cpu.user / 1000, system: cpu.system / 1000 },
    ops,
    trace,
  };
  process.send!({ kind: 'result', result }, () => process.exit(0));
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
