/** The mapping between a Reload and a reloads row, shared by both dialects. */
import type { Reload, ReloadStatus } from '../reloads/reload.js';

export interface ReloadRow {
  id: string;
  tenant_id: string;
  user_id: string;
  app_id: string;
  partial: number | boolean;
  type: string;
  resource_type: string | null;
  resource_id: string | null;
  scheduled_time: number | string | null;
  status: string;
  creation_time: number | string;
  start_time: number | string | null;
  end_time: number | string | null;
  log: string | null;
  error_code: string | null;
  error_message: string | null;
  executor: string | null;
  external_id: string | null;
  lease_owner: string | null;
  lease_until: number | string | null;
  attempts: number | string;
  weight: number | string;
  /** JSON text of an object of strings. */
  variables: string | null;
}

export const RELOAD_COLUMNS = `id, tenant_id, user_id, app_id, partial, type, resource_type, resource_id, scheduled_time, status,
  creation_time, start_time, end_time, log, error_code, error_message, executor, external_id, lease_owner, lease_until, attempts, weight, variables`;

export function reloadToRow(r: Reload, booleans: 'integer' | 'boolean'): ReloadRow {
  return {
    id: r.id,
    tenant_id: r.tenantId,
    user_id: r.userId,
    app_id: r.appId,
    partial: booleans === 'integer' ? (r.partial ? 1 : 0) : r.partial,
    type: r.type,
    resource_type: r.resourceType,
    resource_id: r.resourceId,
    scheduled_time: r.scheduledTime,
    status: r.status,
    creation_time: r.creationTime,
    start_time: r.startTime,
    end_time: r.endTime,
    log: r.log,
    error_code: r.errorCode,
    error_message: r.errorMessage,
    executor: r.executor,
    external_id: r.externalId,
    lease_owner: r.leaseOwner,
    lease_until: r.leaseUntil,
    attempts: r.attempts,
    weight: r.weight,
    variables: r.variables === null ? null : JSON.stringify(r.variables),
  };
}

/**
 * The same values as reloadToRow, as an array in RELOAD_COLUMNS order, for statements with
 * positional parameters: binding an array is about half the cost of binding 21 named ones in
 * better-sqlite3, and an insert per firing is on the scheduler's hot path.
 */
export function reloadToValues(r: Reload, booleans: 'integer' | 'boolean'): unknown[] {
  return [
    r.id,
    r.tenantId,
    r.userId,
    r.appId,
    booleans === 'integer' ? (r.partial ? 1 : 0) : r.partial,
    r.type,
    r.resourceType,
    r.resourceId,
    r.scheduledTime,
    r.status,
    r.creationTime,
    r.startTime,
    r.endTime,
    r.log,
    r.errorCode,
    r.errorMessage,
    r.executor,
    r.externalId,
    r.leaseOwner,
    r.leaseUntil,
    r.attempts,
    r.weight,
    r.variables === null ? null : JSON.stringify(r.variables),
  ];
}

const num = (v: number | string | null): number | null => (v === null ? null : Number(v));

export function reloadFromRow(r: ReloadRow): Reload {
  return {
    id: r.id,
    tenantId: r.tenant_id,
    userId: r.user_id,
    appId: r.app_id,
    partial: Boolean(r.partial),
    type: r.type as Reload['type'],
    resourceType: (r.resource_type ?? 'api') as Reload['resourceType'],
    resourceId: r.resource_id,
    scheduledTime: num(r.scheduled_time),
    status: r.status as ReloadStatus,
    creationTime: Number(r.creation_time),
    startTime: num(r.start_time),
    endTime: num(r.end_time),
    log: r.log,
    errorCode: r.error_code,
    errorMessage: r.error_message,
    executor: r.executor,
    externalId: r.external_id,
    leaseOwner: r.lease_owner,
    leaseUntil: num(r.lease_until),
    attempts: Number(r.attempts),
    weight: Number(r.weight),
    variables: r.variables === null ? null : (JSON.parse(r.variables) as Record<string, string>),
  };
}
