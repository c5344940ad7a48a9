/**
 * The simulated executor: a reload that takes a set time and fails at a set rate, without calling
 * anything. `npm start` uses it unless another executor is configured (and says so), so the service
 * can be tried and benchmarked without a Qlik tenant.
 */
import { delay, type ExecutionContext, type ExecutionResult, type Executor, type ReloadJob } from '../executor.js';

export interface SimulatedOptions {
  readonly durationMs: number;
  /** 0..1: the share of reloads that fail. */
  readonly failureRate: number;
  /** Injectable for tests; Math.random by default. */
  readonly random?: () => number;
}

export class SimulatedExecutor implements Executor {
  readonly name = 'simulated';
  constructor(private readonly options: SimulatedOptions) {}

  async run(job: ReloadJob, ctx: ExecutionContext): Promise<ExecutionResult> {
    if (this.options.durationMs > 0) await delay(this.options.durationMs, ctx);
    const fail = (this.options.random ?? Math.random)() < this.options.failureRate;
    return fail
      ? { status: 'FAILED', log: `ReloadID: ${job.id}\nSimulated failure`, errorCode: 'SIMULATED', errorMessage: 'simulated failure' }
      : { status: 'SUCCEEDED', log: `ReloadID: ${job.id}\nSimulated reload of app ${job.appId}${job.partial ? ' (partial)' : ''}\nFinished successfully` };
  }

  /** A simulated run has nothing to follow after a restart: it is run again. */
  resume(job: ReloadJob, ctx: ExecutionContext): Promise<ExecutionResult> {
    return this.run(job, ctx);
  }
}
