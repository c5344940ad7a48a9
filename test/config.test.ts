// Configuration: defaults, and a clear error naming the variable for every bad value.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { ConfigError, loadConfig } from '../src/config.js';

it('has defaults for everything', () => {
  const c = loadConfig({});
  assert.equal(c.port, 8080);
  assert.match(c.dataDir, /\/data$/);
  assert.equal(c.rateLimit.readsPerMinute, 1000);
  assert.equal(c.rateLimit.writesPerMinute, 100);
  assert.equal(c.auth.tenantClaim, 'tenantId');
  assert.equal(c.sqliteCacheMb, 32);
  assert.equal(c.sqliteTaskCache, 10_000);
  assert.equal(loadConfig({ SQLITE_TASK_CACHE: '0' }).sqliteTaskCache, 0);
  assert.equal(c.databaseFireConcurrency, 2);
  assert.equal(loadConfig({ DATABASE_FIRE_CONCURRENCY: '1' }).databaseFireConcurrency, 1);
  assert.ok(Object.isFrozen(c) && Object.isFrozen(c.auth));
});

const bad: Array<[Record<string, string>, RegExp]> = [
  [{ PORT: 'eighty' }, /^PORT: 'eighty' is not an integer from 0 to 65535$/],
  [{ PORT: '70000' }, /^PORT: '70000'/],
  [{ SQLITE_CACHE_MB: '0' }, /^SQLITE_CACHE_MB: '0' is not an integer from 1 to 65536$/],
  [{ SQLITE_TASK_CACHE: '-1' }, /^SQLITE_TASK_CACHE: '-1' is not an integer from 0 to 1000000$/],
  [{ DATABASE_FIRE_CONCURRENCY: '0' }, /^DATABASE_FIRE_CONCURRENCY: '0' is not an integer from 1 to 16$/],
  [{ LOG_LEVEL: 'loud' }, /^LOG_LEVEL: 'loud' is not one of/],
  [{ RATE_LIMIT_ENABLED: 'maybe' }, /^RATE_LIMIT_ENABLED: 'maybe' is not a boolean/],
  [{ PUBLIC_URL: 'not a url' }, /^PUBLIC_URL: 'not a url' is not a URL$/],
  [{ PUBLIC_URL: 'ftp://x' }, /^PUBLIC_URL: 'ftp:\/\/x' must be an http\(s\) URL$/],
  // fetch refuses such URLs, and its error would carry the password into reload logs; the message does not repeat it.
  [{ EXECUTOR: 'webhook', WEBHOOK_SECRET: 's'.repeat(16), WEBHOOK_URL: 'https://hook:S3cretPass@hooks.example/x' }, /^WEBHOOK_URL: must not contain a user name or password \(fetch refuses such URLs\)$/],
  [{ EXECUTOR: 'qlik-cloud', QLIK_API_KEY: 'k', QLIK_TENANT_URL: 'https://user@acme.eu.qlikcloud.com' }, /^QLIK_TENANT_URL: must not contain a user name/],
  [{ JWT_SECRET: 'short' }, /^JWT_SECRET: must be at least 32 bytes$/],
  [{ JWT_PUBLIC_KEY: 'abc' }, /^JWT_PUBLIC_KEY: must be a PEM public key/],
  [{ JWT_SECRET: 'x'.repeat(32), JWT_JWKS_URL: 'https://idp/jwks' }, /set at most one of them/],
];
for (const [env, message] of bad) {
  it(`refuses ${JSON.stringify(env)}`, () => {
    assert.throws(() => loadConfig(env), (e: unknown) => e instanceof ConfigError && message.test(e.message));
  });
}

it('every variable the configuration reads is documented in docs/operations.md', async () => {
  const { readFileSync } = await import('node:fs');
  const source = readFileSync(new URL('../src/config.ts', import.meta.url), 'utf8');
  const doc = readFileSync(new URL('../docs/operations.md', import.meta.url), 'utf8');
  const names = [...source.matchAll(/\b(?:str|int|bool|oneOf|minutes|required|url)\('([A-Z_]+)'/g)].map((m) => m[1]!);
  assert.ok(names.length > 30);
  const missing = [...new Set(names)].filter((n) => !doc.includes(`| \`${n}\` |`));
  assert.deepEqual(missing, []);
});

it('SETTINGS names every variable loadConfig reads (the command executor leaves them out of commands)', async () => {
  const { readFileSync } = await import('node:fs');
  const { SETTINGS } = await import('../src/config.js');
  const source = readFileSync(new URL('../src/config.ts', import.meta.url), 'utf8');
  const body = source.slice(source.indexOf('export function loadConfig'));
  const read = new Set([...body.matchAll(/'([A-Z][A-Z0-9_]{2,})'/g)].map((m) => m[1]!));
  assert.deepEqual([...read].sort(), [...SETTINGS].sort());
  // And through a recording environment: what loadConfig asks for by default is among them.
  const asked = new Set<string>();
  loadConfig(new Proxy({}, { get: (_, name) => (typeof name === 'string' && asked.add(name), undefined) }));
  for (const name of asked) assert.ok(SETTINGS.includes(name), `${name} is read but not in SETTINGS`);
});
