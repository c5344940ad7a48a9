/** Signing tokens for the local key (or an HS256 secret): what `reload-task token` prints. */
import { createSecretKey } from 'node:crypto';
import { SignJWT, type JWTPayload } from 'jose';
import type { AuthConfig } from '../config.js';
import type { LocalKey } from './local-key.js';

/**
 * The longest lifetime a token minted here may have (`reload-task token --expires-in`): the server
 * refuses its own key's tokens that expire further ahead (verifier.ts).
 */
export const MAX_TOKEN_SECONDS = 365 * 86_400;

export interface MintOptions {
  readonly tenantId: string;
  readonly userId: string;
  readonly admin: boolean;
  readonly expiresInSeconds: number;
  readonly now: number;
}

/** Throws when tokens cannot be minted here (a JWKS or PEM key means an external issuer). */
export async function mintToken(config: AuthConfig, localKey: () => LocalKey, o: MintOptions): Promise<string> {
  if (config.jwksUrl || config.publicKeyPem) {
    throw new Error('tokens come from your identity provider when JWT_JWKS_URL or JWT_PUBLIC_KEY is set');
  }
  // Commander does not run a default through the option's parser: a '1h' that reached here as text
  // once made `iat + '1h'` a string, which jose read as some two million years.
  // (A lifetime below 1 s makes a token already expired: tests mint those.)
  if (!Number.isInteger(o.expiresInSeconds) || o.expiresInSeconds > MAX_TOKEN_SECONDS) throw new Error(`a token's lifetime must be a whole number of seconds up to 365 days, not ${String(o.expiresInSeconds)}`);
  const iat = Math.floor(o.now / 1000);
  const claims: JWTPayload = { [config.tenantClaim]: o.tenantId, [config.rolesClaim]: o.admin ? [config.adminRole] : [] };
  if (config.userClaim !== 'sub') claims[config.userClaim] = o.userId;
  const jwt = new SignJWT(claims).setIssuedAt(iat).setExpirationTime(iat + o.expiresInSeconds);
  if (config.userClaim === 'sub') jwt.setSubject(o.userId);
  if (config.issuer) jwt.setIssuer(config.issuer);
  if (config.audience) jwt.setAudience(config.audience);
  if (config.hmacSecret) {
    return jwt.setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).sign(createSecretKey(Buffer.from(config.hmacSecret)));
  }
  return jwt.setProtectedHeader({ alg: 'ES256', typ: 'JWT' }).sign(localKey().privateKey);
}
