/**
 * The scheduler: fires every due occurrence once, keeps the reload queue moving, and sleeps until
 * the next thing it has to do. It does not poll on a fixed period: it asks the store when the next
 * task is due (and when the oldest queued reload would expire), sleeps until then on the injected
 * clock, and is woken early by `nudge()` when a task is created or changed or a slot frees up.
 *
 * Each pass (`tick`) does, in order: fire what is due (the store records occurrence, reload and the
 * task's advance in one transaction per batch), expire reloads queued too long, start queued reloads
 * within the limits, and now and then renew leases, take over expired ones and prune old records.
 */
import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import type { SchedulerConfig } from '../config.js';
import { RecurrenceError, formatLocalSeconds, sharedStart, startDependence, type Schedule, type StartDependence } from '../recurrence/index.js';
import type { Executor } from '../reloads/executor.js';
import type { DueCursor, FiredOccurrence, Planner, PruneResult, Store } from '../store/store.js';
import { scheduleOf, type Task } from '../tasks/task.js';
import { Dispatcher, yieldToEventLoop, type FinishedReload } from './dispatcher.js';
import { planFirings, type FiringPlan, type PlanPolicy } from './plan.js';

/**
 * Tasks handled per firing transaction. A pass starts with a small batch, so the first occurrences of
 * a herd are recorded within tens of milliseconds, and doubles it while the herd lasts: a firing's
 * index entries land on pages all over the reload and task indexes, and a large batch writes each of
 * those pages once for many firings instead of once per small batch (100,000 due together: 8.2 s in
 * batches of 1,000, 5.4 s in batches of 10,000, in bench/scheduler). It stops growing once a batch
 * takes FIRE_BATCH_SLOW_MS, and halves past twice that: the transaction holds the database's write
 * lock (and, on SQLite, the event loop) for that long. A pass within FIRE_BATCH_CARRY_MS of one that
 * fired goes on with that pass's batch: under a steady load (2,000 tasks due every second), each
 * pass starting again at 1,000 split every second's firings into two commits, which wrote the pages
 * they share (the ends of the indexes by time, tenant and user) twice.
 */
export const FIRE_BATCH_FIRST = 1000;
export const FIRE_BATCH_CARRY_MS = 2000;
export const FIRE_BATCH_MAX = 16_000;
export const FIRE_BATCH_SLOW_MS = 250;

/** The next batch of a pass, from the one that just ran and how long it took (wall time). */
export function nextFireBatch(batch: number, elapsedMs: number): number {
  if (elapsedMs > 2 * FIRE_BATCH_SLOW_MS) return Math.max(FIRE_BATCH_FIRST, Math.floor(batch / 2));
  if (elapsedMs < FIRE_BATCH_SLOW_MS) return Math.min(FIRE_BATCH_MAX, batch * 2);
  return batch;
}

/**
 * When a pass claims nothing while tasks are due, every due task is held by another writer (another
 * instance's firing batch, or an API change of the task, on PostgreSQL: claims skip locked rows).
 * The holder's commit advances those tasks, and its rollback (it crashed) hands them back, so the
 * pass looks again after a short wait, doubling while they stay held, instead of asking the
 * database in a loop until the holder ends (another instance's NOTIFY still wakes it at once).
 */
export const HELD_RETRY_FIRST_MS = 25;
export const HELD_RETRY_MAX_MS = 1000;

/** Occurrences handled per task per pass (a long outage's backlog is worked off over passes). */
const MAX_PER_PASS = 1000;
/** The longest sleep: a safety net against a missed wake-up (another instance's change, clock jumps). */
const MAX_SLEEP_MS = 30_000;
const RECOVER_EVERY_MS = 10_000;
/**
 * Retention: finished reloads and occurrence records older than `retentionMs` are deleted
 * PRUNE_CHUNK rows a transaction, so no transaction holds the writer (SQLite, and its event loop)
 * or many row locks for long. A pass prunes for at most PRUNE_SLICE_MS, and stops sooner when a
 * task has come due; while more remain, the next slice comes PRUNE_PAUSE_MS later, so a backlog (a
 * first start on an old database, a shortened retention) is worked off in about a fifth of the
 * time while firing, dispatch and requests go on. With nothing left, the next look is
 * PRUNE_EVERY_MS later. On SQLite with 400,000 reloads on record, this deleted 4,300–5,500 a
 * second with the event loop's delay at p99 about 20 ms (bench/retention, docs/benchmarks.md).
 * It used to be one delete of at most 10,000 reloads an hour: a service that fired more than that
 * in an hour never caught up, and its database only grew.
 */
export const PRUNE_CHUNK = 500;
const PRUNE_SLICE_MS = 50;
const PRUNE_PAUSE_MS = 200;
const PRUNE_EVERY_MS = 60_000;
const SCHEDULE_CACHE = 10_000;

export interface SchedulerEvents {
  /** Occurrences recorded by a pass (fired, missed or skipped), with when they were recorded. */
  recorded: [occurrences: FiredOccurrence[], at: number];
  finished: [finished: FinishedReload];
  /** Records deleted by one chunk of retention. */
  pruned: [pruned: PruneResult];
}

export class Scheduler extends EventEmitter<SchedulerEvents> {
  readonly dispatcher: Dispatcher;
  private readonly policy: PlanPolicy;
  private readonly schedules = new Map<string, Schedule>();
  /** startDependence per distinct set of recurrence lines (keyed as in scheduleKey). */
  private readonly dependences = new Map<string, StartDependence | null>();
  private running = false;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  private cancelTimer: () => void = () => {};
  private nudged = false;
  private sleeping = false;
  private settledWaiters: Array<() => void> = [];
  private lastRecover = -Infinity;
  private lastRenew = -Infinity;
  /** When retention runs next (clock time), and what the backlog it is working off has deleted so far. */
  private nextPruneAt = -Infinity;
  private pruning: { reloads: number; occurrences: number; since: number; reportedAt: number } | undefined;
  /** Due tasks were all held by another writer: not looked at again before this time (see HELD_RETRY_FIRST_MS). */
  private heldUntil = -Infinity;
  private heldRetryMs = HELD_RETRY_FIRST_MS;
  /** The batch the last pass that fired ended with, and when (clock time). */
  private carried = { batch: FIRE_BATCH_FIRST, at: -Infinity };

  constructor(
    private readonly store: Store,
    executor: Executor,
    private readonly clock: Clock,
    private readonly log: Logger,
    private readonly config: SchedulerConfig,
    owner: string,
  ) {
    super();
    this.policy = {
      misfire: config.misfirePolicy,
      graceMs: config.misfireGraceMs,
      catchUpWindowMs: config.catchUpWindowMs,
      overlap: config.overlapPolicy,
      maxPerPass: MAX_PER_PASS,
    };
    this.dispatcher = new Dispatcher(
      store,
      executor,
      clock,
      log,
      {
        owner,
        maxConcurrent: config.maxConcurrentReloads,
        maxConcurrentPerTenant: config.maxConcurrentReloadsPerTenant,
        runTimeoutMs: config.runTimeoutMs,
        leaseMs: config.leaseMs,
        failurePolicy: { maxConsecutiveFailures: config.maxConsecutiveFailures },
      },
      (finished) => {
        this.emit('finished', finished);
        this.nudge(); // a slot is free
      },
    );
  }

  /** Whether the loop is running (readiness). */
  get started(): boolean {
    return this.running;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  /** Stops firing; running reloads get the shutdown grace, then are handed off. */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.wakeUp();
    await this.loop;
    await this.dispatcher.drain(this.config.shutdownGraceMs);
  }

  /** Something changed (a task was created or changed, a slot freed up): look again now. */
  nudge(): void {
    this.nudged = true;
    this.wakeUp();
  }

  /**
   * Resolves when the loop has handled everything due and gone back to sleep, and stays asleep
   * across a turn of the event loop (reloads that finish meanwhile nudge it awake again). For
   * tests and benchmarks that drive a ManualClock.
   */
  async settled(): Promise<void> {
    for (;;) {
      if (!(this.sleeping && !this.nudged)) await new Promise<void>((resolve) => this.settledWaiters.push(resolve));
      await new Promise((resolve) => setImmediate(resolve));
      if (this.dispatcher.recording) {
        await new Promise((resolve) => setTimeout(resolve, 1)); // an outcome is on its way to the database
        continue;
      }
      if (this.sleeping && !this.nudged) return;
    }
  }

  /** One pass; the loop's body, also called directly by tests and benchmarks. */
  async tick(): Promise<void> {
    let now = this.clock.now();
    // Fire everything due, a batch at a time (or, where the store can, a round of batches side by side).
    const lanes = this.store.fireConcurrency;
    if (now >= this.heldUntilFrom(now)) {
      for (let batch = now - this.carried.at <= FIRE_BATCH_CARRY_MS ? this.carried.batch : FIRE_BATCH_FIRST; ; ) {
        let claimed: number;
        if (lanes > 1) {
          ({ batch, claimed } = await this.fireRound(now, batch, lanes));
        } else {
          const started = performance.now(); // the transaction's cost, not schedule time: not the injected clock
          let reported: number | undefined;
          const recorded = await this.store.fireDue(now, batch, this.planner(now), { onClaimed: (n) => (reported = n) });
          if (recorded.length > 0) this.emit('recorded', recorded, this.clock.now()); // committed just now
          batch = nextFireBatch(batch, performance.now() - started);
          claimed = reported ?? 0;
        }
        if (claimed > 0) this.carried = { batch, at: now };
        const due = await this.store.nextDueTime();
        // Nothing held (any more): the next hold starts with the shortest wait again.
        if (claimed > 0 || due === null || due > now) this.heldRetryMs = HELD_RETRY_FIRST_MS;
        if (due === null || due > now) break;
        if (claimed === 0) {
          this.heldUntil = now + this.heldRetryMs;
          this.log.debug({ due, retryInMs: this.heldRetryMs }, 'due tasks are held by another writer; looking again shortly');
          this.heldRetryMs = Math.min(HELD_RETRY_MAX_MS, this.heldRetryMs * 2);
          break;
        }
        await yieldToEventLoop(); // a herd takes many batches: let requests and signals in between
        now = this.clock.now();
      }
    }
    const expired = await this.store.expireQueued(now - this.config.queueLimitMs, now, { maxConsecutiveFailures: this.config.maxConsecutiveFailures }, 1000);
    for (const { reload, disabledTask } of expired) {
      if (disabledTask) this.log.warn({ tenantId: reload.tenantId, taskId: disabledTask.id }, 'task disabled after consecutive failures');
      this.emit('finished', { reload, disabledTaskId: disabledTask?.id });
    }
    if (now - this.lastRenew >= this.config.leaseMs / 3) {
      this.lastRenew = now;
      await this.dispatcher.renew();
    }
    const lease = await this.store.nextLeaseExpiry();
    if (now - this.lastRecover >= RECOVER_EVERY_MS || (lease !== null && lease < now && now - this.lastRecover >= 1000)) {
      this.lastRecover = now;
      await this.dispatcher.recover();
    }
    // Keep starting while slots and queued reloads remain.
    while ((await this.dispatcher.dispatch()) > 0) await yieldToEventLoop();
    // (A clock set back by more than a wait can be does not hold retention up until it catches up.)
    if (now >= this.nextPruneAt || this.nextPruneAt - now > PRUNE_EVERY_MS) this.nextPruneAt = await this.pruneSlice(now);
  }

  /** One slice of retention (see PRUNE_CHUNK); returns when the next one is due. */
  private async pruneSlice(now: number): Promise<number> {
    const before = now - this.config.retentionMs;
    const started = performance.now(); // the work's own cost, not schedule time: not the injected clock
    const run = (this.pruning ??= { reloads: 0, occurrences: 0, since: now, reportedAt: now });
    for (;;) {
      const pruned = await this.store.prune(before, PRUNE_CHUNK);
      run.reloads += pruned.reloads;
      run.occurrences += pruned.occurrences;
      if (pruned.reloads > 0 || pruned.occurrences > 0) this.emit('pruned', pruned);
      const at = this.clock.now();
      const progress = { reloads: run.reloads, occurrences: run.occurrences, seconds: Math.round((at - run.since) / 1000) };
      if (pruned.reloads < PRUNE_CHUNK && pruned.occurrences < PRUNE_CHUNK) {
        this.pruning = undefined;
        if (run.reloads > 0 || run.occurrences > 0) this.log.info(progress, 'pruned records older than the retention');
        return at + PRUNE_EVERY_MS;
      }
      if (at - run.reportedAt >= PRUNE_EVERY_MS) {
        run.reportedAt = at;
        this.log.info(progress, 'pruning records older than the retention; more remain');
      }
      if (performance.now() - started >= PRUNE_SLICE_MS) return at + PRUNE_PAUSE_MS;
      await yieldToEventLoop();
      const due = await this.store.nextDueTime();
      if (due !== null && due <= this.clock.now()) return this.clock.now() + PRUNE_PAUSE_MS; // firing first
    }
  }

  /**
   * Fires what is due at `now` in batches of which up to `lanes` run at once: each batch starts as
   * soon as the one before it has claimed its tasks, from where that claim ended, so no batch steps
   * over rows another holds, and one batch's writes overlap the next one's claim and planning. The
   * round ends when a claim comes back short (nothing more due past it) or a batch fails; it waits
   * for every batch it started, then rethrows the first failure. Tasks behind the cursor (locked by
   * another instance, or made due earlier meanwhile) are the next round's: the caller asks
   * `nextDueTime`. Returns the batch size for the next round, and how many tasks the round claimed.
   */
  private async fireRound(now: number, first: number, lanes: number): Promise<{ batch: number; claimed: number }> {
    let batch = first;
    let claimedInRound = 0;
    let after: DueCursor | undefined;
    let more = true;
    let failure: { error: unknown } | undefined;
    const inFlight = new Set<Promise<void>>();
    while (more && !failure) {
      const limit = batch;
      const started = performance.now();
      let claimed!: () => void;
      const claim = new Promise<void>((resolve) => (claimed = resolve));
      const run: Promise<void> = this.store
        .fireDue(now, limit, this.planner(now), {
          after,
          onClaimed: (n, last) => {
            claimedInRound += n;
            if (n < limit) more = false;
            if (last) after = last;
            claimed();
          },
        })
        .then(
          (recorded) => {
            if (recorded.length > 0) this.emit('recorded', recorded, this.clock.now()); // committed just now
            batch = nextFireBatch(batch, performance.now() - started);
          },
          (error: unknown) => {
            failure ??= { error };
            more = false;
          },
        )
        .finally(() => {
          claimed();
          inFlight.delete(run);
        });
      inFlight.add(run);
      await claim;
      if (inFlight.size >= lanes) await Promise.race(inFlight);
    }
    await Promise.all(inFlight);
    if (failure) throw failure.error;
    return { batch, claimed: claimedInRound };
  }

  /** heldUntil, unless the clock has gone back past it by more than a wait can be (then nothing waits for it). */
  private heldUntilFrom(now: number): number {
    return this.heldUntil - now > HELD_RETRY_MAX_MS ? -Infinity : this.heldUntil;
  }

  /** When the loop must look again: the next due task, queue expiry, lease work, retention, or the safety net. */
  async nextWakeAt(): Promise<number> {
    const now = this.clock.now();
    let at = now + MAX_SLEEP_MS;
    const due = await this.store.nextDueTime();
    if (due !== null) at = Math.min(at, Math.max(due, this.heldUntilFrom(now)));
    const queued = await this.store.oldestQueuedTime();
    if (queued !== null) at = Math.min(at, queued + this.config.queueLimitMs);
    if (this.dispatcher.running > 0) at = Math.min(at, this.lastRenew + this.config.leaseMs / 3);
    // Reloads of a dead runner are resumed as soon as their lease runs out.
    const lease = await this.store.nextLeaseExpiry();
    if (lease !== null) at = Math.min(at, Math.max(lease + 1, this.lastRecover + 1000));
    at = Math.min(at, this.nextPruneAt); // a backlog's next slice
    return Math.max(at, now);
  }

  private async run(): Promise<void> {
    let failures = 0;
    while (this.running) {
      this.nudged = false;
      let wakeAt: number;
      try {
        await this.tick();
        wakeAt = await this.nextWakeAt();
        failures = 0;
      } catch (e) {
        // The store is unreachable or busy: back off (1 s, 2 s, … 30 s) and try again.
        failures += 1;
        wakeAt = this.clock.now() + Math.min(30_000, 1000 * 2 ** Math.min(failures - 1, 5));
        this.log.error({ err: e, failures }, 'scheduler pass failed; retrying');
      }
      if (!this.running) break;
      if (this.nudged) {
        await yieldToEventLoop(); // nudges can come back to back: never spin without yielding
        continue;
      }
      // A wake-up already due is met at once, without a timer: whatever asked for it, requests,
      // signals and executors get a turn before the next pass.
      if (wakeAt <= this.clock.now()) await yieldToEventLoop();
      await this.sleepUntil(wakeAt);
    }
    this.sleeping = false;
  }

  private sleepUntil(at: number): Promise<void> {
    return new Promise((resolve) => {
      this.wake = () => {
        this.wake = undefined;
        this.sleeping = false;
        this.cancelTimer();
        resolve();
      };
      this.cancelTimer = this.clock.setTimer(at, () => this.wake?.());
      this.sleeping = true;
      const waiters = this.settledWaiters;
      this.settledWaiters = [];
      for (const w of waiters) w();
    });
  }

  private wakeUp(): void {
    this.wake?.();
  }

  /**
   * Decides, for one due task, what fires; a schedule that cannot be evaluated stops the task.
   * One planner serves one batch: tasks of one schedule due at the same time (a herd at 09:00 is
   * mostly that) get the same plan, computed once and shared, since a plan depends only on the
   * schedule, the due time, `now` and whether a reload is active, and nobody changes it.
   */
  private planner(now: number): Planner {
    const plans = new Map<Schedule, Map<number, FiringPlan>>();
    return (task, activeReload) => {
      try {
        const active = this.policy.overlap === 'skip' && (typeof activeReload === 'function' ? activeReload() : activeReload);
        const schedule = this.scheduleOf(task);
        const nominal = task.nextExecutionTime!;
        let byTime = plans.get(schedule);
        if (byTime === undefined) plans.set(schedule, (byTime = new Map()));
        const key = nominal * 2 + (active ? 1 : 0);
        let plan = byTime.get(key);
        if (plan === undefined) byTime.set(key, (plan = planFirings(nominal, schedule, now, active, this.policy)));
        return { kind: 'plan', plan };
      } catch (e) {
        if (!(e instanceof RecurrenceError)) throw e;
        this.log.error({ tenantId: task.tenantId, taskId: task.id, err: e }, 'schedule cannot be evaluated; the task stops firing');
        return { kind: 'stop', log: `The schedule could not be evaluated: ${e.message}` };
      }
    };
  }

  /**
   * Compiled schedules, shared by tasks with the same schedule. Once the cache is full, a schedule
   * used again moves to the back, so the one dropped for a new one is the least recently used;
   * before that, order does not matter and a hit costs only the look-up.
   */
  private scheduleOf(task: Task): Schedule {
    const shared = this.sharedStartOf(task);
    const key = shared === undefined ? scheduleKey(task) : `s${shared.local}|${keyField(task.timeZone)}${keyField(task.endDateTime)}${shared.linesKey}`;
    let s = this.schedules.get(key);
    if (s === undefined) {
      s = scheduleOf(shared === undefined ? task : { ...task, startDateTime: formatLocalSeconds(shared.local) });
      if (this.schedules.size >= SCHEDULE_CACHE) this.schedules.delete(this.schedules.keys().next().value!);
      this.schedules.set(key, s);
    } else if (this.schedules.size >= SCHEDULE_CACHE) {
      this.schedules.delete(key);
      this.schedules.set(key, s);
    }
    return s;
  }

  /**
   * The start the task's schedule shares with every task whose schedule differs only in parts of
   * the start its rules do not depend on, such as the date of `FREQ=DAILY;BYHOUR=9;BYMINUTE=0;
   * BYSECOND=0` (recurrence/shared-start.ts), when the planner asks only about times where the two
   * schedules agree: every question is about times after the task's next execution. Tasks created
   * on different days then share one compiled schedule, and the cache holds them all (100,000 tasks
   * with as many starts, one schedule each, kept it missing on every firing).
   */
  private sharedStartOf(task: Task): { local: number; linesKey: string } | undefined {
    const { startDateTime, recurrence, nextExecutionTime } = task;
    if (startDateTime === null || recurrence === null || nextExecutionTime === null) return undefined;
    const linesKey = recurrence.length === 1 ? keyField(recurrence[0]!) : recurrence.map(keyField).join('');
    let dependence = this.dependences.get(linesKey);
    if (dependence === undefined) {
      if (this.dependences.size >= SCHEDULE_CACHE) this.dependences.clear();
      this.dependences.set(linesKey, (dependence = startDependence(recurrence)));
    }
    if (dependence === null) return undefined;
    const shared = sharedStart(startDateTime, dependence);
    if (shared === null || nextExecutionTime < shared.agreesAfter) return undefined;
    return { local: shared.local, linesKey };
  }
}

/** One field of a schedule key: its length, then itself ('n' for none), so no two schedules share a key. */
function keyField(value: string | null): string {
  return value === null ? 'n' : `${value.length}:${value}`;
}

/** What identifies a task's schedule (cheaper to build than JSON; one per firing). */
export function scheduleKey(task: Pick<Task, 'timeZone' | 'startDateTime' | 'endDateTime' | 'recurrence'>): string {
  let key = keyField(task.timeZone) + keyField(task.startDateTime) + keyField(task.endDateTime);
  if (task.recurrence === null) return `${key}n`;
  for (const line of task.recurrence) key += keyField(line);
  return key;
}
