import { SignJWT, UnsecuredJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { bearerToken } from '../../router/context.js';
import { createTokenVerifier } from '../../src/auth/tokenVerifier.js';
import { parseTtl, secretKey, signToken, verifyToken } from '../../src/auth/tokens.js';
import { createManualClock } from '../../src/clock.js';
import { isWardenError, type WardenError } from '../../src/errors.js';

const key = secretKey('unit-test-secret-0123456789abcdef');
const otherKey = secretKey('another-secret-0123456789abcdef!');

async function refusal(promise: Promise<unknown>): Promise<WardenError> {
  const err: unknown = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!isWardenError(err, 'UNAUTHORIZED')) throw new Error(`expected UNAUTHORIZED, got ${String(err)}`);
  return err;
}

describe('signToken / verifyToken', () => {
  it('round-trips the user id, the admin role and the expiry', async () => {
    const clock = createManualClock('2026-03-01T10:00:00Z');
    const user = await signToken(key, { userId: 'alice', ttlSeconds: 3600, clock });
    const admin = await signToken(key, { userId: 'root', admin: true, ttlSeconds: 60, clock });
    expect(await verifyToken(key, user, clock)).toEqual({
      userId: 'alice',
      role: 'user',
      tokenVersion: 0,
      expiresAt: Date.parse('2026-03-01T11:00:00Z'),
    });
    expect((await verifyToken(key, admin, clock)).role).toBe('admin');
    const versioned = await signToken(key, { userId: 'alice', tokenVersion: 3, ttlSeconds: 60, clock });
    expect((await verifyToken(key, versioned, clock)).tokenVersion).toBe(3);
  });

  it('refuses a token at and after its expiry, by the injected clock', async () => {
    const clock = createManualClock('2026-03-01T10:00:00Z');
    const token = await signToken(key, { userId: 'alice', ttlSeconds: 60, clock });
    clock.advance(59_999);
    await expect(verifyToken(key, token, clock)).resolves.toMatchObject({ userId: 'alice' });
    clock.advance(1);
    expect((await refusal(verifyToken(key, token, clock))).message).toBe('expired token');
  });

  it('refuses a token signed with another secret', async () => {
    const clock = createManualClock();
    const forged = await signToken(otherKey, { userId: 'alice', admin: true, ttlSeconds: 60, clock });
    expect((await refusal(verifyToken(key, forged, clock))).message).toBe('invalid token');
  });

  it('refuses a token whose payload was edited after signing (e.g. to gain admin)', async () => {
    const clock = createManualClock();
    const token = await signToken(key, { userId: 'alice', ttlSeconds: 60, clock });
    const [header, payload, signature] = token.split('.');
    const claims = JSON.parse(Buffer.from(payload ?? '', 'base64url').toString()) as Record<string, unknown>;
    const edited = Buffer.from(JSON.stringify({ ...claims, role: 'admin' })).toString('base64url');
    await refusal(verifyToken(key, `${header}.${edited}.${signature}`, clock));
  });

  it('refuses unsigned ("alg: none") tokens, other algorithms, other issuers and garbage', async () => {
    const clock = createManualClock();
    const now = Math.floor(clock.now() / 1000);
    const unsigned = new UnsecuredJWT({}).setSubject('alice').setIssuer('warden').setExpirationTime(now + 60).encode();
    const hs512 = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS512' })
      .setSubject('alice')
      .setIssuer('warden')
      .setExpirationTime(now + 60)
      .sign(new Uint8Array(64).fill(7));
    const otherIssuer = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('alice')
      .setIssuer('someone-else')
      .setExpirationTime(now + 60)
      .sign(key);
    for (const token of [unsigned, hs512, otherIssuer, 'not-a-jwt', '']) await refusal(verifyToken(key, token, clock));
  });

  it('refuses a well-signed token without a subject', async () => {
    const clock = createManualClock();
    const token = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuer('warden')
      .setExpirationTime(Math.floor(clock.now() / 1000) + 60)
      .sign(key);
    await refusal(verifyToken(key, token, clock));
  });
});

describe('createTokenVerifier', () => {
  it('serves a verified token from its cache but still refuses it once expired', async () => {
    const clock = createManualClock('2026-03-01T10:00:00Z');
    const verifier = createTokenVerifier({ key, clock });
    const token = await signToken(key, { userId: 'alice', ttlSeconds: 10, clock });
    const first = await verifier.verify(token);
    expect(await verifier.verify(token)).toBe(first);
    clock.advance(10_000);
    expect((await refusal(verifier.verify(token))).message).toBe('expired token');
  });

  it('does not cache refusals and keeps at most maxEntries tokens', async () => {
    const clock = createManualClock();
    const verifier = createTokenVerifier({ key, clock, maxEntries: 2 });
    const forged = await signToken(otherKey, { userId: 'mallory', ttlSeconds: 60, clock });
    await refusal(verifier.verify(forged));
    await refusal(verifier.verify(forged));
    const tokens = await Promise.all(['a', 'b', 'c'].map((userId) => signToken(key, { userId, ttlSeconds: 60, clock })));
    const claims = [];
    for (const t of tokens) claims.push(await verifier.verify(t));
    // 'a' was evicted: verified again, so a new (equal) object rather than the cached one.
    const again = await verifier.verify(tokens[0] ?? '');
    expect(again).toEqual(claims[0]);
    expect(again).not.toBe(claims[0]);
    expect(await verifier.verify(tokens[2] ?? '')).toBe(claims[2]);
  });
});

describe('parseTtl', () => {
  it.each([
    ['90s', 90],
    ['15m', 900],
    ['12h', 43_200],
    ['7d', 604_800],
    ['2w', 1_209_600],
  ])('%s is %i seconds', (text, seconds) => {
    expect(parseTtl(text)).toBe(seconds);
  });

  it.each(['', '7', 'd', '0d', '-1d', '1.5h', '7 days', '3y'])('refuses %j', (text) => {
    expect(() => parseTtl(text)).toThrow(/invalid TTL/);
  });
});

describe('bearerToken', () => {
  const req = (authorization?: string) => ({ headers: authorization === undefined ? {} : { authorization } });

  it('reads the Authorization header, case-insensitively on the scheme', () => {
    expect(bearerToken({ req: req('Bearer abc.def.ghi') })).toBe('abc.def.ghi');
    expect(bearerToken({ req: req('bearer abc') })).toBe('abc');
  });

  it('treats other schemes and empty values as no token', () => {
    expect(bearerToken({ req: req('Basic dXNlcjpwYXNz') })).toBeNull();
    expect(bearerToken({ req: req('Bearer ') })).toBeNull();
    expect(bearerToken({ req: req() })).toBeNull();
  });

  it("falls back to SSE connectionParams.token; the header wins when both are present", () => {
    expect(bearerToken({ req: req(), info: { connectionParams: { token: 'sse-token' } } })).toBe('sse-token');
    expect(bearerToken({ req: req('Bearer header'), info: { connectionParams: { token: 'sse' } } })).toBe('header');
    expect(bearerToken({ req: req(), info: { connectionParams: null } })).toBeNull();
  });
});
