import { TRPCClientError } from '@trpc/client';
import { beforeAll, describe, expect, it } from 'vitest';
import type { AppRouter } from '../../router/appRouter.js';
import type { WardenClient } from '../../src/client.js';
import type { JobEvent } from '../../src/redis/jobEvent.js';
import { goalDrivenHandlers } from '../helpers/jobRuntimeHarness.js';
import { startTestApp, type TestApp } from '../helpers/testApp.js';

let t: TestApp;
let alice: WardenClient;
let bob: WardenClient;

beforeAll(async () => {
  // The app's own runtime, with step handlers the goals drive, so event counts are exact.
  t = await startTestApp('jobs-router', { stepHandlers: goalDrivenHandlers() });
  alice = t.clientFor(await t.tokenFor('alice', { tier: 'partner' }));
  bob = t.clientFor(await t.tokenFor('bob', { tier: 'partner' }));
});

/** The events of a subscription until it ends (terminal status), with their tracked ids. */
function collect(client: WardenClient, input: { jobId: string; lastEventId?: string }): Promise<{ id: string; data: JobEvent }[]> {
  return new Promise((resolve, reject) => {
    const seen: { id: string; data: JobEvent }[] = [];
    const sub = client.jobs.events.subscribe(input, {
      onData: (envelope) => {
        seen.push(envelope);
        if (envelope.data.status === 'ready' || envelope.data.status === 'failed') {
          sub.unsubscribe();
          resolve(seen);
        }
      },
      onError: reject,
    });
  });
}

describe('jobs router', () => {
  it('submits a job and streams its events to ready; a reconnect after a seq gets exactly the rest', async () => {
    const { projectId } = await alice.projects.create.mutate({ name: 'site' });
    const submitted = await alice.jobs.submit.mutate({ projectId, goal: 'landing page fail-checks:1' });
    expect(submitted).toMatchObject({ status: 'queued', position: 1, usage: { jobsUsed: 1 } });

    const all = await collect(alice, { jobId: submitted.jobId, lastEventId: '0' });
    expect(all.map((e) => e.data.seq)).toEqual(Array.from({ length: 11 }, (_, i) => i + 1));
    expect(all.every((e) => e.id === String(e.data.seq))).toBe(true);
    const rest = await collect(alice, { jobId: submitted.jobId, lastEventId: '6' });
    expect(rest.map((e) => e.data.seq)).toEqual([7, 8, 9, 10, 11]);
    // Without a cursor: the current state only, which is terminal, so the stream ends.
    expect((await collect(alice, { jobId: submitted.jobId })).map((e) => e.data.status)).toEqual(['ready']);

    expect(await alice.jobs.get.query({ jobId: submitted.jobId })).toMatchObject({ status: 'ready', iteration: 1, seq: 11 });
    expect((await alice.jobs.list.query({ projectId })).items.map((j) => j.jobId)).toEqual([submitted.jobId]);
  });

  it('answers with typed errors: another user’s job, a finished job, bad input', async () => {
    const { projectId } = await alice.projects.create.mutate({ name: 'errors' });
    const { jobId } = await alice.jobs.submit.mutate({ projectId, goal: 'quick' });
    await collect(alice, { jobId, lastEventId: '0' });
    const failure = async (call: Promise<unknown>) => {
      const error = await call.then(() => null, (err: unknown) => err);
      if (!(error instanceof TRPCClientError)) throw new Error(`expected a TRPCClientError, got ${String(error)}`);
      return (error as TRPCClientError<AppRouter>).data;
    };
    expect(await failure(bob.jobs.get.query({ jobId }))).toMatchObject({ code: 'NOT_FOUND', wardenCode: 'NOT_FOUND' });
    expect(await failure(bob.jobs.submit.mutate({ projectId, goal: 'mine now' }))).toMatchObject({ wardenCode: 'NOT_FOUND' });
    expect(await failure(alice.jobs.cancel.mutate({ jobId }))).toMatchObject({ code: 'CONFLICT', wardenCode: 'INVALID_TRANSITION' });
    expect(await failure(alice.jobs.confirm.mutate({ jobId }))).toMatchObject({ wardenCode: 'NOT_AWAITING_CONFIRMATION' });
    expect(await failure(alice.jobs.submit.mutate({ projectId, goal: '   ' }))).toMatchObject({ code: 'BAD_REQUEST' });
  });
});
