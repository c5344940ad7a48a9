// The cache of verified tokens: it saves the signature check on a token's later requests, and
// must never admit what a full verification would refuse (expired, not yet valid, altered, or
// verified longer ago than the cache's maximum age).
import assert from 'node:assert/strict';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { describe, it } from 'node:test';
import { SignJWT } from 'jose';
import { loadConfig } from '../../src/config.js';
import { AuthError, createVerifier } from '../../src/auth/verifier.js';

const T0 = Date.parse('2027-03-01T10:00:00Z');
const sec = (ms: number) => Math.floor(ms / 1000);

function setup(env: Record<string, string> = {}) {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const config = loadConfig({ DATA_DIR: '/nonexistent', JWT_PUBLIC_KEY: publicKey.export({ type: 'spki', format: 'pem' }).toString(), ...env });
  let t = T0;
  const checks: string[] = [];
  const verify = createVerifier(config.auth, () => assert.fail('no local key with a PEM configured'), {
    now: () => t,
    onAccept: (how) => checks.push(how),
  });
  return {
    verify: (token: string) => verify(`Bearer ${token}`),
    /** The verifier given a whole Authorization header. */
    header: (authorization: string) => verify(authorization),
    checks,
    at: (ms: number) => void (t = ms),
    sign: (claims: Record<string, unknown>) => sign(privateKey, claims),
  };
}

function sign(key: KeyObject, claims: Record<string, unknown>): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg: 'ES256' }).sign(key);
}

async function refused(p: unknown, reason: RegExp): Promise<void> {
  assert.ok(p instanceof Promise, 'a refusal comes as a rejected promise, never as a throw or a value');
  await assert.rejects(p, (e: unknown) => e instanceof AuthError && reason.test(e.message));
}

describe('the cache of verified tokens', () => {
  it('checks a signature once, then serves the same token from the cache with the same principal', async () => {
    const s = setup();
    const token = await s.sign({ tenantId: 'acme', sub: 'alice', roles: ['TenantAdmin'], exp: sec(T0) + 3600 });
    const first = await s.verify(token);
    const second = await s.verify(token);
    assert.deepEqual(first, { tenantId: 'acme', userId: 'alice', admin: true });
    assert.deepEqual(second, first);
    assert.deepEqual(s.checks, ['signature', 'cache']);
  });

  it('answers a cached token at once, without a promise, and every other token with one', async () => {
    const s = setup();
    const token = await s.sign({ tenantId: 'acme', sub: 'alice', exp: sec(T0) + 3600 });
    const first = s.verify(token);
    assert.ok(first instanceof Promise);
    const principal = await first;
    const hit = s.verify(token);
    assert.ok(!(hit instanceof Promise), 'a cache hit is answered synchronously');
    assert.deepEqual(hit, principal);
  });

  it('refuses a cached token once it has expired, allowing only the configured tolerance', async () => {
    const s = setup({ JWT_CLOCK_TOLERANCE_SECONDS: '5' });
    const exp = sec(T0) + 20;
    const token = await s.sign({ tenantId: 'acme', sub: 'alice', exp });
    await s.verify(token);
    s.at((exp + 4) * 1000);
    await s.verify(token); // within the tolerance
    s.at((exp + 5) * 1000);
    await refused(s.verify(token), /expired/);
    assert.deepEqual(s.checks, ['signature', 'cache']);
  });

  it('refuses a cached token before its nbf when the clock is behind the time it was verified at', async () => {
    const s = setup({ JWT_CLOCK_TOLERANCE_SECONDS: '0' });
    const token = await s.sign({ tenantId: 'acme', sub: 'alice', nbf: sec(T0) + 100, exp: sec(T0) + 3600 });
    await refused(s.verify(token), /not valid yet/);
    s.at(T0 + 100_000);
    await s.verify(token);
    s.at(T0 + 50_000);
    await refused(s.verify(token), /not valid yet/);
  });

  it('verifies an altered token in full: a changed signature or payload is another key', async () => {
    const s = setup();
    const token = await s.sign({ tenantId: 'acme', sub: 'alice', exp: sec(T0) + 3600 });
    await s.verify(token);
    const [h, p, sig] = token.split('.') as [string, string, string];
    const flipped = sig.slice(0, 10) + (sig[10] === 'A' ? 'B' : 'A') + sig.slice(11);
    await refused(s.verify(`${h}.${p}.${flipped}`), /signature|malformed/);
    const payload = Buffer.from(JSON.stringify({ tenantId: 'other', sub: 'alice', exp: sec(T0) + 3600 })).toString('base64url');
    await refused(s.verify(`${h}.${payload}.${sig}`), /signature/);
    assert.deepEqual(s.checks, ['signature']);
  });

  it('verifies the signature again once the cached verification is older than JWT_CACHE_SECONDS', async () => {
    const s = setup({ JWT_CACHE_SECONDS: '30' });
    const token = await s.sign({ tenantId: 'acme', sub: 'alice', exp: sec(T0) + 3600 });
    await s.verify(token);
    s.at(T0 + 29_999);
    await s.verify(token);
    s.at(T0 + 30_000);
    await s.verify(token);
    await s.verify(token);
    assert.deepEqual(s.checks, ['signature', 'cache', 'signature', 'cache']);
  });

  it('keeps at most JWT_CACHE_SIZE tokens, dropping the oldest', async () => {
    const s = setup({ JWT_CACHE_SIZE: '2' });
    const tokens = await Promise.all(['a', 'b', 'c'].map((u) => s.sign({ tenantId: 'acme', sub: u, exp: sec(T0) + 3600 })));
    for (const t of tokens) await s.verify(t);
    s.checks.length = 0;
    await s.verify(tokens[2]!);
    await s.verify(tokens[1]!);
    await s.verify(tokens[0]!); // dropped when c came in
    assert.deepEqual(s.checks, ['cache', 'cache', 'signature']);
  });

  it('checks every signature when turned off', async () => {
    for (const env of [{ JWT_CACHE_SECONDS: '0' }, { JWT_CACHE_SIZE: '0' }] as Record<string, string>[]) {
      const s = setup(env);
      const token = await s.sign({ tenantId: 'acme', sub: 'alice', exp: sec(T0) + 3600 });
      await s.verify(token);
      await s.verify(token);
      assert.deepEqual(s.checks, ['signature', 'signature'], JSON.stringify(env));
    }
  });

  it('serves from the cache only the exact header text it verified; another spelling of it is verified in full', async () => {
    const s = setup();
    const { checks, header: verify } = s;
    const token = await s.sign({ tenantId: 'acme', sub: 'alice', exp: sec(T0) + 3600 });
    const expected = { tenantId: 'acme', userId: 'alice', admin: false };
    // The same token (so the same last characters) in three spellings of the header.
    for (const header of [`Bearer ${token}`, `bearer  ${token}`, `Bearer ${token}`, `Bearer ${token} `]) {
      assert.deepEqual(await verify(header), expected);
    }
    assert.deepEqual(checks, ['signature', 'signature', 'signature', 'signature']);
    checks.length = 0;
    assert.deepEqual(await verify(`Bearer ${token} `), expected);
    assert.deepEqual(checks, ['cache']);
    // A header that only ends like a cached one is no hit.
    await refused(verify(`Bearer x${token} `), /./);
    await refused(verify(`Basic ${token} `), /not "Bearer <JWT>"/);
  });

  it('does not cache refusals: a token without a tenant is refused every time', async () => {
    const s = setup();
    const token = await s.sign({ sub: 'alice', exp: sec(T0) + 3600 });
    await refused(s.verify(token), /no tenant claim/);
    await refused(s.verify(token), /no tenant claim/);
    assert.deepEqual(s.checks, []);
  });
});
