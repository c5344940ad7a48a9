// What the API answers when the database fails: 503 for "not now", 500 for a bug; both in the
// envelope, neither leaking internals.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { ManualClock } from '../../src/clock.js';
import { loadConfig } from '../../src/config.js';
import { buildApp } from '../../src/http/app.js';
import { StoreUnavailableError, type Store } from '../../src/store/store.js';
import { errorOf } from '../helpers/api.js';

const principal = { tenantId: 'acme', userId: 'alice', admin: false };

/** A store whose every operation fails with `error` (but the secret and close, which start-up needs). */
function failingStore(error: Error): Store {
  return new Proxy({} as Store, {
    get(_, name) {
      if (name === 'dialect') return 'sqlite';
      if (name === 'secret') return async () => Buffer.alloc(32);
      if (name === 'close') return async () => {};
      if (name === 'then') return undefined;
      // The optional synchronous look-up: this store keeps nothing in memory, so it has none.
      if (name === 'peekTask') return undefined;
      return async () => {
        throw error;
      };
    },
  });
}

async function call(store: Store) {
  const app = await buildApp({ config: loadConfig({ RATE_LIMIT_ENABLED: 'false' }), store, clock: new ManualClock(0), verify: async () => principal });
  try {
    return await app.inject({ method: 'GET', url: '/api/v1/reload-tasks/6b0000000000000000000000' });
  } finally {
    await app.close();
  }
}

it('503 with Retry-After when the store is unavailable', async () => {
  const res = await call(failingStore(new StoreUnavailableError('SQLite: SQLITE_BUSY')));
  assert.equal(res.statusCode, 503);
  assert.equal(errorOf(res).code, 'HTTP-503');
  assert.equal(res.headers['retry-after'], '5');
  assert.ok(!res.body.includes('SQLITE_BUSY'));
});

it('500 for an unexpected error, without its message', async () => {
  const res = await call(failingStore(new TypeError('secret internals at /srv/app.js:12')));
  assert.equal(res.statusCode, 500);
  const e = errorOf(res);
  assert.equal(e.code, 'HTTP-500');
  assert.ok(!res.body.includes('secret internals'));
  assert.match(e.detail, /trace id/);
});
