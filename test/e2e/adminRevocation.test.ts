/**
 * The admin role and the tokens themselves are revocable: the stored user is authoritative, read through
 * the user directory's short cache. Driven through the real `npm run token` command; the app's clock is a
 * manual one, so "after the cache's TTL" is a clock move, not a wait.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { TRPCClientError } from '@trpc/client';
import { beforeAll, describe, expect, it } from 'vitest';
import { createManualClock } from '../../src/clock.js';
import { startTestApp, TEST_SECRET, type TestApp } from '../helpers/testApp.js';

const run = promisify(execFile);
const clock = createManualClock(Date.now());
/** Past the user directory's cache TTL (5 s). */
const AFTER_CACHE_MS = 6_000;

let t: TestApp;

/** Runs `npm run token -- ...args` against this file's schema; the token is the last line, if any. */
async function tokenCli(...args: string[]): Promise<string> {
  const env = { ...process.env, DATABASE_URL: `${t.db.url}?search_path=${t.db.schema}`, WARDEN_SECRET: TEST_SECRET, LOG_LEVEL: 'warn' };
  const { stdout } = await run(process.execPath, ['--import', 'tsx', 'src/cli/token.ts', ...args], { env });
  return stdout.trim().split('\n').at(-1) ?? '';
}

/** The tRPC code a call fails with, or 'OK'. */
async function outcome(call: Promise<unknown>): Promise<string> {
  return call.then(
    () => 'OK',
    (err: unknown) => (err instanceof TRPCClientError ? String((err.data as { code?: string } | undefined)?.code) : 'THROWN'),
  );
}

const actors = (token: string) => t.clientFor(token).inspector.actors.query();
const usage = (token: string) => t.clientFor(token).usage.get.query();

beforeAll(async () => {
  t = await startTestApp('revocation', { clock, env: { WARDEN_WORKERS: '0', WARDEN_RISK_SCAN_SECONDS: '0' } });
});

describe('admin role', () => {
  it('ends for old admin tokens once the user is re-minted without --admin', async () => {
    const adminToken = await tokenCli('--user', 'root', '--tier', 'cto_scale', '--admin');
    expect(await outcome(actors(adminToken))).toBe('OK');

    const userToken = await tokenCli('--user', 'root', '--tier', 'cto_scale');
    clock.advance(AFTER_CACHE_MS);
    expect(await outcome(actors(adminToken))).toBe('FORBIDDEN');
    expect(await outcome(actors(userToken))).toBe('FORBIDDEN');
    // Still a valid user: only the role went.
    expect(await outcome(usage(adminToken))).toBe('OK');
  });

  it('needs the token to claim it too: a user token of an admin user is not admin', async () => {
    const plain = await t.tokenFor('ops', { admin: false });
    await t.app.services.usersRepository.upsertUser({ id: 'ops', tier: 'partner', isAdmin: true, now: clock.now() });
    clock.advance(AFTER_CACHE_MS);
    expect(await outcome(actors(plain))).toBe('FORBIDDEN');
  });
});

describe('npm run token -- --revoke', () => {
  it('makes every earlier token of the user UNAUTHORIZED; a token minted after works', async () => {
    const first = await tokenCli('--user', 'mallory', '--tier', 'partner');
    const second = await tokenCli('--user', 'mallory', '--tier', 'partner', '--admin');
    expect(await outcome(usage(first))).toBe('OK');

    const revokeOnly = await tokenCli('--user', 'mallory', '--revoke');
    expect(revokeOnly).toContain('revoked');
    clock.advance(AFTER_CACHE_MS);
    for (const old of [first, second]) {
      expect(await outcome(usage(old))).toBe('UNAUTHORIZED');
      expect(await outcome(actors(old))).toBe('UNAUTHORIZED');
    }

    const fresh = await tokenCli('--user', 'mallory', '--revoke', '--tier', 'partner');
    expect(fresh).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
    clock.advance(AFTER_CACHE_MS);
    expect(await outcome(usage(fresh))).toBe('OK');
    expect(await outcome(usage(second))).toBe('UNAUTHORIZED');
  });

  it('refuses to revoke the tokens of no user', async () => {
    const refused = await tokenCli('--user', 'nobody-at-all', '--revoke').then(
      () => null,
      (err: { code: number; stderr: string }) => err,
    );
    expect(refused?.code).toBe(1);
    expect(refused?.stderr).toContain('no user "nobody-at-all"');
  });
});
