import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/app.js';
import { nextUtcMidnight } from '../../src/clock.js';
import type { WardenClient } from '../../src/client.js';
import { startTestApp, type TestApp } from '../helpers/testApp.js';
import { rejection } from '../helpers/rejection.js';


interface RawAnswer {
  status: number;
  contentType: string | null;
  body: unknown;
  text: string;
}

let t: TestApp;
let alice: WardenClient;
let aliceToken: string;
let bob: WardenClient;

async function raw(path: string, init: RequestInit & { token?: string | null; base?: string } = {}): Promise<RawAnswer> {
  const { token = aliceToken, base = t.url, ...rest } = init;
  const headers = new Headers(rest.headers);
  if (token !== null) headers.set('authorization', `Bearer ${token}`);
  const res = await fetch(`${base}${path}`, { ...rest, headers });
  const text = await res.text();
  let body: unknown = null;
  try {
    body = JSON.parse(text);
  } catch {
    body = null;
  }
  return { status: res.status, contentType: res.headers.get('content-type'), body, text };
}

const post = (path: string, body: string, extra: { token?: string | null; base?: string } = {}) =>
  raw(path, { method: 'POST', body, headers: { 'content-type': 'application/json' }, ...extra });

beforeAll(async () => {
  t = await startTestApp('server');
  aliceToken = await t.tokenFor('alice', { tier: 'partner' });
  alice = t.clientFor(aliceToken);
  bob = t.clientFor(await t.tokenFor('bob', { tier: 'bootstrapper' }));
});

describe('plain HTTP routes', () => {
  it('/healthz checks PostgreSQL and Redis and answers JSON', async () => {
    const res = await raw('/healthz', { token: null });
    expect(res.status).toBe(200);
    expect(res.contentType).toBe('application/json');
    expect(res.body).toMatchObject({ status: 'ok', checks: { postgres: { ok: true }, redis: { ok: true } } });
  });

  it('/metrics serves Prometheus text with the Warden gauges and counters', async () => {
    await rejection(bob.projects.get.query({ projectId: 'missing' }));
    const res = await raw('/metrics', { token: null });
    expect(res.status).toBe(200);
    expect(res.contentType).toContain('text/plain');
    for (const name of ['warden_jobs', 'warden_queue_length', 'warden_job_transitions_total', 'nodejs_eventloop_lag_seconds']) {
      expect(res.text).toContain(`# TYPE ${name} `);
    }
    expect(res.text).toMatch(/^warden_refusals_total\{code="NOT_FOUND"\} [1-9]/m);
    expect(res.text).toMatch(/^warden_queue_length 0$/m);
    expect(res.text).toMatch(/^warden_jobs\{status="queued"\} 0$/m);
  });

  it('answers 404 for any other path', async () => {
    for (const path of ['/', '/trpc', '/healthz/x', '/metrics/x', '/inspectorx']) {
      const res = await raw(path, { token: null });
      expect(res.status, path).toBe(404);
      expect(res.body).toEqual({ error: 'not found' });
    }
  });
});

describe('projects', () => {
  it('creates, reads, lists and records activity and decisions for the owner', async () => {
    const { projectId } = await alice.projects.create.mutate({ name: '  Landing page  ' });
    const project = await alice.projects.get.query({ projectId });
    expect(project).toMatchObject({ projectId, name: 'Landing page', lastDecisionAt: null });
    expect(Date.parse(project.createdAt)).not.toBeNaN();

    const decided = await alice.projects.recordDecision.mutate({ projectId });
    expect(decided.lastDecisionAt).not.toBeNull();
    const active = await alice.projects.recordActivity.mutate({ projectId });
    expect(Date.parse(active.lastActivityAt)).toBeGreaterThanOrEqual(Date.parse(project.lastActivityAt));

    const { items } = await alice.projects.list.query();
    expect(items.map((p) => p.projectId)).toContain(projectId);
  });

  it('pages through the list newest first without gap or duplicate', async () => {
    const carol = t.clientFor(await t.tokenFor('carol'));
    const ids: string[] = [];
    for (const name of ['one', 'two', 'three']) ids.push((await carol.projects.create.mutate({ name })).projectId);
    const first = await carol.projects.list.query({ limit: 2 });
    expect(first.items).toHaveLength(2);
    expect(first.nextCursor).not.toBeNull();
    const second = await carol.projects.list.query({ limit: 2, cursor: first.nextCursor ?? '' });
    expect(second.nextCursor).toBeNull();
    expect([...first.items, ...second.items].map((p) => p.projectId)).toEqual([...ids].reverse());
  });

  it("answers another user's project exactly like a missing one (NOT_FOUND)", async () => {
    const { projectId } = await alice.projects.create.mutate({ name: 'private' });
    const missing = '00000000-0000-4000-8000-000000000000';
    for (const call of [
      (id: string) => bob.projects.get.query({ projectId: id }),
      (id: string) => bob.projects.recordActivity.mutate({ projectId: id }),
      (id: string) => bob.projects.recordDecision.mutate({ projectId: id }),
    ]) {
      const foreign = await rejection(call(projectId));
      const absent = await rejection(call(missing));
      expect(foreign.data?.code).toBe('NOT_FOUND');
      expect(foreign.data?.httpStatus).toBe(404);
      expect(foreign.data?.wardenCode).toBe('NOT_FOUND');
      expect(foreign.message).toBe(absent.message);
      expect(foreign.data?.details).toEqual({ entity: 'project', id: projectId });
      expect(absent.data?.details).toEqual({ entity: 'project', id: missing });
    }
    expect((await bob.projects.list.query()).items.map((p) => p.projectId)).not.toContain(projectId);
  });
});

describe('usage.get', () => {
  it("reports the tier's daily quota and its reset at the next UTC midnight", async () => {
    const before = Date.now();
    const usage = await bob.usage.get.query();
    expect(usage).toMatchObject({ jobsUsed: 0, jobsRemaining: 5, iterationsUsed: 0, iterationsRemaining: 6, iterationsBeforeConfirmation: 2 });
    expect([nextUtcMidnight(before), nextUtcMidnight(Date.now())]).toContain(Date.parse(usage.dailyLimitResetsAt));
  });

  it('counts the jobs admitted today from the quota store', async () => {
    const dave = t.clientFor(await t.tokenFor('dave', { tier: 'partner' }));
    await t.app.stores.quotas.admit('dave', 50);
    await t.app.stores.quotas.admit('dave', 50);
    expect(await dave.usage.get.query()).toMatchObject({ jobsUsed: 2, jobsRemaining: 48, iterationsRemaining: 9, iterationsBeforeConfirmation: 3 });
  });
});

describe('the typed client', () => {
  it('batches calls issued together, splitting batches at the server limit', async () => {
    const results = await Promise.all(Array.from({ length: 120 }, () => alice.usage.get.query()));
    expect(new Set(results.map((r) => r.jobsRemaining))).toEqual(new Set([50]));
  });
});

describe('bad input', () => {
  const megabyte = 'x'.repeat(1024 * 1024);

  it('refuses empty, wrong-typed, unknown-field, control-character and 1 MB inputs with zod issues, storing nothing', async () => {
    const erin = t.clientFor(await t.tokenFor('erin'));
    const create = erin.projects.create.mutate as (input: unknown) => Promise<unknown>;
    const cases: [unknown, string][] = [
      [{ name: '' }, 'too_small'],
      [{ name: '   ' }, 'too_small'],
      [{ name: 42 }, 'invalid_type'],
      [{}, 'invalid_type'],
      [{ name: 'ok', owner: 'alice' }, 'unrecognized_keys'],
      [{ name: 'a\u0000b' }, 'invalid_format'],
      [{ name: megabyte }, 'too_big'],
    ];
    for (const [input, code] of cases) {
      const err = await rejection(create(input));
      expect(err.data?.code, JSON.stringify(input).slice(0, 40)).toBe('BAD_REQUEST');
      expect(err.data?.httpStatus).toBe(400);
      expect(err.data?.wardenCode).toBeNull();
      expect(err.data?.issues?.map((i) => i.code)).toContain(code);
      expect(err.message).toBe('Invalid input');
    }
    expect((await erin.projects.list.query()).items).toEqual([]);
    // The rejected value is never echoed back.
    const res = await post('/trpc/projects.create', JSON.stringify({ name: megabyte }));
    expect(res.status).toBe(400);
    expect(res.text.length).toBeLessThan(2_000);
  });

  it('answers malformed JSON, unknown procedures, wrong methods and oversized bodies over raw HTTP', async () => {
    const malformed = await post('/trpc/projects.create', '{"name": "x"');
    expect(malformed.status).toBe(400);
    expect(malformed.body).toMatchObject({ error: { data: { code: 'BAD_REQUEST', httpStatus: 400 } } });

    const malformedQuery = await raw(`/trpc/projects.get?input=${encodeURIComponent('{"projectId":')}`);
    expect(malformedQuery.status).toBe(400);

    expect((await raw('/trpc/projects.nothing')).status).toBe(404);
    expect((await raw('/trpc/projects.create')).status).toBe(405);
    expect((await post('/trpc/usage.get', '{}')).status).toBe(405);
    expect((await raw('/trpc/projects.create', { method: 'POST', body: '{"name":"x"}' })).status).toBe(415);

    const huge = await post('/trpc/projects.create', JSON.stringify({ name: 'x'.repeat(3 * 1024 * 1024) }));
    expect(huge.status).toBe(413);
    expect((await alice.projects.list.query({ limit: 100 })).items.map((p) => p.name)).not.toContain('x');
  });

  it('never puts a stack trace on the wire', async () => {
    const answers = await Promise.all([
      post('/trpc/projects.create', '{oops'),
      post('/trpc/projects.create', '{"name":""}'),
      raw('/trpc/usage.get', { token: 'forged' }),
      raw('/trpc/projects.get?input={"projectId":"x"}'),
      raw('/trpc/nope'),
    ]);
    for (const answer of answers) {
      expect(answer.status).toBeGreaterThanOrEqual(400);
      expect(answer.text).not.toMatch(/"stack"|at .*\.ts:\d+/);
    }
  });
});

describe('the fast path answers exactly as the stock tRPC adapter', () => {
  let stockUrl: string;

  beforeAll(async () => {
    const stock = await createApp(t.config, { schema: t.db.schema, fastPath: false });
    afterAll(() => stock.close());
    stockUrl = (await stock.listen(0, '127.0.0.1')).url;
  });

  const cases: [string, () => [string, RequestInit & { token?: string | null }]][] = [
    ['single query', () => ['/trpc/usage.get', {}]],
    ['batched queries', () => [`/trpc/usage.get,projects.list?batch=1&input=${encodeURIComponent('{"1":{"limit":1}}')}`, {}]],
    ['batch with one failure (207)', () => [`/trpc/usage.get,projects.get?batch=1&input=${encodeURIComponent('{"1":{"projectId":"nope"}}')}`, {}]],
    ['missing project', () => [`/trpc/projects.get?input=${encodeURIComponent('{"projectId":"nope"}')}`, {}]],
    ['no token', () => ['/trpc/usage.get', { token: null }]],
    ['forged token', () => ['/trpc/usage.get', { token: 'a.b.c' }]],
    ['malformed query input', () => ['/trpc/projects.get?input=%7Bbad', {}]],
    ['malformed body', () => ['/trpc/projects.create', { method: 'POST', body: '{bad', headers: { 'content-type': 'application/json' } }]],
    ['invalid mutation input', () => ['/trpc/projects.create?batch=1', { method: 'POST', body: '{"0":{"name":""}}', headers: { 'content-type': 'application/json' } }]],
    ['batch input not an object', () => ['/trpc/projects.create?batch=1', { method: 'POST', body: '[1]', headers: { 'content-type': 'application/json' } }]],
    ['mutation on a missing project', () => ['/trpc/projects.recordActivity', { method: 'POST', body: '{"projectId":"nope"}', headers: { 'content-type': 'application/json; charset=utf-8' } }]],
    ['empty body', () => ['/trpc/projects.create', { method: 'POST', body: '', headers: { 'content-type': 'application/json' } }]],
  ];

  it.each(cases)('%s', async (_name, make) => {
    const [path, init] = make();
    const [fast, stock] = [await raw(path, init), await raw(path, { ...init, base: stockUrl })];
    expect(fast.status).toBe(stock.status);
    expect(fast.contentType).toBe(stock.contentType);
    expect(fast.body).toEqual(stock.body);
  });

  describe('SSE subscriptions (jobs.events of a finished job: every stream ends, so the bytes compare)', () => {
    let jobId: string;

    beforeAll(async () => {
      const { projectId } = await alice.projects.create.mutate({ name: 'sse-compare' });
      ({ jobId } = await alice.jobs.submit.mutate({ projectId, goal: 'compare the SSE paths' }));
      await alice.jobs.cancel.mutate({ jobId });
    });

    const events = (input: unknown, extra: Record<string, string> = {}) => {
      const params = new URLSearchParams({ input: JSON.stringify(input), ...extra });
      return `/trpc/jobs.events?${params.toString()}`;
    };
    const sseCases: [string, () => [string, RequestInit & { token?: string | null }]][] = [
      ['current state, then the end', () => [events({ jobId }), {}]],
      ['token in connectionParams', () => [events({ jobId }, { connectionParams: JSON.stringify({ token: aliceToken }) }), { token: null }]],
      ['after lastEventId (input)', () => [events({ jobId, lastEventId: '1' }), {}]],
      ['after Last-Event-ID (header)', () => [events({ jobId }), { headers: { 'last-event-id': '1' } }]],
      ['after lastEventId (query)', () => [events({ jobId }, { lastEventId: '1' }), {}]],
      ['nothing after the terminal event', () => [events({ jobId, lastEventId: '99' }), {}]],
      ['no token', () => [events({ jobId }), { token: null }]],
      ['someone else’s job', () => [events({ jobId: 'f0f0f0f0-0000-4000-8000-000000000000' }), {}]],
      ['invalid input', () => [events({ jobId: 42 }), {}]],
    ];

    it.each(sseCases)('%s', async (_name, make) => {
      const [path, init] = make();
      const headers = { accept: 'text/event-stream', ...(init.headers as Record<string, string> | undefined) };
      const [fast, stock] = [
        await raw(path, { ...init, headers }),
        await raw(path, { ...init, headers, base: stockUrl }),
      ];
      expect(fast.status).toBe(stock.status);
      expect(fast.contentType).toBe(stock.contentType);
      expect(fast.text).toBe(stock.text);
      expect(fast.text).toMatch(/^event: connected\n/);
    });
  });

  it('ends a live SSE stream when its client goes away: the job channel is released', async () => {
    const carol = t.clientFor(await t.tokenFor('carol', { tier: 'bootstrapper' }));
    const { projectId } = await carol.projects.create.mutate({ name: 'sse-live' });
    // Past the daily quota a job stays scheduled until after midnight: its stream stays open.
    let jobId = '';
    for (let i = 0; i < 6; i++) ({ jobId } = await carol.jobs.submit.mutate({ projectId, goal: `job ${i}` }));
    expect((await carol.jobs.get.query({ jobId })).status).toBe('scheduled');
    const channel = t.redis.keys.jobEvents(jobId);
    const subscribers = async () => {
      const reply = (await t.redis.redis.call('pubsub', 'numsub', channel)) as [string, number];
      return reply[1];
    };

    const ac = new AbortController();
    const token = await t.tokenFor('carol', { tier: 'bootstrapper' });
    const res = await fetch(`${t.url}/trpc/jobs.events?input=${encodeURIComponent(JSON.stringify({ jobId }))}`, {
      headers: { accept: 'text/event-stream', authorization: `Bearer ${token}` },
      signal: ac.signal,
    });
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    let text = '';
    while (!text.includes('"status":"scheduled"')) {
      const { value, done } = await reader.read();
      if (done) break;
      text += new TextDecoder().decode(value);
    }
    expect(text).toMatch(/^event: connected\n/);
    expect(await subscribers()).toBe(1);
    ac.abort();
    await expect.poll(subscribers, { timeout: 5_000 }).toBe(0);
  });
});

describe('the inspector route', () => {
  it('serves the /inspector page from Warden itself', async () => {
    const res = await fetch(`${t.url}/inspector/`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/text\/html/);
    expect(await res.text()).toContain('<html');
  });
});
