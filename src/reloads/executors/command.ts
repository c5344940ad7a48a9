/**
 * The command executor: a reload is a shell command (RELOAD_COMMAND) run with `/bin/sh -c`; exit
 * status 0 means it succeeded.
 *
 * The command gets the service's environment without the service's own settings (config.ts
 * SETTINGS, its secrets among them) and without PG* variables (libpq's, which the PostgreSQL driver
 * reads for the service's database), plus
 *   RELOAD_ID, APP_ID, PARTIAL ("true"/"false"), TENANT_ID, USER_ID,
 *   TASK_ID (empty unless the reload is a task's), SCHEDULED_TIME (ISO 8601 UTC, empty for a manual reload),
 *   RELOAD_WEIGHT (1..10), RELOAD_VARIABLES (a JSON object of the load-script variables given to
 *   POST /api/v1/reloads; `{}` when none).
 * The last 7.5 KiB of its stdout and of its stderr go into the reload's log, labelled (both
 * together fit the 16 KiB a reload's log keeps).
 *
 * It runs in a process group of its own (`detached`), so a cancel, a timeout or a shutdown stops
 * the command and everything it started: SIGTERM to the group, then SIGKILL if anything of it is
 * still there after a grace period (on the context's clock).
 *
 * A command cannot be followed after the service restarts (its pipes and exit status belong to the
 * process that died), so `resume` reports it LOST rather than running it a second time.
 */
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { SETTINGS, type ExecutorConfig } from '../../config.js';
import { ReloadAborted, type AbortCause, type ExecutionContext, type ExecutionResult, type Executor, type ReloadJob } from '../executor.js';
import { boundedLog, MAX_LOG } from '../reload.js';

export type CommandConfig = Extract<ExecutorConfig, { kind: 'command' }>;

export interface CommandOptions {
  /** The shell; `/bin/sh` by default. */
  readonly shell?: string;
  /** How much of stdout, and of stderr, is kept (their tails). Default 7.5 KiB each. */
  readonly maxStreamBytes?: number;
  /** After SIGTERM, how long (on the context's clock) before SIGKILL. Default 5 s. */
  readonly killGraceMs?: number;
  /**
   * After the shell exits, how long (real time) to wait for its output pipes to close: a process it
   * left in the background may hold them open. Default 1 s.
   */
  readonly pipeGraceMs?: number;
}

/** Both tails, their labels and the closing line fit in a reload's log. */
const DEFAULT_STREAM_BYTES = Math.floor((MAX_LOG - 1024) / 2);

export const LOST_MESSAGE = 'the service restarted while the command was running; its outcome is unknown';

/** Keeps the last `max` bytes written to it. */
class Tail {
  private chunks: Buffer[] = [];
  private kept = 0;
  total = 0;

  constructor(private readonly max: number) {}

  push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.kept += chunk.length;
    this.total += chunk.length;
    if (this.kept > 2 * this.max) {
      const joined = Buffer.concat(this.chunks).subarray(-this.max);
      this.chunks = [Buffer.from(joined)];
      this.kept = joined.length;
    }
  }

  text(): string {
    const all = Buffer.concat(this.chunks);
    const tail = all.length > this.max ? all.subarray(-this.max) : all;
    // A cut may split a UTF-8 sequence: drop the broken start.
    return tail.toString('utf8').replace(/^\uFFFD+/, '');
  }

  section(name: string): string {
    const text = this.text();
    const cut = this.total > this.max ? ` (last ${this.max} of ${this.total} bytes)` : '';
    return `--- ${name}${cut} ---\n${text}${text === '' || text.endsWith('\n') ? '' : '\n'}`;
  }
}

const SERVICE_SETTINGS = new Set(SETTINGS);
const LIBPQ = /^PG[A-Z]+$/;

/** What of the service's environment a command gets: all but the service's settings and PG* variables. */
export function commandEnvironment(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(env)) if (!SERVICE_SETTINGS.has(name) && !LIBPQ.test(name)) out[name] = value;
  return out;
}

export class CommandExecutor implements Executor {
  readonly name = 'command';
  readonly resumable = false;
  private readonly shell: string;
  private readonly maxStreamBytes: number;
  private readonly killGraceMs: number;
  private readonly pipeGraceMs: number;

  constructor(
    private readonly config: Pick<CommandConfig, 'command'>,
    options: CommandOptions = {},
  ) {
    this.shell = options.shell ?? '/bin/sh';
    this.maxStreamBytes = options.maxStreamBytes ?? DEFAULT_STREAM_BYTES;
    this.killGraceMs = options.killGraceMs ?? 5_000;
    this.pipeGraceMs = options.pipeGraceMs ?? 1_000;
  }

  run(job: ReloadJob, ctx: ExecutionContext): Promise<ExecutionResult> {
    if (ctx.signal.aborted) return Promise.resolve(abortedResult(abortCause(ctx.signal), 'The command was not started.'));
    const env: NodeJS.ProcessEnv = {
      ...commandEnvironment(process.env),
      RELOAD_ID: job.id,
      APP_ID: job.appId,
      PARTIAL: job.partial ? 'true' : 'false',
      TENANT_ID: job.tenantId,
      USER_ID: job.userId,
      // Another service's resourceId (automate, tasks) is not one of this service's tasks.
      TASK_ID: job.resourceType === 'reload-tasks' ? (job.resourceId ?? '') : '',
      SCHEDULED_TIME: job.scheduledTime === null ? '' : new Date(job.scheduledTime).toISOString(),
      RELOAD_WEIGHT: String(job.weight),
      RELOAD_VARIABLES: JSON.stringify(job.variables ?? {}),
    };

    return new Promise<ExecutionResult>((resolve) => {
      const stdout = new Tail(this.maxStreamBytes);
      const stderr = new Tail(this.maxStreamBytes);
      let stopping: AbortCause | undefined;
      let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
      let cancelKill: (() => void) | undefined;
      let pipeTimer: NodeJS.Timeout | undefined;
      let groupPoll: NodeJS.Timeout | undefined;
      let killed = false;
      let settled = false;

      const child = spawn(this.shell, ['-c', this.config.command], { detached: true, env, stdio: ['ignore', 'pipe', 'pipe'] });
      ctx.log.info({ pid: child.pid }, 'command started');

      const killGroup = (signal: NodeJS.Signals): void => {
        if (child.pid === undefined) return;
        try {
          process.kill(-child.pid, signal);
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== 'ESRCH') ctx.log.warn({ err: e, signal }, 'could not signal the command');
        }
      };
      const onAbort = (): void => {
        stopping = abortCause(ctx.signal);
        ctx.log.info({ pid: child.pid, why: stopping }, 'stopping the command');
        killGroup('SIGTERM');
        cancelKill = ctx.clock.setTimer(ctx.clock.now() + this.killGraceMs, () => {
          ctx.log.warn({ pid: child.pid }, 'the command outlived SIGTERM; sending SIGKILL');
          killed = true;
          killGroup('SIGKILL');
          finish();
        });
      };
      const settle = (result: ExecutionResult): void => {
        if (settled) return;
        settled = true;
        ctx.signal.removeEventListener('abort', onAbort);
        cancelKill?.();
        if (pipeTimer) clearTimeout(pipeTimer);
        if (groupPoll) clearInterval(groupPoll);
        child.stdout?.destroy();
        child.stderr?.destroy();
        resolve(result);
      };
      const output = (): string => `${stdout.section('stdout')}${stderr.section('stderr')}`;
      const finish = (): void => {
        if (!exit || settled) return;
        if (stopping && !killed && child.pid !== undefined && groupAlive(child.pid)) {
          // The shell is gone but something it started is still there: settle once that ends too,
          // or at the SIGKILL.
          groupPoll ??= setInterval(finish, 100).unref();
          return;
        }
        const { code, signal } = exit;
        const how = signal !== null ? `killed by ${signal}` : `exited with code ${code}`;
        ctx.log.info({ pid: child.pid, code, signal }, `command ${how}`);
        if (stopping) {
          settle(abortedResult(stopping, `${output()}The command was stopped (${stopping}) and ${how}.`));
        } else if (code === 0) {
          settle({ status: 'SUCCEEDED', log: boundedLog(`${output()}The command exited with code 0.`) });
        } else {
          const lastLine = stderr.text().trimEnd().split('\n').pop()?.trim() ?? '';
          settle({
            status: 'FAILED',
            log: boundedLog(`${output()}The command ${how}.`),
            errorCode: signal !== null ? `SIGNAL_${signal}` : `EXIT_${code}`,
            errorMessage: `the command ${how}${lastLine === '' ? '' : `: ${lastLine.length > 300 ? `${lastLine.slice(0, 300)}…` : lastLine}`}`,
          });
        }
      };

      child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
      child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
      child.on('error', (e) => {
        // Spawning failed (no shell?): there is no process to wait for.
        if (exit || child.pid !== undefined) {
          ctx.log.warn({ err: e }, 'command error');
          return;
        }
        settle({ status: 'FAILED', errorCode: 'SPAWN_ERROR', errorMessage: `could not start the command: ${e.message}` });
      });
      child.on('exit', (code, signal) => {
        exit = { code, signal };
        // Normally 'close' follows at once; a background process holding the pipes must not hold the run.
        pipeTimer = setTimeout(finish, this.pipeGraceMs);
        pipeTimer.unref();
      });
      child.on('close', finish);
      ctx.signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  resume(_job: ReloadJob, _ctx: ExecutionContext): Promise<ExecutionResult> {
    return Promise.resolve({ status: 'FAILED', errorCode: 'LOST', errorMessage: LOST_MESSAGE, log: `The command was running when the service stopped; ${LOST_MESSAGE}.` });
  }
}

/**
 * Whether a process group still has a live (not zombie) member. Reads /proc on Linux, where a
 * zombie, which nobody may ever reap in a container, must not count; elsewhere asks kill(-pgid, 0).
 */
export function groupAlive(pgid: number): boolean {
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((name) => /^\d+$/.test(name));
  } catch {
    try {
      process.kill(-pgid, 0);
      return true;
    } catch (e) {
      return (e as NodeJS.ErrnoException).code === 'EPERM';
    }
  }
  for (const pid of pids) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    } catch {
      continue; // gone meanwhile
    }
    // "pid (comm) state ppid pgrp …": comm may hold spaces and parentheses, so split after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(fields[2]) === pgid && fields[0] !== 'Z' && fields[0] !== 'X') return true;
  }
  return false;
}

function abortCause(signal: AbortSignal): AbortCause {
  const reason: unknown = signal.reason;
  return reason instanceof ReloadAborted ? reason.why : 'cancel';
}

function abortedResult(why: AbortCause, log: string): ExecutionResult {
  const bounded = boundedLog(log);
  if (why === 'cancel') return { status: 'CANCELED', log: bounded };
  if (why === 'shutdown') return { status: 'FAILED', log: bounded, errorCode: 'SHUTDOWN', errorMessage: 'the service shut down while the command ran, and stopped it' };
  return { status: 'FAILED', log: bounded, errorCode: 'TIMEOUT', errorMessage: `the command was stopped (${why})` };
}
