/**
 * Regression: a subscription was authenticated only when it opened. Revoking a user's tokens
 * (`npm run token -- --revoke`) refused their next calls, but a `jobs.events` stream they had open went
 * on delivering, and an `inspector.events` stream opened by an admin went on after the user lost admin.
 * An open stream must end with UNAUTHORIZED (token revoked) or FORBIDDEN (no longer admin) once the
 * server sees the change: its caller is checked again every WARDEN_STREAM_REAUTH_MS (50 ms here) against
 * the user directory, whose 5 s cache this file's manual clock moves past.
 */
import { TRPCClientError } from '@trpc/client';
import { beforeAll, describe, expect, it } from 'vitest';
import { createManualClock } from '../../src/clock.js';
import { follow } from '../helpers/followJobEvents.js';
import { startTestApp, type TestApp } from '../helpers/testApp.js';

const clock = createManualClock(Date.now());
/** Past the user directory's cache TTL (5 s). */
const AFTER_CACHE_MS = 6_000;

let t: TestApp;

beforeAll(async () => {
  t = await startTestApp('revoked_stream', {
    clock,
    env: { WARDEN_WORKERS: '0', WARDEN_RISK_SCAN_SECONDS: '0', WARDEN_STREAM_REAUTH_MS: '50' },
  });
});

const codeOf = (err: unknown) => (err instanceof TRPCClientError ? (err.data as { code?: string } | undefined)?.code : String(err));

describe('an open stream whose caller loses access', () => {
  it('jobs.events ends with UNAUTHORIZED once the token is revoked; a stream of a token minted after stays open', async () => {
    const old = t.clientFor(await t.tokenFor('trudy'));
    const { projectId } = await old.projects.create.mutate({ name: 'stream' });
    // Nobody runs jobs here (WARDEN_WORKERS 0): the job stays queued and its stream stays open.
    const { jobId } = await old.jobs.submit.mutate({ projectId, goal: 'wait' });
    const followed = follow(old, { jobId, lastEventId: '0' });
    await followed.until((f) => f.events.length === 1);

    const channel = t.redis.keys.jobEvents(jobId);
    const listeners = async () => ((await t.redis.redis.pubsub('NUMSUB', channel)) as [string, number])[1];
    expect(await listeners()).toBe(1);

    await t.app.services.usersRepository.revokeTokens('trudy', clock.now());
    clock.advance(AFTER_CACHE_MS);
    const ended = await followed.ended.then(() => 'completed', codeOf);
    expect(ended).toBe('UNAUTHORIZED');
    expect(followed.events.map((e) => e.data.status)).toEqual(['queued']);
    // Its server side ends too: the stream's generator lets go of the job's channel.
    await expect.poll(listeners).toBe(0);

    const fresh = follow(t.clientFor(await t.tokenFor('trudy')), { jobId, lastEventId: '0' });
    await fresh.until((f) => f.events.length === 1);
    // The check ran for the fresh stream too (many times by now) and left it open.
    await new Promise((resolve) => setTimeout(resolve, 200));
    const stillOpen = await Promise.race([fresh.ended.then(() => 'ended', codeOf), Promise.resolve('open')]);
    expect(stillOpen).toBe('open');
    fresh.stop();
  });

  it('inspector.events ends with FORBIDDEN once its user is no longer admin', async () => {
    const client = t.clientFor(await t.tokenFor('ops', { tier: 'cto_scale', admin: true }));
    let opened: () => void = () => {};
    const firstData = new Promise<void>((resolve) => (opened = resolve));
    const outcome = new Promise<string>((resolve) => {
      client.inspector.events.subscribe(undefined, {
        onData: () => opened(),
        onComplete: () => resolve('completed'),
        onError: (err) => resolve(codeOf(err) ?? 'no code'),
      });
    });
    // Opened and authorised: the actor list arrives first.
    await firstData;
    await t.app.services.usersRepository.upsertUser({ id: 'ops', tier: 'cto_scale', isAdmin: false, now: clock.now() });
    clock.advance(AFTER_CACHE_MS);
    expect(await outcome).toBe('FORBIDDEN');
  });
});
