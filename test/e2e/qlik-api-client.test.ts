// Qlik's own npm client, @qlik/api, works against this service unchanged. The real process is
// started as a user runs it (`reload-task serve` on a fresh data directory, tokens from
// `reload-task token`), and everything after that goes through @qlik/api's reload-tasks and reloads
// modules exactly as a user's script would call them: its unauthenticated product-info probe, its
// Bearer auth, its response shapes, its thrown errors and its own next()/prev() paging.
// A fetch observer records what the client sent and got (it changes nothing).
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as pause } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { setDefaultHostConfig, type HostConfig } from '@qlik/api/auth';
import * as tasks from '@qlik/api/reload-tasks';
import * as reloads from '@qlik/api/reloads';

const main = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'reload-tasks-qlik-api-'));
const env = {
  ...process.env,
  DATA_DIR: dir,
  DATABASE_URL: '',
  PUBLIC_URL: '',
  PORT: '0',
  HOST: '127.0.0.1',
  LOG_LEVEL: 'warn',
  // One reload at a time per tenant, each "running" for 10 minutes: a second reload stays QUEUED
  // while the first runs, so the cancel answers (204 queued, 202 running, 409 ended) are certain.
  EXECUTOR: 'simulated',
  SIMULATED_DURATION_MS: '600000',
  SIMULATED_FAILURE_RATE: '0',
  MAX_CONCURRENT_RELOADS_PER_TENANT: '1',
};
const APP = '116dbfae-7fb9-4983-8e23-5ccd8c508722';
const HEX24 = /^[0-9a-f]{24}$/;

let server: ChildProcess;
let url: string;
let output = '';
const key: Record<'alice' | 'bob' | 'admin' | 'eve' | 'pat', string> = { alice: '', bob: '', admin: '', eve: '', pat: '' };
/** Per-call options for a user other than the default one (alice). */
const as = (apiKey: string): { hostConfig: HostConfig } => ({ hostConfig: { authType: 'apikey', host: url, apiKey } });

const realFetch = globalThis.fetch;
const seen: Array<{ method: string; url: string; authorization: string | null; status: number }> = [];

async function token(...args: string[]): Promise<string> {
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', main, 'token', ...args], { env });
  return stdout.trim();
}

before(async () => {
  server = spawn(process.execPath, ['--import', 'tsx', main, 'serve'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  server.stdout!.setEncoding('utf8');
  server.stderr!.setEncoding('utf8');
  server.stderr!.on('data', (chunk: string) => (output += chunk));
  url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no banner: ${output}`)), 20_000);
    server.stdout!.on('data', (chunk: string) => {
      output += chunk;
      const m = /listening on (http:\/\/\S+)/.exec(output);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    server.on('exit', (code) => reject(new Error(`server exited ${code}: ${output}`)));
  });
  [key.alice, key.bob, key.admin, key.eve, key.pat] = await Promise.all([
    token('--tenant', 'acme', '--user', 'alice'),
    token('--tenant', 'acme', '--user', 'bob'),
    token('--tenant', 'acme', '--user', 'root', '--admin'),
    token('--tenant', 'globex', '--user', 'eve', '--admin'),
    token('--tenant', 'acme', '--user', 'pat'),
  ]);
  globalThis.fetch = async (input, init) => {
    const res = await realFetch(input, init);
    const target = input instanceof Request ? input.url : String(input);
    seen.push({ method: init?.method ?? 'GET', url: target, authorization: new Headers(init?.headers).get('authorization'), status: res.status });
    return res;
  };
  setDefaultHostConfig({ authType: 'apikey', host: url, apiKey: key.alice });
});

after(() => {
  globalThis.fetch = realFetch;
  if (server && server.exitCode === null) server.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

/** The error a client call threw (a failed assertion if it did not throw). */
async function failure(call: Promise<unknown>): Promise<{ status: number; data: { errors: Array<{ code: string; title: string; detail: string }>; traceId: string } }> {
  try {
    await call;
  } catch (e) {
    return e as never;
  }
  return assert.fail('expected the call to throw');
}

/** Asserts a thrown client error: its status and the service's error envelope in its data. */
function assertEnvelope(e: Awaited<ReturnType<typeof failure>>, status: number, code: string): void {
  assert.equal(e.status, status, JSON.stringify(e.data));
  assert.equal(e.data.errors.length, 1);
  const [error] = e.data.errors;
  assert.equal(error!.code, code);
  assert.equal(typeof error!.title, 'string');
  assert.ok(error!.detail.length > 0);
  assert.match(e.data.traceId, /^[0-9a-f]{32}$/);
}

/** Every page's ids, following the client's own next() until there is none. */
async function walk(first: tasks.GetReloadTasksHttpResponse): Promise<{ pages: string[][]; last: tasks.GetReloadTasksHttpResponse }> {
  const pages: string[][] = [];
  let page = first;
  for (;;) {
    pages.push(page.data.data.map((t) => t.id));
    if (!page.next) return { pages, last: page };
    assert.ok(pages.length < 20, 'next() never ran out');
    page = await page.next();
  }
}

/**
 * The reload once the dispatcher has moved it to `status` (it does so on its own, so this polls,
 * bounded). @qlik/api caches GET responses for 10 minutes and only its own writes clear them: without
 * clearCache() every read here would return the first answer again.
 */
async function reloadIn(id: string, status: reloads.Status): Promise<reloads.Reload> {
  for (let i = 0; ; i++) {
    reloads.clearCache();
    const { data } = await reloads.getReload(id);
    if (data.status === status) return data;
    assert.ok(i < 400, `reload ${id} is still ${data.status}, not ${status}`);
    await pause(25);
  }
}

describe('@qlik/api against the real service', () => {
  let task: tasks.Task;

  it('probes product-info without credentials, gets a JSON 404, and carries on with Bearer auth', async () => {
    const res = await tasks.getReloadTasks({});
    assert.equal(res.status, 200);
    assert.deepEqual(res.data.data, []);
    assert.equal(res.next, undefined);
    assert.equal(res.prev, undefined);
    // The first request of all is the client's platform probe. A 404 makes it treat the host as an
    // unknown platform; a 401 or 5xx here would make it take the host for Qlik Sense on Windows.
    assert.deepEqual(seen[0], { method: 'GET', url: `${url}/resources/autogenerated/product-info.json`, authorization: null, status: 404 });
    assert.deepEqual(seen.at(-1), { method: 'GET', url: `${url}/api/v1/reload-tasks`, authorization: `Bearer ${key.alice}`, status: 200 });
  });

  it('creates a task: 201 with the spec\'s defaults, the schedule echoed, nextExecutionTime in UTC and a self link', async () => {
    const recurrence = ['RRULE:FREQ=DAILY;INTERVAL=1;BYHOUR=11;BYMINUTE=18;BYSECOND=0', 'FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,TU;BYHOUR=13;BYMINUTE=17;BYSECOND=0'];
    const created = await tasks.createReloadTask({
      appId: APP,
      timeZone: 'America/Toronto',
      recurrence,
      startDateTime: '2030-09-19T11:18:00',
      endDateTime: '2099-10-12T23:59:00',
      type: 'scheduled_reload',
    });
    assert.equal(created.status, 201);
    task = created.data;
    assert.match(task.id, HEX24);
    assert.equal(task.appId, APP);
    assert.equal(task.state, 'Enabled');
    assert.equal(task.partial, false);
    assert.equal(task.autoReload, false);
    assert.equal(task.autoReloadPartial, false);
    assert.equal(task.migrated, false);
    assert.equal(task.disabledCode, undefined);
    assert.deepEqual(task.recurrence, recurrence);
    assert.equal(task.timeZone, 'America/Toronto');
    assert.equal(task.startDateTime, '2030-09-19T11:18:00');
    assert.equal(task.endDateTime, '2099-10-12T23:59:00');
    assert.equal(task.nextExecutionTime, '2030-09-19T15:18:00Z');
    assert.equal(task.userId, 'alice');
    assert.equal(task.tenantId, 'acme');
    assert.equal(task.links.self.href, `${url}/api/v1/reload-tasks/${task.id}`);

    const got = await tasks.getReloadTask(task.id);
    assert.equal(got.status, 200);
    assert.deepEqual(got.data, task);
    // The client's own GET went to exactly the self link.
    assert.equal(seen.at(-1)!.url, task.links.self.href);
  });

  it('pages with next() until there is none, visiting every task once, and prev() goes back; filters hold on every page', async () => {
    const pat = as(key.pat);
    const other = '22222222-2222-4222-8222-222222222222';
    const mine: string[] = [];
    const partial: string[] = [];
    for (let i = 0; i < 7; i++) mine.push((await tasks.createReloadTask({ appId: APP, timeZone: 'UTC', recurrence: ['FREQ=DAILY'], startDateTime: '2030-01-01T00:00:00' }, pat)).data.id);
    for (let i = 0; i < 3; i++) partial.push((await tasks.createReloadTask({ appId: other, timeZone: 'UTC', partial: true }, pat)).data.id);

    // All of pat's tasks (none of alice's), 4 to a page.
    const first = await tasks.getReloadTasks({ limit: 4 }, pat);
    assert.equal(first.prev, undefined);
    const { pages, last } = await walk(first);
    assert.deepEqual(pages.map((p) => p.length), [4, 4, 2]);
    const visited = pages.flat();
    assert.equal(new Set(visited).size, visited.length, 'a task came twice');
    assert.deepEqual([...visited].sort(), [...mine, ...partial].sort());
    const back = await last.prev!();
    assert.deepEqual(back.data.data.map((t) => t.id), pages[1]);
    assert.deepEqual((await back.prev!()).data.data.map((t) => t.id), pages[0]);

    // appId filter, 3 to a page: the client re-sends next.href verbatim, so the link must carry it.
    const byApp = await walk(await tasks.getReloadTasks({ appId: APP, limit: 3 }, pat));
    assert.deepEqual(byApp.pages.map((p) => p.length), [3, 3, 1]);
    assert.deepEqual(byApp.pages.flat().sort(), [...mine].sort());
    const back2 = await byApp.last.prev!();
    assert.ok(back2.data.data.every((t) => t.appId === APP));
    assert.deepEqual(back2.data.data.map((t) => t.id), byApp.pages[1]);

    // partial filter, 2 to a page.
    const byPartial = await walk(await tasks.getReloadTasks({ partial: true, limit: 2 }, pat));
    assert.deepEqual(byPartial.pages.map((p) => p.length), [2, 1]);
    assert.deepEqual(byPartial.pages.flat().sort(), [...partial].sort());
  });

  it('PUT state Disabled gives disabledCode MANUALLY and keeps the rest; Enabled clears it', async () => {
    const disabled = await tasks.updateReloadTask(task.id, { state: 'Disabled' });
    assert.equal(disabled.status, 200);
    assert.equal(disabled.data.state, 'Disabled');
    assert.equal(disabled.data.disabledCode, 'MANUALLY');
    assert.deepEqual(disabled.data.recurrence, task.recurrence);
    assert.equal(disabled.data.startDateTime, task.startDateTime);
    // Re-read after the change. @qlik/api serves repeated GETs from its cache (its own PUT drops the
    // related entries, but that is the client's business): clear it so the read surely reaches the service.
    tasks.clearCache();
    const reread = await tasks.getReloadTask(task.id);
    assert.equal(reread.data.state, 'Disabled');
    assert.equal(reread.data.disabledCode, 'MANUALLY');

    const enabled = await tasks.updateReloadTask(task.id, { state: 'Enabled' });
    assert.equal(enabled.data.state, 'Enabled');
    assert.equal(enabled.data.disabledCode, undefined);
    assert.equal(enabled.data.nextExecutionTime, '2030-09-19T15:18:00Z');
    tasks.clearCache();
    assert.deepEqual((await tasks.getReloadTask(task.id)).data, enabled.data);
  });

  it('turns 404, 400 and 403 into thrown errors with the status and the error envelope in their data', async () => {
    assertEnvelope(await failure(tasks.getReloadTask('0123456789abcdef01234567')), 404, 'HTTP-404');
    assertEnvelope(await failure(tasks.createReloadTask({ appId: APP })), 400, 'TASKS-002');
    assertEnvelope(await failure(tasks.createReloadTask({ appId: APP, timeZone: 'Mars/Olympus_Mons' })), 400, 'TASKS-003');
    assertEnvelope(await failure(tasks.updateReloadTask(task.id, { recurrence: ['FREQ=SOMETIMES'] })), 400, 'TASKS-003');
    // Another user of the same tenant may not read it; the tenant's admin may.
    assertEnvelope(await failure(tasks.getReloadTask(task.id, as(key.bob))), 403, 'HTTP-403');
    assert.equal((await tasks.getReloadTask(task.id, as(key.admin))).data.id, task.id);
  });

  it('keeps tenants apart: another tenant\'s admin gets 404 for the task, cannot change or delete it, and lists nothing', async () => {
    const eve = as(key.eve);
    assertEnvelope(await failure(tasks.getReloadTask(task.id, eve)), 404, 'HTTP-404');
    assertEnvelope(await failure(tasks.updateReloadTask(task.id, { state: 'Disabled' }, eve)), 404, 'HTTP-404');
    assertEnvelope(await failure(tasks.deleteReloadTask(task.id, eve)), 404, 'HTTP-404');
    assert.deepEqual((await tasks.getReloadTasks({}, eve)).data.data, []);
    tasks.clearCache(); // as above: the read below must reach the service
    assert.equal((await tasks.getReloadTask(task.id)).data.state, 'Enabled');
  });

  it('queues reloads, shows them through getReload and getReloads, and cancels: 204 queued, 202 running, 409 ended', async () => {
    const second = '33333333-3333-4333-8333-333333333333';
    const queued = await reloads.queueReload({ appId: APP });
    assert.equal(queued.status, 201);
    const r1 = queued.data;
    assert.match(r1.id, HEX24);
    assert.equal(r1.type, 'external');
    assert.equal(r1.status, 'QUEUED');
    assert.equal(r1.appId, APP);
    assert.equal(r1.partial, false);
    assert.equal(r1.userId, 'alice');
    assert.equal(r1.tenantId, 'acme');
    assert.ok(!Number.isNaN(Date.parse(r1.creationTime)));
    assert.equal(r1.links?.self?.href, `${url}/api/v1/reloads/${r1.id}`);

    // The dispatcher starts it (one per tenant at a time, and it "runs" for 10 minutes).
    const running = await reloadIn(r1.id, 'RELOADING');
    assert.ok(running.startTime);
    const r2 = (await reloads.queueReload({ appId: second, partial: true })).data;
    assert.equal(r2.partial, true);

    const list = await reloads.getReloads({ appId: APP });
    assert.equal(list.status, 200);
    assert.deepEqual(list.data.data.map((r) => [r.id, r.type, r.status]), [[r1.id, 'external', 'RELOADING']]);
    assert.deepEqual((await reloads.getReloads({ appId: second })).data.data.map((r) => [r.id, r.status]), [[r2.id, 'QUEUED']]);

    // Queued: cancelled at once.
    const c2 = await reloads.cancelReload(r2.id);
    assert.equal(c2.status, 204);
    assert.equal((await reloadIn(r2.id, 'CANCELED')).id, r2.id);
    // Running: being cancelled, then cancelled.
    const c1 = await reloads.cancelReload(r1.id);
    assert.equal(c1.status, 202);
    assert.deepEqual(c1.data, { status: 'CANCELING' });
    assert.ok((await reloadIn(r1.id, 'CANCELED')).endTime);
    // Ended: not in a cancellable state.
    assertEnvelope(await failure(reloads.cancelReload(r1.id)), 409, 'HTTP-409');
    assertEnvelope(await failure(reloads.cancelReload(r2.id)), 409, 'HTTP-409');
    assertEnvelope(await failure(reloads.cancelReload('0123456789abcdef01234567')), 404, 'HTTP-404');

    // The client's own SCIM filter, as its JSDoc shows it (a second queued reload of an app is a 429).
    reloads.clearCache();
    const canceled = await reloads.getReloads({ appId: APP, filter: 'status eq "CANCELED" and type eq "external"' });
    assert.deepEqual(canceled.data.data.map((r) => r.id), [r1.id]);
    assert.deepEqual((await reloads.getReloads({ appId: APP, filter: '(status eq "FAILED" or status eq "EXCEEDED_LIMIT") and partial eq "false"' })).data.data, []);
    // One reload runs (the tenant's one slot), so the next waits in the queue, and a second one of its app is refused.
    const busy = (await reloads.queueReload({ appId: `${APP}-busy` })).data;
    await reloadIn(busy.id, 'RELOADING');
    const waiting = (await reloads.queueReload({ appId: APP })).data;
    assert.equal(waiting.status, 'QUEUED');
    assertEnvelope(await failure(reloads.queueReload({ appId: APP })), 429, 'RELOADS-429');
    assert.equal((await reloads.cancelReload(waiting.id)).status, 204);
    assert.equal((await reloads.cancelReload(busy.id)).status, 202);
    await reloadIn(busy.id, 'CANCELED');

    // Another user of the tenant: 403; another tenant: 404.
    assertEnvelope(await failure(reloads.getReload(r1.id, as(key.bob))), 403, 'RELOADS-003');
    assertEnvelope(await failure(reloads.getReload(r1.id, as(key.eve))), 404, 'HTTP-404');
    assertEnvelope(await failure(reloads.cancelReload(r1.id, as(key.eve))), 404, 'HTTP-404');
  });

  it('deletes a task: 204, then 404 for it and gone from the list', async () => {
    const deleted = await tasks.deleteReloadTask(task.id);
    assert.equal(deleted.status, 204);
    tasks.clearCache(); // the reads below must reach the service, not the client's cache
    assertEnvelope(await failure(tasks.getReloadTask(task.id)), 404, 'HTTP-404');
    assert.ok(!(await tasks.getReloadTasks({ appId: APP })).data.data.some((t) => t.id === task.id));
    assertEnvelope(await failure(tasks.deleteReloadTask(task.id)), 404, 'HTTP-404');
  });

  it('sent the credentials on every API call and never on the product-info probe', () => {
    for (const r of seen) {
      if (r.url.endsWith('/resources/autogenerated/product-info.json')) assert.equal(r.authorization, null);
      else assert.match(r.authorization ?? '', /^Bearer [\w-]+\.[\w-]+\.[\w-]+$/, r.url);
      assert.ok(r.status < 500, `${r.method} ${r.url} answered ${r.status}`);
    }
  });
});
