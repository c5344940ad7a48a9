// The five endpoints through app.inject(): every status code each can return, the contract's
// defaults and shapes, and who may see and change what.
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { createTestApi, errorOf, NOW, type TestApi } from '../helpers/api.js';

const spec = {
  appId: '116dbfae-7fb9-4983-8e23-5ccd8c508722',
  partial: false,
  timeZone: 'America/Toronto',
  autoReload: false,
  recurrence: ['RRULE:FREQ=DAILY;INTERVAL=1;BYHOUR=11;BYMINUTE=18;BYSECOND=0', 'RRULE:FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,TU;BYHOUR=13;BYMINUTE=17;BYSECOND=0'],
  endDateTime: '2027-10-12T23:59:00',
  startDateTime: '2026-12-19T11:18:00',
  autoReloadPartial: false,
  type: 'scheduled_reload',
};

let api: TestApi;
before(async () => {
  // Most tasks here are of the reference's one app, more than the 10 one app may have by default
  // (app-task-limit.test.ts tests that limit).
  api = await createTestApi({ MAX_TASKS_PER_APP: '0' });
});
after(() => api.close());
beforeEach(() => api.clock.set(NOW));

async function create(body: object = spec, as?: string) {
  const res = await api.call('POST', '/api/v1/reload-tasks', { body, ...(as && { as }) });
  assert.equal(res.statusCode, 201, res.body);
  return res.json();
}

describe('POST /api/v1/reload-tasks', () => {
  it('creates the task with defaults, owner, links and the next execution in UTC', async () => {
    const res = await api.call('POST', '/api/v1/reload-tasks', { body: { appId: 'app-1', timeZone: 'America/Toronto', startDateTime: '2027-01-01T11:18:00', recurrence: ['FREQ=DAILY;BYHOUR=11;BYMINUTE=18;BYSECOND=0'], extra: 'ignored' } });
    assert.equal(res.statusCode, 201);
    const t = res.json();
    assert.match(t.id, /^[0-9a-f]{24}$/);
    assert.equal(t.appId, 'app-1');
    assert.equal(t.partial, false);
    assert.equal(t.autoReload, false);
    assert.equal(t.autoReloadPartial, false);
    assert.equal(t.state, 'Enabled');
    assert.equal(t.migrated, false);
    assert.equal(t.userId, 'alice');
    assert.equal(t.tenantId, 'acme');
    assert.equal(t.extra, undefined);
    assert.deepEqual(t.recurrence, ['FREQ=DAILY;BYHOUR=11;BYMINUTE=18;BYSECOND=0']); // echoed as sent
    assert.equal(t.nextExecutionTime, '2027-01-01T16:18:00Z');
    assert.equal(t.links.self.href, `http://localhost:80/api/v1/reload-tasks/${t.id}`);
    assert.equal(res.headers.location, t.links.self.href);
    assert.equal(t.disabledCode, undefined);
    assert.equal(t.lastExecutionTime, undefined);
  });

  it('computes the first occurrence strictly after now', async () => {
    // Exactly an occurrence of the daily rule, on a Monday of the bi-weekly rule (weeks of Dec 14, Dec 28, …).
    api.clock.set(Date.parse('2026-12-28T16:18:00Z'));
    const t = await create();
    assert.equal(t.nextExecutionTime, '2026-12-28T18:17:00Z'); // the Monday 13:17 EST comes next
  });

  it('accepts the spec example unchanged and echoes its fields', async () => {
    const t = await create();
    for (const k of ['appId', 'partial', 'timeZone', 'autoReload', 'recurrence', 'endDateTime', 'startDateTime', 'autoReloadPartial'] as const) {
      assert.deepEqual(t[k], spec[k], k);
    }
    assert.equal(t.type, undefined);
  });

  it('a task without schedule (autoReload only) is Enabled without a next execution', async () => {
    const t = await create({ appId: 'a', timeZone: 'UTC', autoReload: true, startDateTime: '', recurrence: [] });
    assert.equal(t.state, 'Enabled');
    assert.equal(t.nextExecutionTime, undefined);
    assert.equal(t.startDateTime, '');
  });

  it('recurrence lines without a startDateTime start at the first whole minute after creation, stored and echoed (qlik-cli scripts leave it out)', async () => {
    // NOW is 2026-12-01T12:00:00Z; a real script: --recurrence "RRULE:FREQ=DAILY;INTERVAL=1;BYHOUR=5;BYMINUTE=0;BYSECOND=0" --timeZone America/Sao_Paulo
    api.clock.set(NOW + 17_500);
    const t = await create({ appId: 'a', timeZone: 'America/Sao_Paulo', recurrence: ['RRULE:FREQ=DAILY;INTERVAL=1;BYHOUR=5;BYMINUTE=0;BYSECOND=0'] });
    assert.equal(t.startDateTime, '2026-12-01T09:01:00');
    assert.equal(t.state, 'Enabled');
    assert.equal(t.nextExecutionTime, '2026-12-02T08:00:00Z'); // 05:00 -03:00 tomorrow
    assert.deepEqual((await api.call('GET', `/api/v1/reload-tasks/${t.id}`)).json(), t);
    // An empty string is "not set" too; a rule that leaves out the time of day takes the start's,
    // so its first run is the start itself, a minute after creation at most (never at creation).
    api.clock.set(NOW);
    const u = await create({ appId: 'a', timeZone: 'UTC', startDateTime: '', recurrence: ['FREQ=WEEKLY'] });
    assert.equal(u.startDateTime, '2026-12-01T12:01:00');
    assert.equal(u.nextExecutionTime, '2026-12-01T12:01:00Z');
    // COUNT counts runs after creation: the start is never an occurrence already past.
    const counted = await create({ appId: 'a', timeZone: 'UTC', recurrence: ['RRULE:FREQ=DAILY;COUNT=1'] });
    assert.deepEqual([counted.state, counted.nextExecutionTime], ['Enabled', '2026-12-01T12:01:00Z']);
    // The anchor is the creation time, so an end before it is named as such.
    const res = await api.call('POST', '/api/v1/reload-tasks', { body: { appId: 'a', timeZone: 'UTC', endDateTime: '2026-12-01T11:00:00', recurrence: ['FREQ=DAILY'] } });
    assert.equal(res.statusCode, 400);
    assert.equal(errorOf(res).detail, 'endDateTime: must be after the start; no startDateTime was sent, so the task starts now (2026-12-01T12:01:00 in UTC)');
  });

  it('an unknown time zone is named before any anchoring, and lines without a start are still parsed', async () => {
    const res = await api.call('POST', '/api/v1/reload-tasks', { body: { appId: 'a', timeZone: 'Mars/Olympus', recurrence: ['FREQ=DAILY'] } });
    assert.equal(errorOf(res).detail, "timeZone: 'Mars/Olympus' is not an IANA time zone name");
    const bad = await api.call('POST', '/api/v1/reload-tasks', { body: { appId: 'a', timeZone: 'UTC', recurrence: ['FREQ=DAILY;BYDAY=XX'] } });
    assert.equal(errorOf(bad).detail, "recurrence[0]: BYDAY value 'XX' is not a weekday");
  });

  it('a schedule with nothing left to run is Completed', async () => {
    const t = await create({ appId: 'a', timeZone: 'UTC', startDateTime: '2026-01-01T00:00:00' });
    assert.equal(t.state, 'Completed');
    assert.equal(t.nextExecutionTime, undefined);
  });

  const invalid: Array<[string, unknown, string, string]> = [
    ['a missing appId', { timeZone: 'UTC' }, 'TASKS-002', 'appId: is required'],
    ['a missing timeZone', { appId: 'a' }, 'TASKS-002', 'timeZone: is required'],
    ['a wrong type', { appId: 'a', timeZone: 'UTC', partial: 'true' }, 'TASKS-002', 'partial: must be a boolean'],
    ['a number as appId', { appId: 7, timeZone: 'UTC' }, 'TASKS-002', 'appId: must be a string'],
    ['an empty appId', { appId: '', timeZone: 'UTC' }, 'TASKS-002', 'appId: must not be empty'],
    ['a recurrence that is not an array', { appId: 'a', timeZone: 'UTC', recurrence: 'FREQ=DAILY' }, 'TASKS-002', 'recurrence: must be an array'],
    ['a recurrence line that is not a string', { appId: 'a', timeZone: 'UTC', recurrence: ['FREQ=DAILY', 3] }, 'TASKS-002', 'recurrence[1]: must be a string'],
    ['a body that is not an object', [1, 2], 'TASKS-002', 'body: must be an object'],
    ['an unknown time zone', { appId: 'a', timeZone: 'Mars/Olympus' }, 'TASKS-003', "timeZone: 'Mars/Olympus' is not an IANA time zone name"],
    ['a start with an offset', { appId: 'a', timeZone: 'UTC', startDateTime: '2027-01-01T00:00:00Z' }, 'TASKS-003', "startDateTime: '2027-01-01T00:00:00Z' has a UTC offset; with a timeZone the offset must be omitted (e.g. '2027-01-01T00:00:00')"],
    ['a start that is not a date-time', { appId: 'a', timeZone: 'UTC', startDateTime: 'soon' }, 'TASKS-003', "startDateTime: 'soon' is not a local date-time (YYYY-MM-DDTHH:MM:SS)"],
    ['a start before 1970', { appId: 'a', timeZone: 'UTC', startDateTime: '1969-12-31T23:59:59' }, 'TASKS-003', "startDateTime: '1969-12-31T23:59:59' in UTC is before 1970-01-01T00:00:00Z"],
    ['a start after 9999-12-31T23:59:59Z', { appId: 'a', timeZone: 'America/Anchorage', startDateTime: '9999-12-31T23:59:59' }, 'TASKS-003', "startDateTime: '9999-12-31T23:59:59' in America/Anchorage is after 9999-12-31T23:59:59Z"],
    ['an end not after the start', { appId: 'a', timeZone: 'UTC', startDateTime: '2027-01-02T00:00:00', endDateTime: '2027-01-01T00:00:00' }, 'TASKS-003', 'endDateTime: must be after startDateTime'],
    ['an end in the past', { appId: 'a', timeZone: 'UTC', startDateTime: '2026-01-01T00:00:00', endDateTime: '2026-06-01T00:00:00', recurrence: ['FREQ=DAILY'] }, 'TASKS-003', "endDateTime: '2026-06-01T00:00:00' in UTC is in the past"],
    ['a recurrence error', { appId: 'a', timeZone: 'UTC', startDateTime: '2027-01-01T00:00:00', recurrence: ['FREQ=DAILY', 'RRULE:FREQ=WEEKLY;BYDAY=XX'] }, 'TASKS-003', "recurrence[1]: BYDAY value 'XX' is not a weekday"],
    ['a COUNT too large to count after a restart', { appId: 'a', timeZone: 'UTC', startDateTime: '2027-01-01T00:00:00', recurrence: ['FREQ=MINUTELY;COUNT=1000000'] }, 'TASKS-003', 'recurrence[0]: COUNT is more occurrences than can be counted; use UNTIL (or endDateTime) instead, or a smaller COUNT'],
    ['a DTSTART line', { appId: 'a', timeZone: 'UTC', startDateTime: '2027-01-01T00:00:00', recurrence: ['DTSTART:20270101T000000Z'] }, 'TASKS-003', 'recurrence[0]: DTSTART lines are not allowed; use startDateTime'],
  ];
  for (const [what, body, code, detail] of invalid) {
    it(`400 for ${what}`, async () => {
      const res = await api.call('POST', '/api/v1/reload-tasks', { body });
      assert.equal(res.statusCode, 400);
      assert.deepEqual({ code: errorOf(res).code, detail: errorOf(res).detail }, { code, detail });
    });
  }

  it('400 for malformed JSON and for an empty body', async () => {
    const bad = await api.call('POST', '/api/v1/reload-tasks', { body: '{"appId": ', headers: { 'content-type': 'application/json' } });
    assert.equal(bad.statusCode, 400);
    assert.deepEqual([errorOf(bad).code, errorOf(bad).detail], ['HTTP-400', 'the request body is not valid JSON']);
    const empty = await api.call('POST', '/api/v1/reload-tasks', { body: '', headers: { 'content-type': 'application/json' } });
    assert.equal(empty.statusCode, 400);
    assert.deepEqual([errorOf(empty).code, errorOf(empty).detail], ['TASKS-002', 'body: must be an object']);
  });

  it('takes GET and DELETE with Content-Type: application/json and no body, as the spec\'s fetch examples send them', async () => {
    const t = await create();
    const headers = { 'content-type': 'application/json' };
    assert.equal((await api.call('GET', '/api/v1/reload-tasks', { headers })).statusCode, 200);
    assert.equal((await api.call('GET', `/api/v1/reload-tasks/${t.id}`, { headers })).statusCode, 200);
    assert.equal((await api.call('DELETE', `/api/v1/reload-tasks/${t.id}`, { headers })).statusCode, 204);
  });

  it('400 for a __proto__ key', async () => {
    const res = await api.call('POST', '/api/v1/reload-tasks', { body: '{"appId":"a","timeZone":"UTC","__proto__":{"admin":true}}' });
    assert.equal(res.statusCode, 400);
    assert.equal(errorOf(res).code, 'HTTP-400');
    assert.equal(errorOf(res).detail, 'the request body has a __proto__ or constructor key');
    const broken = await api.call('POST', '/api/v1/reload-tasks', { body: '{"appId":"a",' });
    assert.equal(errorOf(broken).detail, 'the request body is not valid JSON');
  });

  it('400 before any write for a Host header that cannot make links: POST creates nothing, PUT changes nothing', async () => {
    const t = await create();
    for (const host of ['bad_host', 'example.com:99999', 'a.0']) {
      const post = await api.call('POST', '/api/v1/reload-tasks', { body: { appId: 'app-host', timeZone: 'UTC' }, headers: { host } });
      assert.deepEqual([post.statusCode, errorOf(post).detail], [400, 'the Host header is not a valid host[:port]; set PUBLIC_URL when behind a proxy'], host);
      const put = await api.call('PUT', `/api/v1/reload-tasks/${t.id}`, { body: { state: 'Disabled' }, headers: { host } });
      assert.equal(put.statusCode, 400, host);
    }
    assert.deepEqual(await api.store.listTasks({ tenantId: 'acme', appId: 'app-host', limit: 10 }), []);
    assert.equal((await api.store.getTask('acme', t.id))!.state, 'Enabled');
    const ok = await api.call('GET', `/api/v1/reload-tasks/${t.id}`, { headers: { host: 'reload.example.com:65535' } });
    assert.equal(ok.json().links.self.href, `http://reload.example.com:65535/api/v1/reload-tasks/${t.id}`);
  });

  it('413 for a body over 64 KiB', async () => {
    const res = await api.call('POST', '/api/v1/reload-tasks', { body: { appId: 'a', timeZone: 'UTC', pad: 'x'.repeat(70_000) } });
    assert.equal(res.statusCode, 413);
    assert.equal(errorOf(res).code, 'HTTP-413');
  });

  it('415 for a body that is not JSON', async () => {
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'application/xml']) {
      const res = await api.call('POST', '/api/v1/reload-tasks', { body: 'appId=a', headers: { 'content-type': type } });
      assert.equal(res.statusCode, 415, type);
      assert.equal(errorOf(res).code, 'HTTP-415');
    }
  });

  it('415 naming the encoding for a compressed body, which is not decoded', async () => {
    const { gzipSync } = await import('node:zlib');
    const body = gzipSync(JSON.stringify({ appId: 'a', timeZone: 'UTC' }));
    const res = await api.app.inject({ method: 'POST', url: '/api/v1/reload-tasks', payload: body, headers: { authorization: `Bearer ${await api.token('acme', 'alice')}`, 'content-type': 'application/json', 'content-encoding': 'gzip' } });
    assert.equal(res.statusCode, 415);
    assert.equal(errorOf(res).detail, "unsupported Content-Encoding 'gzip'; send the body uncompressed");
    const plain = await api.call('POST', '/api/v1/reload-tasks', { body: { appId: 'a', timeZone: 'UTC' }, headers: { 'content-encoding': 'identity' } });
    assert.equal(plain.statusCode, 201);
  });
});

describe('GET /api/v1/reload-tasks/{taskId}', () => {
  it('200 for the owner and for a tenant admin', async () => {
    const t = await create();
    const own = await api.call('GET', `/api/v1/reload-tasks/${t.id}`);
    assert.equal(own.statusCode, 200);
    assert.deepEqual(own.json(), t);
    const admin = await api.call('GET', `/api/v1/reload-tasks/${t.id}`, { as: 'root', admin: true });
    assert.equal(admin.statusCode, 200);
  });

  it('403 for another user of the tenant, 404 for another tenant', async () => {
    const t = await create();
    const other = await api.call('GET', `/api/v1/reload-tasks/${t.id}`, { as: 'bob' });
    assert.equal(other.statusCode, 403);
    assert.equal(errorOf(other).code, 'HTTP-403');
    const tenant = await api.call('GET', `/api/v1/reload-tasks/${t.id}`, { as: ['globex', 'alice'], admin: true });
    assert.equal(tenant.statusCode, 404);
    const missing = await api.call('GET', '/api/v1/reload-tasks/000000000000000000000000', { as: ['globex', 'alice'] });
    assert.deepEqual({ ...errorOf(tenant), traceId: '', detail: errorOf(tenant).detail.replace(t.id, 'X') }, { ...errorOf(missing), traceId: '', detail: errorOf(missing).detail.replace('000000000000000000000000', 'X') });
  });

  it('404 for an id that is not one of ours', async () => {
    const res = await api.call('GET', '/api/v1/reload-tasks/not-an-id');
    assert.equal(res.statusCode, 404);
    assert.equal(errorOf(res).detail, "reload task 'not-an-id' not found");
  });
});

describe('PUT /api/v1/reload-tasks/{taskId}', () => {
  it('merges: omitted fields stay, sent fields change', async () => {
    const t = await create();
    const res = await api.call('PUT', `/api/v1/reload-tasks/${t.id}`, { body: { partial: true, recurrence: ['FREQ=DAILY;BYHOUR=6;BYMINUTE=0;BYSECOND=0'] } });
    assert.equal(res.statusCode, 200);
    const u = res.json();
    assert.equal(u.partial, true);
    assert.deepEqual(u.recurrence, ['FREQ=DAILY;BYHOUR=6;BYMINUTE=0;BYSECOND=0']);
    assert.equal(u.appId, spec.appId);
    assert.equal(u.startDateTime, spec.startDateTime);
    assert.equal(u.nextExecutionTime, '2026-12-20T11:00:00Z'); // 06:00 EST on the 19th is before the 11:18 start
    assert.deepEqual((await api.call('GET', `/api/v1/reload-tasks/${t.id}`)).json(), u);
  });

  it('validates the merged task as a whole, and a rejected PUT changes nothing', async () => {
    const t = await create();
    const res = await api.call('PUT', `/api/v1/reload-tasks/${t.id}`, { body: { partial: true, endDateTime: '2026-12-01T00:00:00' } });
    assert.equal(res.statusCode, 400);
    assert.equal(errorOf(res).detail, 'endDateTime: must be after startDateTime');
    assert.deepEqual((await api.call('GET', `/api/v1/reload-tasks/${t.id}`)).json(), t);
  });

  it('a task whose end has passed takes back its own fields (get, edit, put); a new end in the past is refused', async () => {
    const t = await create({ appId: 'ended', timeZone: 'UTC', startDateTime: '2026-01-01T00:00:00', endDateTime: '2030-01-01T00:00:00', recurrence: ['FREQ=DAILY'] });
    const clock = api.clock.now();
    api.clock.set(Date.parse('2030-06-01T00:00:00Z'));
    try {
      const { id, links, nextExecutionTime, lastExecutionTime, ...fields } = (await api.call('GET', `/api/v1/reload-tasks/${t.id}`)).json();
      const res = await api.call('PUT', `/api/v1/reload-tasks/${id}`, { body: { ...fields, state: 'Disabled' } });
      assert.equal(res.statusCode, 200, res.body);
      assert.deepEqual([res.json().state, res.json().disabledCode, res.json().endDateTime], ['Disabled', 'MANUALLY', '2030-01-01T00:00:00']);
      const moved = await api.call('PUT', `/api/v1/reload-tasks/${id}`, { body: { endDateTime: '2030-02-01T00:00:00' } });
      assert.deepEqual([moved.statusCode, errorOf(moved).detail], [400, "endDateTime: '2030-02-01T00:00:00' in UTC is in the past"]);
      const zone = await api.call('PUT', `/api/v1/reload-tasks/${id}`, { body: { timeZone: 'Europe/Paris' } });
      assert.deepEqual([zone.statusCode, errorOf(zone).detail], [400, "endDateTime: '2030-01-01T00:00:00' in Europe/Paris is in the past"]);
    } finally {
      api.clock.set(clock);
    }
  });

  it('Disabled sets disabledCode MANUALLY; Enabled clears it and recomputes the next execution', async () => {
    const t = await create();
    const off = (await api.call('PUT', `/api/v1/reload-tasks/${t.id}`, { body: { state: 'Disabled' } })).json();
    assert.equal(off.state, 'Disabled');
    assert.equal(off.disabledCode, 'MANUALLY');
    assert.equal(off.nextExecutionTime, undefined);
    api.clock.set(Date.parse('2026-12-25T00:00:00Z'));
    const on = (await api.call('PUT', `/api/v1/reload-tasks/${t.id}`, { body: { state: 'Enabled' } })).json();
    assert.equal(on.state, 'Enabled');
    assert.equal(on.disabledCode, undefined);
    assert.equal(on.log, undefined);
    assert.equal(on.nextExecutionTime, '2026-12-25T16:18:00Z');
  });

  it('a schedule changed so that nothing is left is Completed, and changed back is Enabled', async () => {
    const t = await create({ appId: 'a', timeZone: 'UTC', startDateTime: '2027-01-01T00:00:00' });
    const done = (await api.call('PUT', `/api/v1/reload-tasks/${t.id}`, { body: { startDateTime: '2026-11-01T00:00:00' } })).json();
    assert.equal(done.state, 'Completed');
    const again = (await api.call('PUT', `/api/v1/reload-tasks/${t.id}`, { body: { startDateTime: '2027-02-01T00:00:00' } })).json();
    assert.equal(again.state, 'Enabled');
    assert.equal(again.nextExecutionTime, '2027-02-01T00:00:00Z');
  });

  it('400 for a state outside the enum and for a wrong type', async () => {
    const t = await create();
    const bad = await api.call('PUT', `/api/v1/reload-tasks/${t.id}`, { body: { state: 'Paused' } });
    assert.equal(errorOf(bad).detail, 'state: must be one of Enabled, Disabled, Completed');
    const type = await api.call('PUT', `/api/v1/reload-tasks/${t.id}`, { body: { autoReload: 1 } });
    assert.equal(errorOf(type).detail, 'autoReload: must be a boolean');
  });

  it('a PUT that empties startDateTime of a task with recurrence lines anchors it at now; one that leaves it out keeps it', async () => {
    const t = await create();
    api.clock.set(Date.parse('2027-02-10T10:30:45Z'));
    const kept = (await api.call('PUT', `/api/v1/reload-tasks/${t.id}`, { body: { recurrence: ['FREQ=WEEKLY'] } })).json();
    assert.equal(kept.startDateTime, spec.startDateTime);
    const res = await api.call('PUT', `/api/v1/reload-tasks/${t.id}`, { body: { startDateTime: '', recurrence: ['FREQ=WEEKLY'] } });
    assert.equal(res.statusCode, 200, res.body);
    assert.equal(res.json().startDateTime, '2027-02-10T05:31:00'); // Toronto, EST
    assert.equal(res.json().nextExecutionTime, '2027-02-10T10:31:00Z');
  });

  it('an empty endDateTime removes the end', async () => {
    const t = await create();
    const u = (await api.call('PUT', `/api/v1/reload-tasks/${t.id}`, { body: { endDateTime: '' } })).json();
    assert.equal(u.endDateTime, '');
    assert.equal(u.state, 'Enabled');
  });

  it('403 for another user, 404 for another tenant, and neither changes the task', async () => {
    const t = await create();
    assert.equal((await api.call('PUT', `/api/v1/reload-tasks/${t.id}`, { body: { partial: true }, as: 'bob' })).statusCode, 403);
    assert.equal((await api.call('PUT', `/api/v1/reload-tasks/${t.id}`, { body: { partial: true }, as: ['globex', 'alice'], admin: true })).statusCode, 404);
    assert.deepEqual((await api.call('GET', `/api/v1/reload-tasks/${t.id}`)).json(), t);
    const admin = await api.call('PUT', `/api/v1/reload-tasks/${t.id}`, { body: { partial: true }, as: 'root', admin: true });
    assert.equal(admin.statusCode, 200);
    assert.equal(admin.json().userId, 'alice'); // an admin's change keeps the owner
  });
});

describe('DELETE /api/v1/reload-tasks/{taskId}', () => {
  it('204 without a body, then 404', async () => {
    const t = await create();
    const res = await api.call('DELETE', `/api/v1/reload-tasks/${t.id}`);
    assert.equal(res.statusCode, 204);
    assert.equal(res.body, '');
    assert.equal((await api.call('GET', `/api/v1/reload-tasks/${t.id}`)).statusCode, 404);
    assert.equal((await api.call('DELETE', `/api/v1/reload-tasks/${t.id}`)).statusCode, 404);
  });

  it('403 for another user, 404 for another tenant', async () => {
    const t = await create();
    assert.equal((await api.call('DELETE', `/api/v1/reload-tasks/${t.id}`, { as: 'bob' })).statusCode, 403);
    assert.equal((await api.call('DELETE', `/api/v1/reload-tasks/${t.id}`, { as: ['globex', 'root'], admin: true })).statusCode, 404);
    assert.equal((await api.call('GET', `/api/v1/reload-tasks/${t.id}`)).statusCode, 200);
  });
});

describe('routes, methods and envelopes', () => {
  it('404 for an unknown route, without credentials too', async () => {
    const res = await api.app.inject({ method: 'GET', url: '/resources/autogenerated/product-info.json' });
    assert.equal(res.statusCode, 404);
    assert.equal(errorOf(res).code, 'HTTP-404');
  });

  it('405 with Allow for a wrong method', async () => {
    const res = await api.app.inject({ method: 'PATCH', url: '/api/v1/reload-tasks/abc' });
    assert.equal(res.statusCode, 405);
    assert.equal(res.headers.allow, 'GET, HEAD, PUT, DELETE');
    assert.equal(errorOf(res).code, 'HTTP-405');
    const list = await api.app.inject({ method: 'DELETE', url: '/api/v1/reload-tasks' });
    assert.equal(list.statusCode, 405);
    assert.equal(list.headers.allow, 'GET, HEAD, POST');
  });

  it('a trailing slash reaches the same resource (a base URL that ends in /)', async () => {
    const t = await create();
    const list = await api.call('GET', '/api/v1/reload-tasks/?limit=100');
    assert.equal(list.statusCode, 200);
    assert.ok(list.json().data.some((x: { id: string }) => x.id === t.id));
    const one = await api.call('GET', `/api/v1/reload-tasks/${t.id}/`);
    assert.equal(one.statusCode, 200);
    assert.equal(one.json().id, t.id);
    const made = await api.call('POST', '/api/v1/reload-tasks/', { body: { appId: 'app-slash', timeZone: 'UTC' } });
    assert.equal(made.statusCode, 201);
    assert.equal((await api.call('GET', '/api/v1/reloads/?appId=app-slash')).statusCode, 200);
  });

  it('takes the traceId from a W3C traceparent header', async () => {
    const res = await api.app.inject({ method: 'GET', url: '/api/v1/reload-tasks', headers: { traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' } });
    assert.equal(errorOf(res).traceId, '4bf92f3577b34da6a3ce929d0e0e4736');
    const bad = await api.app.inject({ method: 'GET', url: '/api/v1/reload-tasks', headers: { traceparent: '00-00000000000000000000000000000000-00f067aa0ba902b7-01' } });
    assert.match(errorOf(bad).traceId, /^[0-9a-f]{32}$/);
    assert.notEqual(errorOf(bad).traceId, '00000000000000000000000000000000');
  });

  it('serves the OpenAPI document and a docs page', async () => {
    const doc = await api.app.inject({ method: 'GET', url: '/api/v1/reload-tasks/openapi.json' });
    assert.equal(doc.statusCode, 200);
    const openapi = doc.json();
    assert.equal(openapi.openapi, '3.1.0');
    assert.deepEqual(Object.keys(openapi.paths).sort(), [
      '/api/v1/events',
      '/api/v1/reload-tasks',
      '/api/v1/reload-tasks/{taskId}',
      '/api/v1/reload-tasks/{taskId}/occurrences',
      '/api/v1/reloads',
      '/api/v1/reloads/{reloadId}',
      '/api/v1/reloads/{reloadId}/actions/cancel',
    ]);
    assert.deepEqual(Object.keys(openapi.paths['/api/v1/reload-tasks/{taskId}']).sort(), ['delete', 'get', 'put']);
    assert.deepEqual(openapi.paths['/api/v1/reload-tasks'].post.requestBody.content['application/json'].schema.required, ['appId', 'timeZone']);
    const page = await api.app.inject({ method: 'GET', url: '/docs' });
    assert.ok(page.statusCode === 200 || page.statusCode === 302, String(page.statusCode));
  });
});
