/**
 * The seam between the service and its database. Routes and the scheduler use only this
 * interface; `sqlite/` and `postgres/` implement it, and one test suite runs against each.
 * Database errors never leave a store raw: they become StoreUnavailableError (answered as 503)
 * or a bug (500).
 */
import type { FinalStatus, Reload, ReloadStatus } from '../reloads/reload.js';
import type { FiringPlan, Outcome } from '../scheduler/plan.js';
import type { Task } from '../tasks/task.js';

export interface TaskListQuery {
  readonly tenantId: string;
  /** Only this owner's tasks (a non-admin caller). */
  readonly userId?: string | undefined;
  readonly appId?: string | undefined;
  readonly partial?: boolean | undefined;
  /** Keyset bounds: ids strictly after / strictly before. At most one is set. */
  readonly after?: string | undefined;
  readonly before?: string | undefined;
  /** Whether the bound id itself is included (>= / <=). */
  readonly inclusive?: boolean | undefined;
  readonly limit: number;
}

export interface Store extends TaskStore, ReloadStore, SchedulerStore {
  readonly dialect: 'sqlite' | 'postgres';
  /** A random service-wide secret, created on first use and shared by every instance. */
  secret(name: string): Promise<Buffer>;
  /** The database's clock (epoch ms): the time every instance sharing it agrees on. */
  databaseTime(): Promise<number>;
  /** The schema version in the database and the one this build expects (readiness). */
  schemaVersion(): Promise<{ readonly current: number; readonly expected: number }>;
  /**
   * Changes made by any instance sharing the database (tasks or queue changed, a reload asked to
   * cancel), and `reconnected` after a gap in which some may have been missed. SQLite has one
   * process, whose API tells its scheduler directly: nothing arrives.
   */
  subscribe(listener: (event: StoreEvent) => void): Promise<() => void>;
  close(): Promise<void>;
}

export type StoreEvent = { readonly kind: 'changed' } | { readonly kind: 'reconnected' } | { readonly kind: 'cancel'; readonly reloadId: string };

/** Limits a task's save is held to, checked in the same transaction as the write. */
export interface TaskLimits {
  /** Refuse the save (AppTaskLimitError) when the task's app already has this many other tasks in the tenant. */
  readonly maxTasksPerApp: number;
}

export interface TaskStore {
  /** Throws AppTaskLimitError when `limits` are given and the task's app is at its limit. */
  insertTask(task: Task, limits?: TaskLimits): Promise<void>;
  getTask(tenantId: string, id: string): Promise<Task | undefined>;
  /**
   * The task as `getTask` would answer it, when the store holds it in memory and can answer at once
   * without I/O (SQLite's cache of tasks read by id); undefined means "ask getTask", not "missing".
   * Optional: a store that keeps nothing (PostgreSQL, whose rows other instances change) has none.
   */
  peekTask?(tenantId: string, id: string): Task | undefined;
  /**
   * Saves `task` if the stored row still has version `task.version - 1` (optimistic concurrency);
   * false when the row changed or was deleted meanwhile. With `limits` (given when the task moves to
   * another app), throws AppTaskLimitError when that app is at its limit.
   */
  updateTask(task: Task, limits?: TaskLimits): Promise<boolean>;
  deleteTask(tenantId: string, id: string): Promise<boolean>;
  /**
   * Up to `limit` tasks in ascending id order: the first ones after `after` (or from the start),
   * or the last ones before `before`.
   */
  listTasks(query: TaskListQuery): Promise<Task[]>;
  /** Whether any task matches (used to know whether a next/previous page exists). */
  anyTask(query: Omit<TaskListQuery, 'limit'>): Promise<boolean>;
  /** A task's recorded occurrences, newest first, before a nominal time. */
  listOccurrences(tenantId: string, taskId: string, limit: number, before?: number): Promise<OccurrenceRecord[]>;
}

/** What one call of `prune` deleted. */
export interface PruneResult {
  readonly reloads: number;
  readonly occurrences: number;
}

export interface OccurrenceRecord {
  readonly taskId: string;
  readonly nominalTime: number;
  readonly outcome: Outcome;
  readonly reloadId: string | null;
  readonly recordedAt: number;
}

export interface ReloadListQuery {
  readonly tenantId: string;
  readonly userId?: string | undefined;
  readonly appId?: string | undefined;
  readonly resourceId?: string | undefined;
  readonly status?: ReloadStatus | undefined;
  readonly partial?: boolean | undefined;
  /**
   * Only reloads whose `status|partial (0 or 1)|type` is one of these keys (a SCIM filter evaluated
   * by reloads/scim-filter.ts); undefined: any. Never empty (a filter that admits nothing lists nothing).
   */
  readonly combinations?: readonly string[] | undefined;
  /** Newest first: ids strictly below `below`, or the page just above `above` (still newest first). */
  readonly below?: string | undefined;
  readonly above?: string | undefined;
  readonly inclusive?: boolean | undefined;
  /**
   * Sorted by this column first, then by id, both descending (`below`/`above` then compare the pair
   * (value, id) with (boundKey, below/above)); undefined: by id alone. A start or end time that is
   * not set sorts as -1, before every time.
   */
  readonly sortKey?: ReloadSortKey | undefined;
  readonly boundKey?: string | number | undefined;
  readonly limit: number;
}

export type ReloadSortKey = 'status' | 'start_time' | 'end_time';

export interface ReloadStore {
  insertReload(reload: Reload): Promise<void>;
  /**
   * Inserts a reload asked for through the API unless a reload of the same app in the same tenant
   * is already QUEUED (Qlik's POST /reloads answers 429 then): returns that pending reload, and
   * inserts nothing; undefined when `reload` was inserted. The check and the insert are atomic,
   * also across instances.
   */
  insertReloadUnlessPending(reload: Reload): Promise<Reload | undefined>;
  getReload(tenantId: string, id: string): Promise<Reload | undefined>;
  listReloads(query: ReloadListQuery): Promise<Reload[]>;
  anyReload(query: Omit<ReloadListQuery, 'limit'>): Promise<boolean>;
  /**
   * Cancels: a queued reload becomes CANCELED (final), a running one CANCELING (its runner stops it).
   * Returns the status after the call, or undefined when there is no such reload.
   */
  requestCancel(tenantId: string, id: string, now: number): Promise<ReloadStatus | undefined>;
  /**
   * Deletes up to `limit` finished reloads that ended before `before`, oldest first, and up to
   * `limit` occurrence records (misses and skips) recorded before it; returns how many of each. The
   * scheduler calls it in slices until both come back short of `limit`.
   */
  prune(before: number, limit: number): Promise<PruneResult>;
}

/**
 * What the scheduler decides for one due task, given the task and whether a reload of it is active.
 * `activeReload`: whether a reload of the task is queued or running, or a function that reads it.
 * The planner only asks under the `skip` overlap policy (under `queue` the answer changes nothing),
 * so a store that would read it per task (SQLite) passes the function.
 */
export type Planner = (task: Task, activeReload: boolean | (() => boolean)) => FiringDecision;

export type FiringDecision =
  | { readonly kind: 'plan'; readonly plan: FiringPlan }
  | { readonly kind: 'stop'; readonly log: string };

export interface FiredOccurrence {
  /** The task as it was when it became due. */
  readonly task: Task;
  readonly nominal: number;
  readonly outcome: Outcome;
  /** The QUEUED reload created for a firing, or null (missed, skipped). */
  readonly reload: Reload | null;
}

export interface FinishResult {
  readonly status: FinalStatus;
  readonly log?: string | undefined;
  readonly errorCode?: string | undefined;
  readonly errorMessage?: string | undefined;
}

export interface FailurePolicy {
  /** Failed scheduled reloads in a row that disable their task. */
  readonly maxConsecutiveFailures: number;
}

export interface ClaimLimits {
  readonly global: number;
  readonly perTenant: number;
  /** Reloads to start at most in this call. */
  readonly batch: number;
}

/** A position in the order due tasks are claimed in: due time, then task id. */
export interface DueCursor {
  readonly dueAt: number;
  readonly taskId: string;
}

export interface FireOptions {
  /**
   * Claim only tasks after this position: a batch running beside another starts where the other's
   * claim ended, instead of stepping over the rows it holds. Rows behind it are left for a later
   * batch (the scheduler asks `nextDueTime` after a round). Stores that run one batch at a time ignore it.
   */
  readonly after?: DueCursor;
  /**
   * Called once the batch's tasks are claimed, before they are planned and written: how many were
   * claimed and the last one's position (null when none, or where the store runs one batch at a
   * time). Not called when the claim fails. The scheduler tells from a claim of none while tasks
   * are due that they are all held by another writer.
   */
  readonly onClaimed?: (claimed: number, last: DueCursor | null) => void;
}

export interface SchedulerStore {
  /**
   * In one transaction: takes up to `limit` enabled tasks due at `now` (locked against other
   * instances), asks `planner` what to do with each, and records it once per (task, nominal time)
   * — the store refuses a second — with a QUEUED reload per firing, and the task's next and last
   * execution. Returns what was recorded. (Both keep the reload as a fired occurrence's only
   * record, one row per firing, and misses and skips as rows of `occurrences`. PostgreSQL refuses a
   * second reload of an occurrence by a unique index on (task, nominal time), whichever instance
   * tries; SQLite, one writer, refuses what is at or before the task's last fired occurrence (a
   * time the store never lowers), or recorded as missed or skipped.)
   */
  fireDue(now: number, limit: number, planner: Planner, options?: FireOptions): Promise<FiredOccurrence[]>;
  /**
   * How many fireDue batches the scheduler may run at once. PostgreSQL: DATABASE_FIRE_CONCURRENCY
   * (default 2, at most the pool's size), each on its own connection, so that one batch's writes
   * overlap the next one's claim and planning (the instance and the database take turns
   * otherwise); SQLite: 1 (one writer, in process).
   */
  readonly fireConcurrency: number;
  /** The earliest next execution of an enabled task, or null. */
  nextDueTime(): Promise<number | null>;
  /**
   * Starts queued reloads within the concurrency limits (oldest first; never two of one task at a
   * time): RELOADING, start time, a lease for `owner` until `leaseUntil`. Returns them.
   */
  claimQueued(now: number, owner: string, leaseUntil: number, executor: string, limits: ClaimLimits): Promise<Reload[]>;
  /** Extends the leases of reloads this owner runs; returns the ids whose status is now CANCELING. */
  renewLeases(owner: string, ids: readonly string[], leaseUntil: number): Promise<string[]>;
  /**
   * Takes over active reloads whose lease expired (their instance died): the lease becomes
   * `owner`'s. Returns them, to be resumed or failed.
   */
  takeExpiredLeases(now: number, owner: string, leaseUntil: number, limit: number): Promise<Reload[]>;
  /** The earliest lease expiry of an active reload (when a dead runner's work can be taken over), or null. */
  nextLeaseExpiry(): Promise<number | null>;
  /** Records the executor's id of a running reload (a Qlik reload id), so a restart can follow it. */
  setExternalId(id: string, externalId: string): Promise<void>;
  /**
   * Ends active reloads and applies the failure policy to their tasks (count, reset, disable), all in
   * one transaction (one commit for a burst of outcomes). For each: the reload, and its task when this
   * disabled it; undefined for a reload that was already final (left as it is).
   */
  finishReloads(
    items: ReadonlyArray<{ readonly id: string; readonly result: FinishResult }>,
    now: number,
    policy: FailurePolicy,
  ): Promise<Array<{ reload: Reload; disabledTask: Task | undefined } | undefined>>;
  /**
   * QUEUED reloads created before `createdBefore` end as EXCEEDED_LIMIT (with the failure policy):
   * each with the task it disabled, if it did.
   */
  expireQueued(createdBefore: number, now: number, policy: FailurePolicy, limit: number): Promise<Array<{ reload: Reload; disabledTask: Task | undefined }>>;
  /**
   * The earliest creation time past which a queued reload can expire, or null when none is queued:
   * the oldest one's creation time, or the time its id carries when that is later (the clock was set
   * back since an earlier id; expireQueued goes by both, and the scheduler wakes at this plus the
   * queue limit, so a time expireQueued cannot act on yet would have it wake at once, again and again).
   */
  oldestQueuedTime(): Promise<number | null>;
  /** How many reloads are queued (all instances). */
  queuedCount(): Promise<number>;
  /** Tasks of an app with autoReload, for a data-updated event. */
  autoReloadTasks(tenantId: string, appId: string): Promise<Task[]>;
  /** Disables every task of a user with the given code (owner deleted/disabled); returns how many. */
  disableUserTasks(tenantId: string, userId: string, code: 'OWNER-DELETED' | 'OWNER-DISABLED', now: number): Promise<number>;
  /** Deletes every task of an app; returns how many. */
  deleteAppTasks(tenantId: string, appId: string): Promise<number>;
}

/** The database cannot be reached or is busy; the API answers 503 and the caller may retry. */
export class StoreUnavailableError extends Error {
  override name = 'StoreUnavailableError';
}

/** A task was not saved: its app has as many tasks as one app may have (TaskLimits). */
export class AppTaskLimitError extends Error {
  override name = 'AppTaskLimitError';
  constructor(
    readonly appId: string,
    readonly limit: number,
  ) {
    super(`app '${appId}' has ${limit} reload tasks already`);
  }
}

/** The database holds a schema newer than this build knows; refuse to run against it. */
export class SchemaTooNewError extends Error {
  override name = 'SchemaTooNewError';
}
