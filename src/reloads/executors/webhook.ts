/**
 * The webhook executor: a reload is a signed POST to a URL the operator runs; a 2xx answer means
 * the reload succeeded.
 *
 * The request
 *   POST <url>
 *   Content-Type: application/json
 *   X-Reload-Id: <reload id>            the same on every retry and after a restart: dedupe on it
 *   X-Reload-Timestamp: <unix seconds>  when this attempt was signed
 *   X-Reload-Signature: sha256=<hex>    HMAC-SHA256, keyed with the shared secret (WEBHOOK_SECRET),
 *                                       of the UTF-8 bytes of `<timestamp>.<body>`: the timestamp
 *                                       header's value, a full stop, and the raw request body
 *   {"reloadId", "tenantId", "userId", "appId", "partial", "type", "taskId" (or null),
 *    "scheduledTime" (ISO 8601 UTC, or null), "attempt" (1 for the first delivery, then 2, …),
 *    "weight" (1..10), "variables" (the load-script variables of a manual reload, or null)}
 *
 * Verifying it (the receiver)
 *   1. Recompute the HMAC over `<X-Reload-Timestamp>.<raw body>` — the raw bytes received, before
 *      any JSON parsing — and compare it with X-Reload-Signature in constant time; a request
 *      without the headers, or with another signature, is not from this service (or was altered).
 *   2. Refuse a timestamp more than five minutes from your clock: that stops replays of an old,
 *      validly signed request. Because the timestamp is inside the signed text it cannot be
 *      refreshed without the secret.
 *   3. Act once per X-Reload-Id: a retry (after a timeout or a non-2xx answer) or a resend after a
 *      restart carries the same id — and a new timestamp, signature and `attempt`.
 * `verifyWebhookSignature` below does 1 and 2.
 *
 * The answer
 *   2xx: SUCCEEDED; the status and the tail of the body go into the reload's log. Anything else, a
 *   connection error, or no complete answer within timeoutMs: another attempt after an exponential
 *   back-off with jitter, up to `retries` more; then FAILED with the last status and body. Redirects
 *   are not followed (the signed payload goes only to the configured URL).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { ExecutorConfig } from '../../config.js';
import { delay, ReloadAborted, type ExecutionContext, type ExecutionResult, type Executor, type ReloadJob } from '../executor.js';
import { boundedLog } from '../reload.js';

export type WebhookConfig = Extract<ExecutorConfig, { kind: 'webhook' }>;

export interface WebhookOptions {
  /** Injectable for tests; the global fetch by default. */
  readonly fetch?: typeof fetch;
  /** Jitter source, 0..1; Math.random by default. */
  readonly random?: () => number;
  /** First back-off step (doubled each retry, with jitter). Default 1 s. */
  readonly baseBackoffMs?: number;
  /** Longest back-off. Default 60 s. */
  readonly maxBackoffMs?: number;
  /** How much of a response body is kept (its tail). Default 4 KiB. */
  readonly maxBodyBytes?: number;
}

/** The JSON body of a delivery. */
export interface WebhookPayload {
  readonly reloadId: string;
  readonly tenantId: string;
  readonly userId: string;
  readonly appId: string;
  readonly partial: boolean;
  readonly type: string;
  readonly taskId: string | null;
  readonly scheduledTime: string | null;
  readonly attempt: number;
  /** 1..10, from POST /api/v1/reloads; 1 for scheduled reloads. */
  readonly weight: number;
  /** Load-script variables from POST /api/v1/reloads, or null. */
  readonly variables: Readonly<Record<string, string>> | null;
}

/** `sha256=<hex HMAC-SHA256 of "<timestamp>.<body>">`. */
export function signWebhook(secret: string, timestamp: string | number, body: string | Buffer): string {
  const hmac = createHmac('sha256', secret);
  hmac.update(`${timestamp}.`);
  hmac.update(body);
  return `sha256=${hmac.digest('hex')}`;
}

/**
 * A receiver's check: the signature matches the secret, timestamp and raw body, and the timestamp
 * is within `toleranceSeconds` of `nowMs`.
 */
export function verifyWebhookSignature(
  secret: string,
  request: { readonly timestamp: string | undefined; readonly signature: string | undefined; readonly body: string | Buffer },
  nowMs: number,
  toleranceSeconds = 300,
): boolean {
  const { timestamp, signature } = request;
  if (timestamp === undefined || signature === undefined || !/^\d{1,12}$/.test(timestamp)) return false;
  if (Math.abs(nowMs / 1000 - Number(timestamp)) > toleranceSeconds) return false;
  const expected = Buffer.from(signWebhook(secret, timestamp, request.body));
  const given = Buffer.from(signature);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

interface Attempt {
  readonly ok: boolean;
  /** HTTP_<status>, TIMEOUT or NETWORK_ERROR. */
  readonly code: string;
  /** One line for the log. */
  readonly line: string;
  /** The answer's body tail, if there was an answer. */
  readonly body: string | undefined;
}

export class WebhookExecutor implements Executor {
  readonly name = 'webhook';
  private readonly fetchImpl: typeof fetch;
  private readonly random: () => number;
  private readonly baseBackoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly maxBodyBytes: number;

  constructor(
    private readonly config: Pick<WebhookConfig, 'url' | 'secret' | 'timeoutMs' | 'retries'>,
    options: WebhookOptions = {},
  ) {
    if (config.secret === '') throw new Error('the webhook executor needs a secret to sign its requests');
    this.fetchImpl = options.fetch ?? fetch;
    this.random = options.random ?? Math.random;
    this.baseBackoffMs = options.baseBackoffMs ?? 1_000;
    this.maxBackoffMs = options.maxBackoffMs ?? 60_000;
    this.maxBodyBytes = options.maxBodyBytes ?? 4096;
  }

  async run(job: ReloadJob, ctx: ExecutionContext): Promise<ExecutionResult> {
    const lines: string[] = [];
    const total = 1 + Math.max(0, this.config.retries);
    let last: Attempt | undefined;
    try {
      for (let attempt = 1; attempt <= total; attempt += 1) {
        if (attempt > 1) {
          const wait = this.backoff(attempt - 1);
          ctx.log.warn({ attempt: attempt - 1, code: last?.code, waitMs: wait }, 'webhook delivery failed; retrying');
          await delay(wait, ctx);
        }
        last = await this.deliver(job, attempt, ctx);
        lines.push(last.line);
        if (last.ok) {
          ctx.log.info({ attempt }, 'webhook accepted the reload');
          return { status: 'SUCCEEDED', log: boundedLog(joinLog(lines, last.body)) };
        }
      }
    } catch (e) {
      if (!ctx.signal.aborted) throw e;
      const why = ctx.signal.reason instanceof ReloadAborted ? ctx.signal.reason.why : 'cancel';
      lines.push(`Stopped (${why}).`);
      const log = boundedLog(lines.join('\n'));
      if (why === 'cancel') return { status: 'CANCELED', log };
      return { status: 'FAILED', log, errorCode: why === 'timeout' ? 'TIMEOUT' : 'SHUTDOWN', errorMessage: `the webhook delivery was stopped (${why})` };
    }
    const failed = last!;
    ctx.log.warn({ attempts: total, code: failed.code }, 'webhook delivery failed');
    const bodyNote = failed.body ? `: ${oneLine(failed.body, 300)}` : '';
    return {
      status: 'FAILED',
      log: boundedLog(joinLog(lines, failed.body)),
      errorCode: failed.code,
      errorMessage: `the webhook failed ${total} attempt${total === 1 ? '' : 's'}; last: ${failed.line.replace(/^Attempt \d+: /, '')}${bodyNote}`,
    };
  }

  /** The same delivery again: receivers dedupe on X-Reload-Id. */
  resume(job: ReloadJob, ctx: ExecutionContext): Promise<ExecutionResult> {
    return this.run(job, ctx);
  }

  private async deliver(job: ReloadJob, attempt: number, ctx: ExecutionContext): Promise<Attempt> {
    const payload: WebhookPayload = {
      reloadId: job.id,
      tenantId: job.tenantId,
      userId: job.userId,
      appId: job.appId,
      partial: job.partial,
      type: job.type,
      taskId: job.resourceType === 'reload-tasks' ? job.resourceId : null,
      scheduledTime: job.scheduledTime === null ? null : new Date(job.scheduledTime).toISOString(),
      attempt,
      weight: job.weight,
      variables: job.variables,
    };
    const body = JSON.stringify(payload);
    const timestamp = String(Math.floor(ctx.clock.now() / 1000));
    const headers = {
      'content-type': 'application/json',
      'x-reload-id': job.id,
      'x-reload-timestamp': timestamp,
      'x-reload-signature': signWebhook(this.config.secret, timestamp, body),
    };

    // The whole exchange (headers and body) must end within timeoutMs, on the context's clock.
    if (ctx.signal.aborted) throw ctx.signal.reason;
    const controller = new AbortController();
    let timedOut = false;
    const cancelTimer = ctx.clock.setTimer(ctx.clock.now() + this.config.timeoutMs, () => {
      timedOut = true;
      controller.abort();
    });
    const onAbort = (): void => controller.abort(ctx.signal.reason);
    ctx.signal.addEventListener('abort', onAbort, { once: true });
    try {
      const res = await this.fetchImpl(this.config.url, { method: 'POST', headers, body, signal: controller.signal, redirect: 'manual' });
      const tail = await readTail(res, this.maxBodyBytes);
      const ok = res.status >= 200 && res.status < 300;
      const size = tail.cut > 0 ? ` (last ${this.maxBodyBytes} of ${tail.total} bytes)` : '';
      return {
        ok,
        code: `HTTP_${res.status}`,
        line: `Attempt ${attempt}: HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''}${size}`,
        body: tail.text,
      };
    } catch (e) {
      if (ctx.signal.aborted) throw ctx.signal.reason;
      if (timedOut) return { ok: false, code: 'TIMEOUT', line: `Attempt ${attempt}: no complete answer within ${this.config.timeoutMs} ms`, body: undefined };
      return { ok: false, code: 'NETWORK_ERROR', line: `Attempt ${attempt}: ${describeError(e)}`, body: undefined };
    } finally {
      cancelTimer();
      ctx.signal.removeEventListener('abort', onAbort);
    }
  }

  /** Exponential back-off with jitter: half the step fixed, half random; capped. */
  private backoff(retry: number): number {
    const step = Math.min(this.maxBackoffMs, this.baseBackoffMs * 2 ** Math.max(0, retry - 1));
    return Math.round(step / 2 + this.random() * (step / 2));
  }
}

/** Reads a body to its end, keeping only its last `max` bytes. */
async function readTail(res: Response, max: number): Promise<{ text: string; total: number; cut: number }> {
  if (!res.body) return { text: '', total: 0, cut: 0 };
  let chunks: Buffer[] = [];
  let kept = 0;
  let total = 0;
  const reader = res.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    const chunk = Buffer.from(value.buffer, value.byteOffset, value.byteLength);
    chunks.push(chunk);
    kept += chunk.length;
    total += chunk.length;
    if (kept > 2 * max) {
      const joined = Buffer.concat(chunks).subarray(-max);
      chunks = [joined];
      kept = joined.length;
    }
  }
  const all = Buffer.concat(chunks);
  const tail = all.length > max ? all.subarray(-max) : all;
  // A cut may split a UTF-8 sequence: drop the broken start.
  const text = tail.toString('utf8').replace(/^\uFFFD+/, '');
  return { text, total, cut: total - tail.length };
}

function joinLog(lines: readonly string[], body: string | undefined): string {
  return body === undefined || body === '' ? lines.join('\n') : `${lines.join('\n')}\n${body}`;
}

function oneLine(text: string, max: number): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max)}…` : flat;
}

function describeError(e: unknown): string {
  const cause: unknown = e instanceof Error ? e.cause : undefined;
  const code = typeof cause === 'object' && cause !== null && 'code' in cause && typeof cause.code === 'string' ? cause.code : undefined;
  const message = cause instanceof Error ? cause.message : e instanceof Error ? e.message : String(e);
  return code !== undefined && !message.includes(code) ? `${code}: ${message}` : message;
}
