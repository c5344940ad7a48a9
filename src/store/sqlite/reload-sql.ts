/**
 * The SQL of the reloads and occurrences tables on SQLite, one named statement each, with its
 * purpose and parameters.
 */
import { RELOAD_COLUMNS } from '../reload-row.js';
import type { ReloadSortKey } from '../store.js';

export const ACTIVE = `('QUEUED', 'RELOADING', 'CANCELING')`;
export const RUNNING = `('RELOADING', 'CANCELING')`;

/**
 * Insert a reload. Params: every column, positional in RELOAD_COLUMNS order (reloadToValues).
 * `OR FAIL`: the insert also writes the reload's list keys (migration 000009's trigger), and a
 * statement that writes two tables and may abort makes SQLite copy each page it changes, that the
 * transaction had changed before, into a statement journal, a temporary file, so that the statement
 * alone can be undone: 32 µs of a firing's 60 (8,000 firings with two million reloads on record).
 * FAIL undoes nothing of the statement on a failure; a reload's insert fails only before writing
 * (a duplicate id, a check), and the caller's transaction is rolled back on any failure anyway.
 */
export const INSERT_RELOAD = `INSERT OR FAIL INTO reloads (${RELOAD_COLUMNS}) VALUES (${RELOAD_COLUMNS.split(',').map(() => '?').join(', ')})`;

/** One reload of a tenant. Params: tenant_id, id. */
export const GET_RELOAD = `SELECT ${RELOAD_COLUMNS} FROM reloads WHERE tenant_id = @tenant_id AND id = @id`;

/**
 * The oldest QUEUED reload of an app in a tenant. Seeks reloads_by_status (status, tenant_id, id),
 * which holds only the queue's few entries per tenant; `+app_id` keeps SQLite from using an index
 * on app_id, should one come back (the app's list lives in key tables since migration 000009).
 * Params: tenant_id, app_id.
 */
export const PENDING_RELOAD_OF_APP = `SELECT ${RELOAD_COLUMNS} FROM reloads
  WHERE tenant_id = @tenant_id AND status = 'QUEUED' AND +app_id = @app_id ORDER BY id LIMIT 1`;

/** One reload by id, any tenant (the runner's view). Params: id. */
export const GET_RELOAD_BY_ID = `SELECT ${RELOAD_COLUMNS} FROM reloads WHERE id = @id`;

export interface ReloadListShape {
  readonly user: boolean;
  readonly app: boolean;
  readonly resource: boolean;
  readonly status: boolean;
  readonly partial: boolean;
  readonly combinations: boolean;
  readonly bound: 'none' | 'below' | 'above';
  readonly inclusive: boolean;
  readonly sortKey: ReloadSortKey | undefined;
}

/** The value a list sorted by `key` orders by: unset times sort as -1, before every time. */
export function sortExpression(key: ReloadSortKey, prefix = ''): string {
  return key === 'status' ? `${prefix}status` : `coalesce(${prefix}${key}, -1)`;
}

/**
 * The two levels of keys that list a tenant's reloads by app, owner and task (migration 000009): the
 * large one, and the small one that firings write and key-settler.ts moves into the large one.
 * Every reload's key is in exactly one of them.
 */
export const KEY_LEVELS = {
  app: { column: 'app_id', field: 'appId', settled: 'reload_keys_by_app', fresh: 'reload_keys_by_app_new' },
  user: { column: 'user_id', field: 'userId', settled: 'reload_keys_by_user', fresh: 'reload_keys_by_user_new' },
  resource: { column: 'resource_id', field: 'resourceId', settled: 'reload_keys_by_resource', fresh: 'reload_keys_by_resource_new' },
} as const;

/** RELOAD_COLUMNS of `r`, but the id of `k`: the key's order is then the output's (no sort). */
const KEYED_COLUMNS = RELOAD_COLUMNS.split(',')
  .map((c) => c.trim())
  .map((c) => (c === 'id' ? 'k.id AS id' : `r.${c}`))
  .join(', ');

/**
 * A keyset page of a tenant's reloads, newest (highest id) first. Params as the shape says; limit.
 * Filtered by task, app or owner, the page is read from both levels of that list's keys, each newest first
 * from its key, and merged (SQLite runs the two arms of the compound as co-routines and merges them;
 * LIMIT stops both), so a page reads about as many keys as it returns.
 */
export function listReloadsSql(shape: ReloadListShape, select: 'rows' | 'exists'): string {
  // The most selective list the filters name: a task's, an app's, an owner's.
  const level = shape.resource ? KEY_LEVELS.resource : shape.app ? KEY_LEVELS.app : shape.user ? KEY_LEVELS.user : undefined;
  const p = level ? 'r.' : '';
  const where = level ? [`k.tenant_id = @tenant_id`, `k.${level.column} = @${level.column}`] : ['tenant_id = @tenant_id'];
  if (shape.user && level !== KEY_LEVELS.user) where.push(`${p}user_id = @user_id`);
  if (shape.app && level !== KEY_LEVELS.app) where.push(`${p}app_id = @app_id`);
  if (shape.status) where.push(`${p}status = @status`);
  if (shape.partial) where.push(`${p}partial = @partial`);
  // @combinations: a JSON array of `status|partial|type` keys (a SCIM filter's admitted combinations).
  if (shape.combinations) where.push(`${p}status || '|' || ${p}partial || '|' || ${p}type IN (SELECT value FROM json_each(@combinations))`);
  const eq = shape.inclusive ? '=' : '';
  // Sorted by another column first: the keyset is the pair (value, id), compared as a row value.
  const key = shape.sortKey === undefined ? undefined : sortExpression(shape.sortKey, p);
  const id = level ? 'k.id' : 'id';
  const position = key === undefined ? id : `(${key}, ${id})`;
  const bound = key === undefined ? '@bound_id' : '(@bound_key, @bound_id)';
  if (shape.bound === 'below') where.push(`${position} <${eq} ${bound}`);
  if (shape.bound === 'above') where.push(`${position} >${eq} ${bound}`);
  const order = shape.bound === 'above' ? 'ASC' : 'DESC';
  const limit = select === 'rows' ? '@limit' : '1';
  if (!level) {
    const orderBy = key === undefined ? `id ${order}` : `${key} ${order}, id ${order}`;
    return `SELECT ${select === 'rows' ? RELOAD_COLUMNS : '1'} FROM reloads WHERE ${where.join(' AND ')} ORDER BY ${orderBy} LIMIT ${limit}`;
  }
  if (select === 'exists') {
    const arm = (table: string) => `SELECT 1 FROM ${table} k JOIN reloads r ON r.id = k.id WHERE ${where.join(' AND ')}`;
    return `${arm(level.fresh)} UNION ALL ${arm(level.settled)} LIMIT 1`;
  }
  // A compound's ORDER BY names output columns: the sort value is one of them.
  const columns = key === undefined ? KEYED_COLUMNS : `${KEYED_COLUMNS}, ${key} AS sort_value`;
  const arm = (table: string) => `SELECT ${columns} FROM ${table} k JOIN reloads r ON r.id = k.id WHERE ${where.join(' AND ')}`;
  const orderBy = key === undefined ? `id ${order}` : `sort_value ${order}, id ${order}`;
  return `${arm(level.fresh)} UNION ALL ${arm(level.settled)} ORDER BY ${orderBy} LIMIT ${limit}`;
}

/** Cancel a queued reload at once. Params: tenant_id, id, now. */
export const CANCEL_QUEUED = `UPDATE reloads SET status = 'CANCELED', end_time = @now, lease_owner = NULL, lease_until = NULL
  WHERE tenant_id = @tenant_id AND id = @id AND status = 'QUEUED'`;

/** Ask the runner of a running reload to stop it. Params: tenant_id, id. */
export const CANCEL_RUNNING = `UPDATE reloads SET status = 'CANCELING' WHERE tenant_id = @tenant_id AND id = @id AND status = 'RELOADING'`;

/** A reload's status. Params: tenant_id, id. */
export const RELOAD_STATUS = `SELECT status FROM reloads WHERE tenant_id = @tenant_id AND id = @id`;

/** Finished reloads older than a bound, oldest first. Params: before, limit. */
export const PRUNE_RELOADS = `DELETE FROM reloads WHERE id IN (
  SELECT id FROM reloads WHERE end_time IS NOT NULL AND end_time < @before ORDER BY end_time LIMIT @limit)`;

/** Occurrences recorded before a bound. Params: before, limit. */
export const PRUNE_OCCURRENCES = `DELETE FROM occurrences WHERE (task_id, nominal_time) IN (
  SELECT task_id, nominal_time FROM occurrences WHERE recorded_at < @before ORDER BY recorded_at LIMIT @limit)`;

/**
 * A task's occurrences, newest first: its misses and skips from `occurrences`, and its fired ones
 * from its scheduled reloads, each of which is the record of its occurrence (`scheduled_time`). A
 * task's scheduled reloads are created in the order of their times, so the newest are the highest
 * ids (the task's keys in both levels, read backwards and merged). `fired` rows in `occurrences` were written by
 * earlier builds (their reloads hold the same) and are left out. Params: tenant_id, task_id, before, limit.
 */
function firedArm(table: string): string {
  return `SELECT r.resource_id AS task_id, r.scheduled_time AS nominal_time, 'fired' AS outcome, k.id AS reload_id, r.creation_time AS recorded_at
    FROM ${table} k JOIN reloads r ON r.id = k.id
    WHERE k.tenant_id = @tenant_id AND k.resource_id = @task_id AND r.type = 'chronos' AND r.scheduled_time < @before`;
}

export const LIST_OCCURRENCES = `SELECT * FROM (
    SELECT task_id, nominal_time, outcome, reload_id, recorded_at FROM occurrences
    WHERE task_id = @task_id AND tenant_id = @tenant_id AND nominal_time < @before AND outcome <> 'fired'
    ORDER BY nominal_time DESC LIMIT @limit)
  UNION ALL
  SELECT * FROM (
    ${firedArm(KEY_LEVELS.resource.fresh)}
    UNION ALL
    ${firedArm(KEY_LEVELS.resource.settled)}
    ORDER BY reload_id DESC LIMIT @limit)
  ORDER BY nominal_time DESC LIMIT @limit`;


