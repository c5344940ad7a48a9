// Nobody crosses a tenant line, for every endpoint: another tenant's caller (even its admin) gets
// 404 for the first tenant's ids, exactly as for ids that do not exist, and never sees them in a
// list; another user of the same tenant gets 403 (the owner and the tenant's admin get through);
// ids cannot be guessed from one another.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SimulatedExecutor } from '../../src/reloads/executors/simulated.js';
import { Scheduler } from '../../src/scheduler/scheduler.js';
import { createTestApi, errorOf, type TestApi } from '../helpers/api.js';
import { quiet } from '../helpers/scheduler.js';

let api: TestApi;
let taskId: string;
let reloadId: string;
let scheduledReloadId: string;
const missingTask = '6b0000000000000000000000';
const missingReload = '0000000000000000000000aa';

before(async () => {
  api = await createTestApi();
  const t = await api.call('POST', '/api/v1/reload-tasks', { body: { appId: 'secret-app', timeZone: 'UTC', startDateTime: '2026-12-01T12:30:00', recurrence: ['FREQ=HOURLY;BYMINUTE=30'] } });
  taskId = t.json().id;
  reloadId = (await api.call('POST', '/api/v1/reloads', { body: { appId: 'secret-app' } })).json().id;
  // A scheduled reload of the task (so the task's history and the reload list have entries).
  const scheduler = new Scheduler(api.store, new SimulatedExecutor({ durationMs: 0, failureRate: 0 }), api.clock, quiet, api.config.scheduler, 'tenancy');
  api.clock.set(Date.parse('2026-12-01T12:30:00Z'));
  await scheduler.tick();
  await scheduler.dispatcher.idle();
  await scheduler.stop();
  const reloads = (await api.call('GET', '/api/v1/reloads?limit=100')).json().data as Array<{ id: string; resourceId?: string }>;
  scheduledReloadId = reloads.find((r) => r.resourceId === taskId)!.id;
});
after(() => api.close());

const otherTenant: [string, string] = ['globex', 'mallory'];

/** Every endpoint that takes an id, with a body where it needs one. */
const byId = (task: string, reload: string) =>
  [
    ['GET', `/api/v1/reload-tasks/${task}`],
    ['PUT', `/api/v1/reload-tasks/${task}`, { partial: true }],
    ['DELETE', `/api/v1/reload-tasks/${task}`],
    ['GET', `/api/v1/reload-tasks/${task}/occurrences`],
    ['GET', `/api/v1/reloads/${reload}`],
    ['POST', `/api/v1/reloads/${reload}/actions/cancel`],
  ] as const;

describe('another tenant', () => {
  for (const [method, path, body] of byId('TASK', 'RELOAD')) {
    it(`${method} ${path}: 404, exactly as for an id that does not exist, even as that tenant's admin`, async () => {
      const real = path.replace('TASK', taskId).replace('RELOAD', reloadId);
      const none = path.replace('TASK', missingTask).replace('RELOAD', missingReload);
      const theirs = await api.call(method, real, { as: otherTenant, admin: true, ...(body && { body }) });
      const missing = await api.call(method, none, { as: otherTenant, admin: true, ...(body && { body }) });
      assert.equal(theirs.statusCode, 404);
      assert.equal(missing.statusCode, 404);
      const a = errorOf(theirs);
      const b = errorOf(missing);
      assert.equal(a.code, b.code);
      assert.equal(a.detail.replace(taskId, 'ID').replace(reloadId, 'ID'), b.detail.replace(missingTask, 'ID').replace(missingReload, 'ID'));
      assert.ok(!theirs.body.includes('secret-app'));
    });
  }

  it('never sees the first tenant in any list, filter or event', async () => {
    for (const path of ['/api/v1/reload-tasks?limit=100', '/api/v1/reload-tasks?appId=secret-app', '/api/v1/reloads?limit=100', '/api/v1/reloads?appId=secret-app', `/api/v1/reloads?resourceId=${taskId}`]) {
      const res = await api.call('GET', path, { as: otherTenant, admin: true });
      assert.equal(res.statusCode, 200, path);
      assert.deepEqual(res.json().data, [], path);
    }
    // An admin's event acts on its own tenant only.
    const ev = await api.call('POST', '/api/v1/events', { as: otherTenant, admin: true, body: { type: 'com.qlik.v1.app.deleted', data: { appId: 'secret-app' } } });
    assert.equal(ev.json().tasks, 0);
    assert.equal((await api.call('GET', `/api/v1/reload-tasks/${taskId}`)).statusCode, 200);
  });

  it('cannot reach the first tenant through a page cursor of theirs', async () => {
    await api.call('POST', '/api/v1/reload-tasks', { body: { appId: 'secret-app', timeZone: 'UTC' } });
    const page = (await api.call('GET', '/api/v1/reload-tasks?limit=1')).json();
    const next = new URL(page.links.next.href);
    const res = await api.call('GET', `${next.pathname}${next.search}`, { as: otherTenant, admin: true });
    assert.deepEqual(res.json().data, []);
  });
});

describe('another user of the same tenant', () => {
  for (const [method, path, body] of byId('TASK', 'RELOAD')) {
    it(`${method} ${path}: 403; the owner and the tenant admin get through`, async () => {
      const real = path.replace('TASK', taskId).replace('RELOAD', scheduledReloadId);
      const res = await api.call(method, real, { as: 'bob', ...(body && { body }) });
      assert.equal(res.statusCode, 403, res.body);
      // reloads.openapi.yaml names the Reloads API's 403 RELOADS-003.
      assert.equal(errorOf(res).code, path.includes('reloads/') ? 'RELOADS-003' : 'HTTP-403');
      if (method === 'GET') {
        assert.equal((await api.call(method, real)).statusCode, 200);
        assert.equal((await api.call(method, real, { as: 'root', admin: true })).statusCode, 200);
      }
    });
  }

  it('sees only their own tasks and reloads in lists', async () => {
    assert.deepEqual((await api.call('GET', '/api/v1/reload-tasks?limit=100', { as: 'bob' })).json().data, []);
    assert.deepEqual((await api.call('GET', '/api/v1/reloads?limit=100', { as: 'bob' })).json().data, []);
    assert.ok((await api.call('GET', '/api/v1/reload-tasks?limit=100', { as: 'root', admin: true })).json().data.length >= 1);
  });

  it('cannot send events (admins only)', async () => {
    assert.equal((await api.call('POST', '/api/v1/events', { as: 'bob', body: { type: 'com.qlik.v1.user.deleted', data: { userId: 'alice' } } })).statusCode, 403);
  });
});

describe('a task the store holds in memory (SQLite keeps tasks read by id)', () => {
  it('is answered by the same rules: another tenant 404, another user 403, owner and admin 200, changes seen at once', async (t) => {
    const created = await api.call('POST', '/api/v1/reload-tasks', { body: { appId: 'kept-app', timeZone: 'UTC' } });
    const id = created.json().id as string;
    const path = `/api/v1/reload-tasks/${id}`;
    // Reads that reach the store's getTask: on SQLite the first, then only the refusals (which take
    // the full path); the owner's and the admin's later reads are answered from memory.
    let reads = 0;
    const getTask = api.store.getTask;
    api.store.getTask = (tenantId, taskId) => ((reads += taskId === id ? 1 : 0), getTask.call(api.store, tenantId, taskId));
    t.after(() => void (api.store.getTask = getTask));
    const first = await api.call('GET', path);
    for (let i = 0; i < 2; i++) {
      assert.equal((await api.call('GET', path)).body, first.body);
      assert.equal((await api.call('GET', path, { as: otherTenant, admin: true })).statusCode, 404);
      assert.equal((await api.call('GET', path, { as: 'bob' })).statusCode, 403);
      assert.equal((await api.call('GET', path, { as: 'root', admin: true })).body, first.body);
    }
    assert.equal(reads, api.store.peekTask ? 1 + 2 * 2 : 1 + 2 * 4, 'a kept task is answered without reading the store');
    assert.equal(first.headers['content-type'], 'application/json; charset=utf-8');
    // The links are built from each request's Host, whatever was sent before.
    const elsewhere = await api.call('GET', path, { headers: { host: 'tasks.example.com:8443' } });
    assert.equal(elsewhere.json().links.self.href, `http://tasks.example.com:8443${path}`);
    assert.equal((await api.call('GET', path)).body, first.body);
    assert.equal((await api.call('PUT', path, { body: { partial: true } })).statusCode, 200);
    assert.equal((await api.call('GET', path)).json().partial, true);
    assert.equal((await api.call('DELETE', path)).statusCode, 204);
    assert.equal((await api.call('GET', path)).statusCode, 404);
  });
});

describe('ids', () => {
  it('are not guessable: 64 random bits after the time prefix, none repeats', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 200; i++) ids.push((await api.call('POST', '/api/v1/reload-tasks', { body: { appId: `x-${i}`, timeZone: 'UTC' } })).json().id);
    assert.equal(new Set(ids).size, ids.length);
    const tails = ids.map((id) => id.slice(8));
    assert.equal(new Set(tails).size, tails.length);
    // Neighbours share nothing beyond the creation second: the random part differs in about half its bits.
    const bits = (a: string, b: string) => [...(BigInt(`0x${a}`) ^ BigInt(`0x${b}`)).toString(2)].filter((c) => c === '1').length;
    const mean = tails.slice(1).reduce((s, t, i) => s + bits(t, tails[i]!), 0) / (tails.length - 1);
    assert.ok(mean > 24 && mean < 40, `mean differing bits ${mean}`);
  });
});
