/**
 * The counters behind the rate limits. Qlik counts per tier, per user, per tenant and per minute
 * (NOTES.md): a user's GETs of the list and of single tasks draw on one budget of 1000. The stores
 * of @fastify/rate-limit count per route instead (each route gets a child store, and the Redis one
 * puts the route in its keys), so a user could spend 1000 on every GET route and 100 on each of
 * POST, PUT and DELETE. This store is one counter set for all routes: `child()` returns the store
 * itself, and the key the routes' keyGenerator makes (`tier\0tenant\0user`) names the tier.
 *
 * Fixed windows, as the plugin's own stores: the first request of a key opens a window of
 * `timeWindow` ms, and the count resets when it ends. In memory (bounded, least recently used out
 * first) for one instance; in Redis, one atomic script per request, when instances share the limit.
 */
import type { Redis } from 'ioredis';

type Callback = (err: Error | null, result?: { current: number; ttl: number }) => void;

/** Where the counts live: in memory or in Redis. */
export interface RateLimitCounters {
  incr(key: string, cb: Callback, timeWindow: number, max: number): void;
  read(key: string, cb: Callback, timeWindow: number, max: number): void;
}

/** The interface @fastify/rate-limit calls (its `store` option; README "Custom store"). */
export interface RateLimitStore extends RateLimitCounters {
  child(routeOptions: unknown): RateLimitStore;
}

/** A store class for the plugin's `store` option: routes share its counters. */
export function sharedRateLimitStore(backend: RateLimitCounters): new (params: unknown) => RateLimitStore {
  return class SharedStore implements RateLimitStore {
    incr(key: string, cb: Callback, timeWindow: number, max: number): void {
      backend.incr(key, cb, timeWindow, max);
    }
    read(key: string, cb: Callback, timeWindow: number, max: number): void {
      backend.read(key, cb, timeWindow, max);
    }
    child(): RateLimitStore {
      return this;
    }
  };
}

interface Window {
  current: number;
  start: number;
}

/** Counters in this process: at most `capacity` keys, the least recently used dropped first. */
export class MemoryRateLimitStore implements RateLimitCounters {
  private readonly windows = new Map<string, Window>();

  constructor(
    private readonly capacity = 100_000,
    private readonly now: () => number = Date.now,
  ) {}

  incr(key: string, cb: Callback, timeWindow: number, _max?: number): void {
    const now = this.now();
    let w = this.windows.get(key);
    if (w === undefined || w.start + timeWindow <= now) {
      w = { current: 0, start: now };
    }
    w.current += 1;
    // Re-inserted, so the Map's order is the order of last use.
    this.windows.delete(key);
    this.windows.set(key, w);
    if (this.windows.size > this.capacity) this.windows.delete(this.windows.keys().next().value!);
    cb(null, { current: w.current, ttl: w.start + timeWindow - now });
  }

  read(key: string, cb: Callback, timeWindow: number, _max?: number): void {
    const now = this.now();
    const w = this.windows.get(key);
    if (w === undefined || w.start + timeWindow <= now) cb(null, { current: 0, ttl: 0 });
    else cb(null, { current: w.current, ttl: w.start + timeWindow - now });
  }
}

/** Count, open the window on the first request, answer [count, ms left]; one round trip, atomic. */
const INCR_SCRIPT = `local current = redis.call('INCR', KEYS[1])
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {current, ttl}`;

const READ_SCRIPT = `local current = redis.call('GET', KEYS[1])
if not current then return {0, 0} end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then return {0, 0} end
return {tonumber(current), ttl}`;

type ScriptedRedis = Redis & {
  reloadTasksRateIncr(key: string, windowMs: number, cb: (err: Error | null, r?: [number, number]) => void): void;
  reloadTasksRateRead(key: string, cb: (err: Error | null, r?: [number, number]) => void): void;
};

/** Counters in Redis, shared by every instance that uses the same server and prefix. */
export class RedisRateLimitStore implements RateLimitCounters {
  private readonly redis: ScriptedRedis;

  constructor(
    redis: Redis,
    private readonly prefix: string,
  ) {
    if (!('reloadTasksRateIncr' in redis)) {
      redis.defineCommand('reloadTasksRateIncr', { numberOfKeys: 1, lua: INCR_SCRIPT });
      redis.defineCommand('reloadTasksRateRead', { numberOfKeys: 1, lua: READ_SCRIPT });
    }
    this.redis = redis as ScriptedRedis;
  }

  incr(key: string, cb: Callback, timeWindow: number, _max?: number): void {
    this.redis.reloadTasksRateIncr(this.prefix + key, timeWindow, (err, r) => {
      if (err || !r) cb(err ?? new Error('no answer from redis'));
      else cb(null, { current: Number(r[0]), ttl: Number(r[1]) });
    });
  }

  read(key: string, cb: Callback): void {
    this.redis.reloadTasksRateRead(this.prefix + key, (err, r) => {
      if (err || !r) cb(err ?? new Error('no answer from redis'));
      else cb(null, { current: Number(r[0]), ttl: Number(r[1]) });
    });
  }
}
