/**
 * POST /api/v1/events (tenant admins only): CloudEvents-style notifications from the platform that
 * change what the scheduler does. The event types, their data and effects are in docs/events.md.
 */
import type { FastifyInstance } from 'fastify';
import type { Clock } from '../clock.js';
import { queuedReload } from '../reloads/reload.js';
import type { Store } from '../store/store.js';
import { ApiError } from './errors.js';
import { errorResponse, plainText } from './schemas.js';

export const EVENTS_PATH = '/api/v1/events';

export const EVENT_TYPES = ['com.qlik.v1.app.data.updated', 'com.qlik.v1.app.deleted', 'com.qlik.v1.user.deleted', 'com.qlik.v1.user.disabled'] as const;
type EventType = (typeof EVENT_TYPES)[number];

interface EventBody {
  specversion?: string;
  id?: string;
  source?: string;
  type: EventType;
  time?: string;
  data: { appId?: string; userId?: string };
}

export interface EventsRoutesOptions {
  readonly store: Store;
  readonly clock: Clock;
  readonly rateLimit: object | false;
  readonly onQueued: () => void;
}

export async function eventsRoutes(app: FastifyInstance, o: EventsRoutesOptions): Promise<void> {
  app.post<{ Body: EventBody }>(
    EVENTS_PATH,
    {
      schema: {
        summary: 'Tells the service about app and user changes (tenant admins only).',
        tags: ['Events'],
        security: [{ bearerAuth: [] }],
        body: {
          type: 'object',
          required: ['type', 'data'],
          properties: {
            specversion: { type: 'string', maxLength: 16 },
            id: { type: 'string', maxLength: 256 },
            source: { type: 'string', maxLength: 1024 },
            type: { type: 'string', enum: EVENT_TYPES },
            time: { type: 'string', maxLength: 64 },
            data: {
              type: 'object',
              properties: { appId: { type: 'string', minLength: 1, maxLength: 256, ...plainText }, userId: { type: 'string', minLength: 1, maxLength: 256, ...plainText } },
            },
          },
        },
        response: {
          202: { type: 'object', properties: { type: { type: 'string' }, reloads: { type: 'array', items: { type: 'string' } }, tasks: { type: 'integer' } } },
          400: errorResponse,
          401: errorResponse,
          403: errorResponse,
        },
      },
      config: { rateLimit: o.rateLimit },
      // Before the body is validated: a caller who may not send events learns nothing of their shape.
      preValidation: async (request) => {
        if (!request.principal!.admin) throw new ApiError('HTTP-403', 'events can only be sent by a tenant admin');
      },
    },
    async (request, reply) => {
      const p = request.principal!;
      const { type, data } = request.body;
      const need = (field: 'appId' | 'userId'): string => {
        const v = data[field];
        if (v === undefined) throw new ApiError('HTTP-400', `data.${field}: is required for ${type}`);
        return v;
      };
      const now = o.clock.now();
      switch (type) {
        case 'com.qlik.v1.app.data.updated': {
          const tasks = await o.store.autoReloadTasks(p.tenantId, need('appId'));
          const ids: string[] = [];
          let queued = false;
          for (const task of tasks) {
            const reload = queuedReload(
              { tenantId: task.tenantId, userId: task.userId, appId: task.appId, partial: task.autoReloadPartial, type: 'data-refresh', resourceType: 'reload-tasks', resourceId: task.id, scheduledTime: null },
              now,
            );
            // A reload of the app that has not started yet will load the new data: events that come
            // faster than the app reloads do not pile up reloads (which would wait out the queue
            // limit and fail, and five such failures disable the task). A partial one does not
            // stand in for a full one.
            const pending = await o.store.insertReloadUnlessPending(reload);
            let carrier = reload;
            if (pending !== undefined) {
              if (pending.partial && !reload.partial) await o.store.insertReload(reload);
              else carrier = pending;
            }
            if (carrier === reload) queued = true;
            ids.push(carrier.id);
          }
          if (queued) o.onQueued();
          return reply.code(202).send({ type, reloads: ids, tasks: tasks.length });
        }
        case 'com.qlik.v1.app.deleted':
          return reply.code(202).send({ type, tasks: await o.store.deleteAppTasks(p.tenantId, need('appId')) });
        case 'com.qlik.v1.user.deleted':
        case 'com.qlik.v1.user.disabled': {
          const code = type === 'com.qlik.v1.user.deleted' ? 'OWNER-DELETED' : 'OWNER-DISABLED';
          return reply.code(202).send({ type, tasks: await o.store.disableUserTasks(p.tenantId, need('userId'), code, now) });
        }
      }
    },
  );
}
