// Several instances on one PostgreSQL database, as operators run them, under abuse:
//  - chaos: three real processes firing a stream of occurrences while one of them, chosen at random,
//    is killed with kill -9 every few seconds and restarted;
//  - outage: the database disappears (a TCP proxy in front of it is cut) and comes back.
// Afterwards, from the records: no occurrence fired twice, none lost (every due one is a reload or
// a recorded miss), every reload ended. Short in CI; CHAOS_SECONDS / CHAOS_TASKS for the long run
// by hand (docs/operations.md has the figures).
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { compileSchedule } from '../../src/recurrence/index.js';
import { newTaskId } from '../../src/tasks/ids.js';
import { createTask } from '../../src/tasks/task.js';
import { createTestStore, type TestStore } from '../helpers/store.js';
import { startProxy, type TcpProxy } from '../helpers/tcp-proxy.js';

const main = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
const SECONDS = Number(process.env.CHAOS_SECONDS ?? 25);
const TASKS = Number(process.env.CHAOS_TASKS ?? 600);
const RULE = 'FREQ=SECONDLY;INTERVAL=5';
/** By hand only: restart the real PostgreSQL server (pg_ctlcluster) instead of cutting a proxy. */
const PG_RESTART = process.env.CHAOS_PG_RESTART === '1';
const children = new Set<ChildProcess>();
const stores: TestStore[] = [];
after(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const s of stores) await s.drop().catch(() => {});
});

function envFor(databaseUrl: string, dir: string): NodeJS.ProcessEnv {
  return {
    ...process.env,
    DATABASE_URL: databaseUrl,
    DATA_DIR: dir,
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'silent',
    RATE_LIMIT_ENABLED: 'false',
    SIMULATED_DURATION_MS: '200',
    MISFIRE_POLICY: 'all',
    OVERLAP_POLICY: 'queue',
    MAX_CONCURRENT_RELOADS: '5000',
    MAX_CONCURRENT_RELOADS_PER_TENANT: '5000',
    RELOAD_LEASE_SECONDS: '2',
    SHUTDOWN_GRACE_SECONDS: '5',
  };
}

async function start(env: NodeJS.ProcessEnv): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', main, 'serve'], { env, stdio: ['ignore', 'pipe', 'inherit'] });
  children.add(child);
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) resolve(m[1]!);
    });
    child.on('exit', (code) => reject(new Error(`instance exited early (${code}): ${out}`)));
  });
  return { child, url };
}

const exited = (c: ChildProcess) => new Promise<void>((r) => (c.exitCode !== null || c.signalCode !== null ? r() : c.once('exit', () => r())));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function seed(store: TestStore, count: number, startLocal: string): Promise<void> {
  // Created just before their start, so every occurrence from the start on is due (the backlog).
  const created = Date.parse(`${startLocal}Z`) - 1000;
  for (let i = 0; i < count; i++) {
    const t = createTask({ appId: `app-${i}`, timeZone: 'UTC', startDateTime: startLocal, recurrence: [RULE] }, newTaskId(created), { tenantId: `t${i % 5}`, userId: 'u' }, created);
    await store.store.insertTask(t);
  }
}

/** Waits until nothing is due or active, then checks the records: each due occurrence once, each fired one with one reload. */
async function verify(databaseUrl: string, t: { diagnostic(m: string): void }): Promise<void> {
  const c = new pg.Client({ connectionString: databaseUrl });
  await c.connect();
  try {
    const deadline = Date.now() + 90_000;
    for (;;) {
      const { rows } = await c.query(`SELECT
        (SELECT count(*)::int FROM reloads WHERE status IN ('QUEUED', 'RELOADING', 'CANCELING')) AS active,
        (SELECT count(*)::int FROM reload_tasks WHERE state = 'Enabled' AND next_execution_time <= $1) AS due`, [Date.now() - 3000]);
      if (rows[0].active === 0 && rows[0].due === 0) break;
      assert.ok(Date.now() < deadline, `not settled: ${JSON.stringify(rows[0])}`);
      await sleep(200);
    }
    // Freeze: no instance may fire while we read (they are stopped by the caller first).
    const tasks = (await c.query('SELECT id, start_date_time, next_execution_time FROM reload_tasks')).rows as Array<{ id: string; start_date_time: string; next_execution_time: number }>;
    // Misses and skips are rows of occurrences; a fired occurrence's record is its scheduled reload.
    const passedOver = (await c.query('SELECT task_id, nominal_time, outcome FROM occurrences')).rows as Array<{ task_id: string; nominal_time: number; outcome: string }>;
    const reloads = (await c.query("SELECT resource_id, scheduled_time, status FROM reloads WHERE type = 'chronos'")).rows as Array<{ resource_id: string; scheduled_time: number; status: string }>;
    assert.ok(passedOver.every((o) => o.outcome !== 'fired'), 'a fired occurrence has an occurrences row as well as its reload');
    const occ = [...passedOver, ...reloads.map((r) => ({ task_id: r.resource_id, nominal_time: r.scheduled_time, outcome: 'fired' }))].sort(
      (a, b) => (a.task_id < b.task_id ? -1 : a.task_id > b.task_id ? 1 : a.nominal_time - b.nominal_time),
    );
    const byTask = new Map<string, number[]>();
    for (const o of occ) byTask.set(o.task_id, [...(byTask.get(o.task_id) ?? []), o.nominal_time]);
    let due = 0;
    for (const task of tasks) {
      const s = compileSchedule({ timeZone: 'UTC', startDateTime: task.start_date_time, recurrence: [RULE] });
      const expected = s.between(s.start! - 1, task.next_execution_time - 1, 1_000_000);
      due += expected.length;
      assert.deepEqual(byTask.get(task.id) ?? [], expected, `task ${task.id}: recorded occurrences are not exactly the due ones`);
    }
    const fired = occ.filter((o) => o.outcome === 'fired');
    const keys = new Set(reloads.map((r) => `${r.resource_id}@${r.scheduled_time}`));
    assert.equal(keys.size, reloads.length, 'an occurrence fired twice');
    assert.ok(reloads.every((r) => r.status === 'SUCCEEDED'), 'a reload did not end');
    t.diagnostic(`${due} due occurrences: ${fired.length} fired, ${occ.length - fired.length} missed or skipped; ${reloads.length} reloads; 0 doubled, 0 lost`);
  } finally {
    await c.end();
  }
}

describe('several instances on PostgreSQL', { timeout: (SECONDS + 240) * 1000 }, () => {
  it(`chaos: 3 instances, one killed with kill -9 every few seconds for ${SECONDS} s`, async (t) => {
    const db = await createTestStore('/tmp');
    stores.push(db);
    // A backlog (due before the instances start) and a stream (due while they run): every 5 s per task.
    const startLocal = new Date(Date.now() - 60_000).toISOString().slice(0, 19);
    await seed(db, TASKS, startLocal);
    await db.store.close();
    const dir = mkdtempSync(join(tmpdir(), 'reload-tasks-chaos-'));
    const env = envFor(db.location, dir);
    const instances = await Promise.all([0, 1, 2].map(() => start(env)));
    let kills = 0;
    const end = Date.now() + SECONDS * 1000;
    while (Date.now() < end) {
      await sleep(2000 + Math.random() * 2000);
      const i = Math.floor(Math.random() * instances.length);
      instances[i]!.child.kill('SIGKILL');
      await exited(instances[i]!.child);
      kills += 1;
      instances[i] = await start(env);
    }
    // Stop firing new occurrences: disable every task, then let the instances finish what was fired.
    const c = new pg.Client({ connectionString: db.location });
    await c.connect();
    await c.query("UPDATE reload_tasks SET state = 'Disabled', next_execution_time = next_execution_time");
    await c.end();
    await verify(db.location, t);
    for (const x of instances) x.child.kill('SIGTERM');
    await Promise.all(instances.map((x) => exited(x.child)));
    t.diagnostic(`${kills} kills`);
    assert.ok(kills >= 3, `only ${kills} kills`);
    rmSync(dir, { recursive: true, force: true });
  });

  it('outage: while the database is away the API answers 503 and the process stays up; after, it recovers and nothing is lost or doubled', async (t) => {
    const db = await createTestStore('/tmp');
    stores.push(db);
    const startLocal = new Date(Date.now() - 10_000).toISOString().slice(0, 19);
    await seed(db, 100, startLocal);
    await db.store.close();
    const url = new URL(db.location);
    const proxy: TcpProxy = await startProxy(url.hostname, Number(url.port || 5432));
    url.port = String(proxy.port);
    const dir = mkdtempSync(join(tmpdir(), 'reload-tasks-outage-'));
    const env = envFor(url.toString(), dir);
    const instance = await start(env);
    const token = await new Promise<string>((resolve, reject) => {
      const p = spawn(process.execPath, ['--import', 'tsx', main, 'token', '--tenant', 't0', '--user', 'u'], { env, stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      p.stdout!.on('data', (c: Buffer) => (out += c.toString()));
      p.on('exit', (code) => (code === 0 ? resolve(out.trim()) : reject(new Error(`token exited ${code}`))));
    });
    const get = () => fetch(`${instance.url}/api/v1/reload-tasks`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal((await get()).status, 200);
    await sleep(3000);
    if (PG_RESTART) {
      // Stop the server, see the 503, start it again (pg_ctlcluster … restart, in two steps).
      const cluster = execFileSync('ls', ['/etc/postgresql']).toString().trim();
      execFileSync('pg_ctlcluster', ['--skip-systemctl-redirect', cluster, 'main', 'stop', '-m', 'fast']);
    } else {
      await proxy.cut();
    }
    await sleep(500);
    const during = await get();
    assert.equal(during.status, 503);
    const body = (await during.json()) as { errors: Array<{ code: string }>; traceId: string };
    assert.equal(body.errors[0]!.code, 'HTTP-503');
    assert.ok(during.headers.get('retry-after'));
    await sleep(6000); // occurrences fall due while the database is away
    assert.equal(instance.child.exitCode, null, 'the process died during the outage');
    if (PG_RESTART) {
      const cluster = execFileSync('ls', ['/etc/postgresql']).toString().trim();
      execFileSync('pg_ctlcluster', ['--skip-systemctl-redirect', cluster, 'main', 'start']);
    } else {
      await proxy.restore();
    }
    const back = Date.now();
    for (;;) {
      const r = await get();
      if (r.status === 200) break;
      assert.ok(Date.now() - back < 15_000, 'not recovered within 15 s');
      await sleep(200);
    }
    t.diagnostic(`API recovered ${Date.now() - back} ms after the database came back`);
    await sleep(6000); // fire through the backlog of the outage
    const c = new pg.Client({ connectionString: db.location });
    await c.connect();
    await c.query("UPDATE reload_tasks SET state = 'Disabled'");
    await c.end();
    await verify(db.location, t);
    instance.child.kill('SIGTERM');
    await exited(instance.child);
    await proxy.close();
    rmSync(dir, { recursive: true, force: true });
  });
});
