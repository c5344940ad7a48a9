// MAX_TASKS_PER_APP: Qlik's guardrail of 10 reload tasks per app. A create past it, or a task moved
// to an app at it, is a 400 TASKS-004 that names the app; the count is per tenant and holds when
// requests race (the check and the write are one transaction; on PostgreSQL under the app's lock).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createTestApi, errorOf, type TestApi } from '../helpers/api.js';

const body = (appId: string) => ({ appId, timeZone: 'UTC', startDateTime: '2027-01-01T09:00:00', recurrence: ['RRULE:FREQ=DAILY'] });

describe('reload tasks per app (default limit 10)', () => {
  let api: TestApi;
  before(async () => {
    api = await createTestApi();
  });
  after(() => api.close());

  const post = (appId: string, as?: [string, string]) => api.call('POST', '/api/v1/reload-tasks', { body: body(appId), ...(as && { as }) });

  it('takes ten tasks of an app, from any of the tenant’s users, and refuses the eleventh', async () => {
    assert.equal(api.config.maxTasksPerApp, 10);
    for (let i = 0; i < 10; i++) assert.equal((await post('app-full', ['acme', i % 2 ? 'alice' : 'bob'])).statusCode, 201);
    const res = await post('app-full', ['acme', 'carol']);
    assert.equal(res.statusCode, 400, res.body);
    const e = errorOf(res);
    assert.equal(e.code, 'TASKS-004');
    assert.equal(e.title, 'Too many reload tasks for the app.');
    assert.equal(e.detail, "appId: app 'app-full' has 10 reload tasks already, the most one app may have; delete one of them first");
    const listed = await api.call('GET', '/api/v1/reload-tasks?appId=app-full&limit=100', { admin: true });
    assert.equal(listed.json().data.length, 10, 'nothing was written for the refused one');
  });

  it('counts per tenant: another tenant’s app of the same id is not full', async () => {
    assert.equal((await post('app-full', ['globex', 'alice'])).statusCode, 201);
  });

  it('takes a task again once one of the app’s tasks is deleted', async () => {
    const listed = await api.call('GET', '/api/v1/reload-tasks?appId=app-full&limit=1', { as: 'bob' });
    const [victim] = listed.json().data;
    assert.equal((await api.call('DELETE', `/api/v1/reload-tasks/${victim.id}`, { as: 'bob' })).statusCode, 204);
    assert.equal((await post('app-full')).statusCode, 201);
    assert.equal((await post('app-full')).statusCode, 400);
  });

  it('refuses to move a task to a full app, and leaves the task as it was', async () => {
    const created = (await post('app-other')).json();
    const res = await api.call('PUT', `/api/v1/reload-tasks/${created.id}`, { body: { ...body('app-full') } });
    assert.equal(res.statusCode, 400, res.body);
    assert.equal(errorOf(res).code, 'TASKS-004');
    const now = (await api.call('GET', `/api/v1/reload-tasks/${created.id}`)).json();
    assert.equal(now.appId, 'app-other');
  });

  it('lets a task of a full app be changed while it stays on that app', async () => {
    const [mine] = (await api.call('GET', '/api/v1/reload-tasks?appId=app-full&limit=1')).json().data;
    const res = await api.call('PUT', `/api/v1/reload-tasks/${mine.id}`, { body: { ...body('app-full'), partial: true } });
    assert.equal(res.statusCode, 200, res.body);
    assert.equal(res.json().partial, true);
  });

  it('holds when twenty creates for one app race', async () => {
    const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => post('app-race', ['acme', `user-${i}`])));
    const codes = answers.map((r) => r.statusCode).sort();
    assert.deepEqual(codes, [...Array(10).fill(201), ...Array(10).fill(400)]);
    const listed = await api.call('GET', '/api/v1/reload-tasks?appId=app-race&limit=100', { admin: true });
    assert.equal(listed.json().data.length, 10);
  });

  it('holds when ten tasks race to move into an app that has nine', async () => {
    for (let i = 0; i < 9; i++) assert.equal((await post('app-move')).statusCode, 201);
    const movers = await Promise.all(Array.from({ length: 10 }, async (_, i) => (await post(`app-from-${i}`)).json()));
    const answers = await Promise.all(movers.map((t) => api.call('PUT', `/api/v1/reload-tasks/${t.id}`, { body: body('app-move') })));
    assert.deepEqual(answers.map((r) => r.statusCode).sort(), [200, ...Array(9).fill(400)]);
    const listed = await api.call('GET', '/api/v1/reload-tasks?appId=app-move&limit=100', { admin: true });
    assert.equal(listed.json().data.length, 10);
  });
});

describe('MAX_TASKS_PER_APP', () => {
  it('0 sets no limit', async () => {
    const api = await createTestApi({ MAX_TASKS_PER_APP: '0' });
    try {
      for (let i = 0; i < 12; i++) assert.equal((await api.call('POST', '/api/v1/reload-tasks', { body: body('app-many') })).statusCode, 201);
    } finally {
      await api.close();
    }
  });

  it('another value is the limit', async () => {
    const api = await createTestApi({ MAX_TASKS_PER_APP: '2' });
    try {
      const codes = [];
      for (let i = 0; i < 3; i++) codes.push((await api.call('POST', '/api/v1/reload-tasks', { body: body('app-two') })).statusCode);
      assert.deepEqual(codes, [201, 201, 400]);
    } finally {
      await api.close();
    }
  });
});
