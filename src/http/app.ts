/**
 * The Fastify application: built here, listened on by src/server.ts, injected into by the tests.
 * It owns the cross-cutting rules: every answer that is not a success is the error envelope with a
 * catalogue code; every request has a trace id (from `traceparent` when sent) and one log line;
 * /api routes need a verified bearer token and are rate limited per user per tenant.
 */
import { createServer, STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import cors from '@fastify/cors';
import rateLimit from '@fastify/rate-limit';
import { Redis } from 'ioredis';
import secureJson from 'secure-json-parse';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { Clock } from '../clock.js';
import type { Config } from '../config.js';
import { AuthError, type Principal, type Verifier } from '../auth/verifier.js';
import { StoreUnavailableError, type Store } from '../store/store.js';
import { ApiError, envelope, ERRORS, type ErrorCode } from './errors.js';
import { CursorCodec } from './pagination.js';
import type { Metrics } from '../metrics.js';
import { eventsRoutes, EVENTS_PATH } from './events-routes.js';
import { opsRoutes } from './ops-routes.js';
import { reloadsRoutes, RELOADS_PATH } from './reloads-routes.js';
import { reloadTasksRoutes, TASKS_PATH } from './reload-tasks-routes.js';
import { MemoryRateLimitStore, RedisRateLimitStore, sharedRateLimitStore } from './rate-limit-store.js';
import { boundChildLogger } from './request-logger.js';
import { traceIdOf } from './trace.js';
import { describeValidation, validatorCompiler } from './validation.js';

declare module 'fastify' {
  interface FastifyRequest {
    principal?: Principal;
  }
}

export interface AppDeps {
  readonly config: Config;
  readonly store: Store;
  readonly clock: Clock;
  readonly verify: Verifier;
  /** A pino logger (or pino options), or false for no logs (tests). */
  readonly logger?: boolean | object;
  /** The scheduler of this process, told about changes so it need not wait for its next look. */
  readonly scheduler?: SchedulerHooks;
  readonly metrics?: Metrics;
}

export interface SchedulerHooks {
  /** Tasks or the reload queue changed. */
  nudge(): void;
  /** Whether the scheduler loop runs (readiness). */
  running(): boolean;
  /** A reload was marked CANCELING: stop it now if it runs in this process. */
  cancel(reloadId: string): void;
}

/** The largest request body accepted (a task is well under 4 KiB). */
export const BODY_LIMIT = 64 * 1024;

export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const { config } = deps;
  const logger = deps.logger ?? false;
  const app = Fastify({
    // A ready pino instance is passed as loggerInstance, options as logger.
    ...(isLogger(logger) ? { loggerInstance: logger as FastifyBaseLogger } : { logger }),
    // Request loggers carry their bindings as an object, not as a pino child each (request-logger.ts).
    ...(logger !== false && { childLoggerFactory: boundChildLogger }),
    genReqId: (req) => traceIdOf(req.headers.traceparent),
    // Fastify's own two lines per request are replaced by ours (onResponse below).
    logController: new LogController({ requestIdLogLabel: 'traceId', disableRequestLogging: true }),
    bodyLimit: BODY_LIMIT,
    trustProxy: config.trustProxy,
    // A base URL that ends in '/' makes clients ask for `/api/v1/reload-tasks/` and `…/{id}/`: the
    // same resources, not an empty task id or "no route".
    routerOptions: { ignoreTrailingSlash: true },
    // Slow clients cannot hold a connection for long (test/e2e/slow-clients.test.ts). Node checks
    // these timeouts every connectionsCheckingInterval (30 s by default, which would let a slowloris
    // keep a connection that long), so the server is made here with a tighter check.
    serverFactory: (handler) => {
      const server = createServer(
        {
          requestTimeout: config.http.requestTimeoutMs,
          headersTimeout: config.http.headersTimeoutMs,
          keepAliveTimeout: config.http.keepAliveTimeoutMs,
          connectionsCheckingInterval: Math.min(1000, config.http.headersTimeoutMs / 2),
        },
        handler,
      );
      server.maxRequestsPerSocket = config.http.maxRequestsPerSocket;
      return server;
    },
    // While closing, requests still arriving on open connections get the envelope's 503 with
    // Retry-After from the hook below, not Fastify's own body.
    return503OnClosing: false,
    // JSON keys like __proto__ are refused, not merged.
    onProtoPoisoning: 'error',
    onConstructorPoisoning: 'error',
    // What Node refuses before a request exists (headers over 16 KiB, a request too slow, bytes
    // that are not HTTP) answers the envelope too, not Fastify's own body.
    clientErrorHandler: clientErrorAnswer,
    // Errors the router raises before any route runs still answer the envelope.
    frameworkErrors: (error, request, reply) => {
      if (error.code === 'FST_ERR_MAX_PARAM_LENGTH') return sendError(reply, request, 'HTTP-404', 'no such resource: the id in the path is too long');
      return sendError(reply, request, 'HTTP-400', 'the URL is not validly percent-encoded');
    },
  });
  app.setValidatorCompiler(validatorCompiler);
  // The API speaks JSON only: anything else (Fastify also parses text/plain by default) is a 415.
  app.removeContentTypeParser(['text/plain']);
  // An empty body with a JSON content type is no body: clients (the spec's own fetch examples among
  // them) send Content-Type: application/json on GET and DELETE too. Fastify's parser would answer
  // 400. Keys like __proto__ are refused, as Fastify's own parser does.
  app.removeContentTypeParser(['application/json']);
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    // A compressed body is not decoded: say so, rather than "not valid JSON".
    const encoding = request.headers['content-encoding']?.trim().toLowerCase();
    if (encoding !== undefined && encoding !== '' && encoding !== 'identity') {
      done(Object.assign(new Error('unsupported Content-Encoding'), { statusCode: 415, code: 'RT_UNSUPPORTED_ENCODING' }), undefined);
      return;
    }
    const text = body as string;
    if (text.trim() === '') return done(null, undefined);
    try {
      done(null, secureJson.parse(text, { protoAction: 'error', constructorAction: 'error' }));
    } catch (e) {
      const error = e as Error & { statusCode?: number; code?: string };
      error.statusCode = 400;
      // secure-json-parse throws a SyntaxError for a forbidden key too: JSON that plain JSON.parse
      // takes was refused for its keys (this second parse runs only on the error path).
      error.code = e instanceof SyntaxError && !parsesAsJson(text) ? 'FST_ERR_CTP_INVALID_JSON_BODY' : 'FST_ERR_CTP_PROTO_POISONING';
      done(error, undefined);
    }
  });
  app.setErrorHandler(errorHandler);
  app.setNotFoundHandler((request, reply) => {
    sendError(reply, request, 'HTTP-404', `no route ${request.method} ${request.url.split('?')[0]}`);
  });

  // Draining (SIGTERM): the requests in flight finish; any request that still arrives on an open
  // connection (Fastify answers it with Connection: close) is a 503 a client or load balancer can
  // retry elsewhere, before auth or rate limits spend anything on it. /health/ready says 503 too.
  let closing = false;
  app.addHook('preClose', async () => void (closing = true));
  // Hooks on every request take a callback: an async hook costs a promise and a microtask each.
  app.addHook('onRequest', (_request, _reply, done) => {
    if (closing) return done(new ApiError('HTTP-503', 'the service is shutting down; retry the request', { 'retry-after': '1' }));
    done();
  });

  // Web pages of the configured origins may call the API (@qlik/api fetches with mode: 'cors'). The
  // preflight is answered here, before auth (a browser sends it without the token). A request from
  // another origin, or without one, gets no CORS headers: an OPTIONS is then the 405 it always was.
  if (config.corsOrigins.length > 0) {
    const any = config.corsOrigins.includes('*');
    const allowed = new Set(config.corsOrigins);
    await app.register(cors, {
      origin: (origin, cb) => cb(null, origin !== undefined && (any || allowed.has(origin))),
      strictPreflight: false,
      methods: ['GET', 'HEAD', 'POST', 'PUT', 'DELETE'],
      // What a page may read of an answer besides the simple headers.
      exposedHeaders: ['location', 'retry-after', 'www-authenticate'],
      maxAge: 600,
    });
  }

  // One log line per request, with its trace id, status and time, and never a header.
  const metrics = deps.metrics;
  app.addHook('onResponse', (request, reply, done) => {
    request.log.info(
      { method: request.method, url: request.url, statusCode: reply.statusCode, ms: Math.round(reply.elapsedTime * 10) / 10 },
      'request',
    );
    metrics?.observeHttp(request.method, request.routeOptions.url ?? 'unmatched', reply.statusCode, reply.elapsedTime / 1000);
    done();
  });
  await app.register(opsRoutes, {
    store: deps.store,
    metrics,
    metricsToken: config.metricsToken,
    schedulerRunning: deps.scheduler && (() => deps.scheduler!.running()),
  });

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Reload tasks',
        description: 'Reloads tasks allow you to schedule reloads of analytics applications in your tenant. A self-hosted implementation of the Qlik Cloud Reload Tasks API.',
        version: '1.0.0',
      },
      components: { securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } } },
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  app.get(`${TASKS_PATH}/openapi.json`, { schema: { hide: true } }, async () => app.swagger());

  const secret = await deps.store.secret('cursor-hmac');
  const baseUrl = (request: FastifyRequest): string => {
    if (config.publicUrl) return config.publicUrl;
    // Links are built from the Host header, so only a plain host[:port] may go into them.
    if (!validHost(request.host)) throw new ApiError('HTTP-400', BAD_HOST);
    return `${request.protocol}://${request.host}`;
  };

  // Declared on every request, so that setting it does not change the request object's shape.
  app.decorateRequest('principal', undefined);
  await app.register(async (api) => {
    // A callback hook: a token found in the verifier's cache is admitted without a promise.
    const admit = (request: FastifyRequest, principal: Principal, done: (e?: Error) => void): void => {
      request.principal = principal;
      request.log = request.log.child({ tenantId: principal.tenantId, userId: principal.userId });
      // Links are built from the Host: a request whose links could not be built is refused before
      // its handler runs, so that a 400 never comes after a write.
      if (!config.publicUrl && !validHost(request.host)) return done(new ApiError('HTTP-400', BAD_HOST));
      done();
    };
    const refuse = (e: unknown): Error =>
      e instanceof AuthError ? new ApiError('HTTP-401', e.message, { 'www-authenticate': 'Bearer' }) : (e as Error);
    api.addHook('onRequest', (request, _reply, done) => {
      let verified: Principal | Promise<Principal>;
      try {
        verified = deps.verify(request.headers.authorization);
      } catch (e) {
        return done(refuse(e));
      }
      if (verified instanceof Promise) verified.then((p) => admit(request, p, done), (e: unknown) => done(refuse(e)));
      else admit(request, verified, done);
    });
    // Text that is not valid Unicode (a lone surrogate) would be stored changed: refuse it instead.
    api.addHook('preValidation', (request, _reply, done) => {
      const bad = request.body === undefined ? undefined : malformedString(request.body, '');
      if (bad !== undefined) return done(new ApiError('HTTP-400', `${bad || 'body'}: is not valid Unicode text (it has an unpaired surrogate)`));
      done();
    });
    const rl = config.rateLimit;
    if (rl.enabled) {
      // With several instances the counts live in Redis, so a caller's limit holds across all of them.
      const redis = config.redisUrl ? new Redis(config.redisUrl, { connectTimeout: 1000, maxRetriesPerRequest: 1, enableOfflineQueue: false, lazyConnect: false }) : undefined;
      if (redis) {
        redis.on('error', (e: unknown) => app.log.warn({ err: e }, 'redis unavailable; rate limits are not enforced meanwhile'));
        app.addHook('onClose', async () => void (await redis.quit().catch(() => redis.disconnect())));
        // Commands are not queued while disconnected (they fail, and the limit is skipped), so wait
        // for the connection here: limits then hold from the first request. An unreachable Redis
        // ends the wait at its first error, and the service starts without them.
        await new Promise<void>((resolve) => {
          const done = (): void => {
            clearTimeout(timer);
            redis.off('ready', done).off('error', done);
            resolve();
          };
          const timer = setTimeout(done, 2000);
          redis.once('ready', done).once('error', done);
        });
      }
      await api.register(rateLimit, {
        global: false,
        // One counter set for all routes, so a tier's budget is shared by its routes (rate-limit-store.ts).
        store: sharedRateLimitStore(redis ? new RedisRateLimitStore(redis, 'reload-tasks-rl:') : new MemoryRateLimitStore()),
        ...(redis && { skipOnError: true }),
        // Runs after the auth hook above (same hook, registered later), so the key is the caller.
        hook: 'onRequest',
        keyGenerator: (request) => `${request.principal?.tenantId}\u0000${request.principal?.userId}`,
        errorResponseBuilder: (_request, context) => {
          const seconds = Math.max(1, Math.ceil(context.ttl / 1000));
          return new ApiError('HTTP-429', `You need to wait ${seconds} seconds until limit is lifted.`, { 'retry-after': String(seconds) });
        },
      });
    }
    const tier = (max: number, name: string): object | false =>
      rl.enabled ? { max, timeWindow: 60_000, keyGenerator: (r: FastifyRequest) => `${name}\u0000${r.principal?.tenantId}\u0000${r.principal?.userId}` } : false;
    const cursors = new CursorCodec(secret, 'reload-tasks');
    const rateLimits = { reads: tier(rl.readsPerMinute, 'read'), writes: tier(rl.writesPerMinute, 'write'), reloads: tier(rl.reloadsPerMinute, 'reload') };
    const nudge = (): void => deps.scheduler?.nudge();
    await api.register(reloadTasksRoutes, { store: deps.store, clock: deps.clock, cursors, baseUrl, rateLimit: rateLimits, maxTasksPerApp: config.maxTasksPerApp, onChanged: nudge });
    await api.register(reloadsRoutes, {
      store: deps.store,
      clock: deps.clock,
      cursors: new CursorCodec(secret, 'reloads'),
      baseUrl,
      rateLimit: rateLimits,
      onQueued: nudge,
      onCancel: (id) => deps.scheduler?.cancel(id),
    });
    await api.register(eventsRoutes, { store: deps.store, clock: deps.clock, rateLimit: rateLimits.writes, onQueued: nudge });
  });

  methodNotAllowed(app, TASKS_PATH, ['GET', 'HEAD', 'POST']);
  methodNotAllowed(app, `${TASKS_PATH}/:taskId`, ['GET', 'HEAD', 'PUT', 'DELETE']);
  methodNotAllowed(app, `${TASKS_PATH}/:taskId/occurrences`, ['GET', 'HEAD']);
  methodNotAllowed(app, RELOADS_PATH, ['GET', 'HEAD', 'POST']);
  methodNotAllowed(app, `${RELOADS_PATH}/:reloadId`, ['GET', 'HEAD']);
  methodNotAllowed(app, `${RELOADS_PATH}/:reloadId/actions/cancel`, ['POST']);
  methodNotAllowed(app, EVENTS_PATH, ['POST']);
  return app;
}

function parsesAsJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

function isLogger(value: unknown): value is import('pino').Logger {
  return typeof value === 'object' && value !== null && typeof (value as { child?: unknown }).child === 'function';
}

const HOST = /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*|\[[0-9A-Fa-f:.]+\])(?::(\d{1,5}))?$/;
const BAD_HOST = 'the Host header is not a valid host[:port]; set PUBLIC_URL when behind a proxy';
/** The last Host found valid: nearly every request carries the same one. */
let goodHost = '';

/**
 * A Host that makes parseable links: host[:port] with a port up to 65535, and one that a URL parser
 * takes (not `a.0`, which reads as a malformed IPv4 address).
 */
function validHost(host: string | undefined): boolean {
  if (host === goodHost) return true;
  // An HTTP/1.0 request may come without a Host: RegExp.exec would read undefined as 'undefined'.
  if (typeof host !== 'string') return false;
  const m = HOST.exec(host);
  if (!m || (m[1] !== undefined && Number(m[1]) > 65535) || !URL.canParse(`http://${host}/`)) return false;
  goodHost = host;
  return true;
}
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * The path of the first string (key or value) in a JSON value that is not well-formed UTF-16.
 * Iterative, because a 64 KiB body can nest thousands deep.
 */
function malformedString(root: unknown, rootPath: string): string | undefined {
  const stack: Array<[unknown, string]> = [[root, rootPath]];
  while (stack.length > 0) {
    const [value, path] = stack.pop()!;
    if (typeof value === 'string') {
      if (LONE_SURROGATE.test(value)) return path;
    } else if (Array.isArray(value)) {
      for (let i = value.length - 1; i >= 0; i--) stack.push([value[i], `${path}[${i}]`]);
    } else if (value !== null && typeof value === 'object') {
      for (const [k, v] of Object.entries(value).reverse()) {
        const p = path ? `${path}.${k}` : k;
        if (LONE_SURROGATE.test(k)) return p;
        stack.push([v, p]);
      }
    }
  }
  return undefined;
}

const ALL_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'] as const;

/** Answers 405 with `Allow` for the methods a path does not have (Fastify would say 404). */
function methodNotAllowed(app: FastifyInstance, url: string, allowed: readonly string[]): void {
  const others = ALL_METHODS.filter((m) => !allowed.includes(m));
  app.route({
    method: [...others],
    url,
    schema: { hide: true },
    handler: async (request, reply) => {
      reply.header('allow', allowed.join(', '));
      sendError(reply, request, 'HTTP-405', `${request.method} is not allowed on ${url}; use ${allowed.filter((m) => m !== 'HEAD').join(', ')}`);
    },
  });
}

/**
 * Node's 'clientError' (Fastify's clientErrorHandler): a request Node refused before it existed.
 * Answered with the envelope, then the connection is closed, as Node and Fastify do.
 */
function clientErrorAnswer(err: Error & { code?: string }, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const [code, detail]: [ErrorCode, string] =
    err.code === 'HPE_HEADER_OVERFLOW'
      ? ['HTTP-431', 'the request headers are larger than 16 KiB']
      : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? ['HTTP-408', 'the request did not arrive in time']
        : ['HTTP-400', 'the request is not valid HTTP'];
  const body = JSON.stringify(envelope(code, detail, traceIdOf(undefined)));
  if (socket.writable) {
    socket.write(`HTTP/1.1 ${ERRORS[code].status} ${STATUS_CODES[ERRORS[code].status]}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
  }
  socket.destroy(err);
}

function sendError(reply: FastifyReply, request: FastifyRequest, code: ErrorCode, detail: string): FastifyReply {
  return reply.code(ERRORS[code].status).type('application/json; charset=utf-8').send(envelope(code, detail, String(request.id)));
}

/** Every thrown error ends here and leaves as the envelope; only the unexpected are 500 and logged as errors. */
function errorHandler(error: FastifyError | Error, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  if (error instanceof ApiError) {
    for (const [k, v] of Object.entries(error.headers)) reply.header(k, v);
    return sendError(reply, request, error.code, error.message);
  }
  if (error instanceof StoreUnavailableError) {
    request.log.warn({ err: error }, 'store unavailable');
    reply.header('retry-after', '5');
    return sendError(reply, request, 'HTTP-503', 'the database is unavailable; try again shortly');
  }
  const fe = error as FastifyError;
  if (fe.validation) {
    // TASKS-002 ("Invalid reload task.") is the tasks' own; other bodies are a plain 400.
    const code: ErrorCode = fe.validationContext === 'body' && request.routeOptions.url?.startsWith(TASKS_PATH) ? 'TASKS-002' : 'HTTP-400';
    return sendError(reply, request, code, describeValidation(fe.validation, fe.validationContext));
  }
  switch (fe.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return sendError(reply, request, 'HTTP-413', `the request body is larger than ${BODY_LIMIT} bytes`);
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return sendError(reply, request, 'HTTP-415', `unsupported Content-Type '${clip(String(request.headers['content-type'] ?? ''))}'; send application/json`);
    case 'RT_UNSUPPORTED_ENCODING':
      return sendError(reply, request, 'HTTP-415', `unsupported Content-Encoding '${clip(String(request.headers['content-encoding'] ?? ''))}'; send the body uncompressed`);
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return sendError(reply, request, 'HTTP-400', 'the request body is not valid JSON');
    case 'FST_ERR_CTP_PROTO_POISONING':
      return sendError(reply, request, 'HTTP-400', 'the request body has a __proto__ or constructor key');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return sendError(reply, request, 'HTTP-400', 'the request body is empty; send a JSON object');
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return sendError(reply, request, 'HTTP-400', 'the Content-Length header does not match the body');
  }
  if (fe.statusCode === 400 && error instanceof SyntaxError) {
    return sendError(reply, request, 'HTTP-400', 'the request body is not valid JSON');
  }
  if (fe.statusCode !== undefined && fe.statusCode >= 400 && fe.statusCode < 500) {
    // Any other client error Fastify raises (bad headers, proto poisoning, ...).
    const code = (`HTTP-${fe.statusCode}` in ERRORS ? `HTTP-${fe.statusCode}` : 'HTTP-400') as ErrorCode;
    return sendError(reply, request, code, fe.message);
  }
  request.log.error({ err: error }, 'unhandled error');
  return sendError(reply, request, 'HTTP-500', 'an unexpected error occurred; the trace id identifies it in the logs');
}

function clip(s: string): string {
  return s.length > 64 ? `${s.slice(0, 61)}...` : s;
}
