// Rate limits across instances: two services sharing one Redis (REDIS_URL) share each caller's
// budget, per tier; without Redis reachable, an instance keeps serving (limits not enforced).
// Runs when a Redis server answers at TEST_REDIS_URL (default redis://127.0.0.1:6379); see
// scripts/run-tests.mjs.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { createTestApi, errorOf, type TestApi } from '../helpers/api.js';

const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

describe('rate limits shared through Redis', () => {
  let a: TestApi;
  let b: TestApi;
  let redis: Redis;
  // A tenant of its own, so counts left by an earlier run (they live a minute) do not interfere.
  const tenant = `t-${randomBytes(6).toString('hex')}`;
  before(async () => {
    const env = { RATE_LIMIT_ENABLED: 'true', REDIS_URL, RATE_LIMIT_WRITES_PER_MINUTE: '3', RATE_LIMIT_READS_PER_MINUTE: '1000' };
    a = await createTestApi(env);
    b = await createTestApi(env);
    redis = new Redis(REDIS_URL);
  });
  after(async () => {
    await Promise.all([a.close(), b.close()]);
    await redis.quit();
  });

  it('two instances count one budget per caller and tier', async () => {
    const body = { appId: 'app', timeZone: 'UTC' };
    const as: [string, string] = [tenant, 'alice'];
    assert.equal((await a.call('POST', '/api/v1/reload-tasks', { body, as })).statusCode, 201);
    assert.equal((await b.call('POST', '/api/v1/reload-tasks', { body, as })).statusCode, 201);
    assert.equal((await a.call('POST', '/api/v1/reload-tasks', { body, as })).statusCode, 201);
    const over = await b.call('POST', '/api/v1/reload-tasks', { body, as });
    assert.equal(over.statusCode, 429);
    assert.equal(errorOf(over).code, 'HTTP-429');
    const seconds = Number(over.headers['retry-after']);
    assert.ok(seconds >= 1 && seconds <= 60, `Retry-After ${seconds}`);
    // The count is one key per tier and caller, expiring with its window.
    const key = `reload-tasks-rl:write\u0000${tenant}\u0000alice`;
    assert.equal(await redis.get(key), '4');
    const ttl = await redis.pttl(key);
    assert.ok(ttl > 0 && ttl <= 60_000, `ttl ${ttl}`);
    // Reads are another tier; another user of the tenant has a budget of their own.
    assert.equal((await b.call('GET', '/api/v1/reload-tasks', { as })).statusCode, 200);
    assert.equal((await a.call('POST', '/api/v1/reload-tasks', { body, as: [tenant, 'bob'] })).statusCode, 201);
  });

  it('an instance whose Redis is unreachable keeps serving, without limits', async () => {
    const lonely = await createTestApi({ RATE_LIMIT_ENABLED: 'true', REDIS_URL: 'redis://127.0.0.1:1', RATE_LIMIT_WRITES_PER_MINUTE: '1' });
    try {
      for (let i = 0; i < 3; i++) {
        const res = await lonely.call('POST', '/api/v1/reload-tasks', { body: { appId: 'app', timeZone: 'UTC' } });
        assert.equal(res.statusCode, 201);
      }
    } finally {
      await lonely.close();
    }
  });
});
