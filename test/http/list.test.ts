// GET /api/v1/reload-tasks: filters, limits, keyset pages, and links a client can follow as they are.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createTestApi, errorOf, type TestApi } from '../helpers/api.js';

let api: TestApi;
const ids: string[] = []; // alice's tasks in acme, in creation (= id) order

before(async () => {
  api = await createTestApi();
  for (let i = 0; i < 25; i++) {
    api.clock.advance(1000); // ids are time-ordered by second
    const res = await api.call('POST', '/api/v1/reload-tasks', {
      body: { appId: i % 5 === 0 ? 'App-A' : `app-${i}`, timeZone: 'UTC', partial: i % 2 === 0, startDateTime: '2027-01-01T00:00:00', recurrence: ['FREQ=DAILY'] },
    });
    ids.push(res.json().id);
  }
  await api.call('POST', '/api/v1/reload-tasks', { body: { appId: 'App-A', timeZone: 'UTC' }, as: 'bob' });
  await api.call('POST', '/api/v1/reload-tasks', { body: { appId: 'App-A', timeZone: 'UTC' }, as: ['globex', 'alice'] });
});
after(() => api.close());

const list = async (query: string, as?: string, admin = false) => api.call('GET', `/api/v1/reload-tasks${query}`, { ...(as && { as }), admin });
interface Page {
  data: Array<{ id: string }>;
  links: { self: { href: string }; next?: { href: string }; prev?: { href: string } };
}
const path = (href: string) => href.replace('http://localhost:80', '');

describe('GET /api/v1/reload-tasks', () => {
  it('pages of 10 by default, in creation order, with only a next link on the first page', async () => {
    const res = await list('');
    assert.equal(res.statusCode, 200);
    const body = res.json();
    assert.deepEqual(body.data.map((t: { id: string }) => t.id), ids.slice(0, 10));
    assert.equal(body.links.self.href, 'http://localhost:80/api/v1/reload-tasks');
    assert.match(body.links.next.href, /^http:\/\/localhost:80\/api\/v1\/reload-tasks\?next=[\w-]+\.[\w-]+$/);
    assert.equal(body.links.prev, undefined);
  });

  it('walks forward and back through every page, with links that carry every parameter', async () => {
    const seen: string[] = [];
    let href: string | undefined = '/api/v1/reload-tasks?limit=7&partial=true&foo=bar';
    const pages: string[] = [];
    while (href) {
      const body: Page = (await api.call('GET', path(href))).json();
      pages.push(href);
      seen.push(...body.data.map((t) => t.id));
      for (const link of [body.links.next, body.links.prev]) {
        if (!link) continue;
        const u = new URL(link.href);
        assert.equal(u.searchParams.get('limit'), '7');
        assert.equal(u.searchParams.get('partial'), 'true');
        assert.equal(u.searchParams.get('foo'), 'bar');
      }
      href = body.links.next?.href;
    }
    const partial = ids.filter((_, i) => i % 2 === 0);
    assert.deepEqual(seen, partial);
    assert.equal(pages.length, 2); // 13 partial tasks, 7 a page

    // And back from the last page.
    const last = (await api.call('GET', path(pages[1]!))).json();
    assert.ok(last.links.prev);
    assert.equal(last.links.next, undefined);
    const first = (await api.call('GET', path(last.links.prev.href))).json();
    assert.deepEqual(first.data.map((t: { id: string }) => t.id), partial.slice(0, 7));
    assert.equal(first.links.prev, undefined);
    assert.ok(first.links.next);
  });

  it('filters appId exactly and case-sensitively, and partial=false', async () => {
    const a = (await list('?appId=App-A')).json();
    assert.deepEqual(a.data.map((t: { id: string }) => t.id), ids.filter((_, i) => i % 5 === 0));
    assert.equal((await list('?appId=app-a')).json().data.length, 0);
    const full = (await list('?partial=false&limit=100')).json();
    assert.deepEqual(full.data.map((t: { id: string }) => t.id), ids.filter((_, i) => i % 2 === 1));
  });

  it('shows a user only their own tasks, an admin all of the tenant, and never another tenant', async () => {
    assert.equal((await list('?limit=100', 'bob')).json().data.length, 1);
    const admin = (await list('?limit=100', 'root', true)).json();
    assert.equal(admin.data.length, 26);
    assert.ok(admin.data.every((t: { tenantId: string }) => t.tenantId === 'acme'));
    const globex = (await api.call('GET', '/api/v1/reload-tasks?limit=100', { as: ['globex', 'alice'], admin: true })).json();
    assert.equal(globex.data.length, 1);
    assert.equal(globex.data[0].tenantId, 'globex');
  });

  it('keeps its order while tasks are created and deleted between pages', async () => {
    const p1 = (await list('?limit=5')).json();
    // Delete an item of the next page and one already seen, and create a new task.
    await api.call('DELETE', `/api/v1/reload-tasks/${ids[6]}`);
    await api.call('DELETE', `/api/v1/reload-tasks/${ids[1]}`);
    api.clock.advance(60_000);
    const extra = (await api.call('POST', '/api/v1/reload-tasks', { body: { appId: 'late', timeZone: 'UTC' } })).json();
    const p2 = (await api.call('GET', path(p1.links.next.href))).json();
    assert.deepEqual(p2.data.map((t: { id: string }) => t.id), [ids[5], ids[7], ids[8], ids[9], ids[10]]);
    await api.call('DELETE', `/api/v1/reload-tasks/${extra.id}`);
  });

  it('an emptied page still links back to what lies before its cursor', async () => {
    const res = await api.call('POST', '/api/v1/reload-tasks', { body: { appId: 'solo', timeZone: 'UTC' }, as: 'carol' });
    const solo = res.json().id;
    api.clock.advance(1000);
    const other = (await api.call('POST', '/api/v1/reload-tasks', { body: { appId: 'solo', timeZone: 'UTC' }, as: 'carol' })).json().id;
    const p1 = (await list('?limit=1', 'carol')).json();
    assert.deepEqual(p1.data.map((t: { id: string }) => t.id), [solo]);
    await api.call('DELETE', `/api/v1/reload-tasks/${other}`, { as: 'carol' });
    const p2 = (await api.call('GET', path(p1.links.next.href), { as: 'carol' })).json();
    assert.deepEqual(p2.data, []);
    assert.equal(p2.links.next, undefined);
    const back = (await api.call('GET', path(p2.links.prev.href), { as: 'carol' })).json();
    assert.deepEqual(back.data.map((t: { id: string }) => t.id), [solo]);
  });

  const bad: Array<[string, string]> = [
    ['?limit=0', 'limit: must be an integer from 1 to 100'],
    ['?limit=101', 'limit: must be an integer from 1 to 100'],
    ['?limit=1.5', 'limit: must be an integer'],
    ['?limit=ten', 'limit: must be an integer'],
    ['?partial=yes', 'partial: must be a boolean'],
    ['?partial=1', 'partial: must be a boolean'],
    ['?next=abc', 'next: not a next cursor issued by this service'],
    ['?prev=abc.def', 'prev: not a prev cursor issued by this service'],
    // U+0000 cannot even be a PostgreSQL parameter: once a 500 there (found by the fuzz test).
    ['?appId=app-a%00', 'appId: must not contain control characters'],
    ['?appId=a%0Ab', 'appId: must not contain control characters'],
  ];
  for (const [query, detail] of bad) {
    it(`400 for ${query}`, async () => {
      const res = await list(query);
      assert.equal(res.statusCode, 400);
      assert.deepEqual([errorOf(res).code, errorOf(res).detail], ['HTTP-400', detail]);
    });
  }

  it('400 for both next and prev, and for a cursor in the wrong parameter or forged', async () => {
    const p1 = (await list('?limit=3')).json();
    const cursor = new URL(p1.links.next.href).searchParams.get('next')!;
    const both = await list(`?next=${cursor}&prev=${cursor}`);
    assert.equal(errorOf(both).detail, 'next, prev: provide either the next or the prev cursor, not both');
    assert.equal(errorOf(await list(`?prev=${cursor}`)).detail, 'prev: not a prev cursor issued by this service');
    const [payload, mac] = cursor.split('.');
    const forged = `${Buffer.from(`ax${'f'.repeat(24)}`).toString('base64url')}.${mac}`;
    assert.equal(errorOf(await list(`?next=${forged}`)).detail, 'next: not a next cursor issued by this service');
    assert.equal((await list(`?next=${payload}.${mac}`)).statusCode, 200);
  });

  it('a cursor of another tenant leaks nothing', async () => {
    const p1 = (await list('?limit=3')).json();
    const res = await api.call('GET', path(p1.links.next.href), { as: ['globex', 'alice'], admin: true });
    assert.equal(res.statusCode, 200);
    assert.ok(res.json().data.every((t: { tenantId: string }) => t.tenantId === 'globex'));
  });
});
