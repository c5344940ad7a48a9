// The webhook executor against a local receiver that checks the documented signature scheme on
// its own (node:crypto, not the executor's helpers), records X-Reload-Id, dedupes on it, and fails
// (500) or hangs the first attempts as a test scripts. Timeouts and back-offs are on a ManualClock.
import assert from 'node:assert/strict';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, beforeEach, describe, it } from 'node:test';
import { pino } from 'pino';
import { ManualClock } from '../../src/clock.js';
import { ReloadAborted, type AbortCause, type ExecutionContext, type ReloadJob } from '../../src/reloads/executor.js';
import { signWebhook, verifyWebhookSignature, WebhookExecutor, type WebhookPayload } from '../../src/reloads/executors/webhook.js';
import { MAX_LOG } from '../../src/reloads/reload.js';

const NOW = Date.parse('2026-12-01T12:00:00Z');
const SECRET = 'whsec_3b1c0f2e9d8a7b6c5d4e3f2a1b0c9d8e';
const TIMEOUT_MS = 5_000;

// ---------------------------------------------------------------------------------------------
// The receiver.

type Behaviour = 'ok' | 'hang' | { status: number; body?: string };

interface Delivery {
  readonly id: string | undefined;
  readonly timestamp: string | undefined;
  readonly signature: string | undefined;
  readonly contentType: string | undefined;
  readonly raw: string;
  readonly payload: WebhookPayload | undefined;
  readonly valid: boolean;
  readonly at: number;
}

/** The receiver's own check, written from the scheme in webhook.ts's header comment. */
function receiverVerifies(headers: IncomingMessage['headers'], raw: Buffer, nowMs: number): boolean {
  const timestamp = headers['x-reload-timestamp'];
  const signature = headers['x-reload-signature'];
  if (typeof timestamp !== 'string' || typeof signature !== 'string') return false;
  if (!/^\d+$/.test(timestamp) || Math.abs(nowMs / 1000 - Number(timestamp)) > 300) return false;
  const expected = Buffer.from(`sha256=${createHmac('sha256', SECRET).update(Buffer.concat([Buffer.from(`${timestamp}.`), raw])).digest('hex')}`);
  const given = Buffer.from(signature);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

class Receiver {
  readonly deliveries: Delivery[] = [];
  readonly done = new Set<string>();
  behaviours: Behaviour[] = [];
  okBody = 'accepted';
  hanging = 0;
  closedWhileHanging = 0;
  private server!: Server;
  url = '';

  constructor(private readonly clock: ManualClock) {}

  async start(): Promise<void> {
    this.server = createServer((req, res) => void this.handle(req, res));
    this.server.listen(0, '127.0.0.1');
    await once(this.server, 'listening');
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hooks/reload`;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    this.server.close();
    await once(this.server, 'close');
  }

  reset(): void {
    this.deliveries.length = 0;
    this.done.clear();
    this.behaviours = [];
    this.okBody = 'accepted';
    this.hanging = 0;
    this.closedWhileHanging = 0;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks);
    const valid = receiverVerifies(req.headers, raw, this.clock.now());
    let payload: WebhookPayload | undefined;
    try {
      payload = JSON.parse(raw.toString('utf8')) as WebhookPayload;
    } catch {
      payload = undefined;
    }
    const id = typeof req.headers['x-reload-id'] === 'string' ? req.headers['x-reload-id'] : undefined;
    this.deliveries.push({
      id,
      timestamp: req.headers['x-reload-timestamp'] as string | undefined,
      signature: req.headers['x-reload-signature'] as string | undefined,
      contentType: req.headers['content-type'],
      raw: raw.toString('utf8'),
      payload,
      valid,
      at: this.clock.now(),
    });
    if (!valid) {
      res.writeHead(401).end('bad signature');
      return;
    }
    if (id !== undefined && this.done.has(id)) {
      res.writeHead(200).end('duplicate, ignored');
      return;
    }
    const behaviour = this.behaviours.shift() ?? 'ok';
    if (behaviour === 'hang') {
      this.hanging += 1;
      res.on('close', () => {
        this.hanging -= 1;
        this.closedWhileHanging += 1;
      });
      return;
    }
    if (behaviour === 'ok') {
      if (id !== undefined) this.done.add(id);
      res.writeHead(200, { 'content-type': 'text/plain' }).end(this.okBody);
      return;
    }
    res.writeHead(behaviour.status, { 'content-type': 'text/plain' }).end(behaviour.body ?? 'internal error');
  }
}

// ---------------------------------------------------------------------------------------------
// Harness.

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

/** Awaits `run`, moving the clock in steps whenever no request is in flight or the receiver is hanging one. */
async function drive<T>(clock: ManualClock, run: Promise<T>, busy: () => boolean, step = 100): Promise<T> {
  let done = false;
  run.then(
    () => (done = true),
    () => (done = true),
  );
  const limit = clock.now() + 3600_000;
  while (!done) {
    await new Promise((r) => setImmediate(r));
    if (done) break;
    if (!busy()) clock.advance(step);
    if (clock.now() > limit) throw new Error('the run did not settle within an hour of clock time');
  }
  return run;
}

let clock: ManualClock;
let receiver: Receiver;

function harness(opts: { retries?: number; timeoutMs?: number; url?: string } = {}) {
  const controller = new AbortController();
  const logLines: string[] = [];
  const counter = countingFetch();
  const ctx: ExecutionContext = {
    signal: controller.signal,
    clock,
    log: pino({ level: 'trace' }, { write: (line: string) => void logLines.push(line) }),
    setExternalId: async () => {},
  };
  const executor = new WebhookExecutor(
    { url: opts.url ?? receiver.url, secret: SECRET, timeoutMs: opts.timeoutMs ?? TIMEOUT_MS, retries: opts.retries ?? 3 },
    { fetch: counter.fetch, random: () => 0.5 },
  );
  return {
    ctx,
    executor,
    logLines,
    abort: (why: AbortCause) => controller.abort(new ReloadAborted(why)),
    drive: <T>(run: Promise<T>) => drive(clock, run, () => counter.inFlight() > 0 && receiver.hanging === 0),
  };
}

function job(over: Partial<ReloadJob> = {}): ReloadJob {
  return {
    weight: 1,
    variables: null,
    id: '0193a1b2c3d4e5f6a7b8c9d0',
    tenantId: 'acme',
    userId: 'alice',
    appId: '116dbfae-7fb9-4983-8e23-5ccd8c508722',
    partial: false,
    type: 'chronos',
    resourceType: 'reload-tasks',
    resourceId: '0193a0000000000000000001',
    scheduledTime: Date.parse('2026-12-01T11:59:00Z'),
    externalId: null,
    attempts: 1,
    creationTime: clock.now(),
    ...over,
  };
}

/** Polls real state (a socket, not time) until `cond` holds. */
async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 5000 && !cond(); i += 1) await new Promise((r) => setImmediate(r));
  assert.ok(cond(), 'condition never held');
}

before(async () => {
  clock = new ManualClock(NOW);
  receiver = new Receiver(clock);
  await receiver.start();
});
after(() => receiver.stop());
beforeEach(() => receiver.reset());

// ---------------------------------------------------------------------------------------------

describe('WebhookExecutor', () => {
  it('POSTs a signed description of the reload; a 2xx is SUCCEEDED with the status and body in the log', async () => {
    const h = harness();
    const result = await h.drive(h.executor.run(job(), h.ctx));
    assert.equal(result.status, 'SUCCEEDED');
    assert.match(result.log!, /Attempt 1: HTTP 200 OK/);
    assert.match(result.log!, /accepted$/);
    assert.equal(receiver.deliveries.length, 1);
    const d = receiver.deliveries[0]!;
    assert.ok(d.valid, 'the receiver verified the signature');
    assert.equal(d.contentType, 'application/json');
    assert.equal(d.id, '0193a1b2c3d4e5f6a7b8c9d0');
    assert.equal(d.timestamp, String(NOW / 1000));
    assert.deepEqual(d.payload, {
      reloadId: '0193a1b2c3d4e5f6a7b8c9d0',
      tenantId: 'acme',
      userId: 'alice',
      appId: '116dbfae-7fb9-4983-8e23-5ccd8c508722',
      partial: false,
      type: 'chronos',
      taskId: '0193a0000000000000000001',
      scheduledTime: '2026-12-01T11:59:00.000Z',
      attempt: 1,
      weight: 1,
      variables: null,
    });
    assert.equal(clock.pendingTimers, 0, 'no timer is left behind');
  });

  it('sends nulls for a manual reload\'s task and scheduled time', async () => {
    const h = harness();
    await h.drive(h.executor.run(job({ type: 'external', resourceId: null, scheduledTime: null, partial: true }), h.ctx));
    const p = receiver.deliveries[0]!.payload!;
    assert.equal(p.taskId, null);
    assert.equal(p.scheduledTime, null);
    assert.equal(p.partial, true);
    assert.equal(p.type, 'external');
  });

  it("sends no taskId for another service's resource (POST /reloads with resourceType automate)", async () => {
    const h = harness();
    await h.drive(h.executor.run(job({ type: 'external', resourceType: 'automate', resourceId: 'flow-1', scheduledTime: null }), h.ctx));
    assert.equal(receiver.deliveries[0]!.payload!.taskId, null);
  });

  it('passes on a manual reload\'s weight and load-script variables', async () => {
    const h = harness();
    await h.drive(h.executor.run(job({ type: 'external', resourceId: null, scheduledTime: null, weight: 7, variables: { vRegion: 'EMEA', 'v Quote': 'a "b" ü' } }), h.ctx));
    const d = receiver.deliveries[0]!;
    assert.ok(d.valid);
    assert.equal(d.payload!.weight, 7);
    assert.deepEqual(d.payload!.variables, { vRegion: 'EMEA', 'v Quote': 'a "b" ü' });
  });

  it('retries a 500 and a request that hangs past timeoutMs, with the same X-Reload-Id, freshly signed', async () => {
    const h = harness({ retries: 3 });
    receiver.behaviours = [{ status: 500 }, 'hang', 'ok'];
    const result = await h.drive(h.executor.run(job(), h.ctx));
    assert.equal(result.status, 'SUCCEEDED');
    const ds = receiver.deliveries;
    assert.equal(ds.length, 3);
    assert.deepEqual(ds.map((d) => d.id), ['0193a1b2c3d4e5f6a7b8c9d0', '0193a1b2c3d4e5f6a7b8c9d0', '0193a1b2c3d4e5f6a7b8c9d0']);
    assert.deepEqual(ds.map((d) => d.payload?.attempt), [1, 2, 3]);
    assert.ok(ds.every((d) => d.valid), 'every attempt is validly signed');
    assert.equal(new Set(ds.map((d) => d.signature)).size, 3, 'each attempt has its own signature');
    assert.ok(ds[2]!.at - ds[1]!.at >= TIMEOUT_MS, 'the hanging attempt was given up after timeoutMs');
    assert.equal(receiver.closedWhileHanging, 1, 'the hanging request was closed by the executor');
    assert.match(result.log!, /Attempt 1: HTTP 500[^\n]*\nAttempt 2: no complete answer within 5000 ms\nAttempt 3: HTTP 200/);
  });

  it('fails with the last status and body once the retries are spent, backing off exponentially', async () => {
    const h = harness({ retries: 3 });
    receiver.behaviours = Array.from({ length: 10 }, () => ({ status: 503, body: 'warehouse is down for maintenance' }));
    const result = await h.drive(h.executor.run(job(), h.ctx));
    assert.equal(result.status, 'FAILED');
    assert.equal(result.errorCode, 'HTTP_503');
    assert.match(result.errorMessage!, /4 attempts.*HTTP 503.*warehouse is down for maintenance/);
    const ds = receiver.deliveries;
    assert.equal(ds.length, 4);
    const gaps = ds.slice(1).map((d, i) => d.at - ds[i]!.at);
    // 1 s base, doubling, jitter at the middle: 750, 1500, 3000 ms (the clock moves in 100 ms steps).
    assert.ok(gaps[0]! >= 750 && gaps[1]! >= 1500 && gaps[2]! >= 3000, `back-off: ${gaps.join(', ')}`);
    assert.ok(gaps[0]! < gaps[1]! && gaps[1]! < gaps[2]!, `back-off grows: ${gaps.join(', ')}`);
  });

  it('with no retries, one failure is final; a connection error is a failure too', async () => {
    const h = harness({ retries: 0 });
    receiver.behaviours = [{ status: 500 }];
    const result = await h.drive(h.executor.run(job(), h.ctx));
    assert.equal(result.status, 'FAILED');
    assert.equal(receiver.deliveries.length, 1);

    const closed = createServer();
    closed.listen(0, '127.0.0.1');
    await once(closed, 'listening');
    const port = (closed.address() as AddressInfo).port;
    closed.close();
    await once(closed, 'close');
    const refused = harness({ retries: 1, url: `http://127.0.0.1:${port}/nothing-listens-here` });
    const r2 = await refused.drive(refused.executor.run(job(), refused.ctx));
    assert.equal(r2.status, 'FAILED');
    assert.equal(r2.errorCode, 'NETWORK_ERROR');
    assert.match(r2.errorMessage!, /ECONNREFUSED/);
  });

  it('an abort during a hanging request returns at once, without moving the clock', async () => {
    const h = harness({ timeoutMs: 3_600_000 });
    receiver.behaviours = ['hang'];
    const run = h.executor.run(job(), h.ctx);
    await until(() => receiver.hanging === 1);
    const before = performance.now();
    const at = clock.now();
    h.abort('cancel');
    const result = await run;
    assert.ok(performance.now() - before < 500, 'settled promptly');
    assert.equal(clock.now(), at);
    assert.equal(result.status, 'CANCELED');
    await until(() => receiver.closedWhileHanging === 1);
    assert.equal(clock.pendingTimers, 0);
  });

  it('an abort during the back-off returns at once too', async () => {
    const h = harness();
    receiver.behaviours = [{ status: 500 }];
    const run = h.executor.run(job(), h.ctx);
    await until(() => clock.pendingTimers === 1 && receiver.deliveries.length === 1);
    // The one timer left is the back-off (the request's timeout was disarmed with its answer).
    h.abort('timeout');
    const result = await run;
    assert.equal(result.status, 'FAILED');
    assert.equal(result.errorCode, 'TIMEOUT');
    assert.equal(receiver.deliveries.length, 1);
  });

  it('resume resends with the same X-Reload-Id, which the receiver dedupes', async () => {
    const h = harness();
    await h.drive(h.executor.run(job(), h.ctx));
    const again = harness();
    const result = await again.drive(again.executor.resume(job(), again.ctx));
    assert.equal(result.status, 'SUCCEEDED');
    assert.match(result.log!, /duplicate, ignored/);
    assert.equal(receiver.deliveries.length, 2);
    assert.equal(receiver.deliveries[0]!.id, receiver.deliveries[1]!.id);
  });

  it('keeps only the tail of a large answer', async () => {
    const h = harness();
    receiver.okBody = `${'y'.repeat(100_000)}END`;
    const result = await h.drive(h.executor.run(job(), h.ctx));
    assert.equal(result.status, 'SUCCEEDED');
    assert.ok(result.log!.length < 4096 + 200);
    assert.match(result.log!, /last 4096 of 100003 bytes/);
    assert.ok(result.log!.endsWith('END'));
    assert.ok(result.log!.length <= MAX_LOG);
  });
});

describe('the signature scheme', () => {
  it('lets a receiver detect unsigned, forged, altered and replayed requests', async () => {
    const h = harness();
    await h.drive(h.executor.run(job(), h.ctx));
    const genuine = receiver.deliveries[0]!;
    assert.ok(genuine.valid);
    receiver.reset();

    const post = (headers: Record<string, string>, body: string) => fetch(receiver.url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
    const ts = genuine.timestamp!;
    const altered = genuine.raw.replace('"partial":false', '"partial":true');
    const attempts: Array<[string, Record<string, string>, string]> = [
      ['unsigned', { 'x-reload-id': genuine.id! }, genuine.raw],
      ['signed with another secret', { 'x-reload-id': genuine.id!, 'x-reload-timestamp': ts, 'x-reload-signature': `sha256=${createHmac('sha256', 'guessed-secret').update(`${ts}.${genuine.raw}`).digest('hex')}` }, genuine.raw],
      ['altered body, genuine signature', { 'x-reload-id': genuine.id!, 'x-reload-timestamp': ts, 'x-reload-signature': genuine.signature! }, altered],
      ['refreshed timestamp, genuine signature', { 'x-reload-id': genuine.id!, 'x-reload-timestamp': String(Number(ts) + 1), 'x-reload-signature': genuine.signature! }, genuine.raw],
    ];
    for (const [what, headers, body] of attempts) {
      const res = await post(headers, body);
      assert.equal(res.status, 401, `${what} must be refused`);
      await res.text();
    }
    // The exact genuine request, replayed ten minutes later, is stale.
    clock.advance(10 * 60_000);
    const replay = await post({ 'x-reload-id': genuine.id!, 'x-reload-timestamp': ts, 'x-reload-signature': genuine.signature! }, genuine.raw);
    assert.equal(replay.status, 401, 'a replay outside the window must be refused');
    await replay.text();
    assert.ok(receiver.deliveries.every((d) => !d.valid));

    // The exported helpers implement the same scheme.
    assert.equal(signWebhook(SECRET, ts, genuine.raw), genuine.signature);
    const at = Number(ts) * 1000;
    assert.ok(verifyWebhookSignature(SECRET, { timestamp: ts, signature: genuine.signature, body: genuine.raw }, at));
    assert.ok(verifyWebhookSignature(SECRET, { timestamp: ts, signature: genuine.signature, body: Buffer.from(genuine.raw) }, at + 299_000));
    assert.ok(!verifyWebhookSignature(SECRET, { timestamp: ts, signature: genuine.signature, body: genuine.raw }, at + 301_000));
    assert.ok(!verifyWebhookSignature(SECRET, { timestamp: ts, signature: genuine.signature, body: altered }, at));
    assert.ok(!verifyWebhookSignature(SECRET, { timestamp: ts, signature: undefined, body: genuine.raw }, at));
    assert.ok(!verifyWebhookSignature('other', { timestamp: ts, signature: genuine.signature, body: genuine.raw }, at));
  });

  it('never logs the secret', async () => {
    const h = harness();
    receiver.behaviours = [{ status: 500 }];
    const result = await h.drive(h.executor.run(job(), h.ctx));
    assert.ok(h.logLines.length > 0);
    assert.ok(!`${h.logLines.join('\n')}${JSON.stringify(result)}`.includes(SECRET));
  });
});
