// kill -9 during a burst of firings and API writes, again and again: afterwards the SQLite file
// opens, every write the API acknowledged is there, every due occurrence is recorded exactly once
// (fired or missed), every fired one has exactly one reload, and every reload ended.
// The burst is a backlog (tasks whose occurrences were due before the process starts, with the
// `all` misfire policy), so the test needs no fake clock in the real process.
// CRASH_CYCLES sets the number of kills (default 4 here; 20 by hand).
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { loadOrCreateLocalKey } from '../../src/auth/local-key.js';
import { mintToken } from '../../src/auth/mint.js';
import { loadConfig } from '../../src/config.js';
import { compileSchedule } from '../../src/recurrence/index.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { newTaskId } from '../../src/tasks/ids.js';
import { createTask } from '../../src/tasks/task.js';

const main = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'reload-tasks-crash-'));
const dbPath = join(dir, 'reload-tasks.db');
const CYCLES = Number(process.env.CRASH_CYCLES ?? 4);
const TASKS = 3000;
const env = {
  ...process.env,
  DATA_DIR: dir,
  PORT: '0',
  HOST: '127.0.0.1',
  LOG_LEVEL: 'silent',
  MISFIRE_POLICY: 'all',
  OVERLAP_POLICY: 'queue',
  CATCH_UP_WINDOW_HOURS: '24',
  SIMULATED_DURATION_MS: '0',
  MAX_CONCURRENT_RELOADS: '2000',
  MAX_CONCURRENT_RELOADS_PER_TENANT: '2000',
  RELOAD_LEASE_SECONDS: '1',
  SHUTDOWN_GRACE_SECONDS: '5',
};
const children = new Set<ChildProcess>();
after(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

function start(): Promise<ChildProcess & { url: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', main, 'serve'], { env, stdio: ['ignore', 'pipe', 'inherit'] });
  children.add(child);
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) resolve(Object.assign(child, { url: m[1]! }));
    });
    child.on('exit', (code) => reject(new Error(`server exited early (${code}): ${out}`)));
  });
}

/**
 * Creates tasks through the API as fast as it answers, until stopped; returns the ids of the ones
 * the server acknowledged (201). Those must survive any kill.
 */
function writer(url: string, token: string): { readonly acked: string[]; stop(): Promise<string[]> } {
  const acked: string[] = [];
  let running = true;
  const loop = (async () => {
    for (let i = 0; running; i++) {
      try {
        const res = await fetch(`${url}/api/v1/reload-tasks`, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body: JSON.stringify({ appId: `ack-${i}`, timeZone: 'UTC', startDateTime: '2099-01-01T00:00:00', recurrence: ['FREQ=DAILY'] }),
        });
        if (res.status === 201) acked.push(((await res.json()) as { id: string }).id);
      } catch {
        return; // the server died: what was acknowledged so far is what counts
      }
    }
  })();
  return {
    acked,
    async stop() {
      running = false;
      await loop;
      return acked;
    },
  };
}

const exited = (child: ChildProcess) => new Promise<void>((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve() : child.once('exit', () => resolve())));

it(`survives ${CYCLES} kill -9 during a burst of firings without losing or doubling an occurrence`, { timeout: 90_000 + CYCLES * 20_000 }, async (t) => {
  // Tasks every minute since 8 minutes ago: ~8 due occurrences each when the service starts.
  const now = Date.now();
  const startLocal = new Date(now - 8 * 60_000).toISOString().slice(0, 17) + '00';
  await SqliteStore.open({ path: dbPath }).close();
  const seed = SqliteStore.open({ path: dbPath });
  for (let i = 0; i < TASKS; i++) {
    const t = createTask({ appId: `app-${i}`, timeZone: 'UTC', startDateTime: startLocal, recurrence: ['FREQ=MINUTELY'] }, newTaskId(now), { tenantId: `t${i % 7}`, userId: 'u' }, now - 9 * 60_000);
    await seed.insertTask(t);
  }
  await seed.close();

  const db = new Database(dbPath, { readonly: true, fileMustExist: true });
  const count = (sql: string) => (db.prepare(sql).get() as { n: number }).n;
  // Occurrences recorded: missed or skipped ones in `occurrences`, fired ones as their reloads.
  const recordedCount = () => count('SELECT count(*) AS n FROM occurrences') + count("SELECT count(*) AS n FROM reloads WHERE type = 'chronos'");
  const token = await mintToken(loadConfig({ DATA_DIR: dir }).auth, () => loadOrCreateLocalKey(dir), { tenantId: 'writer', userId: 'w', admin: false, expiresInSeconds: 3600, now: Date.now() });
  const acknowledged: string[] = [];
  let kills = 0;
  for (let cycle = 0; cycle < CYCLES; cycle++) {
    const child = await start();
    const writes = writer(child.url, token);
    // Kill somewhere in the burst: once it has recorded something and acknowledged a few writes,
    // at a random moment.
    const before = recordedCount() + count("SELECT count(*) AS n FROM reloads WHERE status = 'SUCCEEDED'");
    // (Once the backlog is worked off, progress comes only each minute: then the writes are the burst.)
    const startedAt = Date.now();
    const progressed = () => recordedCount() + count("SELECT count(*) AS n FROM reloads WHERE status = 'SUCCEEDED'") > before;
    while (Date.now() - startedAt < 20_000 && !((progressed() || Date.now() - startedAt > 2000) && writes.acked.length >= 3)) {
      await new Promise((r) => setTimeout(r, 5));
    }
    await new Promise((r) => setTimeout(r, Math.floor(Math.random() * 150)));
    child.kill('SIGKILL');
    await exited(child);
    acknowledged.push(...(await writes.stop()));
    kills += 1;
    t.diagnostic(`kill ${kills}: ${recordedCount()} occurrences recorded, ${count("SELECT count(*) AS n FROM reloads WHERE status = 'SUCCEEDED'")} reloads done, ${count("SELECT count(*) AS n FROM reloads WHERE status = 'RELOADING'")} left running`);
  }

  // A last run to finish the work (including reloads whose runners were killed), then a clean stop.
  const child = await start();
  const deadline = Date.now() + 60_000;
  for (;;) {
    const active = count("SELECT count(*) AS n FROM reloads WHERE status IN ('QUEUED', 'RELOADING', 'CANCELING')");
    const due = count(`SELECT count(*) AS n FROM reload_tasks WHERE state = 'Enabled' AND next_execution_time <= ${Date.now() - 2000}`);
    if (active === 0 && due === 0) break;
    assert.ok(Date.now() < deadline, `not done: ${active} active reloads, ${due} due tasks`);
    await new Promise((r) => setTimeout(r, 50));
  }
  child.kill('SIGTERM');
  await exited(child);

  // Every write the API acknowledged before a kill is in the database.
  const stored = new Set((db.prepare("SELECT id FROM reload_tasks WHERE tenant_id = 'writer'").all() as Array<{ id: string }>).map((r) => r.id));
  assert.ok(acknowledged.length > CYCLES, `only ${acknowledged.length} writes acknowledged`);
  assert.deepEqual(acknowledged.filter((id) => !stored.has(id)), [], 'an acknowledged write was lost');
  t.diagnostic(`${acknowledged.length} acknowledged API writes, all present after ${CYCLES} kills`);

  const tasks = db.prepare("SELECT id, start_date_time, next_execution_time FROM reload_tasks WHERE tenant_id <> 'writer'").all() as Array<{ id: string; start_date_time: string; next_execution_time: number }>;
  // An occurrence's record: a row in `occurrences` when missed or skipped, its reload when fired.
  const passedOver = db.prepare('SELECT task_id, nominal_time, outcome FROM occurrences').all() as Array<{ task_id: string; nominal_time: number; outcome: string }>;
  const reloads = db.prepare("SELECT id, resource_id, scheduled_time, status FROM reloads WHERE type = 'chronos'").all() as Array<{ id: string; resource_id: string; scheduled_time: number; status: string }>;
  const occurrences = [
    ...passedOver,
    ...reloads.map((r) => ({ task_id: r.resource_id, nominal_time: r.scheduled_time, outcome: 'fired' })),
  ].sort((a, b) => (a.task_id < b.task_id ? -1 : a.task_id > b.task_id ? 1 : a.nominal_time - b.nominal_time));
  assert.ok(passedOver.every((o) => o.outcome !== 'fired'), 'a fired occurrence has an occurrences row as well as its reload');
  const byTask = new Map<string, number[]>();
  for (const o of occurrences) byTask.set(o.task_id, [...(byTask.get(o.task_id) ?? []), o.nominal_time]);

  let due = 0;
  for (const t of tasks) {
    // Every occurrence from the start up to (not including) the task's next execution is recorded once.
    const schedule = compileSchedule({ timeZone: 'UTC', startDateTime: t.start_date_time, recurrence: ['FREQ=MINUTELY'] });
    const expected = schedule.between(schedule.start! - 1, t.next_execution_time - 1);
    due += expected.length;
    assert.deepEqual(byTask.get(t.id) ?? [], expected, `task ${t.id}: recorded occurrences differ from the due ones`);
  }
  const fired = occurrences.filter((o) => o.outcome === 'fired');
  assert.equal(occurrences.length, due);
  assert.ok(fired.length >= TASKS * 8, `only ${fired.length} fired`);
  // One reload per fired occurrence (the per-task lists above hold no time twice, so no occurrence
  // was both fired and passed over, nor fired twice).
  const keys = new Set(reloads.map((r) => `${r.resource_id}@${r.scheduled_time}`));
  assert.equal(keys.size, reloads.length, 'an occurrence has two reloads');
  assert.ok(reloads.every((r) => r.status === 'SUCCEEDED'), 'a reload did not end');
  db.close();
  assert.equal(kills, CYCLES);
});
