/**
 * Configuration, read once from the environment into a typed, frozen object. A bad value stops the
 * start with a message that names the variable; nothing else in the code reads process.env.
 * Every variable is listed with its default in docs/operations.md ("Configuration").
 */
import { resolve } from 'node:path';

export interface Config {
  readonly host: string;
  readonly port: number;
  /** Where the SQLite file and the generated signing keys live. */
  readonly dataDir: string;
  /** A postgres:// URL: several instances share that database. Unset: SQLite in dataDir. */
  readonly databaseUrl: string | undefined;
  readonly databasePoolSize: number;
  /** Named prepared statements on PostgreSQL; off behind PgBouncer in transaction mode before 1.21. */
  readonly databasePreparedStatements: boolean;
  /** PostgreSQL: firing batches the scheduler runs at once, each on its own connection. */
  readonly databaseFireConcurrency: number;
  /** SQLite's page cache (MiB): it must hold the pages a firing batch changes, or they spill mid-transaction. */
  readonly sqliteCacheMb: number;
  /** Tasks SQLite keeps in memory for reads by id (store/sqlite/task-cache.ts); 0 keeps none. */
  readonly sqliteTaskCache: number;
  /** A redis:// URL: rate limits are counted there, shared by every instance. */
  readonly redisUrl: string | undefined;
  /** Base of absolute links (`links.self.href`); when unset, taken from each request's Host. */
  readonly publicUrl: string | undefined;
  readonly trustProxy: boolean;
  /**
   * Origins whose web pages may call the API (CORS): exact `scheme://host[:port]` values, or `*` for
   * any. Empty: no CORS headers, as a service called only by scripts and servers needs.
   */
  readonly corsOrigins: readonly string[];
  /** When set, GET /metrics needs `Authorization: Bearer <this>`. */
  readonly metricsToken: string | undefined;
  /**
   * Reload tasks one app may have in a tenant (Qlik's guardrail: 10); a create, or a change of app,
   * past it is refused. 0: no limit.
   */
  readonly maxTasksPerApp: number;
  readonly http: HttpLimits;
  readonly logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  readonly auth: AuthConfig;
  readonly rateLimit: RateLimitConfig;
  readonly scheduler: SchedulerConfig;
  readonly executor: ExecutorConfig;
}

export interface SchedulerConfig {
  readonly enabled: boolean;
  readonly misfirePolicy: 'once' | 'skip' | 'all';
  /** Lateness up to which an occurrence is on time, not missed. */
  readonly misfireGraceMs: number;
  /** For the `all` policy: how far back missed occurrences still fire. */
  readonly catchUpWindowMs: number;
  readonly overlapPolicy: 'skip' | 'queue';
  readonly maxConcurrentReloads: number;
  readonly maxConcurrentReloadsPerTenant: number;
  /** A queued reload that waits longer fails with EXCEEDED_LIMIT (Qlik: 6 hours). */
  readonly queueLimitMs: number;
  /** A running reload is stopped and fails after this long (Qlik: 3 hours). */
  readonly runTimeoutMs: number;
  readonly maxConsecutiveFailures: number;
  /** Finished reloads and occurrence records older than this are deleted. */
  readonly retentionMs: number;
  /** On SIGTERM, how long running reloads may take to finish before they are handed off. */
  readonly shutdownGraceMs: number;
  /** How long a running reload's claim holds without renewal; after a crash, its reload resumes this much later. */
  readonly leaseMs: number;
}

export type ExecutorConfig =
  | { readonly kind: 'simulated'; readonly durationMs: number; readonly failureRate: number }
  | { readonly kind: 'qlik-cloud'; readonly tenantUrl: string; readonly apiKey: string; readonly pollIntervalMs: number }
  | { readonly kind: 'webhook'; readonly url: string; readonly secret: string; readonly timeoutMs: number; readonly retries: number }
  | { readonly kind: 'command'; readonly command: string };

/** How long and how much a client may take: a slow or endless client cannot hold the server. */
export interface HttpLimits {
  /** The whole request (headers and body) must arrive within this. */
  readonly requestTimeoutMs: number;
  /** The headers must arrive within this (slowloris). */
  readonly headersTimeoutMs: number;
  /** An idle keep-alive connection is closed after this. */
  readonly keepAliveTimeoutMs: number;
  /** Requests served on one connection before it is closed (0: no limit). */
  readonly maxRequestsPerSocket: number;
}

export interface AuthConfig {
  /** JWKS URL (production with an identity provider). */
  readonly jwksUrl: string | undefined;
  /** PEM public key (SPKI) of the token issuer. */
  readonly publicKeyPem: string | undefined;
  /** HS256 shared secret (at least 32 bytes). */
  readonly hmacSecret: string | undefined;
  readonly issuer: string | undefined;
  readonly audience: string | undefined;
  readonly tenantClaim: string;
  readonly userClaim: string;
  readonly rolesClaim: string;
  readonly adminRole: string;
  /** Seconds of clock skew tolerated on exp/nbf. */
  readonly clockToleranceSeconds: number;
  /** How long a verified token is trusted without checking its signature again (0: never). */
  readonly tokenCacheSeconds: number;
  /** How many verified tokens are remembered. */
  readonly tokenCacheSize: number;
}

export interface RateLimitConfig {
  readonly enabled: boolean;
  /** Requests per minute per user per tenant: GET (spec tier 1) and writes (tier 2). */
  readonly readsPerMinute: number;
  readonly writesPerMinute: number;
  /** POST /api/v1/reloads and a reload's cancel: the Reloads API's "special" tier, 50 a minute. */
  readonly reloadsPerMinute: number;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

type Env = Readonly<Record<string, string | undefined>>;

/**
 * Every environment variable the service reads as a setting (loadConfig below; a test keeps the
 * two in step). The command executor leaves them out of its commands' environment: they include
 * the service's secrets (JWT_SECRET, DATABASE_URL, METRICS_TOKEN, QLIK_API_KEY, WEBHOOK_SECRET,
 * REDIS_URL), and what a command prints goes into a reload log its user can read.
 */
export const SETTINGS: readonly string[] = [
  'CATCH_UP_WINDOW_HOURS', 'CORS_ORIGINS', 'DATABASE_FIRE_CONCURRENCY', 'DATABASE_POOL_SIZE', 'DATABASE_PREPARED_STATEMENTS',
  'DATABASE_URL', 'DATA_DIR', 'EXECUTOR', 'HOST', 'HTTP_HEADERS_TIMEOUT_SECONDS', 'HTTP_KEEP_ALIVE_TIMEOUT_SECONDS',
  'HTTP_MAX_REQUESTS_PER_SOCKET', 'HTTP_REQUEST_TIMEOUT_SECONDS', 'JWT_ADMIN_ROLE', 'JWT_AUDIENCE', 'JWT_CACHE_SECONDS',
  'JWT_CACHE_SIZE', 'JWT_CLOCK_TOLERANCE_SECONDS', 'JWT_ISSUER', 'JWT_JWKS_URL', 'JWT_PUBLIC_KEY', 'JWT_ROLES_CLAIM', 'JWT_SECRET',
  'JWT_TENANT_CLAIM', 'JWT_USER_CLAIM', 'LOG_LEVEL', 'MAX_CONCURRENT_RELOADS', 'MAX_CONCURRENT_RELOADS_PER_TENANT',
  'MAX_CONSECUTIVE_FAILURES', 'MAX_TASKS_PER_APP', 'METRICS_TOKEN', 'MISFIRE_GRACE_SECONDS', 'MISFIRE_POLICY', 'OVERLAP_POLICY', 'PORT', 'PUBLIC_URL',
  'QLIK_API_KEY', 'QLIK_POLL_INTERVAL_MS', 'QLIK_TENANT_URL', 'RATE_LIMIT_ENABLED', 'RATE_LIMIT_READS_PER_MINUTE',
  'RATE_LIMIT_RELOADS_PER_MINUTE', 'RATE_LIMIT_WRITES_PER_MINUTE', 'REDIS_URL', 'RELOAD_COMMAND', 'RELOAD_LEASE_SECONDS',
  'RELOAD_QUEUE_LIMIT_MINUTES', 'RELOAD_RETENTION_DAYS', 'RELOAD_TIMEOUT_MINUTES', 'SCHEDULER_ENABLED', 'SHUTDOWN_GRACE_SECONDS',
  'SIMULATED_DURATION_MS', 'SIMULATED_FAILURE_RATE', 'SQLITE_CACHE_MB', 'SQLITE_TASK_CACHE', 'TRUST_PROXY', 'WEBHOOK_RETRIES',
  'WEBHOOK_SECRET', 'WEBHOOK_TIMEOUT_MS', 'WEBHOOK_URL',
];

export function loadConfig(env: Env = process.env): Config {
  const str = (name: string): string | undefined => {
    const v = env[name];
    return v === undefined || v.trim() === '' ? undefined : v.trim();
  };
  const int = (name: string, fallback: number, min: number, max: number): number => {
    const v = str(name);
    if (v === undefined) return fallback;
    if (!/^\d+$/.test(v) || Number(v) < min || Number(v) > max) throw new ConfigError(`${name}: '${v}' is not an integer from ${min} to ${max}`);
    return Number(v);
  };
  const bool = (name: string, fallback: boolean): boolean => {
    const v = str(name)?.toLowerCase();
    if (v === undefined) return fallback;
    if (['1', 'true', 'yes', 'on'].includes(v)) return true;
    if (['0', 'false', 'no', 'off'].includes(v)) return false;
    throw new ConfigError(`${name}: '${env[name]}' is not a boolean (true or false)`);
  };
  const origins = (name: string): readonly string[] => {
    const list = (str(name) ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '');
    for (const o of list) {
      if (o === '*') continue;
      let parsed: URL | undefined;
      try {
        parsed = new URL(o);
      } catch {
        parsed = undefined;
      }
      // An origin is what a browser sends in Origin: scheme, host and port, nothing after them.
      if (!parsed || (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') || parsed.origin !== o) {
        throw new ConfigError(`${name}: '${o}' is not an origin such as https://app.example.com (scheme, host and port only, no path or trailing slash), nor *`);
      }
    }
    return Object.freeze(list);
  };
  const url = (name: string): string | undefined => {
    const v = str(name);
    if (v === undefined) return undefined;
    let parsed: URL;
    try {
      parsed = new URL(v);
    } catch {
      throw new ConfigError(`${name}: '${v}' is not a URL`);
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new ConfigError(`${name}: '${v}' must be an http(s) URL`);
    // Node's fetch refuses such a URL on every request, and its error repeats the URL, password
    // included, into reload logs: refused here, without repeating it.
    if (parsed.username !== '' || parsed.password !== '') throw new ConfigError(`${name}: must not contain a user name or password (fetch refuses such URLs)`);
    return v.replace(/\/+$/, '');
  };

  const dbUrl = (v: string | undefined): string | undefined => {
    if (v === undefined) return undefined;
    if (!/^postgres(ql)?:\/\//.test(v)) throw new ConfigError('DATABASE_URL: must be a postgres:// URL (leave it unset for SQLite in DATA_DIR)');
    return v;
  };
  const redis = (v: string | undefined): string | undefined => {
    if (v === undefined) return undefined;
    if (!/^rediss?:\/\//.test(v)) throw new ConfigError('REDIS_URL: must be a redis:// or rediss:// URL');
    return v;
  };
  const httpLimits = (): HttpLimits => {
    const requestTimeoutMs = int('HTTP_REQUEST_TIMEOUT_SECONDS', 30, 1, 3600) * 1000;
    const headersTimeoutMs = int('HTTP_HEADERS_TIMEOUT_SECONDS', 10, 1, 3600) * 1000;
    if (headersTimeoutMs > requestTimeoutMs) throw new ConfigError('HTTP_HEADERS_TIMEOUT_SECONDS: must not exceed HTTP_REQUEST_TIMEOUT_SECONDS');
    return Object.freeze({
      requestTimeoutMs,
      headersTimeoutMs,
      keepAliveTimeoutMs: int('HTTP_KEEP_ALIVE_TIMEOUT_SECONDS', 5, 1, 3600) * 1000,
      maxRequestsPerSocket: int('HTTP_MAX_REQUESTS_PER_SOCKET', 1000, 0, 1_000_000),
    });
  };
  const levels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
  const logLevel = (str('LOG_LEVEL') ?? 'info').toLowerCase();
  if (!(levels as readonly string[]).includes(logLevel)) throw new ConfigError(`LOG_LEVEL: '${logLevel}' is not one of ${levels.join(', ')}`);

  const hmacSecret = str('JWT_SECRET');
  if (hmacSecret !== undefined && Buffer.byteLength(hmacSecret) < 32) throw new ConfigError('JWT_SECRET: must be at least 32 bytes');
  let publicKeyPem = str('JWT_PUBLIC_KEY');
  if (publicKeyPem !== undefined) {
    publicKeyPem = publicKeyPem.replace(/\\n/g, '\n');
    if (!publicKeyPem.includes('-----BEGIN PUBLIC KEY-----')) throw new ConfigError('JWT_PUBLIC_KEY: must be a PEM public key (-----BEGIN PUBLIC KEY-----)');
  }
  const jwksUrl = url('JWT_JWKS_URL');
  const sources = [jwksUrl, publicKeyPem, hmacSecret].filter((v) => v !== undefined).length;
  if (sources > 1) throw new ConfigError('JWT_JWKS_URL, JWT_PUBLIC_KEY and JWT_SECRET: set at most one of them');

  const oneOf = <T extends string>(name: string, values: readonly T[], fallback: T): T => {
    const v = str(name) ?? fallback;
    if (!(values as readonly string[]).includes(v)) throw new ConfigError(`${name}: '${v}' is not one of ${values.join(', ')}`);
    return v as T;
  };
  const minutes = (name: string, fallback: number, max: number): number => int(name, fallback, 1, max) * 60_000;

  const executorKind = oneOf('EXECUTOR', ['simulated', 'qlik-cloud', 'webhook', 'command'] as const, 'simulated');
  const required = (name: string): string => {
    const v = str(name);
    if (v === undefined) throw new ConfigError(`${name}: required when EXECUTOR=${executorKind}`);
    return v;
  };
  let executor: ExecutorConfig;
  switch (executorKind) {
    case 'simulated': {
      const rate = Number(str('SIMULATED_FAILURE_RATE') ?? '0');
      if (!(rate >= 0 && rate <= 1)) throw new ConfigError(`SIMULATED_FAILURE_RATE: '${env.SIMULATED_FAILURE_RATE}' is not a number from 0 to 1`);
      executor = { kind: 'simulated', durationMs: int('SIMULATED_DURATION_MS', 2000, 0, 86_400_000), failureRate: rate };
      break;
    }
    case 'qlik-cloud':
      executor = { kind: 'qlik-cloud', tenantUrl: url('QLIK_TENANT_URL') ?? required('QLIK_TENANT_URL'), apiKey: required('QLIK_API_KEY'), pollIntervalMs: int('QLIK_POLL_INTERVAL_MS', 5000, 100, 600_000) };
      break;
    case 'webhook': {
      const secret = required('WEBHOOK_SECRET');
      if (Buffer.byteLength(secret) < 16) throw new ConfigError('WEBHOOK_SECRET: must be at least 16 bytes');
      executor = { kind: 'webhook', url: url('WEBHOOK_URL') ?? required('WEBHOOK_URL'), secret, timeoutMs: int('WEBHOOK_TIMEOUT_MS', 30_000, 100, 3_600_000), retries: int('WEBHOOK_RETRIES', 3, 0, 20) };
      break;
    }
    case 'command':
      executor = { kind: 'command', command: required('RELOAD_COMMAND') };
      break;
  }

  return Object.freeze({
    host: str('HOST') ?? '0.0.0.0',
    port: int('PORT', 8080, 0, 65535),
    dataDir: resolve(str('DATA_DIR') ?? './data'),
    databaseUrl: dbUrl(str('DATABASE_URL')),
    databasePoolSize: int('DATABASE_POOL_SIZE', 10, 1, 1000),
    databasePreparedStatements: bool('DATABASE_PREPARED_STATEMENTS', true),
    databaseFireConcurrency: int('DATABASE_FIRE_CONCURRENCY', 2, 1, 16),
    sqliteCacheMb: int('SQLITE_CACHE_MB', 32, 1, 65_536),
    sqliteTaskCache: int('SQLITE_TASK_CACHE', 10_000, 0, 1_000_000),
    redisUrl: redis(str('REDIS_URL')),
    publicUrl: url('PUBLIC_URL'),
    trustProxy: bool('TRUST_PROXY', false),
    corsOrigins: origins('CORS_ORIGINS'),
    metricsToken: str('METRICS_TOKEN'),
    maxTasksPerApp: int('MAX_TASKS_PER_APP', 10, 0, 1_000_000),
    http: httpLimits(),
    logLevel: logLevel as Config['logLevel'],
    auth: Object.freeze({
      jwksUrl,
      publicKeyPem,
      hmacSecret,
      issuer: str('JWT_ISSUER'),
      audience: str('JWT_AUDIENCE'),
      tenantClaim: str('JWT_TENANT_CLAIM') ?? 'tenantId',
      userClaim: str('JWT_USER_CLAIM') ?? 'sub',
      rolesClaim: str('JWT_ROLES_CLAIM') ?? 'roles',
      adminRole: str('JWT_ADMIN_ROLE') ?? 'TenantAdmin',
      clockToleranceSeconds: int('JWT_CLOCK_TOLERANCE_SECONDS', 5, 0, 300),
      tokenCacheSeconds: int('JWT_CACHE_SECONDS', 60, 0, 3600),
      tokenCacheSize: int('JWT_CACHE_SIZE', 10_000, 0, 1_000_000),
    }),
    rateLimit: Object.freeze({
      enabled: bool('RATE_LIMIT_ENABLED', true),
      readsPerMinute: int('RATE_LIMIT_READS_PER_MINUTE', 1000, 1, 10_000_000),
      writesPerMinute: int('RATE_LIMIT_WRITES_PER_MINUTE', 100, 1, 10_000_000),
      reloadsPerMinute: int('RATE_LIMIT_RELOADS_PER_MINUTE', 50, 1, 10_000_000),
    }),
    scheduler: Object.freeze({
      enabled: bool('SCHEDULER_ENABLED', true),
      misfirePolicy: oneOf('MISFIRE_POLICY', ['once', 'skip', 'all'] as const, 'once'),
      misfireGraceMs: int('MISFIRE_GRACE_SECONDS', 60, 0, 86_400) * 1000,
      catchUpWindowMs: int('CATCH_UP_WINDOW_HOURS', 24, 1, 24 * 365) * 3_600_000,
      overlapPolicy: oneOf('OVERLAP_POLICY', ['skip', 'queue'] as const, 'skip'),
      maxConcurrentReloads: int('MAX_CONCURRENT_RELOADS', 50, 1, 100_000),
      maxConcurrentReloadsPerTenant: int('MAX_CONCURRENT_RELOADS_PER_TENANT', 10, 1, 100_000),
      queueLimitMs: minutes('RELOAD_QUEUE_LIMIT_MINUTES', 360, 60 * 24 * 7),
      runTimeoutMs: minutes('RELOAD_TIMEOUT_MINUTES', 180, 60 * 24 * 7),
      maxConsecutiveFailures: int('MAX_CONSECUTIVE_FAILURES', 5, 1, 1000),
      retentionMs: int('RELOAD_RETENTION_DAYS', 90, 1, 3650) * 86_400_000,
      shutdownGraceMs: int('SHUTDOWN_GRACE_SECONDS', 10, 0, 3600) * 1000,
      leaseMs: int('RELOAD_LEASE_SECONDS', 30, 1, 3600) * 1000,
    }),
    executor: Object.freeze(executor),
  });
}
