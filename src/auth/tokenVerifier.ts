import type { Clock } from '../clock.js';
import { WardenError } from '../errors.js';
import { verifyToken, type TokenClaims } from './tokens.js';

/** Verifies bearer tokens, remembering good ones so that a client's second request skips the HMAC. */
export interface TokenVerifier {
  verify(token: string): Promise<TokenClaims>;
}

export interface TokenVerifierOptions {
  key: Uint8Array;
  clock: Clock;
  /** Most tokens remembered; the oldest entry goes first. */
  maxEntries?: number;
}

/**
 * jose's verification costs tens of microseconds and allocates; a client reuses one token for many calls,
 * so the claims are cached per token string until the token's own expiry (checked against the clock on
 * every hit, so an expired token is refused even while cached). Failures are not cached: a forged token
 * must never become cheap to retry into a different answer, and it gets the full check each time.
 */
export function createTokenVerifier(options: TokenVerifierOptions): TokenVerifier {
  const maxEntries = options.maxEntries ?? 10_000;
  const cache = new Map<string, TokenClaims>();
  return {
    async verify(token) {
      const cached = cache.get(token);
      if (cached) {
        if (cached.expiresAt > options.clock.now()) return cached;
        cache.delete(token);
        throw new WardenError('UNAUTHORIZED', 'expired token', {});
      }
      const claims = await verifyToken(options.key, token, options.clock);
      if (cache.size >= maxEntries) {
        const oldest = cache.keys().next().value;
        if (oldest !== undefined) cache.delete(oldest);
      }
      cache.set(token, claims);
      return claims;
    },
  };
}
