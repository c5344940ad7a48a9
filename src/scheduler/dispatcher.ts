/**
 * The dispatcher: starts queued reloads within the concurrency limits, runs each through the
 * executor under a lease it keeps renewing, stops runs that are cancelled or pass the time limit,
 * and records every outcome. Reloads whose lease expired (their instance died, or this process
 * restarted) are taken over and resumed.
 */
import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import { ReloadAborted, type AbortCause, type ExecutionResult, type Executor, type ReloadJob } from '../reloads/executor.js';
import { boundedLog, type Reload } from '../reloads/reload.js';
import type { FailurePolicy, FinishResult, Store } from '../store/store.js';

export interface DispatcherOptions {
  readonly owner: string;
  readonly maxConcurrent: number;
  readonly maxConcurrentPerTenant: number;
  /** A running reload is stopped and fails after this long (Qlik: 3 hours). */
  readonly runTimeoutMs: number;
  /** How long a claim holds without renewal; renewed every third of it. */
  readonly leaseMs: number;
  readonly failurePolicy: FailurePolicy;
}

export interface FinishedReload {
  readonly reload: Reload;
  readonly disabledTaskId: string | undefined;
}

interface Run {
  readonly reload: Reload;
  readonly abort: AbortController;
  readonly done: Promise<void>;
}

/**
 * A claim starts at most this many reloads; the scheduler claims again while claims start
 * something, yielding to the event loop in between. It bounds each claim's transaction (on SQLite
 * the process does nothing else meanwhile) when the limits allow a whole herd at once. 1,000 made
 * the scheduler bench's pipeline ~4 % slower (twice as many, smaller, claim and finish
 * transactions); 10,000 measured as before.
 */
export const CLAIM_BATCH = 10_000;

/** Lets timers, I/O and signals in between long runs of promise work. */
export const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export class Dispatcher {
  private readonly runs = new Map<string, Run>();
  private stopping = false;
  /** Outcomes waiting to be recorded together (one transaction, one commit, for a burst of them). */
  private pending: Array<{ reload: Reload; result: FinishResult; done: () => void; failed: (e: unknown) => void }> = [];

  constructor(
    private readonly store: Store,
    private readonly executor: Executor,
    private readonly clock: Clock,
    private readonly log: Logger,
    private readonly options: DispatcherOptions,
    /** Called after each reload ends (metrics, events, and the scheduler's wake-up: a slot is free). */
    private readonly onFinished: (finished: FinishedReload) => void,
  ) {}

  get running(): number {
    return this.runs.size;
  }

  /** Starts what the limits allow; returns how many started. */
  async dispatch(): Promise<number> {
    if (this.stopping) return 0;
    const now = this.clock.now();
    const room = this.options.maxConcurrent - this.runs.size;
    if (room <= 0) return 0;
    const started = await this.store.claimQueued(now, this.options.owner, now + this.options.leaseMs, this.executor.name, {
      global: this.options.maxConcurrent,
      perTenant: this.options.maxConcurrentPerTenant,
      batch: Math.min(room, CLAIM_BATCH),
    });
    for (const reload of started) this.start(reload, 'run');
    return started.length;
  }

  /** Takes over reloads whose lease expired and resumes them. */
  async recover(): Promise<number> {
    if (this.stopping) return 0;
    const now = this.clock.now();
    const taken = await this.store.takeExpiredLeases(now, this.options.owner, now + this.options.leaseMs, 1000);
    for (const reload of taken) {
      if (this.runs.has(reload.id)) continue;
      this.log.warn({ reloadId: reload.id, previousOwner: reload.leaseOwner, status: reload.status }, 'resuming a reload whose runner stopped');
      // A cancel that came while its runner was down: resumed already aborted, so the executor stops
      // what it still can (asks Qlik Cloud to cancel its reload) before the reload ends CANCELED.
      this.start(reload, 'resume', reload.status === 'CANCELING' ? 'cancel' : undefined);
    }
    return taken.length;
  }

  /** Renews the leases of the reloads running here, and stops those asked to cancel. */
  async renew(): Promise<void> {
    if (this.runs.size === 0) return;
    const ids = [...this.runs.keys()];
    const canceling = await this.store.renewLeases(this.options.owner, ids, this.clock.now() + this.options.leaseMs);
    for (const id of canceling) this.cancel(id);
  }

  /** Resolves when no reload is running here (runs that are waiting on the clock keep it pending). */
  async idle(): Promise<void> {
    while (this.runs.size > 0) await Promise.all([...this.runs.values()].map((r) => r.done));
  }

  /** Resolves when the reload with this id no longer runs here and its outcome is recorded (at once if it does not run here). */
  async settled(id: string): Promise<void> {
    await this.runs.get(id)?.done;
  }

  /** Stops a reload running here (after the store marked it CANCELING). */
  cancel(id: string): void {
    this.runs.get(id)?.abort.abort(new ReloadAborted('cancel'));
  }

  /**
   * Stops starting reloads and waits up to `graceMs` for the running ones; those still running are
   * aborted and left RELOADING under their lease, for a restart (or another instance) to resume.
   */
  async drain(graceMs: number): Promise<void> {
    this.stopping = true;
    const all = Promise.all([...this.runs.values()].map((r) => r.done));
    let cancelTimer: () => void = () => {};
    const timedOut = new Promise<void>((resolve) => {
      cancelTimer = this.clock.setTimer(this.clock.now() + graceMs, resolve);
    });
    await Promise.race([all, timedOut]);
    cancelTimer();
    for (const run of this.runs.values()) run.abort.abort(new ReloadAborted('shutdown'));
    await all;
  }

  private start(reload: Reload, mode: 'run' | 'resume', abortedBy?: AbortCause): void {
    const abort = new AbortController();
    if (abortedBy) abort.abort(new ReloadAborted(abortedBy));
    const log = this.log.child({ tenantId: reload.tenantId, reloadId: reload.id, taskId: reload.resourceId ?? undefined });
    const deadline = (reload.startTime ?? this.clock.now()) + this.options.runTimeoutMs;
    const cancelTimer = this.clock.setTimer(deadline, () => abort.abort(new ReloadAborted('timeout')));
    const job: ReloadJob = reload;
    const ctx = {
      signal: abort.signal,
      clock: this.clock,
      log,
      setExternalId: (externalId: string) => this.store.setExternalId(reload.id, externalId),
    };
    const done = (async () => {
      let result: ExecutionResult;
      try {
        result = mode === 'run' ? await this.executor.run(job, ctx) : await this.executor.resume(job, ctx);
      } catch (e) {
        result = e instanceof ReloadAborted ? { status: 'FAILED' } : { status: 'FAILED', errorCode: 'EXECUTOR_ERROR', errorMessage: e instanceof Error ? e.message : String(e) };
      }
      cancelTimer();
      const cause = abort.signal.aborted ? (abort.signal.reason as ReloadAborted).why : undefined;
      // Left for a restart (or another instance) to resume, unless its executor cannot take it up:
      // then what it ended with (a command stopped, with its output) is recorded now.
      if (cause === 'shutdown' && this.executor.resumable !== false) return;
      await this.finish(reload, outcome(result, cause, this.options.runTimeoutMs));
    })()
      .catch((e: unknown) => log.error({ err: e }, 'could not record the outcome of a reload; its lease will expire and it will be resumed'))
      .finally(() => this.runs.delete(reload.id));
    this.runs.set(reload.id, { reload, abort, done });
  }

  /** Whether outcomes are waiting to be recorded or being recorded. */
  get recording(): boolean {
    return this.pending.length > 0 || this.flushes > 0;
  }

  private flushes = 0;

  private finish(reload: Reload, result: FinishResult): Promise<void> {
    return new Promise((done, failed) => {
      this.pending.push({ reload, result, done, failed });
      if (this.pending.length === 1) {
        this.flushes += 1;
        setImmediate(() => void this.flush().finally(() => (this.flushes -= 1)));
      }
    });
  }

  private async flush(): Promise<void> {
    const batch = this.pending;
    this.pending = [];
    try {
      const finished = await this.store.finishReloads(
        batch.map((b) => ({ id: b.reload.id, result: b.result })),
        this.clock.now(),
        this.options.failurePolicy,
      );
      finished.forEach((f) => {
        if (!f) return;
        if (f.disabledTask) this.log.warn({ tenantId: f.reload.tenantId, taskId: f.disabledTask.id }, 'task disabled after consecutive failures');
        this.onFinished({ reload: f.reload, disabledTaskId: f.disabledTask?.id });
      });
      for (const b of batch) b.done();
    } catch (e) {
      for (const b of batch) b.failed(e);
    }
  }
}

/** The recorded outcome of a run, given how (and whether) it was aborted. */
function outcome(result: ExecutionResult, cause: AbortCause | undefined, timeoutMs: number): FinishResult {
  const log = result.log === undefined ? undefined : boundedLog(result.log);
  if (cause === 'cancel') return { status: 'CANCELED', log: log ?? 'Canceled.' };
  if (cause === 'timeout') {
    const minutes = Math.round(timeoutMs / 60_000);
    const message = `The reload ran longer than its limit of ${minutes} minutes and was stopped.`;
    return { status: 'FAILED', log: log === undefined ? message : `${log}\n${message}`, errorCode: 'TIMEOUT', errorMessage: message };
  }
  return { status: result.status, log, errorCode: result.errorCode, errorMessage: result.errorMessage };
}
