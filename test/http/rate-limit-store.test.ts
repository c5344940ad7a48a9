// The in-memory counters behind the rate limits: fixed windows, one counter set for every route.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MemoryRateLimitStore, sharedRateLimitStore, type RateLimitCounters } from '../../src/http/rate-limit-store.js';

function incr(store: RateLimitCounters, key: string, windowMs = 60_000): { current: number; ttl: number } {
  let out: { current: number; ttl: number } | undefined;
  store.incr(key, (err, r) => {
    assert.equal(err, null);
    out = r;
  }, windowMs, 100);
  assert.ok(out, 'the memory store answers synchronously');
  return out;
}

describe('rate limit counters in memory', () => {
  it('counts per key within a window, and starts again when the window has passed', () => {
    let now = 1_000_000;
    const store = new MemoryRateLimitStore(100, () => now);
    assert.deepEqual(incr(store, 'read\0acme\0alice'), { current: 1, ttl: 60_000 });
    now += 15_000;
    assert.deepEqual(incr(store, 'read\0acme\0alice'), { current: 2, ttl: 45_000 });
    assert.deepEqual(incr(store, 'read\0acme\0bob'), { current: 1, ttl: 60_000 });
    now += 45_000; // the first window is over
    assert.deepEqual(incr(store, 'read\0acme\0alice'), { current: 1, ttl: 60_000 });
  });

  it('keeps at most its capacity of keys, dropping the least recently used', () => {
    const store = new MemoryRateLimitStore(2, () => 0);
    incr(store, 'a');
    incr(store, 'b');
    incr(store, 'a'); // a is now more recent than b
    incr(store, 'c'); // b goes
    assert.equal(incr(store, 'a').current, 3);
    assert.equal(incr(store, 'b').current, 1);
  });

  it('read() reports without counting', () => {
    const store = new MemoryRateLimitStore(10, () => 0);
    incr(store, 'k');
    store.read('k', (err, r) => assert.deepEqual(r, { current: 1, ttl: 60_000 }), 60_000, 100);
    store.read('other', (err, r) => assert.deepEqual(r, { current: 0, ttl: 0 }), 60_000, 100);
    assert.equal(incr(store, 'k').current, 2);
  });

  it('the plugin\'s per-route child stores are the store itself, so routes share one count per key', () => {
    const backend = new MemoryRateLimitStore(10, () => 0);
    const Store = sharedRateLimitStore(backend);
    const root = new Store({});
    const getList = root.child({ routeInfo: { method: 'GET', url: '/api/v1/reload-tasks' } });
    const getOne = root.child({ routeInfo: { method: 'GET', url: '/api/v1/reload-tasks/:taskId' } });
    assert.equal(incr(getList, 'read\0acme\0alice').current, 1);
    assert.equal(incr(getOne, 'read\0acme\0alice').current, 2);
  });
});
