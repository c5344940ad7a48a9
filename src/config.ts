/**
 * Configuration, read once from the environment into a typed, frozen object. A bad value stops the
 * start with a message that names the variable; nothing else in the code reads process.env.
 * Every variable is listed with its default in docs/configuration.md.
 */
import { resolve } from 'node:path';

export interface Config {
  readonly host: string;
  readonly port: number;
  /** Where the SQLite file and the generated signing keys live. */
  readonly dataDir: string;
  /** Base of absolute links (`links.self.href`); when unset, taken from each request's Host. */
  readonly publicUrl: string | undefined;
  readonly trustProxy: boolean;
  readonly logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  readonly auth: AuthConfig;
  readonly rateLimit: RateLimitConfig;
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
}

export interface RateLimitConfig {
  readonly enabled: boolean;
  /** Requests per minute per user per tenant: GET (spec tier 1) and writes (tier 2). */
  readonly readsPerMinute: number;
  readonly writesPerMinute: number;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

type Env = Readonly<Record<string, string | undefined>>;

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
    return v.replace(/\/+$/, '');
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

  return Object.freeze({
    host: str('HOST') ?? '0.0.0.0',
    port: int('PORT', 8080, 0, 65535),
    dataDir: resolve(str('DATA_DIR') ?? './data'),
    publicUrl: url('PUBLIC_URL'),
    trustProxy: bool('TRUST_PROXY', false),
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
    }),
    rateLimit: Object.freeze({
      enabled: bool('RATE_LIMIT_ENABLED', true),
      readsPerMinute: int('RATE_LIMIT_READS_PER_MINUTE', 1000, 1, 10_000_000),
      writesPerMinute: int('RATE_LIMIT_WRITES_PER_MINUTE', 100, 1, 10_000_000),
    }),
  });
}
