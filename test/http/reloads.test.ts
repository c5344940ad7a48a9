// /api/v1/reloads, /api/v1/events and a task's occurrences, through app.inject().
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { queuedReload, type Reload } from '../../src/reloads/reload.js';
import { SimulatedExecutor } from '../../src/reloads/executors/simulated.js';
import { Scheduler } from '../../src/scheduler/scheduler.js';
import { createTestApi, errorOf, NOW, type TestApi } from '../helpers/api.js';
import { quiet } from '../helpers/scheduler.js';

let api: TestApi;
before(async () => {
  api = await createTestApi();
});
after(() => api.close());

const reload = async (body: object, as?: string | [string, string]) => {
  const res = await api.call('POST', '/api/v1/reloads', { body, ...(as && { as }) });
  assert.equal(res.statusCode, 201, res.body);
  return res.json();
};

describe('POST and GET /api/v1/reloads', () => {
  it('queues a manual reload of an app and returns its record', async () => {
    const r = await reload({ appId: 'app-m', partial: true });
    assert.match(r.id, /^[0-9a-f]{24}$/);
    assert.equal(r.status, 'QUEUED');
    assert.equal(r.type, 'external');
    assert.equal(r.resourceType, 'api');
    assert.equal(r.partial, true);
    assert.equal(r.userId, 'alice');
    assert.equal(r.tenantId, 'acme');
    assert.equal(r.creationTime, new Date(api.clock.now()).toISOString());
    assert.equal(r.links.self.href, `http://localhost:80/api/v1/reloads/${r.id}`);
    const got = await api.call('GET', `/api/v1/reloads/${r.id}`);
    assert.equal(got.statusCode, 200);
    assert.deepEqual(got.json(), r);
  });

  it('weight and variables: weight defaults to 1 and is echoed; both are stored for the executor', async () => {
    const plain = await reload({ appId: 'app-w0' });
    assert.equal(plain.weight, 1);
    const variables = { vRegion: 'EMEA', 'v Name': 'ü "quoted"', [`v${'x'.repeat(255)}`]: 'y'.repeat(256) };
    const r = await reload({ appId: 'app-w', weight: 10, variables });
    assert.equal(r.weight, 10);
    assert.equal(r.variables, undefined); // not part of a reload record, as in Qlik's API
    assert.deepEqual((await api.call('GET', `/api/v1/reloads/${r.id}`)).json(), r);
    const stored = (await api.store.getReload('acme', r.id))!;
    assert.deepEqual([stored.weight, stored.variables], [10, variables]);
    const none = (await api.store.getReload('acme', plain.id))!;
    assert.deepEqual([none.weight, none.variables], [1, null]);
    for (const id of [r.id, plain.id]) assert.equal((await api.call('POST', `/api/v1/reloads/${id}/actions/cancel`)).statusCode, 204);
  });

  it('400 for a weight outside 1..10 and for variables over the spec\'s limits, naming the field', async () => {
    const cases: Array<[object, string]> = [
      [{ weight: 0 }, 'weight: must be an integer from 1 to 10'],
      [{ weight: 11 }, 'weight: must be an integer from 1 to 10'],
      [{ weight: 1.5 }, 'weight: must be an integer'],
      [{ weight: '5' }, 'weight: must be an integer'],
      [{ variables: ['a'] }, 'variables: must be an object'],
      [{ variables: { v: 1 } }, 'variables.v: must be a string'],
      [{ variables: { v: 'x'.repeat(257) } }, 'variables.v: must be at most 256 characters'],
      [{ variables: Object.fromEntries(Array.from({ length: 21 }, (_, i) => [`v${i}`, 'x'])) }, 'variables: must have at most 20 properties'],
      [{ variables: { ['v'.repeat(257)]: 'x' } }, `variables: the name '${'v'.repeat(40)}…' must be at most 256 characters`],
    ];
    for (const [extra, detail] of cases) {
      const res = await api.call('POST', '/api/v1/reloads', { body: { appId: 'app-bad', ...extra } });
      assert.deepEqual([res.statusCode, errorOf(res).detail], [400, detail], JSON.stringify(extra).slice(0, 60));
    }
  });

  it('403 for another user, 404 for another tenant, 400 for a missing appId', async () => {
    const r = await reload({ appId: 'app-m2' });
    assert.equal((await api.call('GET', `/api/v1/reloads/${r.id}`, { as: 'bob' })).statusCode, 403);
    assert.equal((await api.call('GET', `/api/v1/reloads/${r.id}`, { as: 'root', admin: true })).statusCode, 200);
    assert.equal((await api.call('GET', `/api/v1/reloads/${r.id}`, { as: ['globex', 'alice'], admin: true })).statusCode, 404);
    const bad = await api.call('POST', '/api/v1/reloads', { body: { partial: true } });
    assert.equal(errorOf(bad).detail, 'appId: is required');
    assert.equal(errorOf(bad).code, 'HTTP-400', 'not TASKS-002, which is about reload tasks');
  });

  it('resourceType and resourceId: stored as sent and listed by resourceId; reload-tasks runs one of your tasks of that app', async () => {
    const task = (await api.call('POST', '/api/v1/reload-tasks', { body: { appId: 'app-rt', timeZone: 'UTC', startDateTime: '2030-01-01T00:00:00', recurrence: ['FREQ=DAILY'] } })).json();
    const post = (body: object, as?: string | [string, string]) => api.call('POST', '/api/v1/reloads', { body, ...(as && { as }) });
    const run = { appId: 'app-rt', resourceType: 'reload-tasks', resourceId: task.id };
    const refused: Array<[object, string | [string, string] | undefined, number, string]> = [
      [run, 'bob', 403, `resourceId: reload task '${task.id}' belongs to another user`],
      [run, ['globex', 'alice'], 400, `resourceId: reload task '${task.id}' not found`],
      [{ ...run, appId: 'app-other' }, undefined, 400, `resourceId: reload task '${task.id}' reloads app 'app-rt', not 'app-other'`],
      [{ ...run, resourceId: 'not-a-task' }, undefined, 400, "resourceId: reload task 'not-a-task' not found"],
      [{ appId: 'app-rt', resourceType: 'reload-tasks' }, undefined, 400, "resourceId: required when resourceType is 'reload-tasks' (the id of the reload task to run)"],
    ];
    for (const [body, as, status, detail] of refused) {
      const res = await post(body, as);
      assert.deepEqual([res.statusCode, errorOf(res).detail], [status, detail], JSON.stringify([body, as]));
    }
    for (const body of [{ appId: 'app-rt', resourceType: 'hub' }, { appId: 'app-rt', resourceId: '' }, { appId: 'app-rt', resourceId: 'x'.repeat(65) }]) {
      const res = await post(body);
      assert.equal(res.statusCode, 400, JSON.stringify(body));
      assert.match(errorOf(res).detail, /^resource(Type|Id): /);
    }
    assert.equal((await api.store.listReloads({ tenantId: 'acme', appId: 'app-rt', limit: 10 })).length, 0, 'nothing queued by a refused request');

    const ran = await reload(run);
    assert.deepEqual([ran.type, ran.resourceType, ran.resourceId], ['external', 'reload-tasks', task.id]);
    const automate = await reload({ appId: 'app-au', resourceType: 'automate', resourceId: 'automation-17' });
    assert.deepEqual([automate.resourceType, automate.resourceId], ['automate', 'automation-17']);
    const byId = await reload({ appId: 'app-au2', resourceId: 'caller-own-id' });
    assert.deepEqual([byId.resourceType, byId.resourceId], ['api', 'caller-own-id']);
    const listed = async (resourceId: string) => (await api.call('GET', `/api/v1/reloads?resourceId=${resourceId}`)).json().data.map((r: { id: string }) => r.id);
    assert.deepEqual(await listed(task.id), [ran.id]);
    assert.deepEqual(await listed('automation-17'), [automate.id]);
    for (const r of [ran, automate, byId]) assert.equal((await api.call('POST', `/api/v1/reloads/${r.id}/actions/cancel`)).statusCode, 204);
  });

  it('400, not a database error, for a control character in an app or task id', async () => {
    const post = await api.call('POST', '/api/v1/reloads', { body: { appId: 'app\u0000' } });
    assert.deepEqual([post.statusCode, errorOf(post).detail], [400, 'appId: must not contain control characters']);
    for (const q of ['appId=app%00', 'resourceId=%00']) {
      const res = await api.call('GET', `/api/v1/reloads?${q}`);
      assert.deepEqual([res.statusCode, errorOf(res).detail], [400, `${q.split('=')[0]}: must not contain control characters`]);
    }
    const event = await api.call('POST', '/api/v1/events', { admin: true, body: { type: 'com.qlik.v1.app.deleted', data: { appId: 'a\u0000' } } });
    assert.deepEqual([event.statusCode, errorOf(event).detail], [400, 'data.appId: must not contain control characters']);
  });

  it('lists newest first with filters, optional logs and pages', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      api.clock.advance(1000);
      ids.push((await reload({ appId: 'app-list', partial: i % 2 === 0 })).id);
      // One reload of an app may wait in the queue at a time: the next is queued once this one ends.
      if (i < 4) assert.equal((await api.call('POST', `/api/v1/reloads/${ids[i]}/actions/cancel`)).statusCode, 204);
    }
    const page = (await api.call('GET', '/api/v1/reloads?appId=app-list&limit=2')).json();
    assert.deepEqual(page.data.map((r: { id: string }) => r.id), [ids[4], ids[3]]);
    const page2 = (await api.call('GET', new URL(page.links.next.href).pathname + new URL(page.links.next.href).search)).json();
    assert.deepEqual(page2.data.map((r: { id: string }) => r.id), [ids[2], ids[1]]);
    assert.ok(page2.links.prev);
    const partial = (await api.call('GET', '/api/v1/reloads?appId=app-list&partial=true&limit=10')).json();
    assert.equal(partial.data.length, 3);
    const queued = (await api.call('GET', '/api/v1/reloads?appId=app-list&status=QUEUED')).json();
    assert.deepEqual(queued.data.map((r: { id: string }) => r.id), [ids[4]]);
    assert.equal((await api.call('GET', '/api/v1/reloads?appId=app-list&status=CANCELED')).json().data.length, 4);
    assert.equal((await api.call('GET', '/api/v1/reloads?appId=app-list&status=SUCCEEDED')).json().data.length, 0);
    assert.equal(errorOf(await api.call('GET', '/api/v1/reloads?status=DONE')).code, 'HTTP-400');
    assert.equal((await api.call('GET', '/api/v1/reloads?appId=app-list', { as: 'bob' })).json().data.length, 0);
  });

  it('filter: the SCIM subset of Qlik (status, partial, type; eq, and, or, not), with pages that keep it', async () => {
    // app-f: partial true/false alternating; the first three canceled, the last two queued one after another.
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      api.clock.advance(1000);
      ids.push((await reload({ appId: `app-f${i}`, partial: i % 2 === 0 })).id);
      if (i < 3) assert.equal((await api.call('POST', `/api/v1/reloads/${ids[i]}/actions/cancel`)).statusCode, 204);
    }
    const list = async (filter: string, extra = ''): Promise<string[]> => {
      const res = await api.call('GET', `/api/v1/reloads?limit=100${extra}&filter=${encodeURIComponent(filter)}`);
      assert.equal(res.statusCode, 200, res.body);
      return res.json().data.map((r: { id: string }) => r.id).filter((id: string) => ids.includes(id));
    };
    const [c0, c1, c2, q3, q4] = ids as [string, string, string, string, string];
    assert.deepEqual(await list('status eq "CANCELED"'), [c2, c1, c0]);
    assert.deepEqual(await list('(status eq "CANCELED" or status eq "QUEUED") and partial eq "true"'), [q4, c2, c0]);
    assert.deepEqual(await list('not (status eq "CANCELED") and type eq "external"'), [q4, q3]);
    assert.deepEqual(await list('type eq "chronos"'), []);
    assert.deepEqual(await list('status eq "QUEUED" and status eq "CANCELED"'), []);
    // With the status parameter as well: both must hold.
    assert.deepEqual(await list('partial eq false', '&status=CANCELED'), [c1]);
    assert.deepEqual(await list('status eq "QUEUED"', '&status=CANCELED'), []);
    // Pages: the links carry the filter, and the next page holds to it.
    const filter = encodeURIComponent('status eq "CANCELED" or status eq "QUEUED"');
    const first = (await api.call('GET', `/api/v1/reloads?limit=2&appId=app-f1&filter=${filter}`)).json();
    assert.deepEqual(first.data.map((r: { id: string }) => r.id), [c1]);
    const page1 = (await api.call('GET', `/api/v1/reloads?limit=2&filter=${filter}`)).json();
    assert.ok(page1.links.next.href.includes(`filter=${filter}`), page1.links.next.href);
    const next = new URL(page1.links.next.href);
    const page2 = (await api.call('GET', next.pathname + next.search)).json();
    for (const r of [...page1.data, ...page2.data]) assert.ok(['CANCELED', 'QUEUED'].includes(r.status), r.status);
    assert.ok(page2.data.every((r: { id: string }) => r.id < page1.data[1].id));
    // Oldest first (creationTime or +creationTime), pages included; other sorts are refused.
    const oldest = async (sort: string): Promise<string[]> =>
      (await api.call('GET', `/api/v1/reloads?limit=100&sort=${sort}&filter=${encodeURIComponent('type eq "external"')}`)).json().data.map((r: { id: string }) => r.id).filter((id: string) => ids.includes(id));
    assert.deepEqual(await oldest('creationTime'), ids);
    assert.deepEqual(await oldest('%2BcreationTime'), ids);
    const asc1 = (await api.call('GET', `/api/v1/reloads?limit=3&sort=creationTime&appId=app-f0`)).json();
    assert.deepEqual(asc1.data.map((r: { id: string }) => r.id), [c0]);
    const ascPages: string[] = [];
    let href: string | undefined = '/api/v1/reloads?limit=2&sort=creationTime';
    while (href) {
      const body: { data: Array<{ id: string }>; links: { next?: { href: string } } } = (await api.call('GET', href)).json();
      ascPages.push(...body.data.map((r: { id: string }) => r.id));
      href = body.links.next && new URL(body.links.next.href).pathname + new URL(body.links.next.href).search;
    }
    assert.deepEqual(ascPages, [...ascPages].sort(), 'oldest first across pages');
    assert.deepEqual(ascPages.filter((id) => ids.includes(id)), ids);
    const byId = await api.call('GET', '/api/v1/reloads?sort=id');
    assert.deepEqual([byId.statusCode, errorOf(byId).detail], [400, 'sort: must be one of creationTime, +creationTime, -creationTime, status, +status, -status, startTime, +startTime, -startTime, endTime, +endTime, -endTime']);
    // A filter it cannot read: a 400 that says what and where.
    const bad = await api.call('GET', `/api/v1/reloads?filter=${encodeURIComponent('status ne "FAILED"')}`);
    assert.deepEqual([bad.statusCode, errorOf(bad).code, errorOf(bad).detail], [400, 'HTTP-400', "filter: operator 'ne' after status is not supported (eq is)"]);
  });

  it('429 while a reload of the app is queued (the one queued reloads it); once it runs, another may queue', async () => {
    const first = await reload({ appId: 'app-busy' });
    const refused = await api.call('POST', '/api/v1/reloads', { body: { appId: 'app-busy', partial: true } });
    assert.equal(refused.statusCode, 429);
    assert.deepEqual({ ...errorOf(refused), traceId: undefined }, {
      traceId: undefined,
      code: 'RELOADS-429',
      title: 'A reload of this app is already pending.',
      detail: `appId: a reload of app 'app-busy' is already queued (reload ${first.id}); it reloads the app when it starts`,
    });
    // Nothing was queued by the refused request.
    const listed = (await api.call('GET', '/api/v1/reloads?appId=app-busy', { admin: true })).json();
    assert.deepEqual(listed.data.map((r: { id: string }) => r.id), [first.id]);
    // Another user of the tenant is refused too (the app has a pending reload, whoever asked);
    // another app, and the same app id in another tenant, are not.
    const bobs = await api.call('POST', '/api/v1/reloads', { body: { appId: 'app-busy' }, as: 'bob' });
    assert.equal(bobs.statusCode, 429);
    // without the id of a reload bob may not read; the tenant's admin gets it
    assert.equal(errorOf(bobs).detail, "appId: a reload of app 'app-busy' is already queued; it reloads the app when it starts");
    const admins = await api.call('POST', '/api/v1/reloads', { body: { appId: 'app-busy' }, as: 'root', admin: true });
    assert.ok(errorOf(admins).detail.includes(`(reload ${first.id})`));
    await reload({ appId: 'app-free' });
    await reload({ appId: 'app-busy' }, ['globex', 'alice']);
    // Once the queued reload has started (a dispatcher claimed it), a new one may queue behind it.
    const now = api.clock.now();
    const started = await api.store.claimQueued(now, 'reloads-test', now + 60_000, 'simulated', { global: 1000, perTenant: 1000, batch: 1000 });
    assert.ok(started.some((r) => r.id === first.id));
    assert.equal((await api.call('GET', `/api/v1/reloads/${first.id}`)).json().status, 'RELOADING');
    const next = await reload({ appId: 'app-busy' });
    assert.equal(next.status, 'QUEUED');
  });

  it('sort by status, startTime or endTime (each + or -): pages in that order, ties by creation, unset times first; links both ways', async () => {
    const as: [string, string] = ['sortco', 'alice'];
    const statuses = ['SUCCEEDED', 'FAILED', 'QUEUED', 'RELOADING', 'CANCELED', 'EXCEEDED_LIMIT', 'SUCCEEDED', 'FAILED', 'QUEUED', 'SUCCEEDED', 'CANCELING', 'FAILED', 'SUCCEEDED'] as const;
    const made: Reload[] = [];
    for (const [i, status] of statuses.entries()) {
      const base = queuedReload({ tenantId: 'sortco', userId: 'alice', appId: `app-s${i % 4}`, partial: false, type: 'external', resourceType: 'api', resourceId: null, scheduledTime: null }, NOW + i * 1000);
      const started = status === 'QUEUED' ? null : NOW + ((i * 7) % 5) * 60_000; // ties on purpose
      const ended = ['QUEUED', 'RELOADING', 'CANCELING'].includes(status) ? null : NOW + ((i * 3) % 4) * 3_600_000;
      const r: Reload = { ...base, status, startTime: started, endTime: ended };
      await api.store.insertReload(r);
      made.push(r);
    }
    const value = (field: string, r: Reload): string | number =>
      field === 'creationTime' ? r.id : field === 'status' ? r.status : ((field === 'startTime' ? r.startTime : r.endTime) ?? -1);
    for (const sort of ['status', '%2Bstatus', '-status', 'startTime', '-startTime', 'endTime', '%2BendTime', '-endTime', 'creationTime', '-creationTime']) {
      const field = sort.replace(/^(%2B|-)/, '');
      const sign = sort.startsWith('-') ? -1 : 1;
      const want = [...made]
        .sort((a, b) => {
          const [x, y] = [value(field, a), value(field, b)];
          return sign * (x < y ? -1 : x > y ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
        })
        .map((r) => r.id);
      const pages: string[][] = [];
      let url: string | undefined = `/api/v1/reloads?sort=${sort}&limit=4`;
      let last: { links: { next?: { href: string }; prev?: { href: string } } } | undefined;
      while (url) {
        const res = await api.call('GET', url, { as });
        assert.equal(res.statusCode, 200, `${sort}: ${res.body}`);
        last = res.json();
        pages.push(res.json().data.map((r: { id: string }) => r.id));
        url = last!.links.next && new URL(last!.links.next.href).pathname + new URL(last!.links.next.href).search;
      }
      assert.deepEqual(pages.flat(), want, sort);
      // Back from the last page through the prev links: the same pages, the other way round.
      const back: string[][] = [];
      url = last!.links.prev && new URL(last!.links.prev.href).pathname + new URL(last!.links.prev.href).search;
      while (url) {
        const res = await api.call('GET', url, { as });
        back.push(res.json().data.map((r: { id: string }) => r.id));
        const prev: { href: string } | undefined = res.json().links.prev;
        url = prev && new URL(prev.href).pathname + new URL(prev.href).search;
      }
      assert.deepEqual(back, pages.slice(0, -1).reverse(), `${sort}, backwards`);
    }
    // A cursor is for the sort it was made for.
    const first = (await api.call('GET', '/api/v1/reloads?sort=-endTime&limit=2', { as })).json();
    const cursor = new URL(first.links.next.href).searchParams.get('next')!;
    for (const other of ['-startTime', '-creationTime', 'status', 'endTime', '%2BendTime']) {
      const res = await api.call('GET', `/api/v1/reloads?sort=${other}&limit=2&next=${encodeURIComponent(cursor)}`, { as });
      assert.deepEqual([res.statusCode, errorOf(res).detail], [400, `next: not a next cursor of a list sorted by ${other.replace('%2B', '')}`]);
    }
    // +endTime and endTime are one order: their cursors are the same.
    const asc = (await api.call('GET', '/api/v1/reloads?sort=endTime&limit=2', { as })).json();
    const ascCursor = new URL(asc.links.next.href).searchParams.get('next')!;
    assert.equal((await api.call('GET', `/api/v1/reloads?sort=%2BendTime&limit=2&next=${encodeURIComponent(ascCursor)}`, { as })).statusCode, 200);
    const bad = await api.call('GET', '/api/v1/reloads?sort=-id', { as });
    assert.equal(bad.statusCode, 400);
  });

  it("400 for a cursor of the tasks list: each list takes only its own cursors", async () => {
    for (const appId of ['app-c1', 'app-c2']) {
      const res = await api.call('POST', '/api/v1/reload-tasks', { body: { appId, timeZone: 'UTC' } });
      assert.equal(res.statusCode, 201);
    }
    const page = (await api.call('GET', '/api/v1/reload-tasks?limit=1')).json();
    const cursor = new URL(page.links.next.href).searchParams.get('next')!;
    assert.equal((await api.call('GET', `/api/v1/reload-tasks?limit=1&next=${encodeURIComponent(cursor)}`)).statusCode, 200);
    const res = await api.call('GET', `/api/v1/reloads?next=${encodeURIComponent(cursor)}`);
    assert.deepEqual([res.statusCode, errorOf(res).detail], [400, 'next: not a next cursor issued by this service']);
  });

  it('cancels: a queued reload at once (204), a running one asynchronously (202), a final one not (409)', async () => {
    const queued = await reload({ appId: 'app-c' });
    assert.equal((await api.call('POST', `/api/v1/reloads/${queued.id}/actions/cancel`)).statusCode, 204);
    assert.equal((await api.call('GET', `/api/v1/reloads/${queued.id}`)).json().status, 'CANCELED');
    const again = await api.call('POST', `/api/v1/reloads/${queued.id}/actions/cancel`);
    assert.equal(again.statusCode, 409);
    assert.equal(errorOf(again).detail, `reload '${queued.id}' is CANCELED and cannot be canceled`);

    const running = await reload({ appId: 'app-c' });
    const started = await api.store.claimQueued(api.clock.now(), 'me', api.clock.now() + 30_000, 'simulated', { global: 1000, perTenant: 1000, batch: 1000 });
    assert.ok(started.some((r) => r.id === running.id));
    const res = await api.call('POST', `/api/v1/reloads/${running.id}/actions/cancel`);
    assert.equal(res.statusCode, 202);
    assert.deepEqual(res.json(), { status: 'CANCELING' });
    assert.equal((await api.call('POST', `/api/v1/reloads/${running.id}/actions/cancel`, { as: 'bob' })).statusCode, 403);
  });
});

describe('POST /api/v1/events', () => {
  it('is for tenant admins only', async () => {
    const res = await api.call('POST', '/api/v1/events', { body: { type: 'com.qlik.v1.app.deleted', data: { appId: 'x' } } });
    assert.equal(res.statusCode, 403);
    // Even with a body that is not valid: a caller who may not send events learns nothing of their shape.
    const invalid = await api.call('POST', '/api/v1/events', { body: { type: 'nope' } });
    assert.deepEqual([invalid.statusCode, errorOf(invalid).code], [403, 'HTTP-403']);
    const asAdmin = await api.call('POST', '/api/v1/events', { admin: true, body: { type: 'nope' } });
    assert.deepEqual([asAdmin.statusCode, errorOf(asAdmin).code], [400, 'HTTP-400']);
  });

  it('app data updated: reloads the app through its autoReload tasks', async () => {
    const auto = (await api.call('POST', '/api/v1/reload-tasks', { body: { appId: 'app-e', timeZone: 'UTC', autoReload: true, autoReloadPartial: true } })).json();
    await api.call('POST', '/api/v1/reload-tasks', { body: { appId: 'app-e', timeZone: 'UTC', autoReload: false } });
    const res = await api.call('POST', '/api/v1/events', { as: 'root', admin: true, body: { specversion: '1.0', id: 'e1', source: 'qlik', type: 'com.qlik.v1.app.data.updated', data: { appId: 'app-e' } } });
    assert.equal(res.statusCode, 202);
    const body = res.json();
    assert.equal(body.tasks, 1);
    const r = (await api.call('GET', `/api/v1/reloads/${body.reloads[0]}`)).json();
    assert.equal(r.type, 'data-refresh');
    assert.equal(r.resourceId, auto.id);
    assert.equal(r.partial, true);
    assert.equal(r.userId, 'alice');
    const missing = await api.call('POST', '/api/v1/events', { as: 'root', admin: true, body: { type: 'com.qlik.v1.app.data.updated', data: {} } });
    assert.equal(errorOf(missing).detail, 'data.appId: is required for com.qlik.v1.app.data.updated');
  });

  it('app data updated again before the reload started: the queued reload will load it, and no other is queued', async () => {
    const event = { as: 'root', admin: true, body: { type: 'com.qlik.v1.app.data.updated', data: { appId: 'app-f' } } } as const;
    const auto = (await api.call('POST', '/api/v1/reload-tasks', { body: { appId: 'app-f', timeZone: 'UTC', autoReload: true, autoReloadPartial: true } })).json();
    const first = (await api.call('POST', '/api/v1/events', event)).json();
    const again = (await api.call('POST', '/api/v1/events', event)).json();
    assert.deepEqual(again, { type: 'com.qlik.v1.app.data.updated', reloads: first.reloads, tasks: 1 });
    const listed = async () => (await api.call('GET', '/api/v1/reloads?appId=app-f&limit=100', { as: 'root', admin: true })).json().data;
    assert.equal((await listed()).length, 1);
    // A partial reload queued does not stand in for a full one.
    await api.call('PUT', `/api/v1/reload-tasks/${auto.id}`, { body: { autoReloadPartial: false } });
    const full = (await api.call('POST', '/api/v1/events', event)).json();
    assert.notDeepEqual(full.reloads, first.reloads);
    assert.equal((await api.call('GET', `/api/v1/reloads/${full.reloads[0]}`)).json().partial, false);
    // Once nothing of the app is waiting (here: both canceled), an update queues a reload again.
    for (const id of [...first.reloads, ...full.reloads]) await api.call('POST', `/api/v1/reloads/${id}/actions/cancel`, { as: 'root', admin: true });
    const later = (await api.call('POST', '/api/v1/events', event)).json();
    assert.equal((await listed()).length, 3);
    assert.ok(!first.reloads.includes(later.reloads[0]) && !full.reloads.includes(later.reloads[0]));
  });

  it('user deleted or disabled: their tasks are disabled with the reason; app deleted: its tasks go', async () => {
    const t1 = (await api.call('POST', '/api/v1/reload-tasks', { as: 'dan', body: { appId: 'app-u', timeZone: 'UTC', startDateTime: '2030-01-01T00:00:00' } })).json();
    const t2 = (await api.call('POST', '/api/v1/reload-tasks', { as: 'eve', body: { appId: 'app-u', timeZone: 'UTC', startDateTime: '2030-01-01T00:00:00' } })).json();
    const del = await api.call('POST', '/api/v1/events', { as: 'root', admin: true, body: { type: 'com.qlik.v1.user.deleted', data: { userId: 'dan' } } });
    assert.equal(del.json().tasks, 1);
    const d = (await api.call('GET', `/api/v1/reload-tasks/${t1.id}`, { as: 'dan' })).json();
    assert.equal(d.state, 'Disabled');
    assert.equal(d.disabledCode, 'OWNER-DELETED');
    assert.equal(d.nextExecutionTime, undefined);
    await api.call('POST', '/api/v1/events', { as: 'root', admin: true, body: { type: 'com.qlik.v1.user.disabled', data: { userId: 'eve' } } });
    assert.equal((await api.call('GET', `/api/v1/reload-tasks/${t2.id}`, { as: 'eve' })).json().disabledCode, 'OWNER-DISABLED');
    // Another tenant's admin reaches nothing here.
    const other = await api.call('POST', '/api/v1/events', { as: ['globex', 'root'], admin: true, body: { type: 'com.qlik.v1.app.deleted', data: { appId: 'app-u' } } });
    assert.equal(other.json().tasks, 0);
    const gone = await api.call('POST', '/api/v1/events', { as: 'root', admin: true, body: { type: 'com.qlik.v1.app.deleted', data: { appId: 'app-u' } } });
    assert.equal(gone.json().tasks, 2);
    assert.equal((await api.call('GET', `/api/v1/reload-tasks/${t1.id}`, { as: 'dan' })).statusCode, 404);
  });
});

describe('GET /api/v1/reload-tasks/{taskId}/occurrences', () => {
  it('shows every recorded occurrence with its outcome, and the missed count', async () => {
    const t = (await api.call('POST', '/api/v1/reload-tasks', { body: { appId: 'app-h', timeZone: 'UTC', startDateTime: '2026-12-01T12:00:00', recurrence: ['FREQ=HOURLY;BYMINUTE=30'] } })).json();
    const scheduler = new Scheduler(api.store, new SimulatedExecutor({ durationMs: 0, failureRate: 0 }), api.clock, quiet, api.config.scheduler, 'test');
    api.clock.set(Date.parse('2026-12-01T15:45:00Z')); // 12:30, 13:30, 14:30 and 15:30 were due
    await scheduler.tick();
    await scheduler.dispatcher.idle();
    const res = (await api.call('GET', `/api/v1/reload-tasks/${t.id}/occurrences`)).json();
    assert.equal(res.missedCount, 3);
    assert.deepEqual(
      res.data.map((o: { scheduledTime: string; outcome: string }) => [o.scheduledTime, o.outcome]),
      [
        ['2026-12-01T15:30:00Z', 'fired'],
        ['2026-12-01T14:30:00Z', 'missed'],
        ['2026-12-01T13:30:00Z', 'missed'],
        ['2026-12-01T12:30:00Z', 'missed'],
      ],
    );
    const r = (await api.call('GET', `/api/v1/reloads/${res.data[0].reloadId}`)).json();
    assert.equal(r.status, 'SUCCEEDED');
    assert.equal(r.scheduledTime, '2026-12-01T15:30:00Z');
    const task = (await api.call('GET', `/api/v1/reload-tasks/${t.id}`)).json();
    assert.equal(task.lastExecutionTime, '2026-12-01T15:30:00Z');
    assert.equal(task.nextExecutionTime, '2026-12-01T16:30:00Z');
    assert.equal((await api.call('GET', `/api/v1/reload-tasks/${t.id}/occurrences`, { as: 'bob' })).statusCode, 403);
    const older = (await api.call('GET', `/api/v1/reload-tasks/${t.id}/occurrences?before=2026-12-01T14:00:00Z&limit=1`)).json();
    assert.deepEqual(older.data.map((o: { scheduledTime: string }) => o.scheduledTime), ['2026-12-01T13:30:00Z']);
  });
});

describe('POST /api/v1/reloads refused for its Host header', () => {
  it('400, and no reload queued, when the Host header cannot make the reload link (found by fuzz-reloads.test.ts)', async () => {
    const res = await api.call('POST', '/api/v1/reloads', { body: { appId: 'app-bad-host' }, headers: { host: 'bad_host' } });
    assert.equal(res.statusCode, 400);
    assert.match(errorOf(res).detail, /^the Host header is not a valid host\[:port\]/);
    assert.deepEqual(await api.store.listReloads({ tenantId: 'acme', appId: 'app-bad-host', limit: 10 }), []);
  });
});
