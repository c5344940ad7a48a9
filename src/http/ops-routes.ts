/**
 * What operators and orchestrators call: /health/live (the process answers), /health/ready (it can
 * do its work: the database answers, its schema is this build's, the scheduler runs) and /metrics
 * (Prometheus text; behind a bearer token when METRICS_TOKEN is set). None needs a tenant's token.
 */
import { timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { Metrics } from '../metrics.js';
import type { Store } from '../store/store.js';
import { ApiError } from './errors.js';

export interface OpsRoutesOptions {
  readonly store: Store;
  readonly metrics: Metrics | undefined;
  readonly metricsToken: string | undefined;
  /** Whether the scheduler is running, or undefined when this instance has none (API only). */
  readonly schedulerRunning: (() => boolean) | undefined;
}

export async function opsRoutes(app: FastifyInstance, o: OpsRoutesOptions): Promise<void> {
  const hide = { hide: true };

  app.get('/health/live', { schema: hide }, async () => ({ status: 'ok' }));

  app.get('/health/ready', { schema: hide }, async (_request, reply) => {
    const checks: Record<string, string> = {};
    let ready = true;
    try {
      const { current, expected } = await o.store.schemaVersion();
      checks.store = 'ok';
      checks.migrations = current === expected ? 'ok' : `schema ${current}, expected ${expected}`;
      ready &&= current === expected;
    } catch {
      checks.store = 'unreachable';
      ready = false;
    }
    if (o.schedulerRunning) {
      checks.scheduler = o.schedulerRunning() ? 'ok' : 'stopped';
      ready &&= o.schedulerRunning();
    }
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ok' : 'unavailable', checks });
  });

  if (o.metrics) {
    const metrics = o.metrics;
    const expected = o.metricsToken === undefined ? undefined : Buffer.from(`Bearer ${o.metricsToken}`);
    app.get('/metrics', { schema: hide }, async (request, reply) => {
      if (expected) {
        const got = Buffer.from(request.headers.authorization ?? '');
        if (got.length !== expected.length || !timingSafeEqual(got, expected)) {
          throw new ApiError('HTTP-401', 'GET /metrics needs the metrics token: Authorization: Bearer <METRICS_TOKEN>', { 'www-authenticate': 'Bearer' });
        }
      }
      return reply.type(metrics.registry.contentType).send(await metrics.registry.metrics());
    });
  }
}
