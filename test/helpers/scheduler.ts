/**
 * A scheduler under test: the real Scheduler and SqliteStore on a temporary file, a ManualClock,
 * and the simulated executor (its duration and outcome set per test).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { pino } from 'pino';
import { ManualClock } from '../../src/clock.js';
import { loadConfig, type SchedulerConfig } from '../../src/config.js';
import type { Reload } from '../../src/reloads/reload.js';
import { SimulatedExecutor } from '../../src/reloads/executors/simulated.js';
import type { Executor } from '../../src/reloads/executor.js';
import { Scheduler } from '../../src/scheduler/scheduler.js';
import type { Store } from '../../src/store/store.js';
import { createTestStore } from './store.js';
import { newTaskId } from '../../src/tasks/ids.js';
import { createTask, type Task, type TaskCreate } from '../../src/tasks/task.js';

export interface SchedulerRig {
  readonly store: Store;
  readonly clock: ManualClock;
  readonly scheduler: Scheduler;
  /** Where the data is (SQLite file or PostgreSQL URL): pass it to another rig to share it. */
  readonly location: string;
  /** Creates a task (owner acme/alice unless given) at the clock's now. */
  task(body: Partial<TaskCreate> & { recurrence?: string[] }, owner?: { tenantId: string; userId: string }): Promise<Task>;
  reloads(taskId?: string): Promise<Reload[]>;
  get(taskId: string, tenantId?: string): Promise<Task>;
  /** Sets the clock and runs one pass. */
  at(iso: string | number): Promise<void>;
  close(): Promise<void>;
}

export const quiet = pino({ level: 'silent' });

export async function createRig(env: Record<string, string> = {}, executor?: Executor, opts: { location?: string; clock?: ManualClock; keep?: boolean; owner?: string } = {}): Promise<SchedulerRig> {
  const dir = mkdtempSync(join(tmpdir(), 'reload-tasks-sched-'));
  const config = loadConfig({ SIMULATED_DURATION_MS: '0', ...env });
  const testStore = await createTestStore(dir, opts.location);
  const store = testStore.store;
  const clock = opts.clock ?? new ManualClock(Date.parse('2027-01-04T08:00:00Z'));
  const exec = executor ?? new SimulatedExecutor({ durationMs: config.executor.kind === 'simulated' ? config.executor.durationMs : 0, failureRate: 0 });
  const scheduler = new Scheduler(store, exec, clock, quiet, config.scheduler as SchedulerConfig, opts.owner ?? 'test-instance');
  return {
    store,
    clock,
    scheduler,
    location: testStore.location,
    async task(body, owner = { tenantId: 'acme', userId: 'alice' }) {
      const now = clock.now();
      const t = createTask({ appId: 'app-1', timeZone: 'UTC', ...body }, newTaskId(now), owner, now);
      await store.insertTask(t);
      return t;
    },
    async reloads(taskId) {
      const all = await store.listReloads({ tenantId: 'acme', limit: 1000, ...(taskId && { resourceId: taskId }) });
      return all.reverse(); // oldest first
    },
    async get(taskId, tenantId = 'acme') {
      const t = await store.getTask(tenantId, taskId);
      if (!t) throw new Error(`no task ${taskId}`);
      return t;
    },
    async at(when) {
      clock.set(typeof when === 'number' ? when : Date.parse(when));
      await scheduler.tick();
    },
    async close() {
      await scheduler.stop();
      // A rig that shares another's data closes its connection only; the owner drops the data.
      if (opts.location || opts.keep) await store.close();
      else await testStore.drop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * A rig on PostgreSQL and a connection of its own to the same database (for a test that holds rows
 * as another instance would); both are closed after the test.
 */
export async function rigWithConnection(t: { after(fn: () => Promise<void>): void }): Promise<{ rig: SchedulerRig; client: pg.Client }> {
  const rig = await createRig();
  const client = new pg.Client({ connectionString: rig.location });
  await client.connect();
  t.after(async () => {
    await client.end().catch(() => {});
    await rig.close();
  });
  return { rig, client };
}
