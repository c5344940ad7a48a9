// The Qlik Cloud executor against a local server that behaves as Qlik's Reloads API does: reloads
// go QUEUED → RELOADING → a final status as each test scripts it; 429s with Retry-After, 5xxs, a
// held POST, cancel, and the list endpoint a resume looks in. Every wait is on a ManualClock that
// `drive` moves while no request is in flight.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, beforeEach, describe, it } from 'node:test';
import { pino } from 'pino';
import { ManualClock } from '../../src/clock.js';
import { ReloadAborted, type AbortCause, type ExecutionContext, type ReloadJob } from '../../src/reloads/executor.js';
import { QlikCloudExecutor, type QlikCloudOptions } from '../../src/reloads/executors/qlik-cloud.js';
import { MAX_LOG } from '../../src/reloads/reload.js';

const NOW = Date.parse('2026-12-01T12:00:00Z');
const API_KEY = 'eyJhbGciOiJFUzM4NCJ9.qlik-api-key-that-must-never-leak.c2VjcmV0';
const APP_ID = '116dbfae-7fb9-4983-8e23-5ccd8c508722';
const POLL_MS = 1000;

// ---------------------------------------------------------------------------------------------
// A fake of Qlik's Reloads API.

interface FakeReload {
  id: string;
  appId: string;
  partial: boolean;
  type: string;
  status: string;
  creationTime: number;
  /** Statuses the next GETs return, in order; the last one stays. */
  script: string[];
  gets: number;
  log?: string;
  errorCode?: string;
  errorMessage?: string;
}

interface Injected {
  status: number;
  retryAfter?: string;
  body?: unknown;
  /** Create the reload anyway (a 5xx after Qlik took the request). */
  create?: boolean;
}

interface Seen {
  method: string;
  path: string;
  query: URLSearchParams;
  at: number;
  authorized: boolean;
  body: unknown;
}

class FakeQlik {
  readonly reloads = new Map<string, FakeReload>();
  readonly requests: Seen[] = [];
  /** Answers for the next POSTs (then normal behaviour). `'hold'` keeps the answer until release(). */
  postAnswers: Array<Injected | 'hold'> = [];
  /** Answers for the next GET /reloads/{id} (then normal behaviour). */
  getAnswers: Injected[] = [];
  /** Answers for the next list calls. */
  listAnswers: Injected[] = [];
  /** Answers for the next cancel calls. */
  cancelAnswers: Injected[] = [];
  /** The script of reloads created by POST, and what they end with. */
  script: string[] = ['RELOADING', 'SUCCEEDED'];
  final: Pick<FakeReload, 'log' | 'errorCode' | 'errorMessage'> = {};
  /** Qlik's clock minus ours: added to the creation time of reloads POST creates. */
  skewMs = 0;
  private seq = 0;
  private held: (() => void) | undefined;
  private server!: Server;
  url = '';

  constructor(private readonly clock: ManualClock) {}

  async start(): Promise<void> {
    this.server = createServer((req, res) => void this.handle(req, res));
    this.server.listen(0, '127.0.0.1');
    await once(this.server, 'listening');
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    this.server.close();
    await once(this.server, 'close');
  }

  reset(): void {
    this.reloads.clear();
    this.requests.length = 0;
    this.postAnswers = [];
    this.getAnswers = [];
    this.listAnswers = [];
    this.cancelAnswers = [];
    this.script = ['RELOADING', 'SUCCEEDED'];
    this.final = {};
    this.skewMs = 0;
    this.held = undefined;
  }

  add(over: Partial<FakeReload> & { creationTime: number }): FakeReload {
    this.seq += 1;
    const reload: FakeReload = {
      id: `65ad4a0df4bd1ffb${this.seq.toString(16).padStart(8, '0')}`,
      appId: APP_ID,
      partial: false,
      type: 'external',
      status: 'QUEUED',
      script: ['RELOADING', 'SUCCEEDED'],
      gets: 0,
      ...over,
    };
    this.reloads.set(reload.id, reload);
    return reload;
  }

  seen(method: string, pathPattern: RegExp): Seen[] {
    return this.requests.filter((r) => r.method === method && pathPattern.test(r.path));
  }

  get posts(): Seen[] {
    return this.seen('POST', /^\/api\/v1\/reloads$/);
  }

  get cancels(): Seen[] {
    return this.seen('POST', /\/actions\/cancel$/);
  }

  get lists(): Seen[] {
    return this.seen('GET', /^\/api\/v1\/reloads$/);
  }

  get isHolding(): boolean {
    return this.held !== undefined;
  }

  release(): void {
    const held = this.held;
    this.held = undefined;
    held?.();
  }

  private json(reload: FakeReload): Record<string, unknown> {
    const final = ['SUCCEEDED', 'FAILED', 'CANCELED', 'EXCEEDED_LIMIT'].includes(reload.status);
    return {
      id: reload.id,
      appId: reload.appId,
      tenantId: 'xqFQ0k66vSR555555-55555QkiYrCpct',
      userId: 'nEgFMHPnm6ye55555555PSKuCUDzEtFO',
      type: reload.type,
      status: reload.status,
      partial: reload.partial,
      creationTime: new Date(reload.creationTime).toISOString(),
      ...(final && reload.log !== undefined && { log: reload.log }),
      ...(final && reload.errorCode !== undefined && { errorCode: reload.errorCode }),
      ...(final && reload.errorMessage !== undefined && { errorMessage: reload.errorMessage }),
      links: { self: { href: `${this.url}/api/v1/reloads/${reload.id}` } },
    };
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    const url = new URL(req.url ?? '/', this.url);
    const authorized = req.headers.authorization === `Bearer ${API_KEY}`;
    let body: unknown;
    try {
      body = raw === '' ? undefined : JSON.parse(raw);
    } catch {
      body = raw;
    }
    this.requests.push({ method: req.method ?? '', path: url.pathname, query: url.searchParams, at: this.clock.now(), authorized, body });
    const send = (status: number, payload?: unknown, headers: Record<string, string> = {}): void => {
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(payload === undefined ? '' : typeof payload === 'string' ? payload : JSON.stringify(payload));
    };
    const injected = (answer: Injected): void => {
      send(answer.status, answer.body ?? { errors: [{ code: `HTTP-${answer.status}`, title: `injected ${answer.status}` }] }, answer.retryAfter ? { 'retry-after': answer.retryAfter } : {});
    };
    if (!authorized) {
      send(401, { errors: [{ code: 'HTTP-401', title: 'Unauthorized', detail: 'JWT invalid or not provided' }] });
      return;
    }

    if (req.method === 'POST' && url.pathname === '/api/v1/reloads') {
      const next = this.postAnswers.shift();
      if (next === 'hold') await new Promise<void>((resolve) => (this.held = resolve));
      const { appId, partial } = body as { appId?: unknown; partial?: unknown };
      if (typeof appId !== 'string') return send(400, { errors: [{ code: 'RELOADS-400', title: 'Bad request', detail: 'appId is required' }] });
      if (next !== undefined && next !== 'hold') {
        if (next.create) this.add({ appId, partial: partial === true, creationTime: this.clock.now() + this.skewMs, script: [...this.script], ...this.final });
        return injected(next);
      }
      const reload = this.add({ appId, partial: partial === true, creationTime: this.clock.now() + this.skewMs, script: [...this.script], ...this.final });
      return send(201, this.json(reload));
    }
    if (req.method === 'GET' && url.pathname === '/api/v1/reloads') {
      const next = this.listAnswers.shift();
      if (next) return injected(next);
      const appId = url.searchParams.get('appId');
      if (!appId) return send(400, { errors: [{ code: 'RELOADS-400', title: 'appId is required' }] });
      const limit = Number(url.searchParams.get('limit') ?? '10');
      const data = [...this.reloads.values()]
        .filter((r) => r.appId === appId)
        .sort((a, b) => b.creationTime - a.creationTime)
        .slice(0, limit)
        .map((r) => this.json(r));
      return send(200, { data, links: { self: { href: `${this.url}${req.url}` } } });
    }
    const cancel = /^\/api\/v1\/reloads\/([^/]+)\/actions\/cancel$/.exec(url.pathname);
    if (req.method === 'POST' && cancel) {
      const next = this.cancelAnswers.shift();
      if (next) return injected(next);
      const reload = this.reloads.get(decodeURIComponent(cancel[1]!));
      if (!reload) return send(404, { errors: [{ code: 'RELOADS-404', title: 'Not found' }] });
      if (['SUCCEEDED', 'FAILED', 'CANCELED', 'EXCEEDED_LIMIT'].includes(reload.status)) return send(400, { errors: [{ code: 'RELOADS-400', title: 'The reload has ended' }] });
      reload.status = 'CANCELING';
      reload.script = ['CANCELED'];
      reload.gets = 0;
      return send(202);
    }
    const one = /^\/api\/v1\/reloads\/([^/]+)$/.exec(url.pathname);
    if (req.method === 'GET' && one) {
      const next = this.getAnswers.shift();
      if (next) return injected(next);
      const reload = this.reloads.get(decodeURIComponent(one[1]!));
      if (!reload) return send(404, { errors: [{ code: 'RELOADS-404', title: 'Not found' }] });
      reload.status = reload.script[Math.min(reload.gets, reload.script.length - 1)] ?? reload.status;
      reload.gets += 1;
      return send(200, this.json(reload));
    }
    send(404, { errors: [{ code: 'HTTP-404', title: 'Not found' }] });
  }
}

// ---------------------------------------------------------------------------------------------
// Harness.

/** fetch that counts requests in flight (body included), so `drive` moves the clock only between them. */
function countingFetch(): { fetch: typeof fetch; inFlight: () => number } {
  let inFlight = 0;
  const counted: typeof fetch = async (input, init) => {
    inFlight += 1;
    try {
      const res = await fetch(input, init);
      const buf = await res.arrayBuffer();
      return new Response(buf.byteLength === 0 ? null : buf, { status: res.status, statusText: res.statusText, headers: res.headers });
    } finally {
      inFlight -= 1;
    }
  };
  return { fetch: counted, inFlight: () => inFlight };
}

/**
 * Awaits `run` while moving the clock in `step`s, but only while no request is in flight (so a
 * per-request timeout never fires under a request that is merely slow in real time).
 */
async function drive<T>(clock: ManualClock, run: Promise<T>, opts: { busy: () => boolean; step?: number; onStep?: () => void }): Promise<T> {
  let done = false;
  run.then(
    () => (done = true),
    () => (done = true),
  );
  const limit = clock.now() + 24 * 3600_000;
  while (!done) {
    await new Promise((r) => setImmediate(r));
    if (done) break;
    opts.onStep?.();
    if (!opts.busy()) clock.advance(opts.step ?? 250);
    if (clock.now() > limit) throw new Error('the run did not settle within a day of clock time');
  }
  return run;
}

interface Harness {
  readonly clock: ManualClock;
  readonly ctx: ExecutionContext;
  readonly executor: QlikCloudExecutor;
  readonly externalIds: string[];
  readonly logLines: string[];
  abort(why: AbortCause): void;
  drive<T>(run: Promise<T>, onStep?: () => void): Promise<T>;
}

let clock: ManualClock;
let fake: FakeQlik;

function harness(opts: { apiKey?: string; tenantUrl?: string; options?: QlikCloudOptions; advanceWhileHeld?: boolean } = {}): Harness {
  const controller = new AbortController();
  const logLines: string[] = [];
  const externalIds: string[] = [];
  const counter = countingFetch();
  const log = pino({ level: 'trace' }, { write: (line: string) => void logLines.push(line) });
  const ctx: ExecutionContext = {
    signal: controller.signal,
    clock,
    log,
    setExternalId: async (id) => {
      externalIds.push(id);
    },
  };
  const executor = new QlikCloudExecutor(
    { tenantUrl: opts.tenantUrl ?? `${fake.url}/`, apiKey: opts.apiKey ?? API_KEY, pollIntervalMs: POLL_MS },
    { fetch: counter.fetch, random: () => 0.5, ...opts.options },
  );
  return {
    clock,
    ctx,
    executor,
    externalIds,
    logLines,
    abort: (why) => controller.abort(new ReloadAborted(why)),
    drive: (run, onStep) => drive(clock, run, { busy: () => counter.inFlight() > 0 && !(opts.advanceWhileHeld === true && fake.isHolding), onStep }),
  };
}

function job(over: Partial<ReloadJob> = {}): ReloadJob {
  return {
    weight: 1,
    variables: null,
    id: '0193a1b2c3d4e5f6a7b8c9d0',
    tenantId: 'acme',
    userId: 'alice',
    appId: APP_ID,
    partial: false,
    type: 'chronos',
    resourceType: 'reload-tasks',
    resourceId: '0193a0000000000000000001',
    scheduledTime: NOW,
    externalId: null,
    attempts: 1,
    creationTime: clock.now(),
    ...over,
  };
}

function gaps(requests: readonly Seen[]): number[] {
  return requests.slice(1).map((r, i) => r.at - requests[i]!.at);
}

before(async () => {
  clock = new ManualClock(NOW);
  fake = new FakeQlik(clock);
  await fake.start();
});
after(() => fake.stop());
beforeEach(() => {
  fake.reset();
});

// ---------------------------------------------------------------------------------------------

describe('QlikCloudExecutor.run', () => {
  it('creates the reload, records its id, polls every pollIntervalMs until SUCCEEDED, and keeps the log', async () => {
    const h = harness();
    fake.script = ['QUEUED', 'RELOADING', 'RELOADING', 'SUCCEEDED'];
    fake.final = { log: 'ReloadID: x\nStarted loading data\nApp saved\nFinished successfully' };
    const start = clock.now();
    const result = await h.drive(h.executor.run(job({ partial: true }), h.ctx));

    assert.equal(result.status, 'SUCCEEDED');
    assert.equal(result.log, fake.final.log);
    assert.equal(fake.posts.length, 1);
    assert.deepEqual(fake.posts[0]!.body, { appId: APP_ID, partial: true }); // a scheduled reload: no weight, no variables
    assert.ok(fake.requests.every((r) => r.authorized));
    const [created] = [...fake.reloads.values()];
    assert.deepEqual(h.externalIds, [created!.id]);
    const gets = fake.seen('GET', new RegExp(`/api/v1/reloads/${created!.id}$`));
    assert.equal(gets.length, 4);
    assert.ok(gets[0]!.at >= start + POLL_MS, 'the first poll waits one interval after the POST');
    for (const gap of gaps(gets)) assert.ok(gap >= POLL_MS, `polls are at least ${POLL_MS} ms apart (got ${gap})`);
    assert.equal(clock.pendingTimers, 0, 'no timer is left behind');
  });

  it('passes a manual reload\'s weight and load-script variables on to Qlik', async () => {
    const h = harness();
    fake.script = ['SUCCEEDED'];
    const result = await h.drive(h.executor.run(job({ type: 'external', resourceId: null, scheduledTime: null, weight: 9, variables: { vRegion: 'EMEA', vYear: '2027' } }), h.ctx));
    assert.equal(result.status, 'SUCCEEDED');
    assert.deepEqual(fake.posts[0]!.body, { appId: APP_ID, partial: false, weight: 9, variables: { vRegion: 'EMEA', vYear: '2027' } });
  });

  it('maps FAILED to FAILED, keeping Qlik\'s errorCode, errorMessage and log', async () => {
    const h = harness();
    fake.script = ['RELOADING', 'FAILED'];
    fake.final = { log: 'ReloadID: x\nError: Field \'Amount\' not found', errorCode: 'EngineReloadScriptError', errorMessage: "Field 'Amount' not found" };
    const result = await h.drive(h.executor.run(job(), h.ctx));
    assert.deepEqual(result, { status: 'FAILED', log: fake.final.log, errorCode: 'EngineReloadScriptError', errorMessage: "Field 'Amount' not found" });
  });

  it('maps EXCEEDED_LIMIT to FAILED and CANCELED (by someone at Qlik) to CANCELED', async () => {
    const h1 = harness();
    fake.script = ['EXCEEDED_LIMIT'];
    fake.final = {};
    const r1 = await h1.drive(h1.executor.run(job(), h1.ctx));
    assert.equal(r1.status, 'FAILED');
    assert.equal(r1.errorCode, 'EXCEEDED_LIMIT');

    const h2 = harness();
    fake.script = ['RELOADING', 'CANCELED'];
    const r2 = await h2.drive(h2.executor.run(job(), h2.ctx));
    assert.equal(r2.status, 'CANCELED');
  });

  it('a status it does not know is followed as still running, with a warning', async () => {
    const h = harness();
    fake.script = ['RELOADING', 'PAUSED', 'PAUSED', 'SUCCEEDED'];
    const result = await h.drive(h.executor.run(job(), h.ctx));
    assert.equal(result.status, 'SUCCEEDED');
    const warnings = h.logLines.map((l) => JSON.parse(l) as { level: number; msg: string; qlikStatus?: string }).filter((l) => l.level === 40 && l.qlikStatus === 'PAUSED');
    assert.equal(warnings.length, 1, 'warned once, when it changed to the unknown status');
  });

  it('keeps only the tail of a huge Qlik log', async () => {
    const h = harness();
    fake.script = ['FAILED'];
    fake.final = { log: `${'x'.repeat(200_000)}\nthe reason it failed`, errorCode: 'E', errorMessage: 'm' };
    const result = await h.drive(h.executor.run(job(), h.ctx));
    assert.ok(result.log!.length <= MAX_LOG);
    assert.ok(result.log!.endsWith('the reason it failed'));
  });

  it('waits as long as Retry-After says on a 429, on the clock, then carries on', async () => {
    const h = harness();
    fake.postAnswers = [{ status: 429, retryAfter: '7' }];
    fake.getAnswers = [{ status: 429, retryAfter: '3' }];
    const result = await h.drive(h.executor.run(job(), h.ctx));
    assert.equal(result.status, 'SUCCEEDED');
    const posts = fake.posts;
    assert.equal(posts.length, 2);
    assert.ok(posts[1]!.at - posts[0]!.at >= 7000, `POST retried after Retry-After (got ${posts[1]!.at - posts[0]!.at} ms)`);
    const gets = fake.seen('GET', /^\/api\/v1\/reloads\/[^/]+$/);
    assert.ok(gets[1]!.at - gets[0]!.at >= 3000, 'GET retried after Retry-After');
    assert.equal(fake.reloads.size, 1, 'one reload at Qlik');
    assert.equal(fake.lists.length, 0, 'a 429 means the reload was not created: no need to look for it');
  });

  it("Qlik's 429s do not use up the attempts: a herd meeting its rate limit waits its turn", async () => {
    const h = harness();
    fake.postAnswers = Array.from({ length: 9 }, () => ({ status: 429 })); // no Retry-After: the back-off, up to a minute
    const result = await h.drive(h.executor.run(job(), h.ctx));
    assert.equal(result.status, 'SUCCEEDED');
    assert.equal(fake.posts.length, 10);
    assert.equal(fake.reloads.size, 1);
    assert.ok(Math.max(...gaps(fake.posts)) <= 60_000, 'waits capped at the back-off maximum');
  });

  it('Retry-After: 0 (or a date already past) still waits the back-off, instead of retrying in a loop', async () => {
    const h = harness();
    fake.postAnswers = [{ status: 429, retryAfter: '0' }, { status: 429, retryAfter: 'Mon, 01 Jan 2001 00:00:00 GMT' }];
    fake.getAnswers = [{ status: 429, retryAfter: '0' }];
    const result = await h.drive(h.executor.run(job(), h.ctx));
    assert.equal(result.status, 'SUCCEEDED');
    const postGaps = gaps(fake.posts);
    assert.equal(fake.posts.length, 3);
    // base 1 s doubling, jitter fixed at the middle (random 0.5): 750, then 1500 ms.
    assert.ok(postGaps[0]! >= 750 && postGaps[1]! >= 1500, `the back-off, not 0: ${postGaps.join(', ')}`);
    const gets = fake.seen('GET', /^\/api\/v1\/reloads\/[^/]+$/);
    assert.ok(gets[1]!.at - gets[0]!.at >= 750, `GET retried after the back-off (got ${gets[1]!.at - gets[0]!.at} ms)`);
  });

  it('backs off exponentially on 5xx, for the POST and for polls', async () => {
    const h = harness();
    fake.postAnswers = [{ status: 503 }, { status: 503 }, { status: 503 }];
    fake.getAnswers = [{ status: 502 }, { status: 500 }];
    const result = await h.drive(h.executor.run(job(), h.ctx));
    assert.equal(result.status, 'SUCCEEDED');
    assert.equal(fake.posts.length, 4);
    const postGaps = gaps(fake.posts);
    // base 1 s doubling, jitter fixed at the middle (random 0.5): 750, 1500, 3000 ms.
    assert.ok(postGaps[0]! >= 750 && postGaps[1]! >= 1500 && postGaps[2]! >= 3000, `growing back-off: ${postGaps.join(', ')}`);
    assert.ok(postGaps[0]! < postGaps[1]! && postGaps[1]! < postGaps[2]!, `growing back-off: ${postGaps.join(', ')}`);
    assert.equal(fake.reloads.size, 1);
  });

  it('gives up after 6 POST attempts and fails with the last error', async () => {
    const h = harness();
    fake.postAnswers = Array.from({ length: 10 }, () => ({ status: 503, body: { errors: [{ code: 'HTTP-503', title: 'Service Unavailable', detail: 'engine capacity' }] } }));
    const result = await h.drive(h.executor.run(job(), h.ctx));
    assert.equal(result.status, 'FAILED');
    assert.equal(result.errorCode, 'QLIK_UNAVAILABLE');
    assert.match(result.errorMessage!, /6 attempts.*HTTP 503.*engine capacity/);
    assert.equal(fake.posts.length, 6);
    assert.equal(fake.reloads.size, 0);
  });

  it('retries connection errors, then fails', async () => {
    const closed = createServer();
    closed.listen(0, '127.0.0.1');
    await once(closed, 'listening');
    const port = (closed.address() as AddressInfo).port;
    closed.close();
    await once(closed, 'close');
    const h = harness({ tenantUrl: `http://127.0.0.1:${port}` });
    const result = await h.drive(h.executor.run(job(), h.ctx));
    assert.equal(result.status, 'FAILED');
    assert.equal(result.errorCode, 'QLIK_UNAVAILABLE');
    assert.match(result.errorMessage!, /ECONNREFUSED/);
  });

  it('retries a POST that got no answer within the request timeout (on the clock), after checking it created nothing', async () => {
    const h = harness({ advanceWhileHeld: true, options: { requestTimeoutMs: 10_000 } });
    fake.postAnswers = ['hold'];
    const start = clock.now();
    const result = await h.drive(h.executor.run(job(), h.ctx));
    assert.equal(result.status, 'SUCCEEDED');
    assert.equal(fake.posts.length, 2);
    assert.ok(fake.posts[1]!.at - start >= 10_000, 'the second POST came after the timeout');
    assert.equal(fake.lists.length, 1, 'a timed-out POST may have created the reload: looked first');
    assert.equal(h.externalIds.length, 1);
    fake.release();
  });

  it('does not POST again after a 5xx that came after Qlik created the reload: it finds and follows it', async () => {
    const h = harness();
    fake.postAnswers = [{ status: 500, create: true }];
    const result = await h.drive(h.executor.run(job(), h.ctx));
    assert.equal(result.status, 'SUCCEEDED');
    assert.equal(fake.posts.length, 1);
    assert.equal(fake.lists.length, 1);
    assert.equal(fake.reloads.size, 1);
    assert.deepEqual(h.externalIds, [[...fake.reloads.keys()][0]]);
  });

  it('fails at once, with Qlik\'s error detail, on a 4xx to the POST', async () => {
    const h = harness();
    fake.postAnswers = [{ status: 403, body: { errors: [{ code: 'RELOADS-403', title: 'Forbidden', detail: 'The user does not have access to the app' }] } }];
    const result = await h.drive(h.executor.run(job(), h.ctx));
    assert.equal(result.status, 'FAILED');
    assert.equal(result.errorCode, 'RELOADS-403');
    assert.match(result.errorMessage!, /HTTP 403.*Forbidden: The user does not have access to the app/);
    assert.equal(fake.posts.length, 1);
    assert.equal(fake.requests.length, 1, 'no retry, no poll');
    assert.deepEqual(h.externalIds, []);
  });

  it('fails a reload that vanished at Qlik (404s) rather than polling forever', async () => {
    const h = harness();
    const r = fake.add({ creationTime: clock.now(), status: 'RELOADING' });
    fake.reloads.delete(r.id);
    const result = await h.drive(h.executor.resume(job({ externalId: r.id }), h.ctx));
    assert.equal(result.status, 'FAILED');
    assert.equal(result.errorCode, 'RELOADS-404');
    assert.equal(fake.seen('GET', /^\/api\/v1\/reloads\/[^/]+$/).length, 3);
  });
});

describe('QlikCloudExecutor when stopped', () => {
  it('on cancel mid-run, cancels the reload at Qlik and returns CANCELED', async () => {
    const h = harness();
    fake.script = ['RELOADING'];
    const run = h.executor.run(job(), h.ctx);
    const result = await h.drive(run, () => {
      if (fake.seen('GET', /^\/api\/v1\/reloads\/[^/]+$/).length >= 2 && !h.ctx.signal.aborted) h.abort('cancel');
    });
    assert.equal(result.status, 'CANCELED');
    const [reload] = [...fake.reloads.values()];
    assert.equal(fake.cancels.length, 1);
    assert.equal(fake.cancels[0]!.path, `/api/v1/reloads/${reload!.id}/actions/cancel`);
    assert.equal(reload!.status, 'CANCELING');
    assert.equal(clock.pendingTimers, 0);
  });

  it('a cancel that Qlik answers 429 or 5xx is asked again, within its time', async () => {
    const h = harness();
    fake.script = ['RELOADING'];
    fake.cancelAnswers = [{ status: 429, retryAfter: '0' }, { status: 503 }];
    const result = await h.drive(h.executor.run(job(), h.ctx), () => {
      if (fake.seen('GET', /^\/api\/v1\/reloads\/[^/]+$/).length >= 1 && !h.ctx.signal.aborted) h.abort('cancel');
    });
    assert.equal(result.status, 'CANCELED');
    assert.equal(fake.cancels.length, 3);
    assert.match(result.log ?? '', /^Asked Qlik Cloud to cancel reload .* \(HTTP 202\)\.$/);
    const [reload] = [...fake.reloads.values()];
    assert.equal(reload!.status, 'CANCELING');
  });

  it('on timeout, cancels at Qlik too and fails', async () => {
    const h = harness();
    fake.script = ['RELOADING'];
    const result = await h.drive(h.executor.run(job(), h.ctx), () => {
      if (fake.seen('GET', /^\/api\/v1\/reloads\/[^/]+$/).length >= 1 && !h.ctx.signal.aborted) h.abort('timeout');
    });
    assert.equal(result.status, 'FAILED');
    assert.equal(result.errorCode, 'TIMEOUT');
    assert.equal(fake.cancels.length, 1);
  });

  it('on shutdown, leaves the Qlik reload running (a resume follows it)', async () => {
    const h = harness();
    fake.script = ['RELOADING'];
    await h.drive(h.executor.run(job(), h.ctx), () => {
      if (fake.seen('GET', /^\/api\/v1\/reloads\/[^/]+$/).length >= 1 && !h.ctx.signal.aborted) h.abort('shutdown');
    });
    assert.equal(fake.cancels.length, 0);
    assert.equal(h.externalIds.length, 1, 'the id is recorded for the resume');
  });

  it('a cancel while the POST is in flight still learns the id and cancels that reload', async () => {
    const h = harness();
    fake.script = ['RELOADING'];
    fake.postAnswers = ['hold'];
    const run = h.executor.run(job(), h.ctx);
    const result = await h.drive(run, () => {
      if (fake.isHolding && !h.ctx.signal.aborted) {
        h.abort('cancel');
        fake.release();
      }
    });
    assert.equal(result.status, 'CANCELED');
    const [reload] = [...fake.reloads.values()];
    assert.deepEqual(h.externalIds, [reload!.id]);
    assert.equal(fake.cancels.length, 1);
    assert.equal(fake.seen('GET', /^\/api\/v1\/reloads\/[^/]+$/).length, 0);
  });

  it('a cancel after a POST whose answer was lost finds the reload Qlik created and cancels it', async () => {
    const h = harness();
    fake.script = ['RELOADING'];
    fake.postAnswers = [{ status: 502, create: true }]; // Qlik took it, the answer did not come through
    const result = await h.drive(h.executor.run(job(), h.ctx), () => {
      if (fake.posts.length >= 1 && !h.ctx.signal.aborted) h.abort('cancel'); // during the back-off
    });
    assert.equal(result.status, 'CANCELED');
    const [reload] = [...fake.reloads.values()];
    assert.equal(fake.posts.length, 1);
    assert.deepEqual(h.externalIds, [reload!.id], 'the id found is recorded');
    assert.equal(fake.cancels.length, 1);
    assert.equal(fake.cancels[0]!.path, `/api/v1/reloads/${reload!.id}/actions/cancel`);
    assert.match(result.log ?? '', /Asked Qlik Cloud to cancel reload/);
  });

  it('a timeout after a POST refused for sure (429) cancels nothing and looks for nothing', async () => {
    const h = harness();
    fake.postAnswers = [{ status: 429, retryAfter: '5' }];
    const result = await h.drive(h.executor.run(job(), h.ctx), () => {
      if (fake.posts.length >= 1 && !h.ctx.signal.aborted) h.abort('timeout');
    });
    assert.equal(result.status, 'FAILED');
    assert.equal(fake.lists.length, 0);
    assert.equal(fake.cancels.length, 0);
    assert.match(result.log ?? '', /No Qlik Cloud reload had been started/);
  });

  it('an abort before the run starts sends nothing', async () => {
    const h = harness();
    h.abort('cancel');
    const result = await h.executor.run(job(), h.ctx);
    assert.equal(result.status, 'CANCELED');
    assert.equal(fake.requests.length, 0);
  });
});

describe('QlikCloudExecutor.resume', () => {
  it('resumed already canceled (a cancel while its runner was down), cancels the recorded Qlik reload', async () => {
    const h = harness();
    const existing = fake.add({ creationTime: clock.now() - 60_000, status: 'RELOADING', script: ['RELOADING'] });
    h.abort('cancel');
    const result = await h.drive(h.executor.resume(job({ externalId: existing.id, creationTime: clock.now() - 120_000 }), h.ctx));
    assert.equal(result.status, 'CANCELED');
    assert.deepEqual(fake.cancels.map((c) => c.path), [`/api/v1/reloads/${existing.id}/actions/cancel`]);
    assert.equal(fake.posts.length, 0);
  });

  it('follows the recorded Qlik reload, without a second POST', async () => {
    const h = harness();
    const existing = fake.add({ creationTime: clock.now() - 60_000, status: 'RELOADING', script: ['RELOADING', 'RELOADING', 'SUCCEEDED'], log: 'resumed fine' });
    const start = clock.now();
    const result = await h.drive(h.executor.resume(job({ externalId: existing.id, creationTime: clock.now() - 120_000 }), h.ctx));
    assert.deepEqual(result, { status: 'SUCCEEDED', log: 'resumed fine' });
    assert.equal(fake.posts.length, 0);
    assert.equal(fake.lists.length, 0);
    assert.equal(fake.requests[0]!.at, start, 'the first poll is at once');
    assert.equal(existing.gets, 3);
  });

  it('without a recorded id, adopts the reload the crashed run had created (and no other)', async () => {
    const h = harness();
    const created = clock.now() - 60_000;
    fake.add({ creationTime: created - 5_000, status: 'SUCCEEDED' }); // before this reload existed
    fake.add({ creationTime: created + 1_000, type: 'hub', status: 'SUCCEEDED' }); // someone in the hub
    fake.add({ creationTime: created + 1_500, partial: true, status: 'SUCCEEDED' }); // a partial one
    const ours = fake.add({ creationTime: created + 2_000, status: 'RELOADING', log: 'ours' });
    fake.add({ creationTime: created + 30_000, status: 'QUEUED' }); // a later one
    const result = await h.drive(h.executor.resume(job({ creationTime: created }), h.ctx));
    assert.equal(result.status, 'SUCCEEDED');
    assert.equal(result.log, 'ours');
    assert.equal(fake.posts.length, 0);
    assert.deepEqual(h.externalIds, [ours.id]);
    const list = fake.lists[0]!;
    assert.equal(list.query.get('appId'), APP_ID);
    assert.equal(list.query.get('limit'), '10');
  });

  it("with our clock ahead of Qlik's by half a second, a POST whose answer was lost is still found, not POSTed again", async () => {
    const h = harness();
    fake.postAnswers = [{ status: 502, create: true }];
    fake.skewMs = -500; // Qlik stamps its reloads half a second behind our clock
    const result = await h.drive(h.executor.run(job({ creationTime: clock.now() }), h.ctx));
    assert.equal(result.status, 'SUCCEEDED');
    assert.equal(fake.posts.length, 1, 'no second POST');
    assert.equal(fake.reloads.size, 1);
    assert.deepEqual(h.externalIds, [[...fake.reloads.keys()][0]]);
  });

  it('without a recorded id and nothing at Qlik, POSTs', async () => {
    const h = harness();
    const created = clock.now() - 60_000;
    fake.add({ creationTime: created - 5_000, status: 'SUCCEEDED' });
    const result = await h.drive(h.executor.resume(job({ creationTime: created }), h.ctx));
    assert.equal(result.status, 'SUCCEEDED');
    assert.equal(fake.lists.length, 1);
    assert.equal(fake.posts.length, 1);
    assert.equal(h.externalIds.length, 1);
  });

  it('without a recorded id, and unable to look, does not risk a second reload', async () => {
    const h = harness();
    fake.listAnswers = [{ status: 403, body: { errors: [{ code: 'HTTP-403', title: 'Forbidden' }] } }];
    const result = await h.drive(h.executor.resume(job(), h.ctx));
    assert.equal(result.status, 'FAILED');
    assert.equal(result.errorCode, 'LOST');
    assert.equal(fake.posts.length, 0);
  });
});

describe('the API key', () => {
  it('is sent as a bearer token and never appears in logs or results', async () => {
    const results: unknown[] = [];
    const lines: string[] = [];
    const scenarios: Array<(h: Harness) => Promise<unknown>> = [
      async (h) => {
        fake.script = ['RELOADING', 'SUCCEEDED'];
        return h.drive(h.executor.run(job(), h.ctx));
      },
      async (h) => {
        fake.postAnswers = [{ status: 429, retryAfter: '1' }, { status: 503 }, { status: 400 }];
        return h.drive(h.executor.run(job(), h.ctx));
      },
      async (h) => {
        fake.script = ['RELOADING'];
        return h.drive(h.executor.run(job(), h.ctx), () => {
          if (fake.seen('GET', /^\/api\/v1\/reloads\/[^/]+$/).length >= 1 && !h.ctx.signal.aborted) h.abort('cancel');
        });
      },
      async (h) => h.drive(h.executor.resume(job(), h.ctx)),
    ];
    for (const scenario of scenarios) {
      fake.reset();
      const h = harness();
      results.push(await scenario(h));
      lines.push(...h.logLines);
      assert.ok(fake.requests.length > 0 && fake.requests.every((r) => r.authorized), 'every request carried the key');
    }
    // With a wrong key: Qlik answers 401, and the (wrong) key does not leak either.
    fake.reset();
    const wrong = harness({ apiKey: 'wrong-key-0123456789' });
    const refused = await wrong.drive(wrong.executor.run(job(), wrong.ctx));
    assert.equal(refused.status, 'FAILED');
    assert.equal(refused.errorCode, 'HTTP-401');
    results.push(refused);
    lines.push(...wrong.logLines);

    assert.ok(lines.length > 10, 'the runs did log');
    const everything = `${lines.join('\n')}\n${JSON.stringify(results)}`;
    assert.ok(!everything.includes(API_KEY), 'the API key leaked');
    assert.ok(!everything.includes('qlik-api-key-that-must-never-leak'), 'part of the API key leaked');
    assert.ok(!everything.includes('wrong-key-0123456789'), 'the wrong API key leaked');
    assert.ok(!/bearer/i.test(everything), 'an Authorization header was logged');
  });
});
