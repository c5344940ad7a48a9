/**
 * The SQL of the reload_tasks table on SQLite, one named statement each, with its purpose and
 * parameters. Rows map to Task in row.ts.
 */

import { TASK_FIELDS } from '../row.js';

/** Every column, in TASK_FIELDS order: selected rows are read raw, as arrays, by fromValues. */
const COLUMNS = TASK_FIELDS.join(', ');

/** Insert a new task. Params: every column, named as in row.ts. */
export const INSERT_TASK = `INSERT INTO reload_tasks (${COLUMNS}) VALUES (
  @id, @tenant_id, @user_id, @app_id, @partial, @auto_reload, @auto_reload_partial, @time_zone, @recurrence,
  @start_date_time, @end_date_time, @state, @disabled_code, @log, @migrated, @last_execution_time, @next_execution_time,
  @consecutive_failures, @missed_count, @created_at, @updated_at, @version)`;

/**
 * How many tasks of an app a tenant has besides one, counted up to `max` (reload_tasks_by_app).
 * Params: tenant_id, app_id, id, max.
 */
export const OTHER_TASKS_OF_APP = `SELECT count(*) FROM (SELECT 1 FROM reload_tasks
  WHERE tenant_id = @tenant_id AND app_id = @app_id AND id != @id LIMIT @max)`;

/** One task of a tenant. Params: tenant_id, id. */
export const GET_TASK = `SELECT ${COLUMNS} FROM reload_tasks WHERE tenant_id = @tenant_id AND id = @id`;

/** Replace a task if nobody changed it since it was read (version check). Params: every column. */
export const UPDATE_TASK = `UPDATE reload_tasks SET
  user_id = @user_id, app_id = @app_id, partial = @partial, auto_reload = @auto_reload,
  auto_reload_partial = @auto_reload_partial, time_zone = @time_zone, recurrence = @recurrence,
  start_date_time = @start_date_time, end_date_time = @end_date_time, state = @state,
  disabled_code = @disabled_code, log = @log, migrated = @migrated,
  last_execution_time = max(coalesce(last_execution_time, @last_execution_time), coalesce(@last_execution_time, last_execution_time)),
  next_execution_time = @next_execution_time, consecutive_failures = @consecutive_failures,
  missed_count = @missed_count, updated_at = @updated_at, version = @version
  WHERE tenant_id = @tenant_id AND id = @id AND version = @version - 1`;

/** Delete a task of a tenant. Params: tenant_id, id. */
export const DELETE_TASK = `DELETE FROM reload_tasks WHERE tenant_id = @tenant_id AND id = @id`;

export interface ListShape {
  readonly owner: boolean;
  readonly app: boolean;
  readonly partial: boolean;
  readonly bound: 'none' | 'after' | 'before';
  readonly inclusive: boolean;
}

/**
 * A keyset page: the tenant's tasks matching the filters, in id order from a bound. Params:
 * tenant_id, and as the shape says user_id, app_id, partial, bound_id; limit. Each filter has an
 * index ending in id (migration 000001), so the page costs the same at any depth.
 */
export function listTasksSql(shape: ListShape, select: 'rows' | 'exists'): string {
  const where = ['tenant_id = @tenant_id'];
  if (shape.owner) where.push('user_id = @user_id');
  if (shape.app) where.push('app_id = @app_id');
  if (shape.partial) where.push('partial = @partial');
  const eq = shape.inclusive ? '=' : '';
  if (shape.bound === 'after') where.push(`id >${eq} @bound_id`);
  if (shape.bound === 'before') where.push(`id <${eq} @bound_id`);
  const order = shape.bound === 'before' ? 'DESC' : 'ASC';
  const what = select === 'rows' ? COLUMNS : '1';
  return `SELECT ${what} FROM reload_tasks WHERE ${where.join(' AND ')} ORDER BY id ${order} LIMIT ${select === 'rows' ? '@limit' : '1'}`;
}

/** A service-wide value. Params: name. */
export const GET_META = `SELECT value FROM service_meta WHERE name = @name`;

/** Store a service-wide value unless one exists (the first writer wins). Params: name, value. */
export const INSERT_META = `INSERT INTO service_meta (name, value) VALUES (@name, @value) ON CONFLICT (name) DO NOTHING`;
