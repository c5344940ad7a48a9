/**
 * The SQL of the PostgreSQL store, one named statement each, with its purpose and parameters.
 * Batches go in as arrays and come apart with unnest(), so a firing batch is four statements
 * whatever its size.
 */
import { RELOAD_COLUMNS, type ReloadRow } from '../reload-row.js';
import { TASK_FIELDS } from '../row.js';
import type { ReloadListQuery, TaskListQuery } from '../store.js';

const TASK_COLUMNS = TASK_FIELDS.join(', ');
const placeholders = (n: number): string => Array.from({ length: n }, (_, i) => `$${i + 1}`).join(', ');

/** Insert a task. Params: TASK_FIELDS in order. */
export const INSERT_TASK = `INSERT INTO reload_tasks (${TASK_COLUMNS}) VALUES (${placeholders(TASK_FIELDS.length)})`;

/** Serialises the saves that count an app's tasks (a transaction-scoped lock). Params: tenant_id, app_id. */
export const APP_TASKS_LOCK = `SELECT pg_advisory_xact_lock(hashtextextended($1 || chr(1) || $2, ${0x7461_736b}))`;

/** How many tasks of an app a tenant has besides one, counted up to `max`. Params: tenant_id, app_id, id, max. */
export const OTHER_TASKS_OF_APP = `SELECT count(*)::int AS n FROM (SELECT 1 FROM reload_tasks
  WHERE tenant_id = $1 AND app_id = $2 AND id <> $3 LIMIT $4) AS t`;

/** One task of a tenant. Params: tenant_id, id. */
export const GET_TASK = `SELECT ${TASK_COLUMNS} FROM reload_tasks WHERE tenant_id = $1 AND id = $2`;

/** Replace a task if its stored version is the one before (optimistic concurrency). Params: TASK_FIELDS. */
export const UPDATE_TASK = `UPDATE reload_tasks SET ${TASK_FIELDS.slice(1)
  .filter((f) => f !== 'tenant_id')
  .map((f) => `${f} = $${TASK_FIELDS.indexOf(f) + 1}`)
  .join(', ')} WHERE id = $1 AND tenant_id = $2 AND version = $${TASK_FIELDS.indexOf('version') + 1} - 1`;

/** Delete a task of a tenant. Params: tenant_id, id. */
export const DELETE_TASK = `DELETE FROM reload_tasks WHERE tenant_id = $1 AND id = $2`;

/** A keyset page of tasks in id order (see migration 000001 for the index of each filter). */
export function listTasks(q: TaskListQuery, select: 'rows' | 'exists'): { text: string; params: unknown[] } {
  const params: unknown[] = [q.tenantId];
  const where = ['tenant_id = $1'];
  const add = (clause: string, value: unknown): void => {
    params.push(value);
    where.push(clause.replace('?', `$${params.length}`));
  };
  if (q.userId !== undefined) add('user_id = ?', q.userId);
  if (q.appId !== undefined) add('app_id = ?', q.appId);
  if (q.partial !== undefined) add('partial = ?', q.partial);
  const eq = q.inclusive ? '=' : '';
  if (q.after !== undefined) add(`id >${eq} ?`, q.after);
  if (q.before !== undefined) add(`id <${eq} ?`, q.before);
  params.push(select === 'rows' ? q.limit : 1);
  const order = q.before !== undefined ? 'DESC' : 'ASC';
  return { text: `SELECT ${select === 'rows' ? TASK_COLUMNS : '1'} FROM reload_tasks WHERE ${where.join(' AND ')} ORDER BY id ${order} LIMIT $${params.length}`, params };
}

/**
 * A task's occurrences, newest first: its misses and skips from `occurrences`, and its fired ones
 * from its scheduled reloads (migration 7; see the SQLite twin). `fired` rows in `occurrences` were
 * written before migration 7 (their reloads hold the same) and are left out. Params: tenant_id,
 * task_id, before, limit.
 */
export const LIST_OCCURRENCES = `SELECT * FROM (
    (SELECT task_id, nominal_time, outcome, reload_id, recorded_at FROM occurrences
      WHERE tenant_id = $1 AND task_id = $2 AND nominal_time < $3 AND outcome <> 'fired'
      ORDER BY nominal_time DESC LIMIT $4)
    UNION ALL
    (SELECT resource_id AS task_id, scheduled_time AS nominal_time, 'fired' AS outcome, id AS reload_id, creation_time AS recorded_at FROM reloads
      WHERE resource_id = $2 AND type = 'chronos' AND scheduled_time < $3 AND tenant_id = $1
      ORDER BY scheduled_time DESC LIMIT $4)
  ) o ORDER BY nominal_time DESC LIMIT $4`;

export const RELOAD_FIELDS: ReadonlyArray<keyof ReloadRow> = RELOAD_COLUMNS.split(',').map((c) => c.trim() as keyof ReloadRow);

/** Insert a reload. Params: RELOAD_FIELDS in order. */
export const INSERT_RELOAD = `INSERT INTO reloads (${RELOAD_COLUMNS}) VALUES (${placeholders(RELOAD_FIELDS.length)})`;

/** The oldest QUEUED reload of an app in a tenant. Params: tenant_id, app_id. */
export const PENDING_RELOAD_OF_APP = `SELECT ${RELOAD_COLUMNS} FROM reloads
  WHERE tenant_id = $1 AND status = 'QUEUED' AND app_id = $2 ORDER BY id LIMIT 1`;

/**
 * Serialises "queue a reload of this app unless one is pending" per tenant and app, across
 * instances, for the rest of the transaction. Params: tenant_id, app_id.
 */
export const APP_RELOAD_LOCK = `SELECT pg_advisory_xact_lock(hashtextextended($1 || chr(1) || $2, ${0x6170_7073}))`;

/** One reload of a tenant. Params: tenant_id, id. */
export const GET_RELOAD = `SELECT ${RELOAD_COLUMNS} FROM reloads WHERE tenant_id = $1 AND id = $2`;

/** A keyset page of reloads, newest (highest id) first. */
export function listReloads(q: ReloadListQuery, select: 'rows' | 'exists'): { text: string; params: unknown[] } {
  const params: unknown[] = [q.tenantId];
  const where = ['tenant_id = $1'];
  const add = (clause: string, value: unknown): void => {
    params.push(value);
    where.push(clause.replace('?', `$${params.length}`));
  };
  if (q.userId !== undefined) add('user_id = ?', q.userId);
  if (q.appId !== undefined) add('app_id = ?', q.appId);
  if (q.resourceId !== undefined) add('resource_id = ?', q.resourceId);
  if (q.status !== undefined) add('status = ?', q.status);
  if (q.partial !== undefined) add('partial = ?', q.partial);
  if (q.combinations !== undefined) add(`status || '|' || partial::int || '|' || type = ANY(?::text[])`, q.combinations);
  const eq = q.inclusive ? '=' : '';
  // Sorted by another column first: the keyset is the pair (value, id), compared as a row value.
  const key = q.sortKey === undefined ? undefined : q.sortKey === 'status' ? 'status' : `coalesce(${q.sortKey}, -1)`;
  const bounded = (op: string, id: string): void => {
    if (key === undefined) return add(`id ${op}${eq} ?`, id);
    params.push(q.boundKey, id);
    where.push(`(${key}, id) ${op}${eq} ($${params.length - 1}::${q.sortKey === 'status' ? 'text' : 'bigint'}, $${params.length}::text)`);
  };
  if (q.below !== undefined) bounded('<', q.below);
  if (q.above !== undefined) bounded('>', q.above);
  params.push(select === 'rows' ? q.limit : 1);
  const order = q.above !== undefined ? 'ASC' : 'DESC';
  const orderBy = key === undefined ? `id ${order}` : `${key} ${order}, id ${order}`;
  return { text: `SELECT ${select === 'rows' ? RELOAD_COLUMNS : '1'} FROM reloads WHERE ${where.join(' AND ')} ORDER BY ${orderBy} LIMIT $${params.length}`, params };
}

/**
 * Cancel: a queued reload ends CANCELED, a running one becomes CANCELING; answers the status after
 * (or the unchanged one). Params: tenant_id, id, now.
 */
export const REQUEST_CANCEL = `WITH queued AS (
    UPDATE reloads SET status = 'CANCELED', end_time = $3, lease_owner = NULL, lease_until = NULL
    WHERE tenant_id = $1 AND id = $2 AND status = 'QUEUED' RETURNING status
  ), running AS (
    UPDATE reloads SET status = 'CANCELING' WHERE tenant_id = $1 AND id = $2 AND status = 'RELOADING' RETURNING status
  )
  SELECT status FROM queued UNION ALL SELECT status FROM running
  UNION ALL SELECT status FROM reloads WHERE tenant_id = $1 AND id = $2 AND NOT EXISTS (SELECT 1 FROM queued) AND NOT EXISTS (SELECT 1 FROM running)`;

/**
 * Finished reloads older than a bound, oldest first; rows another instance's prune holds are
 * passed over, so instances pruning at once delete different rows instead of queueing on the same
 * ones. Params: before, limit.
 */
export const PRUNE_RELOADS = `DELETE FROM reloads WHERE id IN (
  SELECT id FROM reloads WHERE end_time IS NOT NULL AND end_time < $1 ORDER BY end_time LIMIT $2 FOR UPDATE SKIP LOCKED)`;

/** Occurrences recorded before a bound, oldest first, passing over held rows. Params: before, limit. */
export const PRUNE_OCCURRENCES = `DELETE FROM occurrences WHERE (task_id, nominal_time) IN (
  SELECT task_id, nominal_time FROM occurrences WHERE recorded_at < $1 ORDER BY recorded_at LIMIT $2 FOR UPDATE SKIP LOCKED)`;

// The scheduler.

/**
 * Enabled tasks due at `now`, earliest first, locked for this transaction; those another instance
 * holds are skipped, not waited for. With whether a reload of each is active. Params: now, limit.
 */
// "Is a reload of this task active?" is a LATERAL probe with LIMIT 1, not an EXISTS: during a herd
// the statistics say there are almost no active reloads, so the planner turned the EXISTS into a
// hashed subplan that read every active reload once per batch (O(n²) over a herd; 48 ms per batch of
// 1000 at 100,000, docs/benchmarks-postgres.md). The LATERAL form is one index probe per task.
//
// Due tasks are found through task_due (migration 5: the due queue lives in its own narrow table so
// that advancing a task is a HOT update). Its rows are claimed first, in the CTE, with SKIP LOCKED:
// a batch of another instance (or another lane of this one) is stepped over at the cost of an index
// entry and a lock test each, where locking only the task row stepped over each held task after
// joining its row and probing its reloads (100,000 due, 2 instances: 19,554-22,381 firings/s
// against 16,653-19,897, docs/benchmarks-postgres.md). The task row is locked too (SKIP LOCKED:
// an API change in progress holds it) and its own state and next_execution_time are tested again.
// No claim ever waits for a lock, so taking task_due's row before the task's cannot deadlock with
// a writer that takes them the other way round (an update of reload_tasks, then its trigger).
// When another instance's advance committed after this statement's snapshot, PostgreSQL re-checks
// the locked task_due row's newest version (EvalPlanQual): its due_at is then the next one, and the
// task is dropped instead of taken a second time.
const dueTasks = (after: string): string => `WITH c AS MATERIALIZED (
    SELECT d.task_id, d.due_at FROM task_due d
    WHERE d.due_at <= $1${after}
    ORDER BY d.due_at, d.task_id LIMIT $2 FOR UPDATE SKIP LOCKED
  )
  SELECT ${TASK_FIELDS.map((f) => `t.${f}`).join(', ')}, a.active IS NOT NULL AS active, c.due_at
  FROM c
  JOIN reload_tasks t ON t.id = c.task_id
  LEFT JOIN LATERAL (SELECT true AS active FROM reloads r
    WHERE r.resource_id = t.id AND r.status IN ('QUEUED', 'RELOADING', 'CANCELING') AND r.resource_type = 'reload-tasks' LIMIT 1) a ON true
  WHERE t.state = 'Enabled' AND t.next_execution_time IS NOT NULL AND t.next_execution_time <= $1
  ORDER BY c.due_at, c.task_id FOR UPDATE OF t SKIP LOCKED`;
export const DUE_TASKS = dueTasks('');
/**
 * DUE_TASKS from a position on (exclusive): a batch that runs beside another starts where the
 * other's claim ended, as a seek in task_due_by_time (the row comparison is its index condition),
 * instead of stepping over the other's locked rows one by one. Params: now, limit, due_at, task_id.
 */
export const DUE_TASKS_AFTER = dueTasks(' AND (d.due_at, d.task_id) > ($3::bigint, $4::text)');

/**
 * Record missed and skipped occurrences once each; returns those actually inserted (a conflict
 * means another instance or an earlier attempt recorded it). Params: arrays task_id, nominal_time,
 * tenant_id, outcome; recorded_at.
 */
export const INSERT_OCCURRENCES = `INSERT INTO occurrences (task_id, nominal_time, tenant_id, outcome, reload_id, recorded_at)
  SELECT u.task_id, u.nominal_time, u.tenant_id, u.outcome, NULL, $5
  FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[]) AS u(task_id, nominal_time, tenant_id, outcome)
  ON CONFLICT DO NOTHING RETURNING task_id, nominal_time`;

/**
 * Insert the scheduled reloads of fired occurrences, each the record of its occurrence: one whose
 * (task, nominal time) is on record already, as a reload (the unique index reloads_occurrence,
 * migration 7) or as a miss or skip, is left out. Returns the ids inserted.
 *
 * Only what differs between them travels as arrays (id, tenant_id, user_id, app_id, partial,
 * resource_id, scheduled_time); the rest is what `scheduledReload` makes of every firing (QUEUED,
 * chronos, created now, nothing started; weight and variables at the columns' defaults), written
 * here as constants, and the store's tests read each fired reload back and compare it with the one
 * fireDue returned. Fourteen arrays of a thousand mostly NULL elements fewer to serialise and parse
 * per batch. Params: the seven arrays; creation_time.
 */
export const INSERT_RELOADS = `INSERT INTO reloads (id, tenant_id, user_id, app_id, partial, type, resource_type, resource_id,
    scheduled_time, status, creation_time, attempts)
  SELECT u.id, u.tenant_id, u.user_id, u.app_id, u.partial, 'chronos', 'reload-tasks', u.resource_id, u.scheduled_time, 'QUEUED', $8, 0
  FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::boolean[], $6::text[], $7::bigint[])
    AS u(id, tenant_id, user_id, app_id, partial, resource_id, scheduled_time)
  WHERE NOT EXISTS (SELECT 1 FROM occurrences o WHERE o.task_id = u.resource_id AND o.nominal_time = u.scheduled_time)
  ON CONFLICT DO NOTHING RETURNING id`;

/**
 * Advance tasks past their recorded occurrences, each only if nobody changed it meanwhile.
 * Params: arrays id, version, next_execution_time, last_execution_time, state, missed, log; now.
 */
export const ADVANCE_TASKS = `UPDATE reload_tasks t SET next_execution_time = u.next, last_execution_time = coalesce(u.last, t.last_execution_time),
  state = u.state, missed_count = t.missed_count + u.missed, log = coalesce(u.log, t.log), updated_at = $8, version = t.version + 1
  FROM unnest($1::text[], $2::integer[], $3::bigint[], $4::bigint[], $5::text[], $6::integer[], $7::text[]) AS u(id, version, next, last, state, missed, log)
  WHERE t.id = u.id AND t.version = u.version`;

/** The earliest next execution of an enabled task. */
export const NEXT_DUE = `SELECT min(due_at) AS t FROM task_due WHERE due_at IS NOT NULL`;

/** Serialises claims across instances, so per-tenant counts cannot be overrun by two at once. */
export const CLAIM_LOCK = `SELECT pg_advisory_xact_lock(${0x7265_6c65})`;

/** How many reloads are running. */
export const RUNNING_COUNT = `SELECT count(*)::int AS n FROM reloads WHERE status IN ('RELOADING', 'CANCELING')`;

/**
 * A queued reload of a task may start unless the task has one running, or an older one queued (one
 * reload per task at a time, in the order they were queued; mayStart in the SQLite store). A
 * reload's resource is a task only with resourceType `reload-tasks`; other resource ids are the
 * client's own (POST /reloads) and order nothing. `q` is the queued reload.
 */
const MAY_START = `(q.resource_id IS NULL OR q.resource_type IS DISTINCT FROM 'reload-tasks' OR NOT EXISTS (SELECT 1 FROM reloads b
    WHERE b.resource_id = q.resource_id AND b.status IN ('QUEUED', 'RELOADING', 'CANCELING') AND b.resource_type = 'reload-tasks'
    AND (b.status <> 'QUEUED' OR b.id < q.id)))`;

/**
 * Queued reloads to start now, by the rules of the SQLite store's `startable`: of the room
 * (`limit`), each tenant with queued reloads and free slots (per_tenant minus its running reloads)
 * gets an equal share, at most its free slots, which goes to its queued reloads that may start,
 * heaviest first (reloads_weighted_queue holds those above weight 1), then the oldest
 * (reloads_by_status, read only as far as the share needs); of all the tenants' picks, the oldest
 * `limit`. The tenants are found by a skip scan of reloads_by_status (status, tenant_id, id) within
 * status = 'QUEUED', one seek per tenant with a queue (migration 9; before it, one per tenant on
 * record), so one tenant's backlog hides nothing of another's. Params: per_tenant, limit.
 */
export const STARTABLE = `WITH RECURSIVE tenants AS (
    (SELECT tenant_id FROM reloads WHERE status = 'QUEUED' ORDER BY status, tenant_id LIMIT 1)
    UNION ALL
    SELECT (SELECT r.tenant_id FROM reloads r WHERE r.status = 'QUEUED' AND r.tenant_id > t.tenant_id ORDER BY r.status, r.tenant_id LIMIT 1)
    FROM tenants t WHERE t.tenant_id IS NOT NULL
  ), running AS (
    SELECT tenant_id, count(*)::int AS n FROM reloads WHERE status IN ('RELOADING', 'CANCELING') GROUP BY tenant_id
  ), free AS (
    SELECT t.tenant_id, $1::int - coalesce(r.n, 0) AS n FROM tenants t LEFT JOIN running r ON r.tenant_id = t.tenant_id
    WHERE t.tenant_id IS NOT NULL AND $1::int - coalesce(r.n, 0) > 0
  ), share AS (
    SELECT tenant_id, least(n, ceil($2::int::numeric / count(*) OVER ())::int) AS n FROM free
  ), picks AS (
    SELECT f.tenant_id, f.n, c.id, c.weight FROM share f CROSS JOIN LATERAL (
      (SELECT q.id, q.weight FROM reloads q WHERE q.tenant_id = f.tenant_id AND q.status = 'QUEUED' AND q.weight > 1 AND ${MAY_START}
        ORDER BY q.weight DESC, q.id LIMIT f.n)
      UNION ALL
      (SELECT q.id, q.weight FROM reloads q WHERE q.tenant_id = f.tenant_id AND q.status = 'QUEUED' AND q.weight = 1 AND ${MAY_START}
        ORDER BY q.id LIMIT f.n)
    ) c
  ), ranked AS (
    SELECT id, n, row_number() OVER (PARTITION BY tenant_id ORDER BY weight DESC, id) AS k FROM picks
  )
  SELECT id FROM ranked WHERE k <= n ORDER BY id LIMIT $2`;

/** Start queued reloads under a lease. Params: ids, now, owner, lease_until, executor. */
export const START_RELOADS = `UPDATE reloads SET status = 'RELOADING', start_time = $2, lease_owner = $3, lease_until = $4,
  executor = $5, attempts = attempts + 1 WHERE id = ANY($1::text[]) AND status = 'QUEUED' RETURNING ${RELOAD_COLUMNS}`;

/** Extend an owner's leases. Params: owner, ids, lease_until. */
export const RENEW_LEASES = `UPDATE reloads SET lease_until = $3 WHERE lease_owner = $1 AND status IN ('RELOADING', 'CANCELING') AND id = ANY($2::text[])`;

/** Which of these reloads were asked to stop. Params: ids. */
export const CANCELING_AMONG = `SELECT id FROM reloads WHERE status = 'CANCELING' AND id = ANY($1::text[])`;

/** Take over active reloads whose lease has expired. Params: now, owner, lease_until, limit. */
export const TAKE_EXPIRED_LEASES = `UPDATE reloads SET lease_owner = $2, lease_until = $3 WHERE id IN (
    SELECT id FROM reloads WHERE status IN ('RELOADING', 'CANCELING') AND lease_until < $1 LIMIT $4 FOR UPDATE SKIP LOCKED)
  RETURNING ${RELOAD_COLUMNS}`;

/** The earliest lease expiry of an active reload. */
export const NEXT_LEASE_EXPIRY = `SELECT min(lease_until) AS t FROM reloads WHERE status IN ('RELOADING', 'CANCELING')`;

/** Record a running reload's id at its executor. Params: id, external_id. */
export const SET_EXTERNAL_ID = `UPDATE reloads SET external_id = $2 WHERE id = $1`;

/** End an active reload. Params: id, status, now, log, error_code, error_message. */
export const FINISH_RELOAD = `UPDATE reloads SET status = $2, end_time = $3, log = coalesce($4, log), error_code = $5,
  error_message = $6, lease_owner = NULL, lease_until = NULL
  WHERE id = $1 AND status IN ('QUEUED', 'RELOADING', 'CANCELING') RETURNING ${RELOAD_COLUMNS}`;

/**
 * End many active reloads in one statement, locking them in id order (so two instances finishing
 * overlapping sets wait rather than deadlock). Params: arrays id, status, log, error_code,
 * error_message; now. Returns the reloads that were active and are now ended.
 */
export const FINISH_RELOADS = `UPDATE reloads r SET status = u.status, end_time = $6, log = coalesce(u.log, r.log), error_code = u.error_code,
  error_message = u.error_message, lease_owner = NULL, lease_until = NULL
  FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[]) AS u(id, status, log, error_code, error_message)
  WHERE r.id = u.id AND r.id IN (SELECT id FROM reloads WHERE id = ANY($1::text[]) AND status IN ('QUEUED', 'RELOADING', 'CANCELING') ORDER BY id FOR UPDATE)
  RETURNING ${RELOAD_FIELDS.map((f) => `r.${f}`).join(', ')}`;

/** Successful scheduled reloads reset their tasks' failure counts, locked in id order. Params: ids, now. */
export const RESET_FAILURES_MANY = `UPDATE reload_tasks SET consecutive_failures = 0, updated_at = $2, version = version + 1
  WHERE id IN (SELECT id FROM reload_tasks WHERE id = ANY($1::text[]) AND consecutive_failures <> 0 ORDER BY id FOR UPDATE)`;

/** A failed scheduled reload counts against its task. Params: id, now. */
export const COUNT_FAILURE = `UPDATE reload_tasks SET consecutive_failures = consecutive_failures + 1, updated_at = $2,
  version = version + 1 WHERE id = $1 RETURNING consecutive_failures, state`;

/** A successful one resets the count. Params: id, now. */
export const RESET_FAILURES = `UPDATE reload_tasks SET consecutive_failures = 0, updated_at = $2, version = version + 1
  WHERE id = $1 AND consecutive_failures <> 0`;

/** Disable a task after failures. Params: id, log, now. Returns the task. */
export const DISABLE_FOR_FAILURES = `UPDATE reload_tasks SET state = 'Disabled', disabled_code = 'CONSECUTIVE-FAILURES', log = $2,
  next_execution_time = NULL, updated_at = $3, version = version + 1 WHERE id = $1 AND state = 'Enabled' RETURNING ${TASK_COLUMNS}`;

/** Queued reloads created before a bound (id prefix bound: see the SQLite twin), locked. Params: before, limit, bound_id. */
export const OLD_QUEUED = `SELECT id FROM reloads WHERE status = 'QUEUED' AND id < $3 AND creation_time < $1 ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED`;

/** The oldest queued reload's id and creation time. */
export const OLDEST_QUEUED = `SELECT id, creation_time AS t FROM reloads WHERE status = 'QUEUED' ORDER BY id LIMIT 1`;

/** Tasks of an app that reload when its data changes. Params: tenant_id, app_id. */
export const AUTO_RELOAD_TASKS = `SELECT ${TASK_COLUMNS} FROM reload_tasks WHERE tenant_id = $1 AND app_id = $2 AND auto_reload AND state = 'Enabled'`;

/** Disable every task of a user. Params: tenant_id, user_id, code, now. */
export const DISABLE_USER_TASKS = `UPDATE reload_tasks SET state = 'Disabled', disabled_code = $3, next_execution_time = NULL,
  updated_at = $4, version = version + 1 WHERE tenant_id = $1 AND user_id = $2 AND state <> 'Disabled'`;

/** Delete every task of an app. Params: tenant_id, app_id. */
export const DELETE_APP_TASKS = `DELETE FROM reload_tasks WHERE tenant_id = $1 AND app_id = $2`;

/** A service-wide value. Params: name. */
export const GET_META = `SELECT value FROM service_meta WHERE name = $1`;

/** Store a service-wide value unless one exists (the first instance wins). Params: name, value. */
export const INSERT_META = `INSERT INTO service_meta (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING`;

/** The database's clock, the one all instances agree on. */
export const DATABASE_TIME = `SELECT (extract(epoch FROM clock_timestamp()) * 1000)::bigint AS t`;
