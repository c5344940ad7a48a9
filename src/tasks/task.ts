/**
 * The reload task: its stored shape, how a POST creates one and a PUT changes one, how its state
 * and next execution follow from its schedule, and its JSON shape on the wire. Pure: the caller
 * passes "now", ids and the owner; nothing here does I/O.
 */
import { anchorMinuteAfter, compileSchedule, RecurrenceError, type Schedule } from '../recurrence/index.js';

export type TaskState = 'Enabled' | 'Disabled' | 'Completed';
export type DisabledCode = 'MANUALLY' | 'CONSECUTIVE-FAILURES' | 'OWNER-DELETED' | 'OWNER-DISABLED';

/** A task as stored. Times are epoch milliseconds. */
export interface Task {
  readonly id: string;
  readonly tenantId: string;
  readonly userId: string;
  readonly appId: string;
  readonly partial: boolean;
  readonly autoReload: boolean;
  readonly autoReloadPartial: boolean;
  readonly timeZone: string;
  /** As sent; null when the client never sent the field. */
  readonly recurrence: readonly string[] | null;
  readonly startDateTime: string | null;
  readonly endDateTime: string | null;
  readonly state: TaskState;
  readonly disabledCode: DisabledCode | null;
  readonly log: string | null;
  readonly migrated: boolean;
  readonly lastExecutionTime: number | null;
  readonly nextExecutionTime: number | null;
  /** Failed scheduled reloads in a row; at the configured limit the task is disabled. */
  readonly consecutiveFailures: number;
  /** Occurrences recorded as missed (downtime, misfire policy), in total. */
  readonly missedCount: number;
  readonly createdAt: number;
  readonly updatedAt: number;
  /** Incremented by every write; the store refuses a write based on a stale version. */
  readonly version: number;
}

/** A POST body after schema validation (types are right; meaning is checked here). */
export interface TaskCreate {
  appId: string;
  timeZone: string;
  partial?: boolean;
  autoReload?: boolean;
  autoReloadPartial?: boolean;
  recurrence?: string[] | null;
  startDateTime?: string | null;
  endDateTime?: string | null;
}

/** A PUT body after schema validation: every field optional; omitted fields stay as they are. */
export interface TaskPatch extends Partial<TaskCreate> {
  state?: TaskState;
}

/** The log Qlik writes on a task its failures disabled (the limit is configurable here). */
export function failureLog(limit: number): string {
  return `Scheduled reload has been disabled since exceeded limit of ${limit} consecutive reload failures. Please fix error and re-enable schedule.`;
}

/** A task that cannot be saved; `kind` tells a bad schedule from other bad fields. */
export class TaskError extends Error {
  constructor(
    readonly kind: 'invalid-task' | 'invalid-schedule',
    message: string,
  ) {
    super(message);
    this.name = 'TaskError';
  }
}

export interface Owner {
  readonly tenantId: string;
  readonly userId: string;
}

export function createTask(body: TaskCreate, id: string, owner: Owner, now: number): Task {
  const { task, anchored } = withAnchoredStart({
    id,
    tenantId: owner.tenantId,
    userId: owner.userId,
    appId: body.appId,
    partial: body.partial ?? false,
    autoReload: body.autoReload ?? false,
    autoReloadPartial: body.autoReloadPartial ?? false,
    timeZone: body.timeZone,
    recurrence: body.recurrence ?? null,
    startDateTime: body.startDateTime ?? null,
    endDateTime: body.endDateTime ?? null,
    state: 'Enabled',
    disabledCode: null,
    log: null,
    migrated: false,
    lastExecutionTime: null,
    nextExecutionTime: null,
    consecutiveFailures: 0,
    missedCount: 0,
    createdAt: now,
    updatedAt: now,
    version: 1,
  }, now);
  checkFields(task);
  const schedule = compile(task, now, body.endDateTime !== undefined, anchored, true);
  return schedulerView(task, schedule, now);
}

/**
 * PUT: merges the patch over the task and validates the result as a whole. Throws TaskError and
 * returns nothing when the merged task is not valid, so a rejected PUT changes nothing.
 */
export function updateTask(task: Task, patch: TaskPatch, now: number): Task {
  const has = <K extends keyof TaskPatch>(k: K): boolean => patch[k] !== undefined;
  const merged = withAnchoredStart({
    ...task,
    appId: patch.appId ?? task.appId,
    partial: patch.partial ?? task.partial,
    autoReload: patch.autoReload ?? task.autoReload,
    autoReloadPartial: patch.autoReloadPartial ?? task.autoReloadPartial,
    timeZone: patch.timeZone ?? task.timeZone,
    recurrence: has('recurrence') ? (patch.recurrence ?? null) : task.recurrence,
    startDateTime: has('startDateTime') ? (patch.startDateTime ?? null) : task.startDateTime,
    endDateTime: has('endDateTime') ? (patch.endDateTime ?? null) : task.endDateTime,
    updatedAt: now,
    version: task.version + 1,
  }, now);
  let next = merged.task;
  checkFields(next);
  // Changed in value, not sent: a get-edit-put sends the schedule back as it is (Qlik's PUT takes
  // the whole task), and must not move a next execution that is due and not yet fired.
  const scheduleChanged =
    next.timeZone !== task.timeZone ||
    next.startDateTime !== task.startDateTime ||
    next.endDateTime !== task.endDateTime ||
    JSON.stringify(next.recurrence) !== JSON.stringify(task.recurrence);
  // A past end is refused when it is set, not when a client sends back the one the task has (a
  // get-edit-put of a task whose end has passed, e.g. to disable it): only a new end, or a new time
  // zone that moves the end, is checked.
  const endMoved = (has('endDateTime') && next.endDateTime !== task.endDateTime) || (has('timeZone') && next.timeZone !== task.timeZone);
  // A COUNT is checked when the schedule is set, like a past end: a task kept from an older release
  // with a COUNT past the limit can still be disabled or edited.
  const schedule = compile(next, now, endMoved, merged.anchored, scheduleChanged);

  // The state a task already has, sent back, changes nothing: a get-edit-put sends the whole task.
  // A task its failures disabled still says CONSECUTIVE-FAILURES, with its log; an enabled task's
  // failures in a row still count towards disabling it (a script that writes its tasks back every
  // hour must not keep them from ever being disabled); a Completed task whose schedule the same
  // PUT changes gets runs again.
  const state = patch.state === task.state ? undefined : patch.state;
  switch (state) {
    case 'Disabled':
      next = { ...next, state: 'Disabled', disabledCode: 'MANUALLY' };
      break;
    case 'Enabled':
      next = { ...next, state: 'Enabled', disabledCode: null, log: null, consecutiveFailures: 0 };
      break;
    case 'Completed':
      next = { ...next, state: 'Completed', disabledCode: null, log: null };
      break;
    default:
      // A finished task whose schedule is changed may have runs again.
      if (next.state === 'Completed' && scheduleChanged) next = { ...next, state: 'Enabled' };
  }
  // An enabled task whose schedule did not change keeps its next execution, even one that is due
  // and not yet fired: recomputing it from "now" would drop that occurrence.
  if (task.state === 'Enabled' && next.state === 'Enabled' && !scheduleChanged && task.nextExecutionTime !== null) return next;
  return schedulerView(next, schedule, now);
}

/** The task's schedule; the same compilation the scheduler uses. */
export function scheduleOf(task: Pick<Task, 'timeZone' | 'startDateTime' | 'endDateTime' | 'recurrence'>): Schedule {
  return compileSchedule(task);
}

/**
 * Recurrence lines without a start (qlik-cli's `create` makes `--startDateTime` optional, and real
 * scripts leave it out) are anchored at the first whole minute after the task is created or so
 * changed, in its time zone; the start is stored and echoed, so the schedule means the same after
 * every restart. Strictly after now, so that the start never is an occurrence already past: a
 * `COUNT=3` rule runs three times, and the first run is still strictly after now (also in a
 * repeated hour, whose wall times read as their first, earlier instant: anchorMinuteAfter).
 */
function withAnchoredStart(task: Task, now: number): { task: Task; anchored: boolean } {
  const unanchored = { task, anchored: false };
  if (task.startDateTime !== null && task.startDateTime !== '') return unanchored;
  if (!Array.isArray(task.recurrence) || task.recurrence.length === 0) return unanchored;
  const start = anchorMinuteAfter(task.timeZone, now);
  return start === null ? unanchored : { task: { ...task, startDateTime: start }, anchored: true };
}

function compile(task: Task, now: number, checkEndInPast: boolean, startAnchored: boolean, checkCount: boolean): Schedule {
  let schedule: Schedule;
  try {
    schedule = scheduleOf(task);
    if (checkCount) schedule.checkCountable();
  } catch (e) {
    if (e instanceof RecurrenceError && startAnchored && e.field === 'endDateTime') {
      throw new TaskError('invalid-schedule', `endDateTime: must be after the start; no startDateTime was sent, so the task starts now (${task.startDateTime} in ${task.timeZone})`);
    }
    if (e instanceof RecurrenceError) throw new TaskError('invalid-schedule', e.message);
    throw e;
  }
  if (checkEndInPast && schedule.end !== null && schedule.end < now) {
    throw new TaskError('invalid-schedule', `endDateTime: '${task.endDateTime}' in ${schedule.timeZone} is in the past`);
  }
  return schedule;
}

/**
 * State and next execution from the schedule: an enabled task runs next at the first occurrence
 * after now, and is Completed when none is left. Disabled and Completed tasks have no next run.
 * A task without a schedule (autoReload only) stays Enabled without a next run.
 */
function schedulerView(task: Task, schedule: Schedule, now: number): Task {
  if (task.state !== 'Enabled' || schedule.isEmpty) return { ...task, nextExecutionTime: null };
  let next: number | null;
  try {
    next = schedule.next(now);
  } catch (e) {
    if (e instanceof RecurrenceError) throw new TaskError('invalid-schedule', e.message);
    throw e;
  }
  return next === null ? { ...task, state: 'Completed', nextExecutionTime: null } : { ...task, nextExecutionTime: next };
}

const CONTROL = /[\u0000-\u001f\u007f]/;

function checkFields(task: Task): void {
  if (task.appId.trim() === '') throw new TaskError('invalid-task', 'appId: must not be empty');
  if (CONTROL.test(task.appId)) throw new TaskError('invalid-task', 'appId: must not contain control characters');
}

/** The wire shape of a task (the spec's field order; unset optional fields are omitted). */
export interface TaskJson {
  appId: string;
  partial: boolean;
  timeZone: string;
  autoReload: boolean;
  recurrence?: readonly string[];
  endDateTime?: string;
  startDateTime?: string;
  autoReloadPartial: boolean;
  id: string;
  log?: string;
  links: { self: { href: string } };
  state: TaskState;
  userId: string;
  migrated: boolean;
  tenantId: string;
  disabledCode?: DisabledCode;
  lastExecutionTime?: string;
  nextExecutionTime?: string;
}

/**
 * The task as the API shows it. Every key is always present, those the task lacks as undefined,
 * which the response serialiser (fast-json-stringify) and JSON.stringify both leave out: objects of
 * one shape are built without the per-key spreads that showed in the cost of a GET by id.
 */
export function toJson(task: Task, selfHref: string): TaskJson {
  return {
    appId: task.appId,
    partial: task.partial,
    timeZone: task.timeZone,
    autoReload: task.autoReload,
    recurrence: task.recurrence ?? undefined,
    endDateTime: task.endDateTime ?? undefined,
    startDateTime: task.startDateTime ?? undefined,
    autoReloadPartial: task.autoReloadPartial,
    id: task.id,
    log: task.log ?? undefined,
    links: { self: { href: selfHref } },
    state: task.state,
    userId: task.userId,
    migrated: task.migrated,
    tenantId: task.tenantId,
    disabledCode: task.disabledCode ?? undefined,
    lastExecutionTime: task.lastExecutionTime === null ? undefined : utc(task.lastExecutionTime),
    nextExecutionTime: task.nextExecutionTime === null ? undefined : utc(task.nextExecutionTime),
  };
}

/** `2027-01-01T16:18:00Z`: UTC, whole seconds, as Qlik writes execution times. */
export function utc(ms: number): string {
  const iso = new Date(ms).toISOString();
  // YYYY-MM-DDTHH:MM:SS.sssZ; years past 9999 are written longer and keep the general path.
  return iso.length === 24 ? `${iso.slice(0, 19)}Z` : iso.replace(/\.\d{3}Z$/, 'Z');
}
