// /health/live, /health/ready and /metrics: what an orchestrator and Prometheus see.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ManualClock } from '../../src/clock.js';
import { loadConfig } from '../../src/config.js';
import { createVerifier } from '../../src/auth/verifier.js';
import { loadOrCreateLocalKey } from '../../src/auth/local-key.js';
import { buildApp } from '../../src/http/app.js';
import { Metrics } from '../../src/metrics.js';
import type { CheckpointStatus } from '../../src/store/sqlite/checkpointer.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { queuedReload } from '../../src/reloads/reload.js';
import { SimulatedExecutor } from '../../src/reloads/executors/simulated.js';
import { Scheduler } from '../../src/scheduler/scheduler.js';
import { StoreUnavailableError, type Store } from '../../src/store/store.js';
import { newTaskId } from '../../src/tasks/ids.js';
import { createTask } from '../../src/tasks/task.js';
import { quiet } from '../helpers/scheduler.js';
import { createTestStore, type TestStore } from '../helpers/store.js';
import { errorOf } from '../helpers/api.js';

const dir = mkdtempSync(join(tmpdir(), 'reload-tasks-ops-'));
let ts: TestStore;
before(async () => {
  ts = await createTestStore(dir);
});
after(() => ts.drop());

async function appWith(opts: { store?: Store; running?: boolean; token?: string; metrics?: Metrics }) {
  const config = loadConfig({ DATA_DIR: dir, RATE_LIMIT_ENABLED: 'false', ...(opts.token && { METRICS_TOKEN: opts.token }) });
  return buildApp({
    config,
    store: opts.store ?? ts.store,
    clock: new ManualClock(Date.now()),
    verify: createVerifier(config.auth, () => loadOrCreateLocalKey(dir)),
    ...(opts.metrics && { metrics: opts.metrics }),
    ...(opts.running !== undefined && { scheduler: { nudge: () => {}, cancel: () => {}, running: () => opts.running! } }),
  });
}

describe('health', () => {
  it('live answers 200; ready checks the store, the migrations and the scheduler', async () => {
    const app = await appWith({ running: true });
    assert.deepEqual((await app.inject('/health/live')).json(), { status: 'ok' });
    const ready = await app.inject('/health/ready');
    assert.equal(ready.statusCode, 200);
    assert.deepEqual(ready.json(), { status: 'ok', checks: { store: 'ok', migrations: 'ok', scheduler: 'ok' } });
    await app.close();
    const stopped = await appWith({ running: false });
    const r = await stopped.inject('/health/ready');
    assert.equal(r.statusCode, 503);
    assert.equal(r.json().checks.scheduler, 'stopped');
    await stopped.close();
  });

  it('ready is 503 when the store does not answer', async () => {
    const down = new Proxy(ts.store, {
      get(target, name) {
        if (name === 'schemaVersion') return async () => { throw new StoreUnavailableError('down'); };
        return Reflect.get(target, name) as unknown;
      },
    });
    const app = await appWith({ store: down });
    const r = await app.inject('/health/ready');
    assert.equal(r.statusCode, 503);
    assert.deepEqual(r.json(), { status: 'unavailable', checks: { store: 'unreachable' } });
    await app.close();
  });
});

describe('metrics', () => {
  it('exposes the scheduler, reload, HTTP and store metrics, behind the metrics token', async () => {
    const metrics = new Metrics({ queueDepth: () => ts.store.queuedCount(), oldestQueuedAge: async () => 0, running: () => 0 });
    const store = metrics.timedStore(ts.store);
    const app = await appWith({ store, token: 'metrics-secret', metrics });
    // Fire one occurrence through a scheduler wired as the server wires it.
    const clock = new ManualClock(Date.parse('2027-01-04T08:00:00Z'));
    const t = createTask({ appId: 'a', timeZone: 'UTC', startDateTime: '2027-01-04T09:00:00' }, newTaskId(clock.now()), { tenantId: 'm', userId: 'u' }, clock.now());
    await store.insertTask(t);
    const scheduler = new Scheduler(store, new SimulatedExecutor({ durationMs: 0, failureRate: 0 }), clock, quiet, loadConfig({}).scheduler, 'ops-test');
    scheduler.on('recorded', (o, at) => metrics.recorded(o, at));
    scheduler.on('finished', (f) => metrics.finished(f));
    clock.set(Date.parse('2027-01-04T09:00:00.250Z'));
    await scheduler.tick();
    await scheduler.dispatcher.idle();
    await app.inject('/api/v1/reload-tasks/abc'); // a 401, counted by route pattern

    assert.equal((await app.inject('/metrics')).statusCode, 401);
    assert.equal(errorOf(await app.inject({ url: '/metrics', headers: { authorization: 'Bearer wrong' } })).code, 'HTTP-401');
    const res = await app.inject({ url: '/metrics', headers: { authorization: 'Bearer metrics-secret' } });
    assert.equal(res.statusCode, 200);
    assert.match(String(res.headers['content-type']), /^text\/plain/);
    const text = res.body;
    assert.match(text, /reload_tasks_occurrences_total\{outcome="fired"\} 1/);
    assert.match(text, /reload_tasks_fire_skew_seconds_bucket\{le="0.25"\} 1/);
    assert.match(text, /reload_tasks_fire_skew_seconds_bucket\{le="0.1"\} 0/);
    assert.match(text, /reload_tasks_reloads_finished_total\{status="SUCCEEDED",executor="simulated"\} 1/);
    assert.match(text, /reload_tasks_reload_queue_depth 0/);
    assert.match(text, /reload_tasks_http_request_duration_seconds_count\{method="GET",route="\/api\/v1\/reload-tasks\/:taskId",status_code="401"\} 1/);
    assert.match(text, /reload_tasks_store_operation_duration_seconds_count\{operation="fireDue"\} [1-9]/);
    assert.match(text, /reload_tasks_process_resident_memory_bytes/);
    // Not on SQLite's list unless the store is SQLite (the server passes its checkpointer's status).
    assert.doesNotMatch(text, /reload_tasks_sqlite_/);
    await scheduler.stop();
    await app.close();
  });

  it("SQLite: the log's frames not yet checkpointed, and checkpoint failures as a counter", async () => {
    let status: CheckpointStatus = { failures: 0, consecutiveFailures: 0, lastError: undefined, logFrames: 120, pendingFrames: 80 };
    const metrics = new Metrics({ queueDepth: async () => 0, oldestQueuedAge: async () => 0, running: () => 0, checkpoints: () => status });
    const scrape = async (): Promise<string> => (await metrics.registry.metrics()) as string;
    let text = await scrape();
    assert.match(text, /^reload_tasks_sqlite_wal_pending_frames 80$/m);
    assert.match(text, /^reload_tasks_sqlite_checkpoint_failures_total 0$/m);
    status = { ...status, failures: 3, consecutiveFailures: 3, lastError: 'disk I/O error', pendingFrames: 95 };
    text = await scrape();
    assert.match(text, /^reload_tasks_sqlite_wal_pending_frames 95$/m);
    assert.match(text, /^reload_tasks_sqlite_checkpoint_failures_total 3$/m);
    // Scraped again with nothing new: a counter does not count the same failures twice.
    text = await scrape();
    assert.match(text, /^reload_tasks_sqlite_checkpoint_failures_total 3$/m);
  });

  it("SQLite: the reloads' list keys not yet moved into their large level", async () => {
    const store = SqliteStore.open({ path: join(dir, 'list-keys.db'), settle: false });
    try {
      const metrics = new Metrics({ queueDepth: async () => 0, oldestQueuedAge: async () => 0, running: () => 0, listKeys: () => store.settleStatus() });
      const scrape = async (): Promise<string> => (await metrics.registry.metrics()) as string;
      assert.match(await scrape(), /^reload_tasks_sqlite_list_keys_unsettled 0$/m);
      for (let i = 0; i < 4; i++) {
        // Scheduled: keyed by app, owner and task; by hand: by app and owner only.
        const scheduled = i % 2 === 0;
        await store.insertReload(queuedReload({ tenantId: 'acme', userId: 'u', appId: `app-${i}`, partial: false, type: scheduled ? 'chronos' : 'external', resourceType: scheduled ? 'reload-tasks' : 'api', resourceId: scheduled ? `task-${i}` : null, scheduledTime: null }, 1_000 + i));
      }
      assert.match(await scrape(), /^reload_tasks_sqlite_list_keys_unsettled 10$/m);
      assert.equal(store.settleKeys(), 10);
      const text = await scrape();
      assert.match(text, /^reload_tasks_sqlite_list_keys_unsettled 0$/m);
      assert.match(text, /^reload_tasks_sqlite_list_key_move_failures_total 0$/m);
    } finally {
      await store.close();
    }
  });
});
