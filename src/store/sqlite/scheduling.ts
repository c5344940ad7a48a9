/**
 * The scheduler's side of the SQLite store. Each operation is one transaction, so a crash at any
 * point leaves either all of an operation or none of it: an occurrence is recorded together with its
 * reload and the task's advance, a reload ends together with its task's failure count.
 */
import type Database from 'better-sqlite3';
import { ACTIVE_STATUSES, reloadIdBound, reloadIdTime, scheduledReload, type Reload, type ReloadStatus } from '../../reloads/reload.js';
import { fromRow, fromValues, TASK_FIELDS, type TaskRow } from '../row.js';
import { reloadFromRow, type ReloadRow } from '../reload-row.js';
import type { ClaimLimits, FailurePolicy, FinishResult, FiredOccurrence, FireOptions, Planner } from '../store.js';
import { failureLog, type Task } from '../../tasks/task.js';
import { GET_RELOAD_BY_ID } from './reload-sql.js';
import * as sql from './scheduler-sql.js';

export interface SqliteContext {
  readonly db: Database.Database;
  stmt(text: string): Database.Statement;
  /** The same, with rows as arrays (raw mode). */
  rawStmt(text: string): Database.Statement;
}

export function fireDue(ctx: SqliteContext, now: number, limit: number, planner: Planner, onClaimed?: FireOptions['onClaimed']): FiredOccurrence[] {
  return ctx.db.transaction(() => {
    // Raw rows: TASK_FIELDS, then the rowid.
    const rows = ctx.rawStmt(sql.DUE_TASKS).all({ now, limit }) as unknown[][];
    onClaimed?.(rows.length, null); // one batch at a time: no position to hand on
    const recorded: FiredOccurrence[] = [];
    for (const row of rows) {
      const task = fromValues(row);
      const decision = planner(task, () => hasActiveReload(ctx, task.tenantId, task.id, ABOVE_EVERY_ID));
      const rowid = row[TASK_FIELDS.length];
      if (decision.kind === 'stop') {
        ctx.stmt(sql.ADVANCE_TASK).run(null, null, task.state, 0, decision.log, now, rowid, task.id, task.version);
        continue;
      }
      const { plan } = decision;
      // Never record an occurrence twice, never fire one twice: a task fires in time order, so an
      // occurrence at or before its last fired one was handled already. That time only ever grows
      // (this transaction sets it; UPDATE_TASK cannot lower or clear it, so a stale write cannot
      // put it back); misses and skips are rows in `occurrences`, whose key refuses a second.
      let lastFired: number | null = null;
      const handledUpTo = task.lastExecutionTime ?? -Infinity;
      let missed = 0;
      const mine: FiredOccurrence[] = [];
      for (const { nominal, outcome } of plan.occurrences) {
        if (nominal <= handledUpTo) continue;
        let reload: Reload | null = null;
        if (outcome === 'fired') {
          if (ctx.rawStmt(sql.OCCURRENCE_RECORDED).get(task.id, nominal) !== undefined) continue;
          // The QUEUED reload is the fired occurrence's record (resource_id, scheduled_time): one
          // row per firing instead of two, which is what a firing's cost is made of.
          reload = scheduledReload(task, nominal, now);
          ctx.stmt(sql.INSERT_SCHEDULED_RELOAD).run(reload.id, reload.tenantId, reload.userId, reload.appId, reload.partial ? 1 : 0, reload.resourceId, reload.scheduledTime, reload.creationTime);
          lastFired = nominal;
        } else if (ctx.stmt(sql.INSERT_OCCURRENCE).run(task.id, nominal, task.tenantId, outcome, null, now).changes === 0) {
          continue;
        }
        if (outcome === 'missed') missed += 1;
        mine.push({ task, nominal, outcome, reload });
      }
      const state = plan.next === null ? 'Completed' : task.state;
      const advanced = ctx.stmt(sql.ADVANCE_TASK).run(plan.next, lastFired, state, missed, null, now, rowid, task.id, task.version).changes;
      if (advanced !== 1) throw new Error(`task ${task.id} changed inside its firing transaction`);
      recorded.push(...mine);
    }
    return recorded;
  }).immediate();
}


/** Sorts after every reload id (ids are lowercase hex). */
const ABOVE_EVERY_ID = 'g';

/**
 * Whether a reload of a task older than `before` is queued or running. Reads the task's reloads
 * newest first (ACTIVE_WALK) and stops at the first one that is active (yes) or that ever started
 * (no). A reload starts only when none older of its task is active (startable below; older by id,
 * which is creation order, also across a restart with the clock set back: reloadIdsAfter), and an
 * ended reload never becomes active again; so once one had started, every older one had ended by
 * then, for good. The walk reads past the ended reloads that never started (canceled or expired in the
 * queue), usually none. This replaced an index of the active reloads keyed by task
 * (reloads_active_by_task, migration 000008): each firing and each status change wrote an entry to
 * a page of its own there, and the overlap check read it for every due task even under the `queue`
 * policy, which does not need it (docs/benchmarks.md, 2026-12-07).
 */
export function hasActiveReload(ctx: SqliteContext, tenantId: string, taskId: string, before: string): boolean {
  for (const [status, startTime] of ctx.rawStmt(sql.ACTIVE_WALK).iterate(tenantId, taskId, before, tenantId, taskId, before) as IterableIterator<[ReloadStatus, number | null]>) {
    if (ACTIVE_STATUSES.includes(status)) return true;
    if (startTime !== null) return false;
  }
  return false;
}

export function nextDueTime(ctx: SqliteContext): number | null {
  const row = ctx.stmt(sql.NEXT_DUE).get() as { t: number | null };
  return row.t;
}

export function claimQueued(ctx: SqliteContext, now: number, owner: string, leaseUntil: number, executor: string, limits: ClaimLimits): Reload[] {
  return ctx.db.transaction(() => {
    const started: Reload[] = [];
    for (const id of startable(ctx, limits)) {
      // Read, then update: this transaction holds the write lock, so the row read is the row updated.
      const row = ctx.stmt(GET_RELOAD_BY_ID).get({ id }) as ReloadRow | undefined;
      if (row?.status !== 'QUEUED') continue;
      if (ctx.stmt(sql.START_RELOAD).run({ id, now, owner, lease_until: leaseUntil, executor }).changes !== 1) continue;
      started.push(reloadFromRow({ ...row, status: 'RELOADING', start_time: now, lease_owner: owner, lease_until: leaseUntil, executor, attempts: Number(row.attempts) + 1 }));
    }
    return started;
  }).immediate();
}

/**
 * The queued reloads to start now. Of the room the global limit and the batch leave, each tenant
 * with queued reloads and free slots (its limit minus its running reloads) gets an equal share, at
 * most its free slots; its share goes to its queued reloads that may start, heaviest first, then the
 * oldest; of all the tenants' picks, the oldest fill the room. A tenant's queue is read only as far
 * as its share needs, so a claim reads about as many reloads as it may start, and one tenant's
 * backlog, however long, hides nothing of another's. (Before, the oldest 10,000 queued reloads of
 * all tenants were ranked, and a herd of one tenant kept the others' reloads, and its own heavier
 * ones, waiting until it had drained.) A share left unused by a tenant with fewer queued reloads
 * is taken by the dispatcher's next claim, which it makes while claims start something.
 */
function startable(ctx: SqliteContext, limits: ClaimLimits): string[] {
  const running = new Map<string, number>();
  let total = 0;
  for (const [tenant, n] of ctx.rawStmt(sql.RUNNING_BY_TENANT).all() as Array<[string, number]>) {
    running.set(tenant, n);
    total += n;
  }
  const room = Math.min(limits.batch, limits.global - total);
  if (room <= 0) return [];
  const tenants: Array<{ tenant: string; free: number }> = [];
  for (const [tenant] of ctx.rawStmt(sql.QUEUED_TENANTS).all() as Array<[string]>) {
    const free = limits.perTenant - (running.get(tenant) ?? 0);
    if (free > 0) tenants.push({ tenant, free });
  }
  const share = Math.ceil(room / tenants.length);
  const picks: string[] = [];
  for (const { tenant, free } of tenants) {
    const n = Math.min(free, share);
    // Tasks whose first queued reload was met in this claim (and picked, or left waiting).
    const seen = new Set<string>();
    const heavy = mayStart(ctx, sql.TENANT_QUEUED_WEIGHTED, tenant, n, seen, false);
    picks.push(...heavy);
    if (heavy.length < n) picks.push(...mayStart(ctx, sql.TENANT_QUEUED, tenant, n - heavy.length, seen, true));
  }
  return picks.sort().slice(0, room);
}

/**
 * Up to `limit` of a tenant's queued reloads, in the order `text` reads them, that may start: one
 * reload per task at a time, in the order they were queued, so a task's reload waits while an older
 * one of the task is queued or running. `oldestFirst`: `text` reads in the order of the ids, so once
 * one reload of a task was met in this claim, the task's later ones wait for it (it is queued, or
 * started now) and are passed over without a look; otherwise only picked ones are remembered.
 */
function mayStart(ctx: SqliteContext, text: string, tenant: string, limit: number, seen: Set<string>, oldestFirst: boolean): string[] {
  const out: string[] = [];
  if (limit <= 0) return out;
  for (const [id, task] of ctx.rawStmt(text).iterate({ tenant_id: tenant }) as IterableIterator<[string, string | null]>) {
    if (task !== null) {
      if (seen.has(task)) continue;
      if (oldestFirst) seen.add(task);
      if (hasActiveReload(ctx, tenant, task, id)) continue;
      seen.add(task);
    }
    out.push(id);
    if (out.length >= limit) break;
  }
  return out;
}

export function renewLeases(ctx: SqliteContext, owner: string, ids: readonly string[], leaseUntil: number): string[] {
  if (ids.length === 0) return [];
  const json = JSON.stringify(ids);
  ctx.stmt(sql.RENEW_LEASES).run({ owner, ids: json, lease_until: leaseUntil });
  return (ctx.stmt(sql.CANCELING_AMONG).all({ ids: json }) as Array<{ id: string }>).map((r) => r.id);
}

export function takeExpiredLeases(ctx: SqliteContext, now: number, owner: string, leaseUntil: number, limit: number): Reload[] {
  return ctx.db.transaction(() => {
    const ids = ctx.stmt(sql.EXPIRED_LEASES).all({ now, limit }) as Array<{ id: string }>;
    const taken: Reload[] = [];
    for (const { id } of ids) {
      const row = ctx.stmt(sql.TAKE_LEASE).get({ id, now, owner, lease_until: leaseUntil }) as ReloadRow | undefined;
      if (row) taken.push(reloadFromRow(row));
    }
    return taken;
  }).immediate();
}

export function finishReloads(
  ctx: SqliteContext,
  items: ReadonlyArray<{ readonly id: string; readonly result: FinishResult }>,
  now: number,
  policy: FailurePolicy,
): Array<{ reload: Reload; disabledTask: Task | undefined } | undefined> {
  return ctx.db.transaction(() => items.map(({ id, result }) => finishOne(ctx, id, now, result, policy))).immediate();
}

function finishOne(ctx: SqliteContext, id: string, now: number, result: FinishResult, policy: FailurePolicy): { reload: Reload; disabledTask: Task | undefined } | undefined {
  // Read, then update (as in claimQueued: the transaction holds the write lock).
  const before = ctx.stmt(GET_RELOAD_BY_ID).get({ id }) as ReloadRow | undefined;
  if (before === undefined || !ACTIVE_STATUSES.includes(before.status as ReloadStatus)) return undefined;
  const changes = {
    status: result.status,
    end_time: now,
    log: result.log ?? before.log,
    error_code: result.errorCode ?? null,
    error_message: result.errorMessage ?? null,
  };
  const updated = ctx.stmt(sql.FINISH_RELOAD).run({ id, status: changes.status, now, log: result.log ?? null, error_code: changes.error_code, error_message: changes.error_message });
  if (updated.changes !== 1) return undefined;
  const reload = reloadFromRow({ ...before, ...changes, lease_owner: null, lease_until: null });
  let disabledTask: Task | undefined;
  if (reload.resourceType === 'reload-tasks' && reload.resourceId !== null) {
    if (result.status === 'SUCCEEDED') {
      ctx.stmt(sql.RESET_FAILURES).run({ id: reload.resourceId, now });
    } else if (result.status === 'FAILED' || result.status === 'EXCEEDED_LIMIT') {
      const counted = ctx.stmt(sql.COUNT_FAILURE).get({ id: reload.resourceId, now }) as { consecutive_failures: number; state: string } | undefined;
      if (counted && counted.state === 'Enabled' && counted.consecutive_failures >= policy.maxConsecutiveFailures) {
        ctx.stmt(sql.DISABLE_TASK).run({ id: reload.resourceId, code: 'CONSECUTIVE-FAILURES', log: failureLog(policy.maxConsecutiveFailures), now });
        const t = ctx.stmt('SELECT * FROM reload_tasks WHERE id = ?').get(reload.resourceId) as TaskRow | undefined;
        disabledTask = t && fromRow(t);
      }
    }
  }
  return { reload, disabledTask };
}

export function expireQueued(ctx: SqliteContext, createdBefore: number, now: number, policy: FailurePolicy, limit: number, log: string): Array<{ reload: Reload; disabledTask: Task | undefined }> {
  return ctx.db.transaction(() => {
    const ids = ctx.stmt(sql.OLD_QUEUED).all({ before: createdBefore, bound_id: reloadIdBound(createdBefore), limit }) as Array<{ id: string }>;
    const expired: Array<{ reload: Reload; disabledTask: Task | undefined }> = [];
    for (const { id } of ids) {
      const done = finishOne(ctx, id, now, { status: 'EXCEEDED_LIMIT', log, errorCode: 'QUEUE_LIMIT', errorMessage: log }, policy);
      if (done) expired.push(done);
    }
    return expired;
  }).immediate();
}

export function oldestQueuedTime(ctx: SqliteContext): number | null {
  const row = ctx.stmt(sql.OLDEST_QUEUED).get() as { id: string; t: number } | undefined;
  return row ? Math.max(row.t, reloadIdTime(row.id)) : null;
}

export function autoReloadTasks(ctx: SqliteContext, tenantId: string, appId: string): Task[] {
  return (ctx.stmt(sql.AUTO_RELOAD_TASKS).all({ tenant_id: tenantId, app_id: appId }) as TaskRow[]).map(fromRow);
}

export function disableUserTasks(ctx: SqliteContext, tenantId: string, userId: string, code: string, now: number): number {
  return ctx.stmt(sql.DISABLE_USER_TASKS).run({ tenant_id: tenantId, user_id: userId, code, now }).changes;
}

export function deleteAppTasks(ctx: SqliteContext, tenantId: string, appId: string): number {
  return ctx.stmt(sql.DELETE_APP_TASKS).run({ tenant_id: tenantId, app_id: appId }).changes;
}
