/**
 * Verifying the bearer JWT of a request, with jose. The accepted algorithms are fixed by the kind of
 * key configured (never taken from the token), so `alg: none` and HS256-signed-with-the-public-key
 * (algorithm confusion) are refused; `exp` is required and enforced, `nbf`, `iss` and `aud` when
 * present or configured.
 */
import { createPublicKey, createSecretKey, type KeyObject } from 'node:crypto';
import { createRemoteJWKSet, errors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import type { AuthConfig } from '../config.js';
import type { LocalKey } from './local-key.js';
import { MAX_TOKEN_SECONDS } from './mint.js';

/** Who is calling: from the token's tenant, subject and roles claims. */
export interface Principal {
  readonly tenantId: string;
  readonly userId: string;
  readonly admin: boolean;
}

/** A token that is missing or not accepted; `message` says why (without echoing the token). */
export class AuthError extends Error {
  override name = 'AuthError';
}

/**
 * Verifies an Authorization header. A token found in the cache is answered at once, without a
 * promise (the API's auth hook then costs no microtask); every other answer, and every refusal,
 * comes as a promise.
 */
export type Verifier = (authorization: string | undefined) => Principal | Promise<Principal>;

/** A token whose signature was verified, kept so that its next requests skip the signature check. */
interface Verified {
  /** The Authorization header it came in, exactly: a hit must be this very text. */
  readonly header: string;
  readonly principal: Principal;
  /** `exp` and `nbf` in epoch seconds, re-checked on every use exactly as jose checks them. */
  readonly exp: number;
  readonly nbf: number | undefined;
  /** When it was verified (ms): past the cache's maximum age the token is verified again in full. */
  readonly at: number;
}

/** Tokens longer than this are verified every time rather than kept. */
const MAX_CACHED_TOKEN_LENGTH = 8192;

const ASYMMETRIC = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'];

export interface VerifierOptions {
  /** The time (ms) that `exp`, `nbf` and the cache's age are checked against. */
  readonly now?: () => number;
  /** Told how each accepted token was accepted: from the cache, or by checking its signature. */
  readonly onAccept?: (how: 'cache' | 'signature') => void;
}

/** Builds the verifier for the configured key source (JWKS, PEM, HS256 secret, or the local key). */
export function createVerifier(config: AuthConfig, localKey: () => LocalKey, opts: VerifierOptions = {}): Verifier {
  const now = opts.now ?? Date.now;
  const onAccept = opts.onAccept ?? (() => {});
  let key: KeyObject | JWTVerifyGetKey;
  let algorithms: string[];
  if (config.jwksUrl) {
    key = createRemoteJWKSet(new URL(config.jwksUrl));
    algorithms = ASYMMETRIC;
  } else if (config.publicKeyPem) {
    const k = createPublicKey(config.publicKeyPem);
    key = k;
    algorithms = algorithmsFor(k);
  } else if (config.hmacSecret) {
    key = createSecretKey(Buffer.from(config.hmacSecret));
    algorithms = ['HS256'];
  } else {
    const k = localKey().publicKey;
    key = k;
    algorithms = algorithmsFor(k);
  }

  // Verifying an ES256 or RS256 signature costs more than the rest of a GET by id together (see
  // docs/benchmarks-api.md), and a client sends the same token until it expires. So a verified token
  // is remembered with the exact Authorization header it came in, for at most `tokenCacheSeconds`;
  // `exp` and `nbf` are checked again on every use. An entry is found by the header's last 32
  // characters (the signature's: a short key to hash per request, where the whole token would be a
  // few hundred characters) and a hit must then equal the whole header, so any change to header,
  // payload or signature, or another spelling of the same header, is verified in full, and no
  // regular expression runs on a hit. Only verified tokens are kept, so garbage cannot fill the
  // cache; the oldest entry goes when it is full. The cost: a key removed from the JWKS still admits
  // the tokens it signed that were seen in the last `tokenCacheSeconds` (60 by default, 0 turns the
  // cache off).
  const cache = new Map<string, Verified>();
  const maxAgeMs = config.tokenCacheSeconds * 1000;
  const maxEntries = config.tokenCacheSize;
  const tolerance = config.clockToleranceSeconds;
  // The local key's tokens come from `reload-task token` alone, which mints at most 365 days.
  // Tokens that expire further ahead were minted by releases whose default lifetime was, by a bug,
  // some two million years: refused, so that those tokens stop working.
  const ownKey = !config.jwksUrl && !config.publicKeyPem && !config.hmacSecret;

  const fromCache = (authorization: string | undefined): Principal | undefined => {
    if (maxAgeMs <= 0 || maxEntries <= 0 || authorization === undefined) return undefined;
    const key = cacheKey(authorization);
    const hit = cache.get(key);
    if (hit === undefined || hit.header !== authorization) return undefined;
    const t = now();
    const seconds = Math.floor(t / 1000);
    if (t - hit.at < maxAgeMs && hit.exp > seconds - tolerance && (hit.nbf === undefined || hit.nbf <= seconds + tolerance)) {
      onAccept('cache');
      return hit.principal;
    }
    cache.delete(key); // expired, not yet valid or too old: verify in full, which says why
    return undefined;
  };

  const verifyInFull = async (authorization: string | undefined): Promise<Principal> => {
    const token = bearer(authorization);
    let payload: JWTPayload;
    try {
      const options = {
        algorithms,
        requiredClaims: ['exp'],
        clockTolerance: tolerance,
        currentDate: new Date(now()),
        ...(config.issuer !== undefined && { issuer: config.issuer }),
        ...(config.audience !== undefined && { audience: config.audience }),
      };
      // The two overloads of jwtVerify (key vs key function) need separate calls for the types.
      payload = typeof key === 'function' ? (await jwtVerify(token, key, options)).payload : (await jwtVerify(token, key, options)).payload;
    } catch (e) {
      throw new AuthError(reason(e), { cause: e });
    }
    if (ownKey && typeof payload.exp === 'number' && payload.exp - Math.floor(now() / 1000) > MAX_TOKEN_SECONDS + tolerance) {
      throw new AuthError('the token expires more than 365 days from now, later than any token of this service; mint a new one with reload-task token');
    }
    const tenantId = claim(payload, config.tenantClaim, 'tenant');
    const userId = claim(payload, config.userClaim, 'user');
    const roles = payload[config.rolesClaim];
    const roleList = Array.isArray(roles) ? roles : typeof roles === 'string' ? roles.split(/[ ,]+/) : [];
    const principal: Principal = Object.freeze({ tenantId, userId, admin: roleList.includes(config.adminRole) });
    if (maxAgeMs > 0 && maxEntries > 0 && token.length <= MAX_CACHED_TOKEN_LENGTH && typeof payload.exp === 'number') {
      if (cache.size >= maxEntries) cache.delete(cache.keys().next().value!);
      cache.set(cacheKey(authorization!), { header: authorization!, principal, exp: payload.exp, nbf: typeof payload.nbf === 'number' ? payload.nbf : undefined, at: now() });
    }
    onAccept('signature');
    return principal;
  };

  return (authorization) => fromCache(authorization) ?? verifyInFull(authorization);
}

/** The cache's key for a header: its last characters, which are the token signature's. */
function cacheKey(authorization: string): string {
  return authorization.slice(-32);
}

const BEARER = /^Bearer +([A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]*\.[A-Za-z0-9_\-]*) *$/i;

function bearer(header: string | undefined): string {
  if (header === undefined || header.trim() === '') throw new AuthError('no bearer token: send Authorization: Bearer <JWT>');
  const m = BEARER.exec(header);
  if (!m) throw new AuthError(/^bearer\s/i.test(header) ? 'the bearer token is malformed: not a JWT (three base64url parts separated by dots)' : 'the Authorization header is not "Bearer <JWT>"');
  return m[1]!;
}

function claim(payload: JWTPayload, name: string, what: string): string {
  const v = payload[name];
  if (typeof v !== 'string' || v === '') throw new AuthError(`the token has no ${what} claim '${name}'`);
  if (v.length > 256 || /[\u0000-\u001f\u007f]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(v)) throw new AuthError(`the token's ${what} claim '${name}' is not a valid id`);
  return v;
}

function algorithmsFor(key: KeyObject): string[] {
  switch (key.asymmetricKeyType) {
    case 'rsa':
      return ['RS256', 'RS384', 'RS512'];
    case 'rsa-pss':
      return ['PS256', 'PS384', 'PS512'];
    case 'ec': {
      const curve = key.asymmetricKeyDetails?.namedCurve;
      return [curve === 'secp384r1' ? 'ES384' : curve === 'secp521r1' ? 'ES512' : 'ES256'];
    }
    case 'ed25519':
      return ['EdDSA'];
    default:
      throw new Error(`unsupported public key type ${key.asymmetricKeyType}`);
  }
}

function reason(e: unknown): string {
  if (e instanceof errors.JWTExpired) return 'the token has expired';
  if (e instanceof errors.JWTClaimValidationFailed) {
    if (e.claim === 'nbf') return 'the token is not valid yet (nbf)';
    if (e.claim === 'exp') return 'the token has no expiry (exp)';
    return `the token's ${e.claim} claim is not accepted`;
  }
  if (e instanceof errors.JOSEAlgNotAllowed) return "the token's signing algorithm is not accepted";
  if (e instanceof errors.JWSSignatureVerificationFailed) return "the token's signature is not valid";
  if (e instanceof errors.JWKSNoMatchingKey) return 'no key of the issuer matches the token';
  if (e instanceof errors.JOSEError) return 'the token is malformed or not accepted';
  return 'the token could not be verified';
}
