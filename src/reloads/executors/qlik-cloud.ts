/**
 * The Qlik Cloud executor: asks the tenant's Reloads API to reload the app and follows that reload
 * to its end.
 *
 *   POST {tenantUrl}/api/v1/reloads {appId, partial[, weight][, variables]} → 201 {id, status: 'QUEUED', …}
 *   GET  {tenantUrl}/api/v1/reloads/{id}                   → every pollIntervalMs until final
 *   POST {tenantUrl}/api/v1/reloads/{id}/actions/cancel    → on cancel or timeout (best effort)
 *   GET  {tenantUrl}/api/v1/reloads?appId=…&limit=10       → to find a reload we may have created
 *
 * Qlik's reload id is recorded (`ctx.setExternalId`) as soon as it is known, so a restart follows
 * the same reload rather than starting another. The one window where it is not known — a POST whose
 * answer was lost (crash, timeout, a 5xx from a proxy after Qlik took it) — is closed by looking
 * for the reload in the app's recent reloads before POSTing again (see `findExisting`).
 *
 * Waits (poll interval, back-off, per-request timeouts) are on `ctx.clock`, so tests drive them
 * with a ManualClock. What happens after an abort (the cancel call at Qlik, the short grace for an
 * in-flight POST to return its id) is bounded in real time instead: it must end even when nobody
 * moves the clock.
 *
 * The API key is sent only in the Authorization header; it is never logged nor put in a result.
 */
import type { ExecutorConfig } from '../../config.js';
import { delay, ReloadAborted, type AbortCause, type ExecutionContext, type ExecutionResult, type Executor, type ReloadJob } from '../executor.js';
import { boundedLog } from '../reload.js';

export type QlikCloudConfig = Extract<ExecutorConfig, { kind: 'qlik-cloud' }>;

export interface QlikCloudOptions {
  /** Injectable for tests; the global fetch by default. */
  readonly fetch?: typeof fetch;
  /** Jitter source, 0..1; Math.random by default. */
  readonly random?: () => number;
  /** Per request, on the context's clock. Default 30 s. */
  readonly requestTimeoutMs?: number;
  /** POST attempts before the reload fails. Default 6. */
  readonly maxCreateAttempts?: number;
  /** First back-off step (doubled each time, with jitter). Default 1 s. */
  readonly baseBackoffMs?: number;
  /** Longest back-off. Default 60 s. */
  readonly maxBackoffMs?: number;
  /** The longest Retry-After honoured. Default 10 minutes. */
  readonly maxRetryAfterMs?: number;
  /** Real time an in-flight POST may still take after an abort, to learn the id it created. Default 5 s. */
  readonly abortGraceMs?: number;
  /** Real-time limit of the best-effort cancel call made after an abort. Default 10 s. */
  readonly cancelTimeoutMs?: number;
  /** Consecutive 404s on a reload before it is taken as gone. Default 3. */
  readonly maxNotFound?: number;
}

/** The fields of Qlik's reload record this executor reads. */
export interface QlikReload {
  readonly id: string;
  readonly status?: string;
  readonly type?: string;
  readonly appId?: string;
  readonly partial?: boolean;
  readonly creationTime?: string;
  readonly log?: string;
  readonly errorCode?: string;
  readonly errorMessage?: string;
}

const FINAL_STATUSES = new Set(['SUCCEEDED', 'FAILED', 'CANCELED', 'EXCEEDED_LIMIT']);
const ACTIVE_STATUSES = new Set(['QUEUED', 'RELOADING', 'CANCELING']);
/** Connection errors where the request surely never reached Qlik (so no reload can have been created). */
const NOT_SENT_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ENETUNREACH', 'EHOSTUNREACH']);

interface Answer {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
  readonly body: unknown;
}

/** No HTTP answer: a timeout or a connection error. */
class TransportError extends Error {
  constructor(
    message: string,
    readonly code: 'TIMEOUT' | 'NETWORK_ERROR',
    /** Whether the request may have reached Qlik (and a POST created a reload). */
    readonly maybeProcessed: boolean,
  ) {
    super(message);
    this.name = 'TransportError';
  }
}

/** What this run knows; read when an abort interrupts it. */
interface RunState {
  id: string | undefined;
  /**
   * Whether Qlik may hold a reload of this run whose id is not known: a POST was sent (its answer
   * may have been lost, or cut by an abort), or the run is resumed without a recorded id.
   */
  unknownMayExist: boolean;
}

type PostOutcome =
  | { readonly kind: 'created'; readonly id: string }
  | { readonly kind: 'final'; readonly result: ExecutionResult }
  | { readonly kind: 'retry'; readonly failure: string; readonly mayExist: boolean; readonly retryAfterMs: number | undefined; readonly rateLimited?: boolean };

type Found = { readonly kind: 'found'; readonly reload: QlikReload } | { readonly kind: 'none' } | { readonly kind: 'unknown'; readonly reason: string };

/**
 * How far Qlik's clock may be behind ours when a reload is looked for by its creation time (a POST
 * whose answer was lost): without it, a clock here half a second ahead made a retry POST a second
 * reload instead of finding the first. Small, since a reload of the app created before this one is
 * someone else's; clocks kept by NTP are within milliseconds of each other.
 */
const CLOCK_SKEW_MS = 2_000;

export class QlikCloudExecutor implements Executor {
  readonly name = 'qlik-cloud';
  private readonly base: string;
  private readonly fetchImpl: typeof fetch;
  private readonly random: () => number;
  private readonly requestTimeoutMs: number;
  private readonly maxCreateAttempts: number;
  private readonly baseBackoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly maxRetryAfterMs: number;
  private readonly abortGraceMs: number;
  private readonly cancelTimeoutMs: number;
  private readonly maxNotFound: number;

  constructor(
    private readonly config: Pick<QlikCloudConfig, 'tenantUrl' | 'apiKey' | 'pollIntervalMs'>,
    options: QlikCloudOptions = {},
  ) {
    this.base = config.tenantUrl.replace(/\/+$/, '');
    this.fetchImpl = options.fetch ?? fetch;
    this.random = options.random ?? Math.random;
    this.requestTimeoutMs = options.requestTimeoutMs ?? 30_000;
    this.maxCreateAttempts = Math.max(1, options.maxCreateAttempts ?? 6);
    this.baseBackoffMs = options.baseBackoffMs ?? 1_000;
    this.maxBackoffMs = options.maxBackoffMs ?? 60_000;
    this.maxRetryAfterMs = options.maxRetryAfterMs ?? 600_000;
    this.abortGraceMs = options.abortGraceMs ?? 5_000;
    this.cancelTimeoutMs = options.cancelTimeoutMs ?? 10_000;
    this.maxNotFound = Math.max(1, options.maxNotFound ?? 3);
  }

  run(job: ReloadJob, ctx: ExecutionContext): Promise<ExecutionResult> {
    return this.guarded(job, ctx, async (state) => {
      const created = await this.create(job, ctx, state);
      if ('status' in created) return created;
      return this.follow(created.id, ctx, false);
    });
  }

  resume(job: ReloadJob, ctx: ExecutionContext): Promise<ExecutionResult> {
    return this.guarded(job, ctx, async (state) => {
      if (job.externalId) {
        state.id = job.externalId;
        ctx.log.info({ qlikReloadId: job.externalId }, 'following the Qlik Cloud reload started before the restart');
        return this.follow(job.externalId, ctx, true);
      }
      // The run stopped before Qlik's id was recorded: it may or may not have created a reload.
      state.unknownMayExist = true;
      const found = await this.findExisting(job, ctx);
      if (found.kind === 'unknown') {
        return {
          status: 'FAILED',
          errorCode: 'LOST',
          errorMessage: `the service restarted before the Qlik Cloud reload id was recorded, and whether a reload was started could not be checked (${found.reason}); not starting another`,
        };
      }
      if (found.kind === 'found') {
        state.id = found.reload.id;
        await this.record(found.reload.id, ctx);
        ctx.log.warn({ qlikReloadId: found.reload.id }, 'adopting a Qlik Cloud reload that was created before the restart');
        return this.follow(found.reload.id, ctx, true);
      }
      state.unknownMayExist = false;
      const created = await this.create(job, ctx, state);
      if ('status' in created) return created;
      return this.follow(created.id, ctx, false);
    });
  }

  /** Runs `body`; if the context aborts it, stops (and cancels at Qlik for cancel and timeout). */
  private async guarded(job: ReloadJob, ctx: ExecutionContext, body: (state: RunState) => Promise<ExecutionResult>): Promise<ExecutionResult> {
    const state: RunState = { id: undefined, unknownMayExist: false };
    try {
      return await body(state);
    } catch (e) {
      if (ctx.signal.aborted) return this.aborted(state, job, ctx);
      throw e;
    }
  }

  private async aborted(state: RunState, job: ReloadJob, ctx: ExecutionContext): Promise<ExecutionResult> {
    const why = abortCause(ctx.signal);
    let id = state.id;
    if (why === 'shutdown') {
      ctx.log.info({ qlikReloadId: id }, 'stopped following the Qlik Cloud reload for shutdown; it will be resumed');
      return { status: 'FAILED', errorCode: 'SHUTDOWN', errorMessage: 'the service stopped while following the reload' };
    }
    let note: string;
    if (id === undefined && state.unknownMayExist) {
      // Stopped before Qlik's id was known, after a POST that may have created the reload (or
      // before a restart): look for it, bounded in real time, so that it is not left running.
      const found = await this.findExisting(job, { ...ctx, signal: AbortSignal.timeout(this.cancelTimeoutMs) }).catch((e: unknown) => ({ kind: 'unknown' as const, reason: describeError(e).message }));
      if (found.kind === 'found') {
        id = found.reload.id;
        await this.record(id, ctx);
      } else if (found.kind === 'unknown') {
        ctx.log.warn({ reason: found.reason }, 'could not tell whether Qlik Cloud had started the reload; nothing cancelled there');
      }
    }
    if (id === undefined) {
      note = state.unknownMayExist ? 'No Qlik Cloud reload of it was found.' : 'No Qlik Cloud reload had been started.';
    } else {
      note = await this.cancelAtQlik(id, ctx);
    }
    if (why === 'cancel') return { status: 'CANCELED', log: note };
    return { status: 'FAILED', log: note, errorCode: 'TIMEOUT', errorMessage: 'the reload ran past its time limit' };
  }

  /**
   * POST …/actions/cancel, bounded in real time (cancelTimeoutMs in all); says what happened. Never
   * throws. A 429, a 5xx or a failed connection is tried again, up to three attempts, after the
   * back-off or Retry-After while the time allows: Qlik allows 50 cancels a minute, and a wave of
   * timeouts must not leave reloads running there for want of a second try.
   */
  private async cancelAtQlik(id: string, ctx: ExecutionContext): Promise<string> {
    const path = `/api/v1/reloads/${encodeURIComponent(id)}/actions/cancel`;
    const until = performance.now() + this.cancelTimeoutMs;
    let last = '';
    for (let attempt = 1; attempt <= 3; attempt += 1) {
      let wait: number;
      try {
        const res = await this.fetchImpl(this.base + path, {
          method: 'POST',
          headers: this.headers(false),
          signal: AbortSignal.timeout(Math.max(1, Math.round(until - performance.now()))),
          redirect: 'manual',
        });
        const text = await res.text();
        if (res.ok) {
          ctx.log.info({ qlikReloadId: id, status: res.status, attempt }, 'asked Qlik Cloud to cancel the reload');
          return `Asked Qlik Cloud to cancel reload ${id} (HTTP ${res.status}).`;
        }
        const detail = qlikError(res.status, parseJson(text), text).message;
        if (res.status !== 429 && res.status < 500) {
          ctx.log.warn({ qlikReloadId: id, status: res.status, detail }, 'Qlik Cloud refused to cancel the reload');
          return `Qlik Cloud did not cancel reload ${id}: ${detail}`;
        }
        last = `Qlik Cloud did not cancel reload ${id}: ${detail}`;
        wait = this.atLeastBackoff(res.status === 429 ? this.retryAfter(res.headers, ctx) : undefined, attempt);
      } catch (e) {
        last = `Could not ask Qlik Cloud to cancel reload ${id}: ${describeError(e).message}`;
        wait = this.backoff(attempt);
      }
      if (attempt === 3 || performance.now() + wait >= until) break;
      ctx.log.warn({ qlikReloadId: id, attempt, waitMs: wait, last }, 'asking Qlik Cloud to cancel the reload again shortly');
      // On the context's clock (the reload's own signal has fired: bounded by the time left instead).
      try {
        await delay(wait, { clock: ctx.clock, signal: AbortSignal.timeout(Math.max(1, Math.round(until - performance.now()))) });
      } catch {
        break;
      }
    }
    ctx.log.warn({ qlikReloadId: id, last }, 'could not get Qlik Cloud to cancel the reload');
    return last;
  }

  /**
   * POSTs the reload, with back-off on 429, 5xx and connection errors, up to maxCreateAttempts
   * (429s not counted: they go on until Qlik takes it or the run's time limit stops it).
   * After an answer that leaves open whether Qlik created the reload, the next attempt first looks
   * for it (and adopts it) rather than POSTing again.
   */
  private async create(job: ReloadJob, ctx: ExecutionContext, state: RunState): Promise<{ id: string } | ExecutionResult> {
    let lastFailure = '';
    let mayExist = false;
    let failures = 0;
    for (let attempt = 1; ; attempt += 1) {
      let note = lastFailure;
      let wait: number | undefined;
      let rateLimited = false;
      if (mayExist) {
        const found = await this.findExisting(job, ctx);
        if (found.kind === 'found') {
          state.id = found.reload.id;
          await this.record(found.reload.id, ctx);
          ctx.log.warn({ qlikReloadId: found.reload.id }, 'the earlier POST had created the Qlik Cloud reload after all; following it');
          return { id: found.reload.id };
        }
        if (found.kind === 'none') mayExist = state.unknownMayExist = false;
        else note = `${lastFailure} (and whether that created a reload could not be checked: ${found.reason})`;
      }
      if (!mayExist) {
        // Until its answer says otherwise (an abort may cut it); a POST after an abort is never sent.
        state.unknownMayExist = !ctx.signal.aborted;
        const posted = await this.post(job, ctx);
        if (posted.kind === 'created') {
          state.id = posted.id;
          await this.record(posted.id, ctx);
          ctx.log.info({ qlikReloadId: posted.id, attempt }, 'Qlik Cloud reload created');
          return { id: posted.id };
        }
        if (posted.kind === 'final') {
          state.unknownMayExist = false;
          return posted.result;
        }
        note = lastFailure = posted.failure;
        mayExist = state.unknownMayExist = posted.mayExist;
        wait = posted.retryAfterMs;
        rateLimited = posted.rateLimited === true;
      }
      // Qlik's 429s do not count: it took nothing and says when to come back, and a herd of
      // reloads at 09:00 meets its 50-a-minute limit for a while (the run's time limit bounds it).
      if (!rateLimited) failures += 1;
      if (failures >= this.maxCreateAttempts) {
        ctx.log.warn({ attempts: attempt, last: note }, 'giving up creating the Qlik Cloud reload');
        return { status: 'FAILED', errorCode: 'QLIK_UNAVAILABLE', errorMessage: `Qlik Cloud did not take the reload after ${attempt} attempts; last: ${note}` };
      }
      wait = this.atLeastBackoff(wait, rateLimited ? attempt : failures);
      ctx.log.warn({ attempt, waitMs: wait, last: note }, 'creating the Qlik Cloud reload failed; retrying');
      await delay(wait, ctx);
    }
  }

  /** One POST /api/v1/reloads, and what its answer means. */
  private async post(job: ReloadJob, ctx: ExecutionContext): Promise<PostOutcome> {
    // Weight and variables as the caller of our POST /api/v1/reloads gave them (scheduled reloads
    // have neither): Qlik's queue honours the weight, its engine sets the variables.
    const payload = JSON.stringify({
      appId: job.appId,
      partial: job.partial,
      ...(job.weight !== 1 && { weight: job.weight }),
      ...(job.variables !== null && { variables: job.variables }),
    });
    let answer: Answer;
    try {
      answer = await this.withGrace(ctx, (signal) => this.send('POST', '/api/v1/reloads', payload, ctx, signal));
    } catch (e) {
      if (!(e instanceof TransportError)) throw e;
      return { kind: 'retry', failure: e.message, mayExist: e.maybeProcessed, retryAfterMs: undefined };
    }
    if (answer.status >= 200 && answer.status < 300) {
      const id = isRecord(answer.body) && typeof answer.body.id === 'string' && answer.body.id !== '' ? answer.body.id : undefined;
      if (id !== undefined) return { kind: 'created', id };
      const result: ExecutionResult = { status: 'FAILED', errorCode: 'QLIK_BAD_RESPONSE', errorMessage: `Qlik Cloud answered ${answer.status} without a reload id`, log: boundedLog(answer.text) };
      return { kind: 'final', result };
    }
    const error = qlikError(answer.status, answer.body, answer.text);
    const failure = `HTTP ${answer.status}: ${error.message}`;
    if (answer.status === 429) return { kind: 'retry', failure, mayExist: false, retryAfterMs: this.retryAfter(answer.headers, ctx), rateLimited: true };
    // A 503 is Qlik (or its gateway) turning the request away; another 5xx may come after it was taken.
    if (answer.status >= 500) return { kind: 'retry', failure, mayExist: answer.status !== 503, retryAfterMs: undefined };
    ctx.log.warn({ status: answer.status, detail: error.message }, 'Qlik Cloud refused the reload');
    const result: ExecutionResult = {
      status: 'FAILED',
      errorCode: error.code ?? `HTTP_${answer.status}`,
      errorMessage: `Qlik Cloud refused the reload (HTTP ${answer.status}): ${error.message}`,
      log: boundedLog(`POST /api/v1/reloads answered ${answer.status}\n${answer.text}`),
    };
    return { kind: 'final', result };
  }

  /**
   * Polls the reload until its status is final, riding out 429, 5xx and connection errors for as
   * long as they last (the reload goes on at Qlik meanwhile; the run's time limit bounds the wait).
   * A 404 a few times running, or another 4xx, ends it FAILED.
   */
  private async follow(id: string, ctx: ExecutionContext, pollFirst: boolean): Promise<ExecutionResult> {
    const path = `/api/v1/reloads/${encodeURIComponent(id)}`;
    let failures = 0;
    let notFound = 0;
    let lastStatus: string | undefined;
    if (!pollFirst) await delay(this.config.pollIntervalMs, ctx);
    for (;;) {
      let answer: Answer;
      try {
        answer = await this.send('GET', path, undefined, ctx, ctx.signal);
      } catch (e) {
        if (!(e instanceof TransportError)) throw e;
        failures += 1;
        const wait = this.backoff(failures);
        ctx.log.warn({ qlikReloadId: id, failures, waitMs: wait, detail: e.message }, 'could not get the Qlik Cloud reload; retrying');
        await delay(wait, ctx);
        continue;
      }
      if (answer.status === 200 && isRecord(answer.body)) {
        failures = 0;
        notFound = 0;
        const reload = answer.body as unknown as QlikReload;
        const status = typeof reload.status === 'string' ? reload.status : 'UNKNOWN';
        if (status !== lastStatus) {
          if (FINAL_STATUSES.has(status) || ACTIVE_STATUSES.has(status)) ctx.log.info({ qlikReloadId: id, qlikStatus: status }, 'Qlik Cloud reload status');
          // Not ended for sure, so followed on (ending it here could start the task's next reload
          // beside a running one); an operator should hear of it, as it runs until the time limit.
          else ctx.log.warn({ qlikReloadId: id, qlikStatus: status }, 'Qlik Cloud reports a status this service does not know; following it as still running');
          lastStatus = status;
        }
        if (FINAL_STATUSES.has(status)) return finalResult(id, status, reload);
        await delay(this.config.pollIntervalMs, ctx);
        continue;
      }
      const error = qlikError(answer.status, answer.body, answer.text);
      let wait: number | undefined;
      if (answer.status === 429) {
        failures += 1;
        wait = this.atLeastBackoff(this.retryAfter(answer.headers, ctx), failures);
      } else if (answer.status >= 500 || answer.status === 200) {
        failures += 1;
        wait = this.backoff(failures);
      } else if (answer.status === 404 && ++notFound < this.maxNotFound) {
        wait = this.backoff(notFound);
      } else {
        return {
          status: 'FAILED',
          errorCode: error.code ?? `HTTP_${answer.status}`,
          errorMessage: `Qlik Cloud answered ${answer.status} for reload ${id}: ${error.message}`,
        };
      }
      ctx.log.warn({ qlikReloadId: id, status: answer.status, waitMs: wait, detail: error.message }, 'could not get the Qlik Cloud reload; retrying');
      await delay(wait, ctx);
    }
  }

  /**
   * Looks in the app's latest reloads for one this reload may have created before its id was
   * recorded: started through the API (type `external`), of the same kind (partial or not),
   * created at or after this reload was (on Qlik's clock, give or take CLOCK_SKEW_MS). The earliest
   * such is taken: this reload POSTs as soon as it starts. Retries 429/5xx/connection errors a few
   * times, then says it could not tell.
   */
  private async findExisting(job: ReloadJob, ctx: ExecutionContext): Promise<Found> {
    const path = `/api/v1/reloads?appId=${encodeURIComponent(job.appId)}&limit=10&log=false`;
    let reason = '';
    for (let attempt = 1; attempt <= 3; attempt += 1) {
      let wait: number | undefined;
      try {
        const answer = await this.send('GET', path, undefined, ctx, ctx.signal);
        if (answer.status === 200 && isRecord(answer.body) && Array.isArray(answer.body.data)) {
          const candidates = (answer.body.data as unknown[])
            .filter((r): r is QlikReload => isRecord(r) && typeof r.id === 'string')
            .filter((r) => (r.type === undefined || r.type === 'external') && (r.partial === undefined || r.partial === job.partial))
            .map((r) => ({ r, created: typeof r.creationTime === 'string' ? Date.parse(r.creationTime) : NaN }))
            .filter((c) => Number.isFinite(c.created) && c.created >= job.creationTime - CLOCK_SKEW_MS)
            .sort((a, b) => a.created - b.created);
          // Qlik's creation time is on Qlik's clock: one a little before ours (a clock running ahead
          // here) is taken only when none is at or after it, and then the latest such.
          const pick = candidates.find((c) => c.created >= job.creationTime) ?? candidates[candidates.length - 1];
          return pick ? { kind: 'found', reload: pick.r } : { kind: 'none' };
        }
        reason = `listing the app's reloads answered ${answer.status}: ${qlikError(answer.status, answer.body, answer.text).message}`;
        if (answer.status === 429) wait = this.retryAfter(answer.headers, ctx);
        else if (answer.status < 500) return { kind: 'unknown', reason };
      } catch (e) {
        if (!(e instanceof TransportError)) throw e;
        reason = e.message;
      }
      if (attempt < 3) await delay(this.atLeastBackoff(wait, attempt), ctx);
    }
    return { kind: 'unknown', reason };
  }

  /** Records Qlik's id; a store failure is logged, not fatal (a restart would look for the reload). */
  private async record(id: string, ctx: ExecutionContext): Promise<void> {
    try {
      await ctx.setExternalId(id);
    } catch (e) {
      ctx.log.error({ qlikReloadId: id, err: e }, 'could not record the Qlik Cloud reload id; following it anyway');
    }
  }

  /**
   * Runs a request whose answer matters even after an abort (the POST that creates the reload): it
   * is cut only `abortGraceMs` (real time) after the abort, so the id it returns can be recorded
   * and the reload cancelled or resumed.
   */
  private async withGrace<T>(ctx: ExecutionContext, fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
    if (ctx.signal.aborted) throw ctx.signal.reason;
    const grace = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const onAbort = (): void => {
      timer = setTimeout(() => grace.abort(ctx.signal.reason), this.abortGraceMs);
    };
    ctx.signal.addEventListener('abort', onAbort, { once: true });
    try {
      return await fn(grace.signal);
    } finally {
      ctx.signal.removeEventListener('abort', onAbort);
      if (timer) clearTimeout(timer);
    }
  }

  /** One HTTP exchange, cut by `outer` or after requestTimeoutMs on the context's clock. */
  private async send(method: 'GET' | 'POST', path: string, body: string | undefined, ctx: ExecutionContext, outer: AbortSignal): Promise<Answer> {
    if (outer.aborted) throw outer.reason;
    const controller = new AbortController();
    let timedOut = false;
    const cancelTimer = ctx.clock.setTimer(ctx.clock.now() + this.requestTimeoutMs, () => {
      timedOut = true;
      controller.abort();
    });
    const onAbort = (): void => controller.abort(outer.reason);
    outer.addEventListener('abort', onAbort, { once: true });
    try {
      const res = await this.fetchImpl(this.base + path, {
        method,
        headers: this.headers(body !== undefined),
        body,
        signal: controller.signal,
        redirect: 'manual',
      });
      const text = await res.text();
      return { status: res.status, headers: res.headers, text, body: parseJson(text) };
    } catch (e) {
      if (outer.aborted) throw outer.reason;
      const what = `${method} ${path.replace(/\?.*$/, '')}`;
      if (timedOut) throw new TransportError(`${what}: no answer within ${this.requestTimeoutMs} ms`, 'TIMEOUT', true);
      const { code, message } = describeError(e);
      throw new TransportError(`${what}: ${message}`, 'NETWORK_ERROR', code === undefined || !NOT_SENT_CODES.has(code));
    } finally {
      cancelTimer();
      outer.removeEventListener('abort', onAbort);
    }
  }

  private headers(json: boolean): Record<string, string> {
    return {
      authorization: `Bearer ${this.config.apiKey}`,
      accept: 'application/json',
      ...(json && { 'content-type': 'application/json' }),
    };
  }

  /** Exponential back-off with jitter: half the step fixed, half random; capped. */
  private backoff(attempt: number): number {
    const step = Math.min(this.maxBackoffMs, this.baseBackoffMs * 2 ** Math.max(0, attempt - 1));
    return Math.round(step / 2 + this.random() * (step / 2));
  }

  /**
   * A wait Qlik asked for (Retry-After), but never less than the back-off: `Retry-After: 0`, or a
   * date already past, would otherwise retry at once, in a loop as fast as Qlik answers.
   */
  private atLeastBackoff(retryAfterMs: number | undefined, attempt: number): number {
    return Math.max(retryAfterMs ?? 0, this.backoff(attempt));
  }

  /** Retry-After in seconds or as an HTTP date; undefined when absent or unreadable. */
  private retryAfter(headers: Headers, ctx: ExecutionContext): number | undefined {
    const value = headers.get('retry-after')?.trim();
    if (!value) return undefined;
    let ms: number;
    if (/^\d+(\.\d+)?$/.test(value)) ms = Number(value) * 1000;
    else {
      const at = Date.parse(value);
      if (!Number.isFinite(at)) return undefined;
      ms = at - ctx.clock.now();
    }
    return Math.min(this.maxRetryAfterMs, Math.max(0, Math.ceil(ms)));
  }
}

function finalResult(id: string, status: string, reload: QlikReload): ExecutionResult {
  const log = boundedLog(typeof reload.log === 'string' && reload.log !== '' ? reload.log : `Qlik Cloud reload ${id} ended ${status}.`);
  const errorCode = typeof reload.errorCode === 'string' && reload.errorCode !== '' ? reload.errorCode : undefined;
  const errorMessage = typeof reload.errorMessage === 'string' && reload.errorMessage !== '' ? reload.errorMessage : undefined;
  switch (status) {
    case 'SUCCEEDED':
      return { status: 'SUCCEEDED', log };
    case 'CANCELED':
      return { status: 'CANCELED', log };
    case 'EXCEEDED_LIMIT':
      return { status: 'FAILED', log, errorCode: errorCode ?? 'EXCEEDED_LIMIT', errorMessage: errorMessage ?? `Qlik Cloud reload ${id} exceeded a limit of the tenant` };
    default:
      return { status: 'FAILED', log, errorCode: errorCode ?? 'QLIK_RELOAD_FAILED', errorMessage: errorMessage ?? `Qlik Cloud reload ${id} failed` };
  }
}

function abortCause(signal: AbortSignal): AbortCause {
  const reason: unknown = signal.reason;
  return reason instanceof ReloadAborted ? reason.why : 'cancel';
}

/** Qlik's error body is `{errors: [{code, title, detail}]}`; falls back to the raw text. */
function qlikError(status: number, body: unknown, text: string): { code: string | undefined; message: string } {
  const first = isRecord(body) && Array.isArray(body.errors) ? (body.errors as unknown[])[0] : undefined;
  if (isRecord(first)) {
    const code = typeof first.code === 'string' && first.code !== '' ? first.code : undefined;
    const parts = [first.title, first.detail].filter((p): p is string => typeof p === 'string' && p !== '');
    if (parts.length > 0 || code) return { code, message: parts.length > 0 ? parts.join(': ') : code! };
  }
  const trimmed = text.trim();
  return { code: undefined, message: trimmed === '' ? `HTTP ${status}` : trimmed.length > 500 ? `${trimmed.slice(0, 500)}…` : trimmed };
}

function describeError(e: unknown): { code: string | undefined; message: string } {
  const cause: unknown = e instanceof Error ? e.cause : undefined;
  const code = isRecord(cause) && typeof cause.code === 'string' ? cause.code : isRecord(e) && typeof e.code === 'string' ? e.code : undefined;
  const message = cause instanceof Error ? cause.message : e instanceof Error ? e.message : String(e);
  return { code, message: code !== undefined && !message.includes(code) ? `${code}: ${message}` : message };
}

function parseJson(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
