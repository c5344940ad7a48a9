/** The mapping between a Task and a reload_tasks row, shared by both dialects. */
import type { DisabledCode, Task, TaskState } from '../tasks/task.js';

export interface TaskRow {
  id: string;
  tenant_id: string;
  user_id: string;
  app_id: string;
  partial: number | boolean;
  auto_reload: number | boolean;
  auto_reload_partial: number | boolean;
  time_zone: string;
  recurrence: string | null;
  start_date_time: string | null;
  end_date_time: string | null;
  state: string;
  disabled_code: string | null;
  log: string | null;
  migrated: number | boolean;
  last_execution_time: number | string | null;
  next_execution_time: number | string | null;
  consecutive_failures: number | string;
  missed_count: number | string;
  created_at: number | string;
  updated_at: number | string;
  version: number;
}

/** SQLite stores booleans as 0/1; PostgreSQL drivers may return bigint columns as strings. */
export function toRow(task: Task, booleans: 'integer' | 'boolean'): TaskRow {
  const b = (v: boolean): number | boolean => (booleans === 'integer' ? (v ? 1 : 0) : v);
  return {
    id: task.id,
    tenant_id: task.tenantId,
    user_id: task.userId,
    app_id: task.appId,
    partial: b(task.partial),
    auto_reload: b(task.autoReload),
    auto_reload_partial: b(task.autoReloadPartial),
    time_zone: task.timeZone,
    recurrence: task.recurrence === null ? null : JSON.stringify(task.recurrence),
    start_date_time: task.startDateTime,
    end_date_time: task.endDateTime,
    state: task.state,
    disabled_code: task.disabledCode,
    log: task.log,
    migrated: b(task.migrated),
    last_execution_time: task.lastExecutionTime,
    next_execution_time: task.nextExecutionTime,
    consecutive_failures: task.consecutiveFailures,
    missed_count: task.missedCount,
    created_at: task.createdAt,
    updated_at: task.updatedAt,
    version: task.version,
  };
}

const num = (v: number | string | null): number | null => (v === null ? null : Number(v));

export function fromRow(r: TaskRow): Task {
  return {
    id: r.id,
    tenantId: r.tenant_id,
    userId: r.user_id,
    appId: r.app_id,
    partial: Boolean(r.partial),
    autoReload: Boolean(r.auto_reload),
    autoReloadPartial: Boolean(r.auto_reload_partial),
    timeZone: r.time_zone,
    recurrence: r.recurrence === null ? null : (JSON.parse(r.recurrence) as string[]),
    startDateTime: r.start_date_time,
    endDateTime: r.end_date_time,
    state: r.state as TaskState,
    disabledCode: r.disabled_code as DisabledCode | null,
    log: r.log,
    migrated: Boolean(r.migrated),
    lastExecutionTime: num(r.last_execution_time),
    nextExecutionTime: num(r.next_execution_time),
    consecutiveFailures: Number(r.consecutive_failures),
    missedCount: Number(r.missed_count),
    createdAt: Number(r.created_at),
    updatedAt: Number(r.updated_at),
    version: Number(r.version),
  };
}
