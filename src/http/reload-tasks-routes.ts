/**
 * The five endpoints of /api/v1/reload-tasks. Each reads the caller from `request.principal`
 * (set by the auth hook), talks to the Store, and leaves the meaning of a task to src/tasks/.
 * Another tenant's task is answered exactly as a missing one (404); another user's task of the same
 * tenant is 403 unless the caller is a tenant admin.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Clock } from '../clock.js';
import type { Principal } from '../auth/verifier.js';
import { AppTaskLimitError, type Store } from '../store/store.js';
import { newTaskId, TASK_ID } from '../tasks/ids.js';
import { createTask, TaskError, toJson, updateTask, utc, type Task, type TaskCreate, type TaskPatch } from '../tasks/task.js';
import { ApiError } from './errors.js';
import { CursorCodec, keysetPage, pageLink } from './pagination.js';
import { createTaskBody, errorResponse, listQuery, taskIdParams, taskListResponse, taskResponse, updateTaskBody } from './schemas.js';

export const TASKS_PATH = '/api/v1/reload-tasks';

export interface RoutesOptions {
  readonly store: Store;
  readonly clock: Clock;
  readonly cursors: CursorCodec;
  /** `https://host[:port]` of absolute links for a request. */
  readonly baseUrl: (request: FastifyRequest) => string;
  readonly rateLimit: { readonly reads: object | false; readonly writes: object | false };
  /** Reload tasks one app may have in a tenant (0: no limit). */
  readonly maxTasksPerApp: number;
  /** A task was created, changed or deleted (the scheduler looks again). */
  readonly onChanged: () => void;
}

interface ListQuery {
  appId?: string;
  limit: number;
  next?: string;
  prev?: string;
  partial?: boolean;
}

const errors = { 400: errorResponse, 401: errorResponse, 403: errorResponse, 404: errorResponse, 429: errorResponse, 500: errorResponse, 503: errorResponse };
const tags = ['Reload tasks'];
const security = [{ bearerAuth: [] }];
/** PUT retries this often when another request changed the task between its read and its write. */
const UPDATE_ATTEMPTS = 3;
/** What Fastify sends with a body it serialised itself. */
const JSON_TYPE = 'application/json; charset=utf-8';

export async function reloadTasksRoutes(app: FastifyInstance, o: RoutesOptions): Promise<void> {
  const { store, clock, cursors } = o;
  const selfHref = (request: FastifyRequest, id: string): string => `${o.baseUrl(request)}${TASKS_PATH}/${id}`;
  const principal = (request: FastifyRequest): Principal => request.principal!;
  // Looked up once (the store may be a metrics proxy, whose property look-ups cost a trap each),
  // and bound: it is called as a plain function.
  const peekTask = store.peekTask?.bind(store);
  /** The JSON body last sent for a kept (frozen) task, and the self link it carries. */
  const bodies = new WeakMap<Task, { href: string; json: string }>();

  const limits = { maxTasksPerApp: o.maxTasksPerApp };

  /** Runs a save, answering TASKS-004 when the task's app has as many tasks as one may have. */
  async function withinAppLimit<T>(save: () => Promise<T>): Promise<T> {
    try {
      return await save();
    } catch (e) {
      if (!(e instanceof AppTaskLimitError)) throw e;
      throw new ApiError('TASKS-004', `appId: app '${clip(e.appId)}' has ${e.limit} reload tasks already, the most one app may have; delete one of them first`);
    }
  }

  /** The task, if the caller may see it: 404 when it does not exist for the tenant, 403 when it is another user's. */
  async function visibleTask(request: FastifyRequest, id: string): Promise<Task> {
    const p = principal(request);
    const task = TASK_ID.test(id) ? await store.getTask(p.tenantId, id) : undefined;
    if (!task) throw new ApiError('HTTP-404', `reload task '${clip(id)}' not found`);
    if (task.userId !== p.userId && !p.admin) throw new ApiError('HTTP-403', `reload task '${id}' belongs to another user`);
    return task;
  }

  app.get<{ Querystring: ListQuery }>(
    TASKS_PATH,
    {
      schema: {
        summary: 'Finds and returns the tasks that the user has access to.',
        tags,
        security,
        querystring: listQuery,
        response: { 200: taskListResponse, ...errors },
      },
      config: { rateLimit: o.rateLimit.reads },
    },
    async (request) => {
      const p = principal(request);
      const q = request.query;
      if (q.next !== undefined && q.prev !== undefined) throw new ApiError('HTTP-400', 'next, prev: provide either the next or the prev cursor, not both');
      const param = q.next !== undefined ? 'next' : 'prev';
      const text = q.next ?? q.prev;
      const cursor = text === undefined ? undefined : cursors.decode(text);
      if (text !== undefined && (!cursor || (param === 'next') !== (cursor.direction === 'after'))) {
        throw new ApiError('HTTP-400', `${param}: not a ${param} cursor issued by this service`);
      }
      const filter = {
        tenantId: p.tenantId,
        userId: p.admin ? undefined : p.userId,
        appId: q.appId,
        partial: q.partial,
      };
      const page = await keysetPage(
        {
          // Tasks come oldest first: "after" a cursor is a higher id.
          list: (b, limit) => store.listTasks({ ...filter, ...(b && { [b.direction]: b.id, inclusive: b.inclusive }), limit }),
          any: (b) => store.anyTask({ ...filter, [b.direction]: b.id, inclusive: b.inclusive }),
        },
        q.limit,
        cursor,
      );
      const base = o.baseUrl(request);
      const links: { self: { href: string }; next?: { href: string }; prev?: { href: string } } = { self: { href: `${base}${request.url}` } };
      if (page.next) links.next = { href: pageLink(base, request.url, 'next', cursors.encode(page.next)) };
      if (page.prev) links.prev = { href: pageLink(base, request.url, 'prev', cursors.encode(page.prev)) };
      return { data: page.items.map((t) => toJson(t, selfHref(request, t.id))), links };
    },
  );

  app.post<{ Body: TaskCreate }>(
    TASKS_PATH,
    {
      schema: {
        summary: 'Creates a task for a specified app.',
        tags,
        security,
        body: createTaskBody,
        response: { 201: taskResponse, ...errors, 413: errorResponse, 415: errorResponse },
      },
      config: { rateLimit: o.rateLimit.writes },
    },
    async (request, reply) => {
      const now = clock.now();
      const task = asBadRequest(() => createTask(request.body, newTaskId(now), principal(request), now));
      await withinAppLimit(() => store.insertTask(task, limits));
      o.onChanged();
      const href = selfHref(request, task.id);
      return reply.code(201).header('location', href).send(toJson(task, href));
    },
  );

  app.get<{ Params: { taskId: string } }>(
    `${TASKS_PATH}/:taskId`,
    {
      schema: { summary: 'Finds and returns a task.', tags, security, params: taskIdParams, response: { 200: taskResponse, ...errors } },
      config: { rateLimit: o.rateLimit.reads },
    },
    (request, reply) => {
      // A task the store holds in memory is answered in this turn, without a promise, and with the
      // body serialised for it before (a kept task is frozen, and replaced when it changes); any
      // other task, and every refusal, takes the full path.
      const p = principal(request);
      const kept = peekTask?.(p.tenantId, request.params.taskId);
      if (kept !== undefined && (kept.userId === p.userId || p.admin)) {
        const href = selfHref(request, kept.id);
        let body = bodies.get(kept);
        if (body === undefined || body.href !== href) {
          // The route's own serialiser (the response schema's): the body is what send() would make.
          const json = reply.serialize(toJson(kept, href)) as string;
          bodies.set(kept, { href, json });
          return reply.type(JSON_TYPE).send(json);
        }
        return reply.type(JSON_TYPE).send(body.json);
      }
      return visibleTask(request, request.params.taskId).then((task) => toJson(task, selfHref(request, task.id)));
    },
  );

  app.put<{ Params: { taskId: string }; Body: TaskPatch }>(
    `${TASKS_PATH}/:taskId`,
    {
      schema: {
        summary: 'Updates an existing task',
        tags,
        security,
        params: taskIdParams,
        body: updateTaskBody,
        response: { 200: taskResponse, ...errors, 409: errorResponse, 413: errorResponse, 415: errorResponse },
      },
      config: { rateLimit: o.rateLimit.writes },
    },
    async (request) => {
      for (let attempt = 0; attempt < UPDATE_ATTEMPTS; attempt++) {
        const task = await visibleTask(request, request.params.taskId);
        const updated = asBadRequest(() => updateTask(task, request.body, clock.now()));
        // Only a move to another app is held to the limit: a task of an app that has more (the
        // limit lowered since) can still be changed.
        if (await withinAppLimit(() => store.updateTask(updated, updated.appId !== task.appId ? limits : undefined))) {
          o.onChanged();
          return toJson(updated, selfHref(request, updated.id));
        }
      }
      throw new ApiError('HTTP-409', `reload task '${request.params.taskId}' was changed by other requests meanwhile; try again`);
    },
  );

  app.delete<{ Params: { taskId: string } }>(
    `${TASKS_PATH}/:taskId`,
    {
      schema: { summary: 'Deletes a task', tags, security, params: taskIdParams, response: { 204: { type: 'null', description: 'Task deleted successfully.' }, ...errors } },
      config: { rateLimit: o.rateLimit.writes },
    },
    async (request, reply: FastifyReply) => {
      const task = await visibleTask(request, request.params.taskId);
      if (!(await store.deleteTask(task.tenantId, task.id))) throw new ApiError('HTTP-404', `reload task '${task.id}' not found`);
      o.onChanged();
      return reply.code(204).send();
    },
  );

  app.get<{ Params: { taskId: string }; Querystring: { limit: number; before?: string } }>(
    `${TASKS_PATH}/:taskId/occurrences`,
    {
      schema: {
        summary: "The task's history: every occurrence recorded (fired, missed or skipped), newest first. An addition to Qlik's API.",
        tags,
        security,
        params: taskIdParams,
        querystring: {
          type: 'object',
          properties: {
            limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 },
            before: { type: 'string', maxLength: 64, description: 'Only occurrences before this instant (UTC), for paging back.' },
          },
        },
        response: {
          200: {
            type: 'object',
            properties: {
              data: {
                type: 'array',
                items: {
                  type: 'object',
                  properties: { scheduledTime: { type: 'string' }, outcome: { type: 'string', enum: ['fired', 'missed', 'skipped'] }, reloadId: { type: 'string' }, recordedTime: { type: 'string' } },
                },
              },
              missedCount: { type: 'integer', description: 'Occurrences recorded as missed, in total.' },
            },
          },
          ...errors,
        },
      },
      config: { rateLimit: o.rateLimit.reads },
    },
    async (request) => {
      const task = await visibleTask(request, request.params.taskId);
      const before = request.query.before === undefined ? undefined : Date.parse(request.query.before);
      if (before !== undefined && Number.isNaN(before)) throw new ApiError('HTTP-400', `before: '${request.query.before}' is not an RFC 3339 instant`);
      const records = await store.listOccurrences(task.tenantId, task.id, request.query.limit, before);
      return {
        data: records.map((r) => ({ scheduledTime: utc(r.nominalTime), outcome: r.outcome, ...(r.reloadId && { reloadId: r.reloadId }), recordedTime: new Date(r.recordedAt).toISOString() })),
        missedCount: task.missedCount,
      };
    },
  );
}

function asBadRequest<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof TaskError) throw new ApiError(e.kind === 'invalid-schedule' ? 'TASKS-003' : 'TASKS-002', e.message);
    throw e;
  }
}

function clip(s: string): string {
  return s.length > 64 ? `${s.slice(0, 61)}...` : s;
}
