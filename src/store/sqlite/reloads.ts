/** The reload records and the task history on SQLite. */
import { reloadFromRow, reloadToValues, type ReloadRow } from '../reload-row.js';
import type { Reload, ReloadStatus } from '../../reloads/reload.js';
import type { Outcome } from '../../scheduler/plan.js';
import type { OccurrenceRecord, PruneResult, ReloadListQuery } from '../store.js';
import * as sql from './reload-sql.js';
import type { SqliteContext } from './scheduling.js';

/** In a transaction of its own: a failure undoes the row and its keys together (INSERT_RELOAD's `OR FAIL`). */
export function insertReload(ctx: SqliteContext, reload: Reload): void {
  ctx.db.transaction(() => insertRow(ctx, reload)).immediate();
}

function insertRow(ctx: SqliteContext, reload: Reload): void {
  ctx.stmt(sql.INSERT_RELOAD).run(...reloadToValues(reload, 'integer'));
}

export function insertReloadUnlessPending(ctx: SqliteContext, reload: Reload): Reload | undefined {
  return ctx.db.transaction(() => {
    const row = ctx.stmt(sql.PENDING_RELOAD_OF_APP).get({ tenant_id: reload.tenantId, app_id: reload.appId }) as ReloadRow | undefined;
    if (row) return reloadFromRow(row);
    insertRow(ctx, reload);
    return undefined;
  }).immediate();
}

export function getReload(ctx: SqliteContext, tenantId: string, id: string): Reload | undefined {
  const row = ctx.stmt(sql.GET_RELOAD).get({ tenant_id: tenantId, id }) as ReloadRow | undefined;
  return row && reloadFromRow(row);
}

function listQuery(q: Omit<ReloadListQuery, 'limit'>, select: 'rows' | 'exists') {
  const bound = q.below !== undefined ? 'below' : q.above !== undefined ? 'above' : 'none';
  const shape = {
    user: q.userId !== undefined,
    app: q.appId !== undefined,
    resource: q.resourceId !== undefined,
    status: q.status !== undefined,
    partial: q.partial !== undefined,
    combinations: q.combinations !== undefined,
    bound,
    inclusive: q.inclusive === true,
    sortKey: q.sortKey,
  } as const;
  const params: Record<string, unknown> = { tenant_id: q.tenantId };
  if (shape.user) params.user_id = q.userId;
  if (shape.app) params.app_id = q.appId;
  if (shape.resource) params.resource_id = q.resourceId;
  if (shape.status) params.status = q.status;
  if (shape.partial) params.partial = q.partial ? 1 : 0;
  if (shape.combinations) params.combinations = JSON.stringify(q.combinations);
  if (bound !== 'none') params.bound_id = q.below ?? q.above;
  if (bound !== 'none' && q.sortKey !== undefined) params.bound_key = q.boundKey;
  return { text: sql.listReloadsSql(shape, select), params };
}

export function listReloads(ctx: SqliteContext, q: ReloadListQuery): Reload[] {
  const { text, params } = listQuery(q, 'rows');
  const rows = (ctx.stmt(text).all({ ...params, limit: q.limit }) as ReloadRow[]).map(reloadFromRow);
  return q.above !== undefined ? rows.reverse() : rows;
}

export function anyReload(ctx: SqliteContext, q: Omit<ReloadListQuery, 'limit'>): boolean {
  const { text, params } = listQuery(q, 'exists');
  return ctx.stmt(text).get(params) !== undefined;
}

export function requestCancel(ctx: SqliteContext, tenantId: string, id: string, now: number): ReloadStatus | undefined {
  return ctx.db.transaction(() => {
    if (ctx.stmt(sql.CANCEL_QUEUED).run({ tenant_id: tenantId, id, now }).changes === 1) return 'CANCELED' as const;
    if (ctx.stmt(sql.CANCEL_RUNNING).run({ tenant_id: tenantId, id }).changes === 1) return 'CANCELING' as const;
    const row = ctx.stmt(sql.RELOAD_STATUS).get({ tenant_id: tenantId, id }) as { status: ReloadStatus } | undefined;
    return row?.status;
  }).immediate();
}

export function prune(ctx: SqliteContext, before: number, limit: number): PruneResult {
  return ctx.db.transaction(() => ({
    reloads: ctx.stmt(sql.PRUNE_RELOADS).run({ before, limit }).changes,
    occurrences: ctx.stmt(sql.PRUNE_OCCURRENCES).run({ before, limit }).changes,
  })).immediate();
}

export function listOccurrences(ctx: SqliteContext, tenantId: string, taskId: string, limit: number, before?: number): OccurrenceRecord[] {
  const rows = ctx.stmt(sql.LIST_OCCURRENCES).all({ tenant_id: tenantId, task_id: taskId, before: before ?? Number.MAX_SAFE_INTEGER, limit }) as Array<{
    task_id: string;
    nominal_time: number;
    outcome: Outcome;
    reload_id: string | null;
    recorded_at: number;
  }>;
  return rows.map((r) => ({ taskId: r.task_id, nominalTime: r.nominal_time, outcome: r.outcome, reloadId: r.reload_id, recordedAt: r.recorded_at }));
}
