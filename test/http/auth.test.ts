// Who may call: bearer JWTs verified with jose (signature, exp, nbf, iss/aud), refused with 401 in
// every way an attacker might try; and the rate limits per user per tenant.
import assert from 'node:assert/strict';
import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { SignJWT } from 'jose';
import { createTestApi, errorOf, type TestApi } from '../helpers/api.js';
import { loadConfig } from '../../src/config.js';

const b64 = (v: object | string) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');
const now = () => Math.floor(Date.now() / 1000);

describe('bearer tokens (local ES256 key)', () => {
  let api: TestApi;
  let good: string;
  before(async () => {
    api = await createTestApi();
    good = await api.token('acme', 'alice');
  });
  after(() => api.close());

  const get = (authorization?: string) =>
    api.app.inject({ method: 'GET', url: '/api/v1/reload-tasks', headers: authorization === undefined ? {} : { authorization } });

  async function refused(authorization: string | undefined, detail: RegExp): Promise<void> {
    const res = await get(authorization);
    assert.equal(res.statusCode, 401, res.body);
    const e = errorOf(res);
    assert.equal(e.code, 'HTTP-401');
    assert.match(e.detail, detail);
    assert.equal(res.headers['www-authenticate'], 'Bearer');
    if (authorization) assert.ok(!res.body.includes(authorization.replace(/^Bearer /, '')), 'the token is echoed');
  }

  it('accepts a good token', async () => {
    assert.equal((await get(`Bearer ${good}`)).statusCode, 200);
    assert.equal((await get(`bearer ${good}`)).statusCode, 200);
  });

  it('refuses no token, an empty header and another scheme', async () => {
    await refused(undefined, /no bearer token/);
    await refused('', /no bearer token/);
    await refused(`Basic ${b64('alice:secret')}`, /not "Bearer <JWT>"/);
  });

  it('refuses garbage', async () => {
    await refused('Bearer garbage', /^the bearer token is malformed: not a JWT/);
    await refused('Bearer a.b.c', /malformed|not accepted/);
  });

  it('refuses alg: none', async () => {
    const [, payload] = good.split('.');
    await refused(`Bearer ${b64({ alg: 'none', typ: 'JWT' })}.${payload}.`, /algorithm is not accepted/);
  });

  it('refuses HS256 signed with the public key (algorithm confusion)', async () => {
    const pem = createPublicKey(readFileSync(join(api.dir, 'signing-key.pem'), 'utf8')).export({ type: 'spki', format: 'pem' });
    const token = await new SignJWT({ tenantId: 'acme' }).setProtectedHeader({ alg: 'HS256' }).setSubject('alice').setExpirationTime('1h').sign(Buffer.from(pem));
    await refused(`Bearer ${token}`, /algorithm is not accepted/);
  });

  it('refuses a token signed with another key', async () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const token = await new SignJWT({ tenantId: 'acme' }).setProtectedHeader({ alg: 'ES256' }).setSubject('alice').setExpirationTime('1h').sign(privateKey);
    await refused(`Bearer ${token}`, /signature is not valid/);
  });

  it('refuses an RS256 token from another issuer', async () => {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const token = await new SignJWT({ tenantId: 'acme' }).setProtectedHeader({ alg: 'RS256' }).setSubject('alice').setExpirationTime('1h').sign(privateKey);
    await refused(`Bearer ${token}`, /algorithm is not accepted/);
  });

  it('refuses an expired token, a token not valid yet, and one without exp', async () => {
    const key = createKey(api);
    await refused(`Bearer ${await sign(key, { tenantId: 'acme', sub: 'alice', exp: now() - 60 })}`, /expired/);
    await refused(`Bearer ${await sign(key, { tenantId: 'acme', sub: 'alice', exp: now() + 600, nbf: now() + 300 })}`, /not valid yet/);
    await refused(`Bearer ${await sign(key, { tenantId: 'acme', sub: 'alice' })}`, /"exp" claim|no expiry|exp/);
  });

  it('refuses a token of its own key that expires more than 365 days ahead (as an old release minted them), and takes one of 364', async () => {
    const key = createKey(api);
    await refused(`Bearer ${await sign(key, { tenantId: 'acme', sub: 'alice', iat: now(), exp: now() + 2_000_000 * 365 * 86_400 })}`, /expires more than 365 days from now.*mint a new one/);
    await refused(`Bearer ${await sign(key, { tenantId: 'acme', sub: 'alice', exp: now() + 366 * 86_400 })}`, /expires more than 365 days/);
    assert.equal((await get(`Bearer ${await sign(key, { tenantId: 'acme', sub: 'alice', exp: now() + 364 * 86_400 })}`)).statusCode, 200);
  });

  it('refuses a tampered payload', async () => {
    const [header, , signature] = good.split('.');
    const payload = b64({ tenantId: 'globex', sub: 'alice', roles: ['TenantAdmin'], exp: now() + 600 });
    await refused(`Bearer ${header}.${payload}.${signature}`, /signature is not valid/);
  });

  it('refuses a token without tenant or subject', async () => {
    const key = createKey(api);
    await refused(`Bearer ${await sign(key, { sub: 'alice', exp: now() + 600 })}`, /no tenant claim 'tenantId'/);
    await refused(`Bearer ${await sign(key, { tenantId: 'acme', exp: now() + 600 })}`, /no user claim 'sub'/);
    await refused(`Bearer ${await sign(key, { tenantId: 7, sub: 'alice', exp: now() + 600 })}`, /no tenant claim/);
  });
});

describe('issuer and audience, when configured', () => {
  let api: TestApi;
  before(async () => {
    api = await createTestApi({ JWT_ISSUER: 'https://idp.example', JWT_AUDIENCE: 'reload-tasks' });
  });
  after(() => api.close());

  it('accepts the right ones and refuses wrong or missing ones', async () => {
    const key = createKey(api);
    const base = { tenantId: 'acme', sub: 'alice', exp: now() + 600 };
    const call = async (claims: Record<string, unknown>) => (await api.app.inject({ method: 'GET', url: '/api/v1/reload-tasks', headers: { authorization: `Bearer ${await sign(key, claims)}` } })).statusCode;
    assert.equal(await call({ ...base, iss: 'https://idp.example', aud: 'reload-tasks' }), 200);
    assert.equal(await call({ ...base, iss: 'https://evil.example', aud: 'reload-tasks' }), 401);
    assert.equal(await call({ ...base, iss: 'https://idp.example', aud: 'other' }), 401);
    assert.equal(await call(base), 401);
    // The CLI's tokens carry them.
    assert.equal((await api.call('GET', '/api/v1/reload-tasks')).statusCode, 200);
  });
});

describe('an HS256 secret or a PEM public key instead of the local key', () => {
  it('HS256: accepts tokens of the secret only, and only as HS256', async () => {
    const secret = 'a-very-long-shared-secret-of-32-bytes-or-more';
    const api = await createTestApi({ JWT_SECRET: secret });
    try {
      assert.equal((await api.call('GET', '/api/v1/reload-tasks')).statusCode, 200);
      const wrong = await new SignJWT({ tenantId: 'acme' }).setProtectedHeader({ alg: 'HS256' }).setSubject('alice').setExpirationTime('1h').sign(Buffer.from(`${secret}x`));
      const res = await api.app.inject({ method: 'GET', url: '/api/v1/reload-tasks', headers: { authorization: `Bearer ${wrong}` } });
      assert.equal(res.statusCode, 401);
      const hs512 = await new SignJWT({ tenantId: 'acme' }).setProtectedHeader({ alg: 'HS512' }).setSubject('alice').setExpirationTime('1h').sign(Buffer.from(secret));
      assert.equal((await api.app.inject({ method: 'GET', url: '/api/v1/reload-tasks', headers: { authorization: `Bearer ${hs512}` } })).statusCode, 401);
    } finally {
      await api.close();
    }
  });

  it('PEM: accepts the issuer key (RS256) and refuses HS256 made with that public key', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const pem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
    const api = await createTestApi({ JWT_PUBLIC_KEY: pem });
    try {
      const ok = await new SignJWT({ tenantId: 'acme' }).setProtectedHeader({ alg: 'RS256' }).setSubject('alice').setExpirationTime('1h').sign(privateKey);
      assert.equal((await api.app.inject({ method: 'GET', url: '/api/v1/reload-tasks', headers: { authorization: `Bearer ${ok}` } })).statusCode, 200);
      const confused = await new SignJWT({ tenantId: 'acme' }).setProtectedHeader({ alg: 'HS256' }).setSubject('alice').setExpirationTime('1h').sign(Buffer.from(pem));
      assert.equal((await api.app.inject({ method: 'GET', url: '/api/v1/reload-tasks', headers: { authorization: `Bearer ${confused}` } })).statusCode, 401);
    } finally {
      await api.close();
    }
  });
});

describe('rate limits', () => {
  let api: TestApi;
  before(async () => {
    api = await createTestApi({ RATE_LIMIT_ENABLED: 'true', RATE_LIMIT_WRITES_PER_MINUTE: '2', RATE_LIMIT_READS_PER_MINUTE: '3' });
  });
  after(() => api.close());

  it('answers 429 with Retry-After and Qlik\'s envelope, per user per tenant and per tier', async () => {
    const body = { appId: 'a', timeZone: 'UTC' };
    assert.equal((await api.call('POST', '/api/v1/reload-tasks', { body })).statusCode, 201);
    assert.equal((await api.call('POST', '/api/v1/reload-tasks', { body })).statusCode, 201);
    const res = await api.call('POST', '/api/v1/reload-tasks', { body });
    assert.equal(res.statusCode, 429);
    const e = errorOf(res);
    assert.equal(e.code, 'HTTP-429');
    assert.equal(e.title, 'API rate limit reached.');
    assert.match(e.detail, /^You need to wait \d+ seconds until limit is lifted\.$/);
    assert.match(String(res.headers['retry-after']), /^\d+$/);
    // Reads are another tier; another user and another tenant have their own budget.
    assert.equal((await api.call('GET', '/api/v1/reload-tasks')).statusCode, 200);
    assert.equal((await api.call('POST', '/api/v1/reload-tasks', { body, as: 'bob' })).statusCode, 201);
    assert.equal((await api.call('POST', '/api/v1/reload-tasks', { body, as: ['globex', 'alice'] })).statusCode, 201);
  });
});

describe('rate limit of the Reloads API\'s special tier', () => {
  let api: TestApi;
  before(async () => {
    api = await createTestApi({ RATE_LIMIT_ENABLED: 'true', RATE_LIMIT_RELOADS_PER_MINUTE: '2', RATE_LIMIT_READS_PER_MINUTE: '3' });
  });
  after(() => api.close());

  it('POST /reloads and cancel share their own budget (50 a minute by default), apart from the other writes', async () => {
    const first = await api.call('POST', '/api/v1/reloads', { body: { appId: 'app-1' } });
    assert.equal(first.statusCode, 201);
    const id = (first.json() as { id: string }).id;
    assert.ok([202, 204].includes((await api.call('POST', `/api/v1/reloads/${id}/actions/cancel`)).statusCode));
    const res = await api.call('POST', '/api/v1/reloads', { body: { appId: 'app-2' } });
    assert.equal(res.statusCode, 429);
    assert.equal(errorOf(res).code, 'HTTP-429');
    // A task's writes and the reads have budgets of their own; another user has a budget of their own.
    assert.equal((await api.call('POST', '/api/v1/reload-tasks', { body: { appId: 'a', timeZone: 'UTC' } })).statusCode, 201);
    assert.equal((await api.call('POST', '/api/v1/reloads', { body: { appId: 'app-2' }, as: 'bob' })).statusCode, 201);
  });
  it('a tier\'s budget is one for all its routes, not one per route (Qlik counts per tier)', async () => {
    assert.equal((await api.call('GET', '/api/v1/reloads')).statusCode, 200);
    assert.equal((await api.call('GET', '/api/v1/reload-tasks')).statusCode, 200);
    const list = (await api.call('GET', '/api/v1/reloads')).json() as { data: Array<{ id: string }> };
    const res = await api.call('GET', `/api/v1/reloads/${list.data[0]?.id ?? 'x'}`);
    assert.equal(res.statusCode, 429);
    assert.match(String(res.headers['retry-after']), /^\d+$/);
  });
  it('defaults to the 50 a minute of reloads.openapi.yaml', () => {
    assert.equal(loadConfig({}).rateLimit.reloadsPerMinute, 50);
  });
});

function createKey(api: TestApi) {
  return readFileSync(join(api.dir, 'signing-key.pem'), 'utf8');
}

async function sign(pem: string, claims: Record<string, unknown>): Promise<string> {
  const { createPrivateKey } = await import('node:crypto');
  return new SignJWT(claims).setProtectedHeader({ alg: 'ES256' }).sign(createPrivateKey(pem));
}
