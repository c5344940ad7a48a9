/**
 * Reload records: one run of an app, scheduled (type `chronos`, from a task) or asked for by hand
 * (type `external`, POST /api/v1/reloads). Statuses as Qlik's Reloads API has them; QUEUED,
 * RELOADING and CANCELING are active, the others final.
 */
import { randomHex } from '../tasks/ids.js';
import type { Task } from '../tasks/task.js';

export const RELOAD_STATUSES = ['QUEUED', 'RELOADING', 'CANCELING', 'SUCCEEDED', 'FAILED', 'CANCELED', 'EXCEEDED_LIMIT'] as const;
export type ReloadStatus = (typeof RELOAD_STATUSES)[number];
export const ACTIVE_STATUSES: readonly ReloadStatus[] = ['QUEUED', 'RELOADING', 'CANCELING'];
export type FinalStatus = Extract<ReloadStatus, 'SUCCEEDED' | 'FAILED' | 'CANCELED' | 'EXCEEDED_LIMIT'>;
/** The services a reload can come from (Qlik's enum); only `reload-tasks` ties it to a task here. */
export const RESOURCE_TYPES = ['api', 'reload-tasks', 'tasks', 'automate'] as const;
export type ResourceType = (typeof RESOURCE_TYPES)[number];

export interface Reload {
  readonly id: string;
  readonly tenantId: string;
  /** The task's owner for scheduled reloads; the caller for manual ones. */
  readonly userId: string;
  readonly appId: string;
  readonly partial: boolean;
  readonly type: 'chronos' | 'external' | 'data-refresh';
  readonly resourceType: ResourceType;
  /** The task id for scheduled reloads (and resourceType `reload-tasks`); as the client sent it otherwise. */
  readonly resourceId: string | null;
  /** The occurrence's nominal time (epoch ms) for scheduled reloads. */
  readonly scheduledTime: number | null;
  readonly status: ReloadStatus;
  readonly creationTime: number;
  readonly startTime: number | null;
  readonly endTime: number | null;
  readonly log: string | null;
  readonly errorCode: string | null;
  readonly errorMessage: string | null;
  /** Which executor ran it, and its id there (a Qlik reload id). */
  readonly executor: string | null;
  readonly externalId: string | null;
  /** The instance running it and until when that claim holds (renewed while it runs). */
  readonly leaseOwner: string | null;
  readonly leaseUntil: number | null;
  readonly attempts: number;
  /** 1..10 (POST /api/v1/reloads); passed on to the executor. Scheduled reloads have 1. */
  readonly weight: number;
  /** Load-script variables (POST /api/v1/reloads), passed on to the executor; null when none. */
  readonly variables: Readonly<Record<string, string>> | null;
}

/** The most log text kept on a record: its tail, which is where the reason of a failure is. */
export const MAX_LOG = 16 * 1024;

export function boundedLog(text: string): string {
  return text.length <= MAX_LOG ? text : `[…${text.length - MAX_LOG + 64} characters cut]\n${text.slice(-(MAX_LOG - 64))}`;
}

let lastMs = 0;
let counter = 0;
/**
 * Reload ids: 24 hex like Qlik's. The first 12 are the creation millisecond and the next 6 a counter
 * within it, so ids of one process increase strictly: id order is creation order, which the queue
 * (oldest first) and the lists (newest first, keyset pages on the id) rely on. The last 6 are random.
 */
export function newReloadId(nowMs: number): string {
  let ms = Math.max(Math.floor(nowMs), lastMs);
  counter = ms === lastMs ? counter + 1 : 0;
  if (counter > 0xff_ffff) {
    ms += 1; // the counter's 6 hex digits are used up within this millisecond: borrow the next one
    counter = 0;
  }
  lastMs = ms;
  return ms.toString(16).padStart(12, '0').slice(-12) + counter.toString(16).padStart(6, '0') + randomHex(3);
}

/**
 * New ids go on after `id` (the newest reload on record, read when a store opens), so that id order
 * stays creation order across a restart with the clock set back: the SQLite store's queue and its
 * "is a reload of this task active?" walk rely on it. An id not of this form is ignored.
 */
export function reloadIdsAfter(id: string): void {
  if (!/^[0-9a-f]{18}/.test(id)) return;
  const ms = parseInt(id.slice(0, 12), 16);
  const c = parseInt(id.slice(12, 18), 16);
  if (ms > lastMs || (ms === lastMs && c > counter)) {
    lastMs = ms;
    counter = c;
  }
}

/** What differs between new reloads; everything else starts empty. */
export type NewReload = Pick<Reload, 'tenantId' | 'userId' | 'appId' | 'partial' | 'type' | 'resourceType' | 'resourceId' | 'scheduledTime'> &
  Partial<Pick<Reload, 'weight' | 'variables'>>;

/** A new QUEUED reload, created at `now` (its id from `newReloadId(now)` unless given). */
export function queuedReload(fields: NewReload, now: number, id: string = newReloadId(now)): Reload {
  return {
    id,
    weight: 1,
    variables: null,
    ...fields,
    status: 'QUEUED',
    creationTime: now,
    startTime: null,
    endTime: null,
    log: null,
    errorCode: null,
    errorMessage: null,
    executor: null,
    externalId: null,
    leaseOwner: null,
    leaseUntil: null,
    attempts: 0,
  };
}

/** A task's scheduled reload of the occurrence at `nominal`. */
export function scheduledReload(task: Pick<Task, 'id' | 'tenantId' | 'userId' | 'appId' | 'partial'>, nominal: number, now: number): Reload {
  return queuedReload(
    { tenantId: task.tenantId, userId: task.userId, appId: task.appId, partial: task.partial, type: 'chronos', resourceType: 'reload-tasks', resourceId: task.id, scheduledTime: nominal },
    now,
  );
}

/**
 * The time an id carries (its first 12 hex digits): its reload's creation time, or later when the
 * clock was set back since an earlier id (ids go on increasing).
 */
export function reloadIdTime(id: string): number {
  return parseInt(id.slice(0, 12), 16);
}

/** The smallest id of a reload created at `ms`: every id below it was created earlier. */
export function reloadIdBound(ms: number): string {
  return Math.floor(ms).toString(16).padStart(12, '0').slice(-12);
}

export interface ReloadJson {
  id: string;
  log?: string;
  type: string;
  appId: string;
  links: { self: { href: string } };
  status: ReloadStatus;
  userId: string;
  endTime?: string;
  partial: boolean;
  tenantId: string;
  errorCode?: string;
  startTime?: string;
  resourceId?: string;
  creationTime: string;
  errorMessage?: string;
  resourceType: string;
  weight: number;
  /** Our addition: the occurrence a scheduled reload fired for, in UTC. */
  scheduledTime?: string;
}

export function reloadToJson(r: Reload, selfHref: string, withLog: boolean): ReloadJson {
  const iso = (ms: number): string => new Date(ms).toISOString();
  return {
    id: r.id,
    ...(withLog && r.log !== null && { log: r.log }),
    type: r.type,
    appId: r.appId,
    links: { self: { href: selfHref } },
    status: r.status,
    userId: r.userId,
    ...(r.endTime !== null && { endTime: iso(r.endTime) }),
    partial: r.partial,
    tenantId: r.tenantId,
    ...(r.errorCode !== null && { errorCode: r.errorCode }),
    ...(r.startTime !== null && { startTime: iso(r.startTime) }),
    ...(r.resourceId !== null && { resourceId: r.resourceId }),
    creationTime: iso(r.creationTime),
    ...(r.errorMessage !== null && { errorMessage: r.errorMessage }),
    resourceType: r.resourceType,
    weight: r.weight,
    ...(r.scheduledTime !== null && { scheduledTime: new Date(r.scheduledTime).toISOString().replace(/\.000Z$/, 'Z') }),
  };
}
