import { TRPCClientError } from '@trpc/client';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { isTerminal } from '../../actors/jobTransitions.js';
import { goalDrivenHandlers } from '../helpers/jobRuntimeHarness.js';
import { startTestApp } from '../helpers/testApp.js';

/**
 * Every code in the README's error table is raised on the wire by a test: the job codes here, the
 * others by the test named for them below (each checked to assert it as a wardenCode).
 */
const t = await startTestApp('error-codes', {
  env: { WARDEN_QUEUE_CAP: '3', WARDEN_WORKERS: '2', WARDEN_CHAT_CONTEXT_TOKENS: '200' },
  stepHandlers: goalDrivenHandlers(),
});
const raisedHere = new Set<string>();

async function refusal(work: Promise<unknown>): Promise<{ httpStatus: number; wardenCode: string; details: Record<string, unknown> }> {
  const error: unknown = await work.then(
    () => null,
    (err: unknown) => err,
  );
  if (!(error instanceof TRPCClientError)) throw new Error(`expected a refusal, got ${String(error)}`);
  const data = error.data as { httpStatus: number; wardenCode: string; details: Record<string, unknown> };
  raisedHere.add(data.wardenCode);
  return data;
}

async function waitForJob<T>(read: () => Promise<T>, done: (job: T) => boolean): Promise<T> {
  for (;;) {
    const job = await read();
    if (done(job)) return job;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

describe('error codes on the wire', () => {
  it('DAILY_LIMIT: a submit over the quota with ifOverQuota refuse stores nothing', async () => {
    const client = t.clientFor(await t.tokenFor('quota-user', { tier: 'bootstrapper' }));
    const { projectId } = await client.projects.create.mutate({ name: 'q' });
    for (let n = 0; n < 5; n++) await client.jobs.submit.mutate({ projectId, goal: 'slow:5' });
    const before = await client.jobs.list.query({ limit: 100 });
    const refused = await refusal(client.jobs.submit.mutate({ projectId, goal: 'one too many', ifOverQuota: 'refuse' }));
    expect(refused).toMatchObject({ httpStatus: 429, wardenCode: 'DAILY_LIMIT', details: { used: 5, limit: 5 } });
    expect(Date.parse(String(refused.details.resetsAt))).toBeGreaterThan(Date.now());
    expect((await client.jobs.list.query({ limit: 100 })).items).toHaveLength(before.items.length);
    expect((await client.usage.get.query()).jobsUsed).toBe(5);
    // The default still schedules.
    expect((await client.jobs.submit.mutate({ projectId, goal: 'tomorrow' })).status).toBe('scheduled');
  });

  it('ITERATION_CAP: confirming a job failed at its hard cap; NOT_AWAITING_CONFIRMATION otherwise', async () => {
    const client = t.clientFor(await t.tokenFor('cap-user', { tier: 'bootstrapper' }));
    const { projectId } = await client.projects.create.mutate({ name: 'cap' });
    const { jobId } = await client.jobs.submit.mutate({ projectId, goal: 'fail-checks:99' });
    expect(await refusal(client.jobs.confirm.mutate({ jobId }))).toMatchObject({ httpStatus: 409, wardenCode: 'NOT_AWAITING_CONFIRMATION' });
    // Depth 2: pauses at 2 and 4, fails at 6 (SPEC §2).
    for (const pausedAt of [2, 4]) {
      await waitForJob(() => client.jobs.get.query({ jobId }), (job) => job.awaitingConfirmation && job.iteration === pausedAt);
      await client.jobs.confirm.mutate({ jobId });
    }
    const failed = await waitForJob(() => client.jobs.get.query({ jobId }), (job) => isTerminal(job.status));
    expect(failed).toMatchObject({ status: 'failed', iteration: 6, error: 'Hard iteration cap reached' });
    expect(await refusal(client.jobs.confirm.mutate({ jobId }))).toMatchObject({ httpStatus: 412, wardenCode: 'ITERATION_CAP', details: { jobId, iteration: 6, cap: 6 } });
    expect(await refusal(client.jobs.cancel.mutate({ jobId }))).toMatchObject({ httpStatus: 409, wardenCode: 'INVALID_TRANSITION' });
  });

  it('TOKEN_BUDGET: a step refused for the daily token budget fails the job with the code and the SPEC message', async () => {
    const token = await t.tokenFor('token-user', { tier: 'partner' });
    await t.app.services.usersRepository.upsertUser({ id: 'token-user', tier: 'partner', tokenBudgetOverride: 3, now: Date.now() });
    t.app.services.users.invalidate('token-user');
    const client = t.clientFor(token);
    const { projectId } = await client.projects.create.mutate({ name: 'tokens' });
    const { jobId } = await client.jobs.submit.mutate({ projectId, goal: 'plain' });
    // Each step reports 2 tokens: scaffold (2) and code (4) run, deps is refused.
    const failed = await waitForJob(() => client.jobs.get.query({ jobId }), (job) => isTerminal(job.status));
    expect(failed).toMatchObject({ status: 'failed', error: 'TOKEN_BUDGET: Daily token limit reached (4/3). Resets at midnight UTC.' });
    raisedHere.add('TOKEN_BUDGET');
  });

  it('NOT_FOUND, INVALID_CURSOR and QUEUE_FULL', async () => {
    const client = t.clientFor(await t.tokenFor('misc-user', { tier: 'partner' }));
    expect(await refusal(client.jobs.get.query({ jobId: 'no-such-job' }))).toMatchObject({ httpStatus: 404, wardenCode: 'NOT_FOUND' });
    expect(await refusal(client.jobs.list.query({ cursor: 'not-a-cursor' }))).toMatchObject({ httpStatus: 400, wardenCode: 'INVALID_CURSOR' });
    const { projectId } = await client.projects.create.mutate({ name: 'full' });
    await t.app.runtime.stopTaking();
    const results = await Promise.allSettled(Array.from({ length: 6 }, () => client.jobs.submit.mutate({ projectId, goal: 'waits' })));
    const rejected = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (!rejected) throw new Error('no submit was refused');
    const full = await refusal(Promise.resolve().then(() => {
      throw rejected.reason instanceof Error ? rejected.reason : new Error(String(rejected.reason));
    }));
    expect(full).toMatchObject({ httpStatus: 429, wardenCode: 'QUEUE_FULL' });
  });

  it('PROMPT_TOO_LONG: a chat message that alone exceeds the context budget', async () => {
    const client = t.clientFor(await t.tokenFor('chat-user', { tier: 'partner' }));
    const refused = await refusal(client.chat.send.mutate({ message: 'word '.repeat(199) }));
    expect(refused).toMatchObject({ httpStatus: 400, wardenCode: 'PROMPT_TOO_LONG', details: { budget: 200 } });
    expect((await client.chat.sessions.query({})).items).toEqual([]);
  });

  it('every code in the README error table is raised on the wire by a test', () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const table = readme.slice(readme.indexOf('## Errors'), readme.indexOf('## Configuration'));
    const codes = [...table.matchAll(/^\| `([A-Z_]+)`/gm)].map((m) => m[1] ?? '');
    expect(codes.length).toBeGreaterThan(10);
    const elsewhere: Record<string, string> = {
      IMPORT_REFUSED: 'registers.test.ts',
      LLM_UNAVAILABLE: 'chat.test.ts',
      UNAVAILABLE: 'outages.test.ts',
      TOO_MANY_STREAMS: 'httpLimits.test.ts',
    };
    for (const code of codes) {
      if (raisedHere.has(code)) continue;
      const file = elsewhere[code];
      expect(file, `no wire test raises ${code}`).toBeDefined();
      const source = readFileSync(new URL(`./${file ?? ''}`, import.meta.url), 'utf8');
      expect(source.includes(`wardenCode: '${code}'`) || source.includes(`"wardenCode":"${code}"`), `${file} asserts ${code}`).toBe(true);
    }
  });
});
