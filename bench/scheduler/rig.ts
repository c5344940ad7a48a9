/**
 * The scheduler benchmark's rig: a fresh SQLite file under /tmp, seeded fast with one better-sqlite3
 * transaction through the store's own row mapping, then the real Scheduler + SqliteStore + simulated
 * executor on it, with either a ManualClock or the system clock. The store's scheduler operations are
 * timed per call (their bodies are synchronous, so the time is the database work plus the JS around
 * it), which gives a breakdown of each pass without touching src/.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { Clock } from '../../src/clock.js';
import { loadConfig, type SchedulerConfig } from '../../src/config.js';
import { SimulatedExecutor } from '../../src/reloads/executors/simulated.js';
import { Scheduler } from '../../src/scheduler/scheduler.js';
import { toRow } from '../../src/store/row.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { INSERT_TASK } from '../../src/store/sqlite/task-sql.js';
import { newTaskId } from '../../src/tasks/ids.js';
import { createTask, type Owner, type Task, type TaskCreate } from '../../src/tasks/task.js';
import { quiet } from '../../test/helpers/scheduler.js';

/** A fresh directory under /tmp for one scenario's database. */
export function tempDb(label: string): { dir: string; path: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), `reload-tasks-bench-sched-${label}-`));
  return { dir, path: join(dir, 'sched.db'), remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface SeedSpec {
  readonly count: number;
  /** Creation time of every task (its nextExecutionTime is the schedule's first occurrence after it). */
  readonly now: number;
  /** The i-th task's body and owner. */
  make(i: number): { body: TaskCreate; owner: Owner };
}

export interface SeedResult {
  readonly tasks: number;
  readonly seconds: number;
  readonly distinctSchedules: number;
  /** Earliest and latest nextExecutionTime seeded. */
  readonly firstDue: number | null;
  readonly lastDue: number | null;
}

/**
 * Creates the database with the store (so it is migrated exactly as in production), closes it, then
 * inserts every task in one transaction with the store's INSERT_TASK and toRow, and checkpoints.
 * Each task is built by createTask, i.e. validated and given its nextExecutionTime by the real code
 * (once per distinct schedule; see below).
 */
export async function seed(path: string, spec: SeedSpec): Promise<SeedResult> {
  const t0 = performance.now();
  const store = SqliteStore.open({ path });
  await store.close();
  const db = new Database(path);
  const keys = new Set<string>();
  let firstDue: number | null = null;
  let lastDue: number | null = null;
  try {
    const insert = db.prepare(INSERT_TASK);
    // Tasks with the same schedule fields get the same nextExecutionTime: createTask runs once per
    // distinct schedule, and the other tasks are that task with their own id, owner and app.
    const templates = new Map<string, Task>();
    db.transaction(() => {
      for (let i = 0; i < spec.count; i++) {
        const { body, owner } = spec.make(i);
        const key = JSON.stringify([body.timeZone, body.startDateTime ?? null, body.endDateTime ?? null, body.recurrence ?? null, body.partial ?? false]);
        const id = newTaskId(spec.now);
        let template = templates.get(key);
        if (!template) {
          template = createTask(body, id, owner, spec.now);
          templates.set(key, template);
        }
        const task: Task = { ...template, id, tenantId: owner.tenantId, userId: owner.userId, appId: body.appId };
        insert.run(toRow(task, 'integer'));
        keys.add(JSON.stringify([task.timeZone, task.startDateTime, task.endDateTime, task.recurrence]));
        const due = task.nextExecutionTime;
        if (due !== null) {
          firstDue = firstDue === null ? due : Math.min(firstDue, due);
          lastDue = lastDue === null ? due : Math.max(lastDue, due);
        }
      }
    }).immediate();
    db.pragma('wal_checkpoint(TRUNCATE)');
  } finally {
    db.close();
  }
  return { tasks: spec.count, seconds: (performance.now() - t0) / 1000, distinctSchedules: keys.size, firstDue, lastDue };
}

/** Per-operation time of the store's scheduler calls. */
export interface OpTimes {
  [op: string]: { calls: number; ms: number };
}

const TIMED_OPS = [
  'fireDue',
  'nextLeaseExpiry',
  'nextDueTime',
  'expireQueued',
  'claimQueued',
  'finishReload',
  'finishReloads',
  'renewLeases',
  'takeExpiredLeases',
  'prune',
  'oldestQueuedTime',
] as const;

/**
 * Wraps the store's scheduler operations on this instance (not the class) to time each call, until
 * its promise settles: the SQLite store's methods are async wrappers around synchronous
 * better-sqlite3 work, but fireDue may first wait (off the event loop) for the log to be copied
 * (Checkpointer.catchUp), and that wait is part of what the call costs.
 */
export function instrument(store: SqliteStore): { times: OpTimes; reset(): void } {
  const times: OpTimes = {};
  const target = store as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>;
  for (const op of TIMED_OPS) {
    if (typeof target[op] !== 'function') continue; // not in this version of the store
    const original = target[op]!.bind(store);
    times[op] = { calls: 0, ms: 0 };
    target[op] = (...args: unknown[]) => {
      const t0 = performance.now();
      const done = (): void => {
        const entry = times[op]!;
        entry.calls += 1;
        entry.ms += performance.now() - t0;
      };
      let result: Promise<unknown>;
      try {
        result = original(...args);
      } catch (e) {
        done();
        throw e;
      }
      return result.finally(done);
    };
  }
  return {
    times,
    reset() {
      for (const op of Object.keys(times)) times[op] = { calls: 0, ms: 0 };
    },
  };
}

export interface Rig {
  readonly store: SqliteStore;
  readonly scheduler: Scheduler;
  readonly config: SchedulerConfig;
  readonly ops: { times: OpTimes; reset(): void };
  close(): Promise<void>;
}

/**
 * The real Scheduler on the seeded file: loadConfig(env) as the server reads it, the simulated
 * executor with the configured duration (failure rate 0), the rig's silent pino logger.
 */
export function openRig(path: string, clock: Clock, env: Record<string, string>): Rig {
  const config = loadConfig(env);
  if (config.executor.kind !== 'simulated') throw new Error('the bench uses the simulated executor');
  // As the server opens it (src/store/open.ts): SQLITE_CACHE_MB in the job's env applies.
  const store = SqliteStore.open({ path, ...(config.sqliteCacheMb !== undefined && { cacheMb: config.sqliteCacheMb }) });
  const ops = instrument(store);
  const executor = new SimulatedExecutor({ durationMs: config.executor.durationMs, failureRate: 0 });
  const scheduler = new Scheduler(store, executor, clock, quiet, config.scheduler, 'bench-instance');
  return {
    store,
    scheduler,
    config: config.scheduler,
    ops,
    async close() {
      await scheduler.stop();
      await store.close();
    },
  };
}

/** Tenants and owners the seeded tasks are spread over (the per-tenant limit then matters). */
export const TENANTS = 100;
export const USERS_PER_TENANT = 10;

export function ownerOf(i: number): Owner {
  const tenant = i % TENANTS;
  return { tenantId: `tenant-${String(tenant).padStart(3, '0')}`, userId: `user-${String(tenant).padStart(3, '0')}-${Math.floor(i / TENANTS) % USERS_PER_TENANT}` };
}

/** `YYYY-MM-DDTHH:MM:SS` of an epoch-ms instant read in UTC (the local wall time of a UTC task). */
export function utcLocal(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19);
}
