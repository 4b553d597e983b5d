import { SignJWT, errors as joseErrors, jwtVerify } from 'jose';
import { z } from 'zod';
import type { Clock } from '../clock.js';
import { WardenError } from '../errors.js';

/**
 * What a verified token says: who, whether it was minted as admin, its user's token version at minting,
 * and until when (epoch ms). The role and version are claims, not facts: authenticate checks both against
 * the stored user, so revoking the admin flag or the tokens in PostgreSQL takes effect.
 */
export interface TokenClaims {
  userId: string;
  role: 'admin' | 'user';
  tokenVersion: number;
  expiresAt: number;
}

export interface SignTokenOptions {
  userId: string;
  admin?: boolean;
  /** The user's current token version (UserRow.tokenVersion); default 0, the version of a new user. */
  tokenVersion?: number;
  /** Lifetime in seconds. */
  ttlSeconds: number;
  clock: Clock;
}

const ALGORITHM = 'HS256';
const ISSUER = 'warden';

const payloadSchema = z.object({
  sub: z.string().min(1).max(200),
  role: z.literal('admin').optional(),
  // Absent in tokens minted before revocation existed: version 0, revoked by the first --revoke.
  ver: z.number().int().min(0).optional(),
  exp: z.number().int(),
});

/** The HMAC key of WARDEN_SECRET; HS256 wants at least 256 bits, config requires ≥ 16 characters. */
export function secretKey(secret: string): Uint8Array {
  return new TextEncoder().encode(secret);
}

/** A bearer token: HS256 JWT, subject = user id, `role: "admin"` when admin, expiring after the TTL. */
export async function signToken(key: Uint8Array, options: SignTokenOptions): Promise<string> {
  const nowSeconds = Math.floor(options.clock.now() / 1000);
  const claims = { ...(options.admin ? { role: 'admin' } : {}), ver: options.tokenVersion ?? 0 };
  return new SignJWT(claims)
    .setProtectedHeader({ alg: ALGORITHM, typ: 'JWT' })
    .setSubject(options.userId)
    .setIssuer(ISSUER)
    .setIssuedAt(nowSeconds)
    .setExpirationTime(nowSeconds + options.ttlSeconds)
    .sign(key);
}

/**
 * Checks signature, algorithm, issuer and expiry (at the injected clock's time). Any failure is the same
 * UNAUTHORIZED to the caller: a forged token and an expired one are told apart only in `reason`.
 */
export async function verifyToken(key: Uint8Array, token: string, clock: Clock): Promise<TokenClaims> {
  try {
    const { payload } = await jwtVerify(token, key, {
      algorithms: [ALGORITHM],
      issuer: ISSUER,
      currentDate: new Date(clock.now()),
    });
    const claims = payloadSchema.parse(payload);
    return { userId: claims.sub, role: claims.role ?? 'user', tokenVersion: claims.ver ?? 0, expiresAt: claims.exp * 1000 };
  } catch (err) {
    const reason = err instanceof joseErrors.JWTExpired ? 'expired token' : 'invalid token';
    throw new WardenError('UNAUTHORIZED', reason, {}, { cause: err });
  }
}

const TTL_UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400, w: 604_800 };

/** "90s", "15m", "12h", "7d", "2w" → seconds; anything else is refused with the accepted forms. */
export function parseTtl(text: string): number {
  const match = /^(\d+)([smhdw])$/.exec(text.trim());
  const amount = match?.[1];
  const unit = match?.[2];
  if (amount === undefined || unit === undefined || Number(amount) <= 0) {
    throw new Error(`invalid TTL "${text}": use a positive number followed by s, m, h, d or w (e.g. 7d)`);
  }
  return Number(amount) * (TTL_UNITS[unit] ?? 1);
}
