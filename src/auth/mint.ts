/** Signing tokens for the local key (or an HS256 secret): what `reload-task token` prints. */
import { createSecretKey } from 'node:crypto';
import { SignJWT, type JWTPayload } from 'jose';
import type { AuthConfig } from '../config.js';
import type { LocalKey } from './local-key.js';

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
