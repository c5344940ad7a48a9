// CORS: web pages of the origins in CORS_ORIGINS may call the API (a browser's @qlik/api fetches
// with mode: 'cors'); without the setting, or from another origin, no CORS header is sent.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { loadConfig, ConfigError } from '../../src/config.js';
import { createTestApi, errorOf, type TestApi } from '../helpers/api.js';

const PAGE = 'https://mashup.example.com';

function preflight(api: TestApi, origin: string | undefined, url = '/api/v1/reload-tasks') {
  return api.app.inject({
    method: 'OPTIONS',
    url,
    headers: { ...(origin && { origin }), 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type' },
  });
}

describe('CORS with CORS_ORIGINS set', () => {
  let api: TestApi;
  before(async () => {
    api = await createTestApi({ CORS_ORIGINS: `${PAGE}, http://localhost:3000` });
  });
  after(() => api.close());

  it('answers a preflight from an allowed origin before auth, with the methods and headers asked for', async () => {
    const res = await preflight(api, PAGE);
    assert.equal(res.statusCode, 204);
    assert.equal(res.headers['access-control-allow-origin'], PAGE);
    assert.match(String(res.headers['access-control-allow-methods']), /\bPOST\b/);
    assert.match(String(res.headers['access-control-allow-methods']), /\bDELETE\b/);
    assert.equal(res.headers['access-control-allow-headers'], 'authorization, content-type');
    assert.equal(res.headers['access-control-max-age'], '600');
    assert.equal(res.headers['access-control-allow-credentials'], undefined);
  });

  it('lets the page read answers and errors: the origin, Location, Retry-After', async () => {
    const created = await api.call('POST', '/api/v1/reload-tasks', { body: { appId: 'a', timeZone: 'UTC' }, headers: { origin: PAGE } });
    assert.equal(created.statusCode, 201);
    assert.equal(created.headers['access-control-allow-origin'], PAGE);
    assert.match(String(created.headers['access-control-expose-headers']), /location/);
    assert.match(String(created.headers.vary), /Origin/);
    const denied = await api.app.inject({ method: 'GET', url: '/api/v1/reload-tasks', headers: { origin: PAGE } });
    assert.equal(denied.statusCode, 401);
    assert.equal(errorOf(denied).code, 'HTTP-401');
    assert.equal(denied.headers['access-control-allow-origin'], PAGE);
  });

  it('sends nothing for another origin, and OPTIONS without an allowed origin stays the 405 envelope', async () => {
    const other = await preflight(api, 'https://evil.example.net');
    assert.equal(other.statusCode, 405);
    assert.equal(errorOf(other).code, 'HTTP-405');
    assert.equal(other.headers['access-control-allow-origin'], undefined);
    const noOrigin = await preflight(api, undefined);
    assert.equal(noOrigin.statusCode, 405);
    const unknownPath = await preflight(api, 'https://evil.example.net', '/nope');
    assert.equal(unknownPath.statusCode, 404);
    assert.equal(errorOf(unknownPath).code, 'HTTP-404');
    const get = await api.call('GET', '/api/v1/reload-tasks', { headers: { origin: 'https://evil.example.net' } });
    assert.equal(get.statusCode, 200);
    assert.equal(get.headers['access-control-allow-origin'], undefined);
  });
});

describe('CORS without CORS_ORIGINS', () => {
  let api: TestApi;
  before(async () => {
    api = await createTestApi();
  });
  after(() => api.close());

  it('sends no CORS header and answers a preflight 405', async () => {
    const res = await preflight(api, PAGE);
    assert.equal(res.statusCode, 405);
    assert.equal(res.headers['access-control-allow-origin'], undefined);
    const get = await api.call('GET', '/api/v1/reload-tasks', { headers: { origin: PAGE } });
    assert.equal(get.headers['access-control-allow-origin'], undefined);
  });
});

describe('CORS_ORIGINS=*', () => {
  it('answers any origin, naming it (so caches keep answers per origin: Vary: Origin)', async () => {
    const api = await createTestApi({ CORS_ORIGINS: '*' });
    try {
      const res = await preflight(api, 'https://any.example.org');
      assert.equal(res.statusCode, 204);
      assert.equal(res.headers['access-control-allow-origin'], 'https://any.example.org');
      assert.match(String(res.headers.vary), /Origin/);
    } finally {
      await api.close();
    }
  });
});

describe('CORS_ORIGINS values', () => {
  it('takes origins and *, and refuses what a browser never sends as an origin', () => {
    assert.deepEqual(loadConfig({ CORS_ORIGINS: ' https://a.example.com ,http://localhost:8080' }).corsOrigins, ['https://a.example.com', 'http://localhost:8080']);
    assert.deepEqual(loadConfig({ CORS_ORIGINS: '*' }).corsOrigins, ['*']);
    assert.deepEqual(loadConfig({}).corsOrigins, []);
    for (const bad of ['https://a.example.com/', 'https://a.example.com/app', 'a.example.com', 'ftp://a.example.com']) {
      assert.throws(() => loadConfig({ CORS_ORIGINS: bad }), (e: unknown) => e instanceof ConfigError && e.message.startsWith(`CORS_ORIGINS: '${bad}' is not an origin`));
    }
  });
});
