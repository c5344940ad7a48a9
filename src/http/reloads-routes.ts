/**
 * /api/v1/reloads (the subset of Qlik's Reloads API that goes with reload tasks): the records of
 * scheduled and manual reloads, reloading an app by hand, and cancelling. The same access rules as
 * tasks: a user sees their own reloads, a tenant admin all of the tenant's, another tenant's are 404.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Clock } from '../clock.js';
import type { Principal } from '../auth/verifier.js';
import { queuedReload, RELOAD_STATUSES, RESOURCE_TYPES, reloadToJson, type Reload, type ReloadStatus, type ResourceType } from '../reloads/reload.js';
import { FilterError, selectByFilter, type FilterSelection } from '../reloads/scim-filter.js';
import type { ReloadSortKey, Store } from '../store/store.js';
import { TASK_ID } from '../tasks/ids.js';
import { ApiError } from './errors.js';
import { CursorCodec, keysetPage, pageLink, type Cursor } from './pagination.js';
import { errorResponse, plainText } from './schemas.js';

export const RELOADS_PATH = '/api/v1/reloads';
const RELOAD_ID = /^[0-9a-f]{24}$/;

export interface ReloadsRoutesOptions {
  readonly store: Store;
  readonly clock: Clock;
  readonly cursors: CursorCodec;
  readonly baseUrl: (request: FastifyRequest) => string;
  /** reads: tier 1; reloads: the "special" tier of POST /reloads and cancel (reloads.openapi.yaml). */
  readonly rateLimit: { readonly reads: object | false; readonly reloads: object | false };
  /** A reload was queued (wake the scheduler) or asked to cancel (stop it if it runs here). */
  readonly onQueued: () => void;
  readonly onCancel: (id: string) => void;
}

const href = { type: 'object', properties: { href: { type: 'string' } } } as const;
export const reloadResponse = {
  $id: 'Reload',
  type: 'object',
  properties: {
    id: { type: 'string' },
    log: { type: 'string' },
    type: { type: 'string', enum: ['hub', 'external', 'chronos', 'automations', 'data-refresh', 'choreographer'] },
    appId: { type: 'string' },
    links: { type: 'object', properties: { self: href } },
    status: { type: 'string', enum: RELOAD_STATUSES },
    userId: { type: 'string' },
    endTime: { type: 'string' },
    partial: { type: 'boolean' },
    tenantId: { type: 'string' },
    errorCode: { type: 'string' },
    startTime: { type: 'string' },
    resourceId: { type: 'string' },
    creationTime: { type: 'string' },
    errorMessage: { type: 'string' },
    resourceType: { type: 'string', enum: ['api', 'reload-tasks', 'tasks', 'automate'] },
    weight: { type: 'integer', minimum: 1, maximum: 10 },
    scheduledTime: { type: 'string', description: 'For a scheduled reload, the occurrence it fired for (UTC).' },
  },
} as const;

/** The sorts of GET /reloads (each also with + or -), and the column each sorts by before the id. */
const SORTS = ['creationTime', 'status', 'startTime', 'endTime'] as const;
type SortField = (typeof SORTS)[number];
const SORT_COLUMN: Record<SortField, ReloadSortKey | undefined> = { creationTime: undefined, status: 'status', startTime: 'start_time', endTime: 'end_time' };

/** The value a reload sorts by (an unset time as -1, as the stores order it). */
function sortValue(field: SortField, r: Reload): string | number {
  if (field === 'status') return r.status;
  return (field === 'startTime' ? r.startTime : r.endTime) ?? -1;
}

/**
 * A cursor's sort value, if it was made for a list in this order: `order` is the sort with its
 * direction (`-endTime`, or `endTime` for `+endTime` too), so that a cursor of one direction is
 * not read as a position in the other.
 */
function parseSortKey(field: SortField, order: string, key: string | undefined): string | number | undefined {
  if (key === undefined || !key.startsWith(`${order}:`)) return undefined;
  const value = key.slice(order.length + 1);
  if (field === 'status') return (RELOAD_STATUSES as readonly string[]).includes(value) ? value : undefined;
  return /^-?\d{1,16}$/.test(value) ? Number(value) : undefined;
}

const errors = { 400: errorResponse, 401: errorResponse, 403: errorResponse, 404: errorResponse, 429: errorResponse, 500: errorResponse, 503: errorResponse };
const tags = ['Reloads'];
const security = [{ bearerAuth: [] }];

interface ListQuery {
  appId?: string;
  status?: ReloadStatus;
  resourceId?: string;
  partial?: boolean;
  log?: boolean;
  limit: number;
  next?: string;
  prev?: string;
  sort?: string;
  filter?: string;
}

function scimSelection(filter: string): FilterSelection {
  try {
    return selectByFilter(filter);
  } catch (e) {
    if (e instanceof FilterError) throw new ApiError('HTTP-400', e.message);
    throw e;
  }
}

export async function reloadsRoutes(app: FastifyInstance, o: ReloadsRoutesOptions): Promise<void> {
  const { store, clock, cursors } = o;
  const selfHref = (request: FastifyRequest, id: string): string => `${o.baseUrl(request)}${RELOADS_PATH}/${id}`;
  const principal = (request: FastifyRequest): Principal => request.principal!;

  async function visibleReload(request: FastifyRequest, id: string): Promise<Reload> {
    const p = principal(request);
    const reload = RELOAD_ID.test(id) ? await store.getReload(p.tenantId, id) : undefined;
    if (!reload) throw new ApiError('HTTP-404', `reload '${id.length > 64 ? `${id.slice(0, 61)}...` : id}' not found`);
    if (reload.userId !== p.userId && !p.admin) throw new ApiError('RELOADS-003', `reload '${id}' belongs to another user`);
    return reload;
  }

  app.get<{ Querystring: ListQuery }>(
    RELOADS_PATH,
    {
      schema: {
        summary: 'Finds and returns the reloads that the user has access to.',
        tags,
        security,
        querystring: {
          type: 'object',
          properties: {
            appId: { type: 'string', maxLength: 256, ...plainText },
            status: { type: 'string', enum: RELOAD_STATUSES },
            resourceId: { type: 'string', maxLength: 64, ...plainText, description: 'The reload task the reloads were fired by.' },
            partial: { type: 'boolean' },
            log: { type: 'boolean', default: false, description: 'Include the log field.' },
            limit: { type: 'integer', minimum: 1, maximum: 100, default: 10 },
            next: { type: 'string', maxLength: 512 },
            prev: { type: 'string', maxLength: 512 },
            sort: {
              type: 'string',
              enum: SORTS.flatMap((f) => [f, `+${f}`, `-${f}`]),
              default: '-creationTime',
              description:
                'The field to sort by, with + (the default) or - for descending; ties in order of creation. Newest first (-creationTime) unless given. ' +
                'A startTime or endTime not yet set sorts before every time. Sorting by status, startTime or endTime reads all of the matching reloads for each page: narrow it with appId, status or filter on large histories.',
            },
            filter: {
              type: 'string',
              maxLength: 1024,
              description: 'SCIM filter (RFC 7644 §3.4.2.2) on status, partial and type, with eq, and, or, not and parentheses, e.g. (status eq "FAILED" or status eq "EXCEEDED_LIMIT") and type eq "chronos".',
            },
          },
        },
        response: { 200: { type: 'object', properties: { data: { type: 'array', items: reloadResponse }, links: { type: 'object', properties: { self: href, next: href, prev: href } } } }, ...errors },
      },
      config: { rateLimit: o.rateLimit.reads },
    },
    async (request) => {
      const p = principal(request);
      const q = request.query;
      const selection = q.filter === undefined ? undefined : scimSelection(q.filter);
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
        resourceId: q.resourceId,
        // A filter with one status (or one partial value) also seeks by it, as the status parameter does.
        status: q.status ?? selection?.status,
        partial: q.partial ?? selection?.partial,
        combinations: selection && !selection.all ? selection.keys : undefined,
      };
      // The schema admits only the SORTS, each bare or with + or -.
      const order = (q.sort ?? '-creationTime').replace(/^\+/, '');
      const sortField = order.replace(/^-/, '') as SortField;
      const ascending = !order.startsWith('-');
      const sortKey = SORT_COLUMN[sortField];
      // A cursor of a list sorted by another field carries that field's value at its position, with
      // the order it was made for.
      const boundKeyOf = (b: Cursor): string | number | undefined => (sortKey === undefined ? undefined : parseSortKey(sortField, order, b.key));
      if (cursor && (sortKey === undefined ? cursor.key !== undefined : boundKeyOf(cursor) === undefined)) {
        throw new ApiError('HTTP-400', `${param}: not a ${param} cursor of a list sorted by ${order}`);
      }
      const sorted = { sortKey };
      const contradicts = (q.status !== undefined && selection?.status !== undefined && q.status !== selection.status) || (q.partial !== undefined && selection?.partial !== undefined && q.partial !== selection.partial);
      const page = selection?.keys.length === 0 || contradicts ? { items: [], next: undefined, prev: undefined } : await keysetPage(
        {
          // Newest first, "after" a cursor is a lower id; oldest first, a higher one. Ids begin with
          // the creation time, so id order is creationTime order. The store answers newest first:
          // an oldest-first page is its answer reversed (the first page: everything above '').
          list: async (b, limit) => {
            if (!ascending) return store.listReloads({ ...filter, ...sorted, ...(b && { [b.direction === 'after' ? 'below' : 'above']: b.id, boundKey: boundKeyOf(b), inclusive: b.inclusive }), limit });
            const bound = b
              ? { [b.direction === 'after' ? 'above' : 'below']: b.id, boundKey: boundKeyOf(b), inclusive: b.inclusive }
              : { above: '', boundKey: sortKey === undefined ? undefined : sortKey === 'status' ? '' : -2 };
            return (await store.listReloads({ ...filter, ...sorted, ...bound, limit })).reverse();
          },
          any: (b) => store.anyReload({ ...filter, ...sorted, [(b.direction === 'after') !== ascending ? 'below' : 'above']: b.id, boundKey: boundKeyOf(b), inclusive: b.inclusive }),
        },
        q.limit,
        cursor,
        sortKey === undefined ? undefined : (r) => `${order}:${sortValue(sortField, r)}`,
      );
      const base = o.baseUrl(request);
      const links: { self: { href: string }; next?: { href: string }; prev?: { href: string } } = { self: { href: `${base}${request.url}` } };
      if (page.next) links.next = { href: pageLink(base, request.url, 'next', cursors.encode(page.next)) };
      if (page.prev) links.prev = { href: pageLink(base, request.url, 'prev', cursors.encode(page.prev)) };
      return { data: page.items.map((r) => reloadToJson(r, selfHref(request, r.id), q.log === true)), links };
    },
  );

  app.get<{ Params: { reloadId: string } }>(
    `${RELOADS_PATH}/:reloadId`,
    {
      schema: { summary: 'Finds and returns a reload record.', tags, security, response: { 200: reloadResponse, ...errors } },
      config: { rateLimit: o.rateLimit.reads },
    },
    async (request) => {
      const reload = await visibleReload(request, request.params.reloadId);
      return reloadToJson(reload, selfHref(request, reload.id), true);
    },
  );

  app.post<{ Body: { appId: string; partial?: boolean; weight?: number; variables?: Record<string, string>; resourceType?: ResourceType; resourceId?: string } }>(
    RELOADS_PATH,
    {
      schema: {
        summary: 'Reloads an app specified by an app ID.',
        tags,
        security,
        body: {
          type: 'object',
          required: ['appId'],
          properties: {
            appId: { type: 'string', minLength: 1, maxLength: 256, ...plainText },
            partial: { type: 'boolean' },
            weight: {
              type: 'integer',
              minimum: 1,
              maximum: 10,
              default: 1,
              description: 'The higher the weight, the sooner the reload starts relative to the tenant\'s other queued reloads (then oldest first). Also passed on to the executor.',
            },
            variables: {
              type: 'object',
              maxProperties: 20,
              propertyNames: { maxLength: 256 },
              additionalProperties: { type: 'string', maxLength: 256 },
              description: 'Variables for the load script, passed on to the executor (Qlik Cloud, the webhook body, the command\'s environment).',
            },
            resourceType: {
              type: 'string',
              enum: RESOURCE_TYPES,
              default: 'api',
              description: 'The service that asks for the reload. `reload-tasks` runs a reload task now: `resourceId` is then one of your tasks of this app, and the reload waits for the task\'s queued or running reload and counts toward its consecutive failures.',
            },
            resourceId: { type: 'string', minLength: 1, maxLength: 64, ...plainText, description: 'The id of the resource within that service; list its reloads with `GET /api/v1/reloads?resourceId=`.' },
          },
        },
        response: { 201: reloadResponse, ...errors },
      },
      config: { rateLimit: o.rateLimit.reloads },
    },
    async (request, reply) => {
      const p = principal(request);
      const now = clock.now();
      const { appId, resourceType = 'api', resourceId = null } = request.body;
      if (resourceType === 'reload-tasks') {
        // The reload joins the task's: it waits for the task's active reload, and its failures count
        // toward the task's. So the task must be the caller's to run, in this tenant, of this app.
        if (resourceId === null) throw new ApiError('HTTP-400', "resourceId: required when resourceType is 'reload-tasks' (the id of the reload task to run)");
        const task = TASK_ID.test(resourceId) ? await store.getTask(p.tenantId, resourceId) : undefined;
        if (!task) throw new ApiError('HTTP-400', `resourceId: reload task '${resourceId}' not found`);
        if (task.userId !== p.userId && !p.admin) throw new ApiError('HTTP-403', `resourceId: reload task '${resourceId}' belongs to another user`);
        if (task.appId !== appId) throw new ApiError('HTTP-400', `resourceId: reload task '${resourceId}' reloads app '${task.appId}', not '${appId}'`);
      }
      const reload = queuedReload(
        {
          tenantId: p.tenantId,
          userId: p.userId,
          appId,
          partial: request.body.partial ?? false,
          type: 'external',
          resourceType,
          resourceId,
          scheduledTime: null,
          weight: request.body.weight ?? 1,
          variables: request.body.variables === undefined || Object.keys(request.body.variables).length === 0 ? null : { ...request.body.variables },
        },
        now,
      );
      // The link first: a request it refuses (a Host header that is not host[:port]) queues nothing.
      const self = selfHref(request, reload.id);
      // As Qlik's Reloads API: while a reload of the app waits in the queue, another is refused
      // (that one reloads the app when it starts); once it runs, a new one may queue behind it.
      const pending = await store.insertReloadUnlessPending(reload);
      if (pending) {
        // Its id only to whoever may read it (its owner, an admin): another user learns that one waits.
        const which = pending.userId === p.userId || p.admin ? ` (reload ${pending.id})` : '';
        throw new ApiError('RELOADS-429', `appId: a reload of app '${reload.appId}' is already queued${which}; it reloads the app when it starts`);
      }
      o.onQueued();
      return reply.code(201).header('location', self).send(reloadToJson(reload, self, true));
    },
  );

  app.post<{ Params: { reloadId: string } }>(
    `${RELOADS_PATH}/:reloadId/actions/cancel`,
    {
      schema: {
        summary: 'Cancels a reload that is in progress or has been queued',
        tags,
        security,
        response: { 202: { type: 'object', properties: { status: { type: 'string' } } }, 204: { type: 'null' }, ...errors, 409: errorResponse },
      },
      config: { rateLimit: o.rateLimit.reloads },
    },
    async (request, reply) => {
      const reload = await visibleReload(request, request.params.reloadId);
      const status = await store.requestCancel(reload.tenantId, reload.id, clock.now());
      if (status === 'CANCELED' && reload.status === 'QUEUED') return reply.code(204).send();
      if (status === 'CANCELING') {
        o.onCancel(reload.id);
        return reply.code(202).send({ status });
      }
      throw new ApiError('HTTP-409', `reload '${reload.id}' is ${status ?? 'gone'} and cannot be canceled`);
    },
  );
}
