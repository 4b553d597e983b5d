import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_SCHEDULE_MESSAGE } from '../../actors/jobLifecycle.machine.js';
import { STAGE_LABELS, type JobStatus } from '../../actors/jobTransitions.js';
import { secretKey, signToken } from '../../src/auth/tokens.js';
import type { WardenClient } from '../../src/client.js';
import { nextUtcMidnight, systemClock } from '../../src/clock.js';
import { CANCEL_REASON } from '../../src/jobs/failJob.js';
import { createLogger } from '../../src/log.js';
import { follow, type Followed } from '../helpers/followJobEvents.js';
import { createHeldSteps } from '../helpers/heldSteps.js';
import { startTestApp, type TestApp } from '../helpers/testApp.js';
import { rejection, type ClientError } from '../helpers/rejection.js';

/**
 * The jobs API end to end: Warden on a free port against the real Redis and
 * PostgreSQL, driven by the typed client. Step handlers are deterministic: checks fail on demand
 * (`fail-checks:N` in the goal) and a goal with `hold` waits at each step until the test releases it.
 */

const HAPPY_PATH: JobStatus[] = ['queued', 'starting', 'scaffold', 'code', 'deps', 'checks', 'ready'];
const held = createHeldSteps();
/** What the job runtime reported as errors (it logs them; none is expected in these flows). */
const runtimeErrors: unknown[] = [];
const log = createLogger({
  level: 'error',
  destination: {
    write(line: string) {
      const entry = JSON.parse(line) as { msg?: string };
      if (entry.msg === 'job runtime error') runtimeErrors.push(entry);
    },
  },
});

let t: TestApp;
let alice: WardenClient;
let bob: WardenClient;
let aliceToken: string;

beforeAll(async () => {
  t = await startTestApp('jobs-e2e', { stepHandlers: held.handlers, log, env: { WARDEN_WORKERS: '4' } });
  // Registered after startTestApp's close: vitest runs afterAll hooks in reverse, so this runs first.
  afterAll(() => held.releaseAll());
  aliceToken = await t.tokenFor('alice', { tier: 'partner' });
  alice = t.clientFor(aliceToken);
  bob = t.clientFor(await t.tokenFor('bob', { tier: 'partner' }));
});

afterEach(() => expect(runtimeErrors).toEqual([]));

const seqs = (f: Followed) => f.events.map((e) => e.data.seq);
const hasSeq = (seq: number) => (f: Followed) => f.events.some((e) => e.data.seq === seq);
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

/** Lets the job's next `count` held steps run, one after the other. */
async function releaseSteps(jobId: string, count: number): Promise<void> {
  for (let i = 0; i < count; i++) (await held.next(jobId)).release();
}

async function countJobs(): Promise<number> {
  const [row] = await t.app.sql<{ n: number }[]>`select count(*)::int as n from jobs`;
  return row?.n ?? -1;
}

describe('jobs over the typed client', () => {
  it('submits a job and follows its events to ready: queued … ready, seq 1..7, ids = seq', async () => {
    const { projectId } = await alice.projects.create.mutate({ name: 'landing page' });
    const submitted = await alice.jobs.submit.mutate({ projectId, goal: 'a landing page' });
    expect(submitted).toMatchObject({ status: 'queued', scheduledFor: null, usage: { jobsUsed: 1, jobsRemaining: 49 } });
    expect(submitted.position).toBeGreaterThanOrEqual(1);
    expect(submitted.estimatedWait).not.toBeNull();

    const followed = follow(alice, { jobId: submitted.jobId, lastEventId: '0' });
    await followed.ended;
    const events = followed.events.map((e) => e.data);
    expect(events.map((e) => e.status)).toEqual(HAPPY_PATH);
    expect(seqs(followed)).toEqual(range(1, 7));
    expect(followed.events.map((e) => e.id)).toEqual(range(1, 7).map(String));
    expect(events.map((e) => e.previousStatus)).toEqual([null, ...HAPPY_PATH.slice(0, -1)]);
    expect(events.map((e) => e.stageLabel)).toEqual(HAPPY_PATH.map((s) => STAGE_LABELS[s]));
    expect(events.every((e) => e.jobId === submitted.jobId && e.iteration === 0)).toBe(true);

    const job = await alice.jobs.get.query({ jobId: submitted.jobId });
    expect(job).toMatchObject({ status: 'ready', seq: 7, iteration: 0, awaitingConfirmation: false, position: null, error: null });
    expect(job.finishedAt).not.toBeNull();
    expect((await alice.jobs.list.query({ projectId })).items.map((j) => j.jobId)).toEqual([submitted.jobId]);
  });

  it("schedules a bootstrapper's 6th job of the day for after the next UTC midnight", async () => {
    const dora = t.clientFor(await t.tokenFor('dora', { tier: 'bootstrapper' }));
    const { projectId } = await dora.projects.create.mutate({ name: 'quota' });
    const midnight = nextUtcMidnight(Date.now());
    const admitted = [];
    for (let n = 1; n <= 5; n++) {
      const job = await dora.jobs.submit.mutate({ projectId, goal: `job ${n}` });
      expect(job).toMatchObject({ status: 'queued', usage: { jobsUsed: n, jobsRemaining: 5 - n } });
      admitted.push(job.jobId);
    }
    const sixth = await dora.jobs.submit.mutate({ projectId, goal: 'job 6' });
    expect(sixth).toMatchObject({ status: 'scheduled', position: null, estimatedWait: null, message: DEFAULT_SCHEDULE_MESSAGE });
    expect(sixth.usage).toMatchObject({ jobsUsed: 5, jobsRemaining: 0 });
    const releaseAt = Date.parse(sixth.scheduledFor ?? '');
    expect(releaseAt).toBeGreaterThanOrEqual(midnight);
    expect(releaseAt).toBeLessThanOrEqual(nextUtcMidnight(Date.now()) + t.config.midnightJitterSeconds * 1000);

    expect(await dora.jobs.get.query({ jobId: sixth.jobId })).toMatchObject({
      status: 'scheduled', seq: 1, position: null, message: DEFAULT_SCHEDULE_MESSAGE, scheduledFor: sixth.scheduledFor,
    });
    // The scheduled job's stream starts with its current state and stays open (not terminal).
    const scheduled = follow(dora, { jobId: sixth.jobId });
    await scheduled.until((f) => f.events.length === 1);
    scheduled.stop();
    expect(scheduled.events[0]?.data).toMatchObject({ seq: 1, status: 'scheduled', previousStatus: null, message: DEFAULT_SCHEDULE_MESSAGE });

    // The five admitted ones run as usual.
    const runs = admitted.map((jobId) => follow(dora, { jobId, lastEventId: '0' }));
    await Promise.all(runs.map((f) => f.ended));
    expect(runs.map((f) => f.events.at(-1)?.data.status)).toEqual(Array(5).fill('ready'));
    expect(await dora.usage.get.query()).toMatchObject({ jobsUsed: 5, jobsRemaining: 0 });
  });

  it('pauses a job whose checks keep failing at each confirmation boundary and resumes it on confirm', async () => {
    const carol = t.clientFor(await t.tokenFor('carol', { tier: 'bootstrapper' }));
    const { projectId } = await carol.projects.create.mutate({ name: 'red checks' });
    // Bootstrapper depth 2: fails at iterations 0–4, so it pauses at 2 and 4, then passes at 5.
    const { jobId } = await carol.jobs.submit.mutate({ projectId, goal: 'fail-checks:5' });
    const followed = follow(carol, { jobId, lastEventId: '0' });
    const pauses = (f: Followed) => f.events.filter((e) => e.data.status === 'checks' && e.data.previousStatus === 'checks');

    await followed.until((f) => pauses(f).length === 1);
    expect(await carol.jobs.get.query({ jobId })).toMatchObject({ status: 'checks', awaitingConfirmation: true, iteration: 2, seq: 15, position: null });
    expect(await carol.usage.get.query()).toMatchObject({ iterationsUsed: 2, iterationsRemaining: 4, iterationsBeforeConfirmation: 0 });
    expect(await carol.jobs.confirm.mutate({ jobId })).toMatchObject({ jobId, status: 'scaffold', iteration: 3 });

    await followed.until((f) => pauses(f).length === 2);
    expect(await carol.jobs.get.query({ jobId })).toMatchObject({ status: 'checks', awaitingConfirmation: true, iteration: 4, seq: 24 });
    expect(await carol.jobs.confirm.mutate({ jobId })).toMatchObject({ status: 'scaffold', iteration: 5 });
    // Confirmed already: running or finished, never awaiting (no more pauses: checks pass at 5).
    const again = await rejection(carol.jobs.confirm.mutate({ jobId }));
    expect(again.data).toMatchObject({ code: 'CONFLICT', httpStatus: 409, wardenCode: 'NOT_AWAITING_CONFIRMATION' });

    await followed.ended;
    expect(seqs(followed)).toEqual(range(1, 29));
    expect(pauses(followed).map((e) => [e.data.seq, e.data.iteration])).toEqual([[15, 2], [24, 4]]);
    const confirmed = followed.events.filter((e) => e.data.message === 'Confirmed by carol');
    expect(confirmed.map((e) => [e.data.seq, e.data.status, e.data.iteration])).toEqual([[16, 'scaffold', 3], [25, 'scaffold', 5]]);
    expect(followed.events.at(-1)?.data).toMatchObject({ status: 'ready', iteration: 5 });
    expect(await carol.jobs.get.query({ jobId })).toMatchObject({ status: 'ready', awaitingConfirmation: false, iteration: 5, seq: 29 });
  });

  it('cancels a running job ("Cancelled by owner"); a second cancel is INVALID_TRANSITION', async () => {
    const { projectId } = await alice.projects.create.mutate({ name: 'cancel me' });
    const { jobId } = await alice.jobs.submit.mutate({ projectId, goal: 'hold' });
    await releaseSteps(jobId, 1);
    const code = await held.next(jobId);
    expect(code.step).toBe('code');

    const notPaused = await rejection(alice.jobs.confirm.mutate({ jobId }));
    expect(notPaused.data).toMatchObject({ code: 'CONFLICT', wardenCode: 'NOT_AWAITING_CONFIRMATION', details: { jobId, status: 'code' } });

    const cancelled = await alice.jobs.cancel.mutate({ jobId });
    expect(cancelled).toMatchObject({ jobId, status: 'failed', error: CANCEL_REASON });
    const followed = follow(alice, { jobId, lastEventId: '0' });
    await followed.ended;
    expect(followed.events.map((e) => e.data.status)).toEqual(['queued', 'starting', 'scaffold', 'code', 'failed']);
    expect(followed.events.at(-1)?.data).toMatchObject({ seq: 5, previousStatus: 'code', message: CANCEL_REASON });
    expect(await alice.jobs.get.query({ jobId })).toMatchObject({ status: 'failed', error: CANCEL_REASON, message: CANCEL_REASON, seq: 5 });

    const twice = await rejection(alice.jobs.cancel.mutate({ jobId }));
    expect(twice.data).toMatchObject({ code: 'CONFLICT', httpStatus: 409, wardenCode: 'INVALID_TRANSITION', details: { jobId, from: 'failed' } });
  });
});

describe('isolation', () => {
  /** An error as the caller sees it, with the id it asked about blanked out. */
  const shape = (err: ClientError, id: string) => JSON.parse(JSON.stringify({ message: err.message, data: err.data }).replaceAll(id, '<id>')) as unknown;

  it("answers another user's job and project exactly like missing ones, and leaves them alone", async () => {
    const { projectId } = await alice.projects.create.mutate({ name: 'private' });
    const { jobId } = await alice.jobs.submit.mutate({ projectId, goal: 'hold' });
    const scaffold = await held.next(jobId);
    const missing = randomUUID();

    const calls: [string, (id: string) => Promise<unknown>][] = [
      ['jobs.get', (id) => bob.jobs.get.query({ jobId: id })],
      ['jobs.confirm', (id) => bob.jobs.confirm.mutate({ jobId: id })],
      ['jobs.cancel', (id) => bob.jobs.cancel.mutate({ jobId: id })],
      ['jobs.events', (id) => follow(bob, { jobId: id, lastEventId: '0' }).ended],
    ];
    for (const [name, call] of calls) {
      const [foreign, absent] = [await rejection(call(jobId)), await rejection(call(missing))];
      expect(foreign.data, name).toMatchObject({ code: 'NOT_FOUND', httpStatus: 404, wardenCode: 'NOT_FOUND', details: { entity: 'job', id: jobId } });
      expect(shape(foreign, jobId), name).toEqual(shape(absent, missing));
    }
    const projectCalls: [string, (id: string) => Promise<unknown>][] = [
      ['jobs.submit', (id) => bob.jobs.submit.mutate({ projectId: id, goal: 'take over' })],
      ['projects.get', (id) => bob.projects.get.query({ projectId: id })],
    ];
    for (const [name, call] of projectCalls) {
      const [foreign, absent] = [await rejection(call(projectId)), await rejection(call(missing))];
      expect(foreign.data, name).toMatchObject({ code: 'NOT_FOUND', wardenCode: 'NOT_FOUND', details: { entity: 'project', id: projectId } });
      expect(shape(foreign, projectId), name).toEqual(shape(absent, missing));
    }
    expect((await bob.jobs.list.query({ projectId })).items).toEqual([]);
    expect((await bob.usage.get.query()).jobsUsed).toBe(0);

    // Bob's cancel and confirm did nothing: the job carries on from where it was held, to ready.
    const followed = follow(alice, { jobId, lastEventId: '0' });
    scaffold.release();
    await releaseSteps(jobId, 3);
    await followed.ended;
    expect(followed.events.map((e) => e.data.status)).toEqual(HAPPY_PATH);
  });
});

describe('bad input to jobs.submit', () => {
  const megabyte = 'x'.repeat(1024 * 1024);

  it('answers BAD_REQUEST with the zod issues, stores nothing and uses no quota', async () => {
    const erinToken = await t.tokenFor('erin', { tier: 'partner' });
    const erin = t.clientFor(erinToken);
    const { projectId } = await erin.projects.create.mutate({ name: 'inputs' });
    const submit = erin.jobs.submit.mutate as (input: unknown) => Promise<unknown>;
    const [jobsBefore, usageBefore] = [await countJobs(), await erin.usage.get.query()];

    const cases: [unknown, string, string][] = [
      [{ projectId, goal: '' }, 'goal', 'too_small'],
      [{ projectId, goal: '  \n ' }, 'goal', 'too_small'],
      [{ projectId, goal: 42 }, 'goal', 'invalid_type'],
      [{ projectId: 7, goal: 'x' }, 'projectId', 'invalid_type'],
      [{ projectId }, 'goal', 'invalid_type'],
      [{ projectId, goal: 'x', priority: 0 }, '', 'unrecognized_keys'],
      [{ projectId, goal: megabyte }, 'goal', 'too_big'],
      [{ projectId: megabyte, goal: 'x' }, 'projectId', 'too_big'],
      [null, '', 'invalid_type'],
    ];
    for (const [input, path, code] of cases) {
      const err = await rejection(submit(input));
      const label = JSON.stringify(input)?.slice(0, 50) ?? 'undefined';
      expect(err.message, label).toBe('Invalid input');
      expect(err.data, label).toMatchObject({ code: 'BAD_REQUEST', httpStatus: 400, wardenCode: null });
      expect(err.data?.issues, label).toContainEqual(expect.objectContaining({ path: path === '' ? [] : [path], code }));
    }

    const post = async (path: string, body: string) => {
      const res = await fetch(`${t.url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${erinToken}` },
        body,
      });
      return { status: res.status, text: await res.text() };
    };
    for (const [path, body] of [
      ['/trpc/jobs.submit', `{"projectId":"${projectId}","goal":`],
      ['/trpc/jobs.submit', '{oops}'],
      ['/trpc/jobs.submit?batch=1', `{"0":{"projectId":"${projectId}","goal":"x"}`],
    ] as const) {
      const res = await post(path, body);
      expect(res.status, body).toBe(400);
      const answer = JSON.parse(res.text) as unknown;
      // A batch answers one error per call; the call's error is the same either way.
      expect(Array.isArray(answer) ? answer[0] : answer, body).toMatchObject({ error: { data: { code: 'BAD_REQUEST', httpStatus: 400 } } });
    }
    // A 1 MB goal is refused without being echoed back.
    const big = await post('/trpc/jobs.submit', JSON.stringify({ projectId, goal: megabyte }));
    expect(big.status).toBe(400);
    expect(big.text.length).toBeLessThan(2_000);

    expect(await countJobs()).toBe(jobsBefore);
    expect(await erin.usage.get.query()).toEqual(usageBefore);
    expect((await erin.jobs.list.query()).items).toEqual([]);

    // The same counts do move for a valid submit (so the checks above could have failed).
    await erin.jobs.submit.mutate({ projectId, goal: 'valid' });
    expect(await countJobs()).toBe(jobsBefore + 1);
    expect((await erin.usage.get.query()).jobsUsed).toBe(usageBefore.jobsUsed + 1);
  });
});

describe('resuming jobs.events in the middle of a job', () => {
  it('gives every later event exactly once: on an explicit lastEventId and on the client’s own reconnect', async () => {
    const { projectId } = await alice.projects.create.mutate({ name: 'resume' });
    const { jobId } = await alice.jobs.submit.mutate({ projectId, goal: 'hold' });
    const scaffold = await held.next(jobId);

    // `live` stays subscribed throughout; `first` leaves after seq 3 and comes back later with its cursor.
    const live = follow(alice, { jobId, lastEventId: '0' });
    const first = follow(alice, { jobId, lastEventId: '0' });
    await Promise.all([live.until(hasSeq(3)), first.until(hasSeq(3))]);
    first.stop();

    // Cut every connection: the client reconnects by itself, sending the last id it got (3).
    t.app.http.server.closeAllConnections();
    await live.until((f) => f.states.indexOf('pending') >= 0 && f.states.lastIndexOf('connecting') > f.states.indexOf('pending'));
    // Meanwhile the job moves on (seq 4, code), so the reconnect finds a backlog.
    scaffold.release();
    const code = await held.next(jobId);
    expect(code.step).toBe('code');

    const resumed = follow(alice, { jobId, lastEventId: '3' });
    const atCursor = follow(alice, { jobId, lastEventId: '4' });
    await Promise.all([live.until(hasSeq(4)), resumed.until(hasSeq(4)), atCursor.until((f) => f.states.includes('pending'))]);
    expect(atCursor.events).toEqual([]);
    code.release();
    await releaseSteps(jobId, 2);
    await Promise.all([live.ended, resumed.ended, atCursor.ended]);

    expect(seqs(live)).toEqual(range(1, 7));
    expect(live.states.filter((s) => s === 'connecting').length).toBeGreaterThanOrEqual(2);
    expect(seqs(first)).toEqual([1, 2, 3]);
    expect(seqs(resumed)).toEqual([4, 5, 6, 7]);
    expect(seqs(atCursor)).toEqual([5, 6, 7]);
    expect([...first.events, ...resumed.events].map((e) => e.data.status)).toEqual(HAPPY_PATH);
    for (const f of [live, first, resumed, atCursor]) expect(f.events.map((e) => e.id)).toEqual(seqs(f).map(String));

    // A client that got the terminal event but not the end of the stream comes back with its id: it ends.
    const afterEnd = follow(alice, { jobId, lastEventId: '7' });
    await afterEnd.ended;
    expect(afterEnd.events).toEqual([]);
  });
});

describe('forged tokens', () => {
  it('answer UNAUTHORIZED to a query and to the subscription', async () => {
    const { projectId } = await alice.projects.create.mutate({ name: 'guarded' });
    const { jobId } = await alice.jobs.submit.mutate({ projectId, goal: 'quick' });
    const [header, payload, signature] = aliceToken.split('.');
    const claims = JSON.parse(Buffer.from(payload ?? '', 'base64url').toString()) as Record<string, unknown>;
    const tampered = Buffer.from(JSON.stringify({ ...claims, role: 'admin' })).toString('base64url');
    const forged = [
      await signToken(secretKey('not-the-server-secret-0123456789'), { userId: 'alice', ttlSeconds: 3600, clock: systemClock }),
      `${header}.${tampered}.${signature}`,
      `${header}.${payload}.${'A'.repeat(signature?.length ?? 43)}`,
      'not-a-jwt',
    ];
    for (const token of forged) {
      const client = t.clientFor(token);
      const query = await rejection(client.jobs.get.query({ jobId }));
      expect(query.data).toMatchObject({ code: 'UNAUTHORIZED', httpStatus: 401, wardenCode: 'UNAUTHORIZED' });
      const stream = follow(client, { jobId, lastEventId: '0' });
      const refused = await rejection(stream.ended);
      expect(refused.data).toMatchObject({ code: 'UNAUTHORIZED', wardenCode: 'UNAUTHORIZED' });
      expect(stream.events).toEqual([]);
    }
  });
});
