// The request log: one line per request with its trace id and caller, errors with theirs, never a
// token; and the bound request logger (no pino child per request) behaves as a pino child would.
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import pino from 'pino';
import type { FastifyBaseLogger } from 'fastify';
import { ManualClock } from '../../src/clock.js';
import { loadConfig } from '../../src/config.js';
import { buildApp } from '../../src/http/app.js';
import { BoundLogger, boundChildLogger } from '../../src/http/request-logger.js';
import { StoreUnavailableError, type Store } from '../../src/store/store.js';

const TOKEN = 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJl';
const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';

function capture(level: string): { log: pino.Logger; lines: () => Array<Record<string, unknown>>; text: () => string } {
  let text = '';
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      text += chunk.toString();
      done();
    },
  });
  const log = pino({ level }, sink);
  return {
    log,
    text: () => text,
    lines: () => text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

/** A store that finds no task, or fails as `error`. */
function store(error?: Error): Store {
  return new Proxy({} as Store, {
    get(_, name) {
      if (name === 'dialect') return 'sqlite';
      if (name === 'secret') return async () => Buffer.alloc(32);
      if (name === 'close') return async () => {};
      if (name === 'then') return undefined;
      // The optional synchronous look-up: this store keeps nothing in memory, so it has none.
      if (name === 'peekTask') return undefined;
      return async () => {
        if (error) throw error;
        return undefined;
      };
    },
  });
}

async function get(level: string, opts: { error?: Error; auth?: boolean } = {}) {
  const c = capture(level);
  const app = await buildApp({
    config: loadConfig({ RATE_LIMIT_ENABLED: 'false' }),
    store: store(opts.error),
    clock: new ManualClock(0),
    logger: c.log,
    verify: async (header) => {
      if (opts.auth === false || header !== `Bearer ${TOKEN}`) throw new (await import('../../src/auth/verifier.js')).AuthError('the token is not valid');
      return { tenantId: 'acme', userId: 'alice', admin: false };
    },
  });
  try {
    const res = await app.inject({
      method: 'GET',
      url: '/api/v1/reload-tasks/6b0000000000000000000000',
      headers: { authorization: `Bearer ${TOKEN}`, traceparent: `00-${TRACE}-00f067aa0ba902b7-01` },
    });
    return { res, lines: c.lines(), text: c.text() };
  } finally {
    await app.close();
  }
}

describe('request log', () => {
  it('writes one line per request with the trace id, the caller and the status, and no token', async () => {
    const { res, lines, text } = await get('info');
    assert.equal(res.statusCode, 404);
    const requests = lines.filter((l) => l.msg === 'request');
    assert.equal(requests.length, 1);
    const line = requests[0]!;
    assert.equal(line.traceId, TRACE);
    assert.equal(line.tenantId, 'acme');
    assert.equal(line.userId, 'alice');
    assert.equal(line.statusCode, 404);
    assert.equal(line.method, 'GET');
    assert.equal(line.level, 30);
    assert.ok(!text.includes(TOKEN.split('.')[1]!), 'no part of the token is logged');
  });

  it('a refused token: the line has the trace id and no caller', async () => {
    const { res, lines, text } = await get('info', { auth: false });
    assert.equal(res.statusCode, 401);
    const line = lines.find((l) => l.msg === 'request')!;
    assert.equal(line.traceId, TRACE);
    assert.equal(line.statusCode, 401);
    assert.equal(line.tenantId, undefined);
    assert.ok(!text.includes(TOKEN.split('.')[1]!));
  });

  it('at warn, a successful request writes nothing and an unavailable store writes its warning with trace id and caller', async () => {
    const quiet = await get('warn');
    assert.equal(quiet.res.statusCode, 404);
    assert.equal(quiet.lines.length, 0);
    const down = await get('warn', { error: new StoreUnavailableError('SQLite: SQLITE_BUSY') });
    assert.equal(down.res.statusCode, 503);
    const warn = down.lines.find((l) => l.msg === 'store unavailable')!;
    assert.equal(warn.level, 40);
    assert.equal(warn.traceId, TRACE);
    assert.equal(warn.tenantId, 'acme');
    assert.equal((warn.err as { message: string }).message, 'SQLite: SQLITE_BUSY');
  });

  it('an unexpected error is logged at error with its stack, and the answer says nothing of it', async () => {
    const { res, lines } = await get('info', { error: new Error('disk on fire') });
    assert.equal(res.statusCode, 500);
    assert.ok(!res.body.includes('disk on fire'));
    const line = lines.find((l) => l.msg === 'unhandled error')!;
    assert.equal(line.level, 50);
    assert.equal(line.traceId, TRACE);
    assert.match((line.err as { stack: string }).stack, /disk on fire/);
  });
});

describe('BoundLogger', () => {
  const make = (level = 'info') => {
    const c = capture(level);
    return { c, log: new BoundLogger(c.log as unknown as FastifyBaseLogger, { traceId: 't1' }) };
  };

  it('writes the same keys as a pino child, in each of pino call forms', () => {
    const { c, log } = make();
    log.info({ a: 1 }, 'obj %s', 'x');
    log.warn('plain %d', 7);
    log.error(new Error('boom'));
    log.error(new Error('bang'), 'with message');
    const [a, b, e1, e2] = c.lines();
    assert.deepEqual([a!.traceId, a!.a, a!.msg, a!.level], ['t1', 1, 'obj x', 30]);
    assert.deepEqual([b!.traceId, b!.msg, b!.level], ['t1', 'plain 7', 40]);
    assert.deepEqual([e1!.traceId, e1!.msg, (e1!.err as { message: string }).message], ['t1', 'boom', 'boom']);
    assert.deepEqual([e2!.msg, (e2!.err as { message: string }).message], ['with message', 'bang']);
  });

  it('writes nothing below the level, and a line field wins over a binding of the same name', () => {
    const { c, log } = make('warn');
    log.info('hidden');
    log.debug({ x: 1 });
    log.warn({ traceId: 'override' }, 'shown');
    assert.deepEqual(c.lines().map((l) => [l.msg, l.traceId]), [['shown', 'override']]);
    assert.equal(log.isLevelEnabled('info'), false);
    assert.equal(log.isLevelEnabled('error'), true);
    assert.equal(log.level, 'warn');
  });

  it('child adds bindings; a child with its own level is a real pino child at that level', () => {
    const { c, log } = make('info');
    log.child({ tenantId: 'acme' }).info('one');
    const debug = log.child({ userId: 'u' }, { level: 'debug' });
    debug.debug('two');
    boundChildLogger(c.log as unknown as FastifyBaseLogger, { traceId: 't2' }, {}).info('three');
    const [one, two, three] = c.lines();
    assert.deepEqual([one!.traceId, one!.tenantId, one!.msg], ['t1', 'acme', 'one']);
    assert.deepEqual([two!.traceId, two!.userId, two!.msg, two!.level], ['t1', 'u', 'two', 20]);
    assert.deepEqual([three!.traceId, three!.msg], ['t2', 'three']);
  });

  it("a child's child keeps every binding, the nearer one winning", () => {
    const { c, log } = make('info');
    const grandchild = log.child({ tenantId: 'acme', userId: 'a' }).child({ userId: 'b', op: 'x' });
    grandchild.info('four');
    grandchild.child({ op: 'y' }, { level: 'info' }).info('five');
    const [four, five] = c.lines();
    assert.deepEqual([four!.traceId, four!.tenantId, four!.userId, four!.op], ['t1', 'acme', 'b', 'x']);
    assert.deepEqual([five!.traceId, five!.tenantId, five!.userId, five!.op], ['t1', 'acme', 'b', 'y']);
  });
});
