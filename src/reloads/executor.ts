/**
 * How a reload is run. The dispatcher hands an executor a job and a context; the executor does the
 * work (ask Qlik Cloud, call a webhook, run a command, or simulate) and says how it ended. It never
 * writes reload records itself: the dispatcher records the outcome, in one transaction with the
 * task's failure count.
 */
import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import type { Reload } from './reload.js';

export type ReloadJob = Pick<Reload, 'id' | 'tenantId' | 'userId' | 'appId' | 'partial' | 'type' | 'resourceType' | 'resourceId' | 'scheduledTime' | 'externalId' | 'attempts' | 'creationTime' | 'weight' | 'variables'>;

/** Why a run's signal was aborted. */
export type AbortCause = 'cancel' | 'timeout' | 'shutdown';

export class ReloadAborted extends Error {
  readonly why: AbortCause;
  constructor(why: AbortCause) {
    super(`reload aborted: ${why}`);
    this.name = 'ReloadAborted';
    this.why = why;
  }
}

export interface ExecutionContext {
  /** Aborted on cancel, timeout or shutdown; `signal.reason` is a ReloadAborted saying which. */
  readonly signal: AbortSignal;
  readonly clock: Clock;
  readonly log: Logger;
  /** Records the executor's own id for the reload (a Qlik reload id), so a restart can follow it. */
  setExternalId(externalId: string): Promise<void>;
}

export interface ExecutionResult {
  readonly status: 'SUCCEEDED' | 'FAILED' | 'CANCELED';
  /** A bounded tail of what the run printed or answered. */
  readonly log?: string;
  readonly errorCode?: string;
  readonly errorMessage?: string;
}

export interface Executor {
  readonly name: string;
  /**
   * Whether a run stopped by a shutdown can be taken up again by `resume` (true unless said). A
   * run that cannot (a command: its process dies with the service's stop) has its outcome recorded
   * at the shutdown, output included, instead of being left for a restart to call it lost.
   */
  readonly resumable?: boolean;
  /** Runs the reload to its end. Must settle soon after `ctx.signal` aborts. */
  run(job: ReloadJob, ctx: ExecutionContext): Promise<ExecutionResult>;
  /**
   * After a restart or another instance's death: continue a reload that was running (follow a Qlik
   * reload by its external id, resend an idempotent webhook), or say that it was lost.
   */
  resume(job: ReloadJob, ctx: ExecutionContext): Promise<ExecutionResult>;
}

/** Waits `ms` on the context's clock, or rejects with the abort reason. */
export function delay(ms: number, ctx: Pick<ExecutionContext, 'clock' | 'signal'>): Promise<void> {
  return new Promise((resolve, reject) => {
    if (ctx.signal.aborted) {
      reject(ctx.signal.reason);
      return;
    }
    let cancel = (): void => {};
    const onAbort = (): void => {
      cancel();
      reject(ctx.signal.reason);
    };
    // Listening first: a timer already due runs its callback at once (the system clock does), and
    // a listener added after that callback would never be removed.
    ctx.signal.addEventListener('abort', onAbort, { once: true });
    cancel = ctx.clock.setTimer(ctx.clock.now() + ms, () => {
      ctx.signal.removeEventListener('abort', onAbort);
      resolve();
    });
  });
}
