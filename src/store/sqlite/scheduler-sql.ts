/**
 * The scheduler's SQL on SQLite: finding due tasks, recording occurrences, the reload queue and
 * its leases, and the failure policy. One named statement each, with its purpose and parameters.
 */
import { RELOAD_COLUMNS } from '../reload-row.js';
import { TASK_FIELDS } from '../row.js';

/** In TASK_FIELDS order (DUE_TASKS is read raw, by fromValues; its `active` comes after). */
const TASK_COLUMNS = TASK_FIELDS.map((f) => `t.${f}`).join(', ');

/**
 * Enabled tasks due at `now`, earliest first (the partial index reload_tasks_due). Whether a reload
 * of each is active is read only when the overlap policy asks (ACTIVE_WALK). Params: now, limit.
 */
export const DUE_TASKS = `SELECT ${TASK_COLUMNS}, t.rowid
  FROM reload_tasks t
  WHERE t.state = 'Enabled' AND t.next_execution_time IS NOT NULL AND t.next_execution_time <= @now
  ORDER BY t.next_execution_time LIMIT @limit`;

/**
 * A task's reloads older than a given id, newest first, from both levels of its keys
 * (reload_keys_by_resource and reload_keys_by_resource_new, merged by id), with what says whether
 * one is active: read until the first reload that ever started (hasActiveReload in scheduling.ts).
 * Positional params, twice (one set per level): tenant_id, resource_id, id (an id above every
 * reload's to read them all).
 */
const activeArm = (table: string) => `SELECT r.status, r.start_time, k.id AS id FROM ${table} k JOIN reloads r ON r.id = k.id
  WHERE k.tenant_id = ? AND k.resource_id = ? AND k.id < ? AND r.resource_type = 'reload-tasks'`;
export const ACTIVE_WALK = `${activeArm('reload_keys_by_resource_new')} UNION ALL ${activeArm('reload_keys_by_resource')} ORDER BY id DESC`;

/** Whether an occurrence of a task was recorded as missed or skipped. Positional params: task_id, nominal_time. */
export const OCCURRENCE_RECORDED = `SELECT 1 FROM occurrences WHERE task_id = ? AND nominal_time = ?`;

/**
 * Record a missed or skipped occurrence once: a second insert for the same (task, nominal time)
 * changes nothing. (A fired occurrence's record is its reload: see fireDue.)
 * Positional params (cheaper to bind than named ones; this and ADVANCE_TASK run once per firing):
 * task_id, nominal_time, tenant_id, outcome, reload_id, recorded_at.
 */
export const INSERT_OCCURRENCE = `INSERT INTO occurrences (task_id, nominal_time, tenant_id, outcome, reload_id, recorded_at)
  VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`;

/**
 * Insert a fired occurrence's scheduled reload, its record. Only what differs between scheduled
 * reloads is bound (binding is per parameter, and a firing runs this once); the rest is what
 * `scheduledReload` makes of every firing (QUEUED, chronos, nothing started, no lease; weight and
 * variables at the columns' defaults), and the store's tests read each fired reload back and compare
 * it with the one fireDue returned. Positional params: id, tenant_id, user_id, app_id, partial,
 * resource_id, scheduled_time, creation_time. `OR FAIL`: see INSERT_RELOAD.
 */
export const INSERT_SCHEDULED_RELOAD = `INSERT OR FAIL INTO reloads (id, tenant_id, user_id, app_id, partial, type, resource_type, resource_id,
  scheduled_time, status, creation_time, attempts) VALUES (?, ?, ?, ?, ?, 'chronos', 'reload-tasks', ?, ?, 'QUEUED', ?, 0)`;

/**
 * Advance a task past the occurrences just recorded, if nobody changed it meanwhile. Found by the
 * rowid DUE_TASKS read (one b-tree search instead of two: the id's index, then the table); the id
 * is checked too. Positional params, in this order: next_execution_time, last_execution_time,
 * state, missed, log, now, rowid, id, version (as read).
 */
export const ADVANCE_TASK = `UPDATE reload_tasks SET next_execution_time = ?,
  last_execution_time = coalesce(?, last_execution_time), state = ?,
  missed_count = missed_count + ?, log = coalesce(?, log), updated_at = ?, version = version + 1
  WHERE rowid = ? AND id = ? AND version = ?`;

/** The earliest next execution of an enabled task. */
export const NEXT_DUE = `SELECT min(next_execution_time) AS t FROM reload_tasks WHERE state = 'Enabled' AND next_execution_time IS NOT NULL`;

/**
 * The tenants that have queued reloads: a skip scan of reloads_by_status (status, tenant_id, id)
 * within status = 'QUEUED', one index seek per such tenant (the first tenant after the last one),
 * so that each tenant's queue is looked at on its own however long another tenant's is, and
 * tenants with only history cost nothing.
 */
export const QUEUED_TENANTS = `WITH RECURSIVE tenants(tenant_id) AS (
    SELECT (SELECT tenant_id FROM reloads WHERE status = 'QUEUED' ORDER BY status, tenant_id LIMIT 1)
    UNION ALL
    SELECT (SELECT r.tenant_id FROM reloads r WHERE r.status = 'QUEUED' AND r.tenant_id > t.tenant_id ORDER BY r.status, r.tenant_id LIMIT 1)
    FROM tenants t WHERE t.tenant_id IS NOT NULL
  )
  SELECT t.tenant_id FROM tenants t WHERE t.tenant_id IS NOT NULL`;

/** Reloads running now, per tenant. */
export const RUNNING_BY_TENANT = `SELECT tenant_id, count(*) AS n FROM reloads WHERE status IN ('RELOADING', 'CANCELING') GROUP BY tenant_id`;

/**
 * The task a reload belongs to: its resource is a task only with resourceType `reload-tasks`; other
 * resource ids are the client's own (POST /reloads) and order nothing.
 */
const TASK_OF_RELOAD = `CASE WHEN q.resource_type = 'reload-tasks' THEN q.resource_id END`;

/**
 * A tenant's queued reloads of a weight above 1 (POST /reloads' `weight`, 1..10, as Qlik describes
 * it: "the sooner the reload will be scheduled relative to other reloads for the same tenant"),
 * heaviest first, then the oldest, from reloads_weighted_queue, which holds only them; read until
 * the dispatcher has found enough that may start (startable in scheduling.ts). Params: tenant_id.
 */
export const TENANT_QUEUED_WEIGHTED = `SELECT q.id, ${TASK_OF_RELOAD} FROM reloads q
  WHERE q.tenant_id = @tenant_id AND q.status = 'QUEUED' AND q.weight > 1
  ORDER BY q.weight DESC, q.id`;

/**
 * The same for the reloads of weight 1 (every scheduled reload), oldest first, from
 * reloads_by_status (status, tenant_id, id). Params: tenant_id.
 */
export const TENANT_QUEUED = `SELECT q.id, ${TASK_OF_RELOAD} FROM reloads q
  WHERE q.tenant_id = @tenant_id AND q.status = 'QUEUED' AND q.weight = 1
  ORDER BY q.id`;

/**
 * Start a queued reload under a lease. No RETURNING: SQLite builds RETURNING rows in a temporary
 * table, which made this statement twice as dear (28 against 15 µs a row, measured); the caller
 * reads the row first in the same transaction and applies these changes to it. Params: id, now,
 * owner, lease_until, executor.
 */
export const START_RELOAD = `UPDATE reloads SET status = 'RELOADING', start_time = @now, lease_owner = @owner,
  lease_until = @lease_until, executor = @executor, attempts = attempts + 1
  WHERE id = @id AND status = 'QUEUED'`;

/** Extend the leases of an owner's running reloads. Params: owner, ids (JSON array), lease_until. */
export const RENEW_LEASES = `UPDATE reloads SET lease_until = @lease_until
  WHERE lease_owner = @owner AND status IN ('RELOADING', 'CANCELING') AND id IN (SELECT value FROM json_each(@ids))`;

/** Which of these reloads were asked to stop. Params: ids (JSON array). */
export const CANCELING_AMONG = `SELECT id FROM reloads WHERE status = 'CANCELING' AND id IN (SELECT value FROM json_each(@ids))`;

/** Active reloads whose lease has expired. Params: now, limit. */
export const EXPIRED_LEASES = `SELECT id FROM reloads WHERE status IN ('RELOADING', 'CANCELING') AND lease_until < @now LIMIT @limit`;

/** Take over an expired lease (only if still expired). Params: id, now, owner, lease_until. */
export const TAKE_LEASE = `UPDATE reloads SET lease_owner = @owner, lease_until = @lease_until
  WHERE id = @id AND status IN ('RELOADING', 'CANCELING') AND lease_until < @now RETURNING ${RELOAD_COLUMNS}`;

/** Record a running reload's id at its executor. Params: id, external_id. */
export const SET_EXTERNAL_ID = `UPDATE reloads SET external_id = @external_id WHERE id = @id`;

/**
 * End an active reload (no RETURNING, as START_RELOAD: the caller read the row in the same
 * transaction). Params: id, status, now, log, error_code, error_message.
 */
export const FINISH_RELOAD = `UPDATE reloads SET status = @status, end_time = @now, log = coalesce(@log, log),
  error_code = @error_code, error_message = @error_message, lease_owner = NULL, lease_until = NULL
  WHERE id = @id AND status IN ('QUEUED', 'RELOADING', 'CANCELING')`;

/** A failed scheduled reload counts against its task. Params: id, now. */
export const COUNT_FAILURE = `UPDATE reload_tasks SET consecutive_failures = consecutive_failures + 1, updated_at = @now,
  version = version + 1 WHERE id = @id RETURNING consecutive_failures, state`;

/** A successful one resets the count. Params: id, now. */
export const RESET_FAILURES = `UPDATE reload_tasks SET consecutive_failures = 0, updated_at = @now, version = version + 1
  WHERE id = @id AND consecutive_failures <> 0`;

/** Disable a task (failures, owner gone). Params: id, code, log, now. */
export const DISABLE_TASK = `UPDATE reload_tasks SET state = 'Disabled', disabled_code = @code, log = @log,
  next_execution_time = NULL, updated_at = @now, version = version + 1 WHERE id = @id AND state = 'Enabled'`;

/**
 * Queued reloads created before a bound. Ids begin with their creation millisecond, so `bound_id`
 * (that millisecond's prefix) stops the index scan at the bound instead of reading the whole queue.
 * Params: before, bound_id, limit.
 */
export const OLD_QUEUED = `SELECT id FROM reloads WHERE status = 'QUEUED' AND id < @bound_id AND creation_time < @before ORDER BY id LIMIT @limit`;

/** The oldest queued reload's id and creation time. */
export const OLDEST_QUEUED = `SELECT id, creation_time AS t FROM reloads WHERE status = 'QUEUED' ORDER BY id LIMIT 1`;

/** Tasks of an app that reload when its data changes. Params: tenant_id, app_id. */
export const AUTO_RELOAD_TASKS = `SELECT ${TASK_COLUMNS} FROM reload_tasks t
  WHERE t.tenant_id = @tenant_id AND t.app_id = @app_id AND t.auto_reload = 1 AND t.state = 'Enabled'`;

/** Disable every enabled task of a user. Params: tenant_id, user_id, code, now. */
export const DISABLE_USER_TASKS = `UPDATE reload_tasks SET state = 'Disabled', disabled_code = @code, next_execution_time = NULL,
  updated_at = @now, version = version + 1 WHERE tenant_id = @tenant_id AND user_id = @user_id AND state <> 'Disabled'`;

/** Delete every task of an app. Params: tenant_id, app_id. */
export const DELETE_APP_TASKS = `DELETE FROM reload_tasks WHERE tenant_id = @tenant_id AND app_id = @app_id`;
