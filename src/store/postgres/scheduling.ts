/**
 * The scheduler's side of the PostgreSQL store. Each function runs inside one transaction (the
 * caller's); rows are locked with FOR UPDATE SKIP LOCKED so instances never wait on each other's
 * batches and never take the same row.
 */
import type pg from 'pg';
import { reloadIdBound, scheduledReload, type Reload } from '../../reloads/reload.js';
import { fromRow, type TaskRow } from '../row.js';
import { reloadFromRow, type ReloadRow } from '../reload-row.js';
import type { ClaimLimits, FailurePolicy, FinishResult, FiredOccurrence, FireOptions, Planner } from '../store.js';
import { failureLog, type Task } from '../../tasks/task.js';
import { query } from './connection.js';
import * as sql from './sql.js';

export async function fireDue(c: pg.PoolClient, now: number, limit: number, planner: Planner, options: FireOptions = {}): Promise<FiredOccurrence[]> {
  const { after, onClaimed } = options;
  const { rows } = await query<TaskRow & { active: boolean; due_at: number }>(
    c,
    after ? sql.DUE_TASKS_AFTER : sql.DUE_TASKS,
    after ? [now, limit, after.dueAt, after.taskId] : [now, limit],
  );
  const lastRow = rows[rows.length - 1];
  onClaimed?.(rows.length, lastRow ? { dueAt: Number(lastRow.due_at), taskId: lastRow.id } : null);
  if (rows.length === 0) return [];
  // Misses and skips become rows of `occurrences`; a fired occurrence's record is its reload.
  const occ = { task: [] as string[], nominal: [] as number[], tenant: [] as string[], outcome: [] as string[] };
  const planned: Array<{ task: Task; nominal: number; outcome: FiredOccurrence['outcome']; reload: Reload | null }> = [];
  const advance = { id: [] as string[], version: [] as number[], next: [] as Array<number | null>, state: [] as string[], log: [] as Array<string | null> };
  for (const row of rows) {
    const task = fromRow(row);
    const decision = planner(task, row.active);
    advance.id.push(task.id);
    advance.version.push(task.version);
    if (decision.kind === 'stop') {
      advance.next.push(null);
      advance.state.push(task.state);
      advance.log.push(decision.log);
      continue;
    }
    advance.next.push(decision.plan.next);
    advance.state.push(decision.plan.next === null ? 'Completed' : task.state);
    advance.log.push(null);
    for (const { nominal, outcome } of decision.plan.occurrences) {
      const reload = outcome === 'fired' ? scheduledReload(task, nominal, now) : null;
      if (!reload) {
        occ.task.push(task.id);
        occ.nominal.push(nominal);
        occ.tenant.push(task.tenantId);
        occ.outcome.push(outcome);
      }
      planned.push({ task, nominal, outcome, reload });
    }
  }
  // What was actually recorded: an occurrence already on record is never recorded or fired again
  // (misses and skips first: a fired occurrence is checked against them).
  const inserted = new Set<string>();
  if (occ.task.length > 0) {
    const { rows: done } = await query<{ task_id: string; nominal_time: number }>(c, sql.INSERT_OCCURRENCES, [occ.task, occ.nominal, occ.tenant, occ.outcome, now]);
    for (const r of done) inserted.add(`${r.task_id}@${r.nominal_time}`);
  }
  // One array per column that differs between scheduled reloads (INSERT_RELOADS writes the rest).
  const cols = { id: [] as string[], tenant: [] as string[], user: [] as string[], app: [] as string[], partial: [] as boolean[], task: [] as string[], nominal: [] as number[] };
  for (const { reload } of planned) {
    if (!reload) continue;
    cols.id.push(reload.id);
    cols.tenant.push(reload.tenantId);
    cols.user.push(reload.userId);
    cols.app.push(reload.appId);
    cols.partial.push(reload.partial);
    cols.task.push(reload.resourceId!);
    cols.nominal.push(reload.scheduledTime!);
  }
  const firedIds = new Set<string>();
  if (cols.id.length > 0) {
    const { rows: done } = await query<{ id: string }>(c, sql.INSERT_RELOADS, [cols.id, cols.tenant, cols.user, cols.app, cols.partial, cols.task, cols.nominal, now]);
    for (const r of done) firedIds.add(r.id);
  }
  const recorded = planned.filter((p) => (p.reload ? firedIds.has(p.reload.id) : inserted.has(`${p.task.id}@${p.nominal}`)));

  const last = new Map<string, number>();
  const missed = new Map<string, number>();
  for (const p of recorded) {
    if (p.reload) last.set(p.task.id, Math.max(last.get(p.task.id) ?? -Infinity, p.nominal));
    if (p.outcome === 'missed') missed.set(p.task.id, (missed.get(p.task.id) ?? 0) + 1);
  }
  const advanced = await query(c, sql.ADVANCE_TASKS, [
    advance.id,
    advance.version,
    advance.next,
    advance.id.map((id) => last.get(id) ?? null),
    advance.state,
    advance.id.map((id) => missed.get(id) ?? 0),
    advance.log,
    now,
  ]);
  // The rows are locked by this transaction: nobody can have changed them.
  if (advanced.rowCount !== rows.length) throw new Error(`advanced ${advanced.rowCount} of ${rows.length} locked tasks`);
  return recorded.map(({ task, nominal, outcome, reload }) => ({ task, nominal, outcome, reload }));
}


export async function claimQueued(c: pg.PoolClient, now: number, owner: string, leaseUntil: number, executor: string, limits: ClaimLimits): Promise<Reload[]> {
  await query(c, sql.CLAIM_LOCK);
  const running = (await query<{ n: number }>(c, sql.RUNNING_COUNT)).rows[0]!.n;
  const room = Math.min(limits.batch, limits.global - running);
  if (room <= 0) return [];
  const ids = (await query<{ id: string }>(c, sql.STARTABLE, [limits.perTenant, room])).rows.map((r) => r.id);
  if (ids.length === 0) return [];
  const { rows } = await query<ReloadRow>(c, sql.START_RELOADS, [ids, now, owner, leaseUntil, executor]);
  return rows.map(reloadFromRow).sort((a, b) => (a.id < b.id ? -1 : 1));
}

export async function finishReloads(
  c: pg.PoolClient,
  items: ReadonlyArray<{ readonly id: string; readonly result: FinishResult }>,
  now: number,
  policy: FailurePolicy,
): Promise<Array<{ reload: Reload; disabledTask: Task | undefined } | undefined>> {
  // One statement for the reloads and one for the successes' tasks, instead of two round trips per
  // reload (the dispatcher finishes reloads in batches; one at a time, 100,000 took minutes).
  const first = new Map<string, FinishResult>();
  for (const { id, result } of items) if (!first.has(id)) first.set(id, result);
  const ids = [...first.keys()];
  const results = [...first.values()];
  const { rows } = await query<ReloadRow>(c, sql.FINISH_RELOADS, [
    ids,
    results.map((r) => r.status),
    results.map((r) => r.log ?? null),
    results.map((r) => r.errorCode ?? null),
    results.map((r) => r.errorMessage ?? null),
    now,
  ]);
  const ended = new Map(rows.map((row) => [row.id, reloadFromRow(row)] as const));
  const isTaskReload = (r: Reload): r is Reload & { resourceId: string } => r.resourceType === 'reload-tasks' && r.resourceId !== null;
  const succeeded = [...ended.values()].filter((r) => isTaskReload(r) && r.status === 'SUCCEEDED').map((r) => r.resourceId!);
  if (succeeded.length > 0) await query(c, sql.RESET_FAILURES_MANY, [[...new Set(succeeded)].sort(), now]);
  const disabled = new Map<string, Task | undefined>();
  for (const reload of [...ended.values()].sort((a, b) => (a.resourceId ?? '').localeCompare(b.resourceId ?? ''))) {
    if (isTaskReload(reload) && (reload.status === 'FAILED' || reload.status === 'EXCEEDED_LIMIT')) disabled.set(reload.id, await countFailure(c, reload.resourceId, now, policy));
  }
  const answered = new Set<string>();
  return items.map(({ id }) => {
    const reload = ended.get(id);
    if (reload === undefined || answered.has(id)) return undefined;
    answered.add(id);
    return { reload, disabledTask: disabled.get(id) };
  });
}

/** A failed scheduled reload counts against its task, which is disabled at the policy's limit. */
async function countFailure(c: pg.PoolClient, taskId: string, now: number, policy: FailurePolicy): Promise<Task | undefined> {
  const counted = (await query<{ consecutive_failures: number; state: string }>(c, sql.COUNT_FAILURE, [taskId, now])).rows[0];
  if (!counted || counted.state !== 'Enabled' || counted.consecutive_failures < policy.maxConsecutiveFailures) return undefined;
  const t = (await query<TaskRow>(c, sql.DISABLE_FOR_FAILURES, [taskId, failureLog(policy.maxConsecutiveFailures), now])).rows[0];
  return t && fromRow(t);
}

async function finishOne(c: pg.PoolClient, id: string, now: number, result: FinishResult, policy: FailurePolicy): Promise<{ reload: Reload; disabledTask: Task | undefined } | undefined> {
  const { rows } = await query<ReloadRow>(c, sql.FINISH_RELOAD, [id, result.status, now, result.log ?? null, result.errorCode ?? null, result.errorMessage ?? null]);
  if (!rows[0]) return undefined;
  const reload = reloadFromRow(rows[0]);
  let disabledTask: Task | undefined;
  if (reload.resourceType === 'reload-tasks' && reload.resourceId !== null) {
    if (result.status === 'SUCCEEDED') {
      await query(c, sql.RESET_FAILURES, [reload.resourceId, now]);
    } else if (result.status === 'FAILED' || result.status === 'EXCEEDED_LIMIT') {
      disabledTask = await countFailure(c, reload.resourceId, now, policy);
    }
  }
  return { reload, disabledTask };
}

export async function expireQueued(
  c: pg.PoolClient,
  createdBefore: number,
  now: number,
  policy: FailurePolicy,
  limit: number,
  log: string,
): Promise<Array<{ reload: Reload; disabledTask: Task | undefined }>> {
  const ids = (await query<{ id: string }>(c, sql.OLD_QUEUED, [createdBefore, limit, reloadIdBound(createdBefore)])).rows.map((r) => r.id);
  const expired: Array<{ reload: Reload; disabledTask: Task | undefined }> = [];
  for (const id of ids) {
    const done = await finishOne(c, id, now, { status: 'EXCEEDED_LIMIT', log, errorCode: 'QUEUE_LIMIT', errorMessage: log }, policy);
    if (done) expired.push(done);
  }
  return expired;
}
