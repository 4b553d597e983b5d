import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { createJobActor, jobLifecycleMachine } from '../../actors/jobLifecycle.machine.js';
import { createManualClock } from '../../src/clock.js';
import { createJobsRepository } from '../../src/db/jobsRepository.js';
import { migrate } from '../../src/db/migrate.js';
import { isWardenError } from '../../src/errors.js';
import { createInspector, type Inspector } from '../../src/inspector/createInspector.js';
import { inspectionRecordSchema, type InspectionBatch, type InspectionRecord, type LiveActorState } from '../../src/inspector/inspectionRecord.js';
import { createRedisInspectionStore, type InspectionStore } from '../../src/inspector/inspectionStore.js';
import { createInspectorService, type InspectorMessage } from '../../src/inspector/inspectorService.js';
import { createMemoryInspectionStore } from '../../src/inspector/memoryInspectionStore.js';
import { createSubscriber } from '../../src/redis/client.js';
import { createKeys } from '../../src/redis/keys.js';
import { createJobDriver, RETRY_THEN_READY } from '../helpers/jobDriver.js';
import { startTestApp } from '../helpers/testApp.js';
import { useTestDb } from '../helpers/testDb.js';
import { useTestRedis } from '../helpers/testRedis.js';
import { TEST_REDIS_URL } from '../setup/services.js';

const db = await useTestDb('inspector');
await migrate(db.sql);
const jobs = createJobsRepository(db.sql);
const HOST_TTL = 15_000;

type StoreKind = 'redis' | 'memory';
const redis = useTestRedis('inspector');
const openStores: InspectionStore[] = [];
afterAll(async () => {
  for (const store of openStores) await store.close();
});
let space = 0;

/** A fresh store; each Redis one gets its own key space under this file's prefix unless `keys` is shared. */
function makeStore(kind: StoreKind, clock = createManualClock(), ringSize = 5, keys = createKeys(`${redis.prefix}s${++space}:`)): InspectionStore {
  const options = { clock, ringSize, hostTtlMs: HOST_TTL };
  if (kind === 'memory') return createMemoryInspectionStore(options);
  const store = createRedisInspectionStore({ ...options, redis: redis.redis, keys, connectSubscriber: () => createSubscriber(TEST_REDIS_URL) });
  openStores.push(store);
  return store;
}

const record = (jobId: string, n: number, host = 'h1'): InspectionRecord => ({ id: `${n}.t`, at: n, jobId, host, session: 'x:0', kind: 'event', event: `E${n}` });

const actorState = (jobId: string, host: string, at = 0): LiveActorState => ({
  jobId,
  ownerId: 'o',
  projectId: 'p',
  tier: null,
  host,
  createdAt: null,
  trackedAt: at,
  updatedAt: at,
  status: 'code',
  state: 'code',
  iteration: 0,
  awaitingConfirmation: false,
  message: null,
  actorStatus: 'active',
  lastEvent: null,
  events: 0,
});

/** Subscribes now; `batch` resolves with the first delivered batch that satisfies `match`. */
async function awaitBatch(store: InspectionStore, match: (b: InspectionBatch) => boolean): Promise<{ batch: Promise<InspectionBatch> }> {
  let done: (b: InspectionBatch) => void = () => {};
  const got = new Promise<InspectionBatch>((resolve) => (done = resolve));
  const unsubscribe = await store.subscribe((b) => {
    if (match(b)) done(b);
  });
  return { batch: got.finally(() => void unsubscribe()) };
}

describe.each<StoreKind>(['redis', 'memory'])('InspectionStore (%s)', (kind) => {
  it('keeps only the newest ringSize records of a job, oldest first', async () => {
    const store = makeStore(kind);
    await store.write({ host: 'h1', records: [1, 2, 3, 4].map((n) => record('job-a', n)), upserts: [], gone: [] });
    await store.write({ host: 'h1', records: [5, 6, 7].map((n) => record('job-a', n)), upserts: [], gone: [] });
    const ring = await store.ring('job-a');
    expect(ring.map((r) => r.at)).toEqual([3, 4, 5, 6, 7]);
    expect(await store.ring('job-unknown')).toEqual([]);
  });

  it("lists a host's actors while its heartbeat lasts, and forgets them when it stops", async () => {
    const clock = createManualClock();
    const store = makeStore(kind, clock);
    await store.heartbeat('alive');
    await store.heartbeat('dying');
    await store.write({ host: 'alive', records: [], upserts: [actorState('j1', 'alive')], gone: [] });
    await store.write({ host: 'dying', records: [], upserts: [actorState('j2', 'dying'), actorState('j3', 'dying')], gone: [] });
    expect((await store.liveActors()).map((a) => a.jobId).sort()).toEqual(['j1', 'j2', 'j3']);
    expect((await store.hosts()).map((h) => [h.host, h.actors]).sort()).toEqual([['alive', 1], ['dying', 2]]);

    clock.advance(HOST_TTL - 1);
    await store.heartbeat('alive');
    clock.advance(2);
    // "dying" missed its heartbeat: its actors vanish from every reader, without anyone removing them.
    expect((await store.liveActors()).map((a) => a.jobId)).toEqual(['j1']);
    expect(await store.liveActor('j2')).toBeNull();
    expect((await store.liveActor('j1'))?.host).toBe('alive');
  });

  it('publishes writes and removals to subscribers', async () => {
    const store = makeStore(kind);
    await store.heartbeat('h9');
    const written = await awaitBatch(store, (b) => b.upserts.some((a) => a.jobId === 'j9'));
    await store.write({ host: 'h9', records: [record('j9', 1, 'h9')], upserts: [actorState('j9', 'h9')], gone: [] });
    expect((await written.batch).records.map((r) => r.id)).toEqual(['1.t']);

    const removed = await awaitBatch(store, (b) => b.gone.length > 0);
    await store.removeHost('h9', 'shutdown');
    expect((await removed.batch).gone).toEqual([{ jobId: 'j9', host: 'h9', reason: 'shutdown' }]);
    expect(await store.liveActors()).toEqual([]);
  });
});

describe('inspector over Redis: job actors of two processes', () => {
  const clock = createManualClock('2026-05-01T09:00:00Z');
  const keys = createKeys(`${redis.prefix}procs:`);
  const storeA = makeStore('redis', clock, 200, keys);
  const storeB = makeStore('redis', clock, 200, keys);
  const a = createInspector({ store: storeA, clock, processId: 'proc-a', flushMs: 1 });
  const b = createInspector({ store: storeB, clock, processId: 'proc-b', flushMs: 1 });
  const service = createInspectorService({ store: storeA, jobs, clock });

  it('records events, transitions and context diffs of each actor, tagged with its host', async () => {
    await Promise.all([a.heartbeat(), b.heartbeat()]);
    const driverA = await createJobDriver({ sql: db.sql, inspector: a, clock }, { ownerId: 'ann', tier: 'partner' });
    const driverB = await createJobDriver({ sql: db.sql, inspector: b, clock }, { ownerId: 'bob', tier: 'partner' });
    const jobA = await driverA.start();
    const jobB = await driverB.start();
    for (const event of RETRY_THEN_READY.slice(0, 6)) {
      clock.advance(1000);
      await jobA.send(event);
    }
    await jobB.send({ type: 'START' });
    await Promise.all([a.flush(), b.flush()]);

    const view = await service.actors();
    const byJob = new Map(view.actors.map((x) => [x.jobId, x]));
    expect(byJob.get(jobA.jobId)).toMatchObject({ host: 'proc-a', ownerId: 'ann', status: 'scaffold', iteration: 1, awaitingConfirmation: false, actorStatus: 'active' });
    expect(byJob.get(jobB.jobId)).toMatchObject({ host: 'proc-b', ownerId: 'bob', status: 'starting', iteration: 0 });
    expect(byJob.get(jobA.jobId)?.age).toBe(6000);
    expect(view.hosts.map((h) => h.host).sort()).toEqual(['proc-a', 'proc-b']);

    const history = await service.history(jobA.jobId);
    for (const r of history.records) expect(inspectionRecordSchema.parse(JSON.parse(JSON.stringify(r)))).toEqual(r);
    expect(history.records.map((r) => r.kind).slice(0, 3)).toEqual(['actor', 'event', 'snapshot']);
    const retry = history.records.find((r) => r.kind === 'snapshot' && r.event === 'CHECKS_FAILED');
    expect(retry).toMatchObject({ state: 'scaffold', diff: { iteration: { from: 0, to: 1 } } });
    const step = history.records.find((r) => r.kind === 'microstep' && r.event === 'CHECKS_FAILED');
    expect(step).toMatchObject({ transitions: [{ source: 'job.checks.running', targets: ['job.scaffold'] }] });
    const event = history.records.find((r) => r.kind === 'event' && r.event === 'CHECKS_FAILED');
    expect(event).toMatchObject({ payload: { reason: 'lint: 3 problems' }, host: 'proc-a' });
    // The durable log is there too: seq 1 (queued) and six transitions.
    expect(history.transitions.map((t) => t.toStatus)).toEqual(['queued', 'starting', 'scaffold', 'code', 'deps', 'checks', 'scaffold']);
    expect(history.finished).toBe(false);

    // Process B dies: no heartbeat, no removal. Once its TTL has run out only A's actors are listed.
    clock.advance(HOST_TTL + 1);
    await a.heartbeat();
    expect((await service.actors()).actors.map((x) => x.host)).toEqual(['proc-a']);
    jobA.release('test over');
    jobB.actor.stop();
  });

  it('knows the state of an actor tracked after it started, and drops it when untracked', async () => {
    await a.heartbeat();
    const driver = await createJobDriver({ sql: db.sql, inspector: a, clock }, { ownerId: 'cy', tier: 'partner' });
    const job = await driver.start({ track: false });
    await job.send({ type: 'START' });
    await job.send({ type: 'BEGIN' });
    a.track({ jobId: job.jobId, ownerId: 'cy', projectId: driver.projectId });
    await a.flush();
    expect(await service.history(job.jobId)).toMatchObject({ live: { status: 'scaffold', host: 'proc-a' } });
    job.release('handed_back');
    await a.flush();
    const after = await service.history(job.jobId);
    expect(after.live).toBeNull();
    // The ring outlives the hosting; the stop itself is its last snapshot.
    expect(after.records.at(-1)).toMatchObject({ kind: 'snapshot', status: 'stopped', state: 'scaffold' });
  });

  it('answers NOT_FOUND for a job nobody knows', async () => {
    const err = await service.history('00000000-0000-4000-8000-000000000000').catch((e: unknown) => e);
    expect(isWardenError(err, 'NOT_FOUND')).toBe(true);
  });

  it('streams one job: its history first, then its records live, then its release', async () => {
    await a.heartbeat();
    const driver = await createJobDriver({ sql: db.sql, inspector: a, clock }, { ownerId: 'dee', tier: 'partner' });
    const job = await driver.start();
    await job.send({ type: 'START' });
    await a.flush();
    const abort = new AbortController();
    const stream = service.events({ jobId: job.jobId }, abort.signal);
    const first = await stream.next();
    expect(first.value).toMatchObject({ type: 'history', history: { jobId: job.jobId, live: { status: 'starting' } } });
    const seen = new Set((first.value as Extract<InspectorMessage, { type: 'history' }>).history.records.map((r) => r.id));

    const collected: InspectorMessage[] = [];
    const reading = (async () => {
      for (;;) {
        const { value, done } = await stream.next();
        if (done) return;
        collected.push(value);
        if (value.type === 'gone') return;
      }
    })();
    for (const event of RETRY_THEN_READY.slice(1)) await job.send(event);
    await a.flush();
    job.release('finished');
    await a.flush();
    await reading;
    abort.abort();

    const records = collected.flatMap((m) => (m.type === 'records' ? m.records : []));
    expect(records.every((r) => !seen.has(r.id) && r.jobId === job.jobId)).toBe(true);
    expect(records.filter((r) => r.kind === 'event').map((r) => (r.kind === 'event' ? r.event : ''))).toEqual(RETRY_THEN_READY.slice(1).map((e) => e.type));
    expect(records.at(-1)).toMatchObject({ kind: 'snapshot', state: 'ready', status: 'done' });
    expect(collected.filter((m) => m.type === 'actor').at(-1)).toMatchObject({ actor: { status: 'ready', iteration: 1 } });
    expect(collected.at(-1)).toEqual({ type: 'gone', gone: { jobId: job.jobId, host: 'proc-a', reason: 'finished' } });
    const done = await service.history(job.jobId);
    expect(done.finished).toBe(true);
    expect(done.transitions.at(-1)).toMatchObject({ fromStatus: 'checks', toStatus: 'ready', iteration: 1 });
  });

  it('streams the actor list: the current list, then changes', async () => {
    await a.heartbeat();
    const abort = new AbortController();
    const stream = service.events({}, abort.signal);
    const first = await stream.next();
    expect(first.value?.type).toBe('actors');
    const driver = await createJobDriver({ sql: db.sql, inspector: a, clock }, { ownerId: 'eve', tier: 'partner' });
    const job = await driver.start();
    await a.flush();
    let upsert: LiveActorState | undefined;
    while (!upsert) {
      const next: IteratorResult<InspectorMessage, void> = await stream.next();
      if (next.value?.type === 'delta') upsert = next.value.upserts.find((x) => x.jobId === job.jobId);
    }
    expect(upsert).toMatchObject({ ownerId: 'eve', status: 'queued', host: 'proc-a' });
    abort.abort();
    expect((await stream.next()).done).toBe(true);
    job.release('test over');
  });

  it('never lets a failing store reach the actor', async () => {
    const failing: InspectionStore = { ...makeStore('memory', clock), write: () => Promise.reject(new Error('store down')) };
    const errors: string[] = [];
    const broken: Inspector = createInspector({ store: failing, clock, processId: 'broken', onError: (e, c) => errors.push(`${c.during}: ${String(e)}`) });
    const actor = createJobActor(jobLifecycleMachine, { jobId: 'j-broken', iterationDepth: 2 }, { inspect: broken.inspect }).start();
    actor.send({ type: 'START' });
    await broken.flush();
    expect(actor.getSnapshot().value).toBe('starting');
    expect(errors).toEqual(['flush: Error: store down']);
    expect(broken.dropped).toBeGreaterThan(0);
    actor.stop();
  });

  afterAll(async () => {
    await a.close();
    await b.close();
  });
});

describe('inspector over HTTP (admin only) and in the terminal', async () => {
  const t = await startTestApp('inspector_http', { inspector: { processId: 'http-proc', flushMs: 5 } });
  const inspection = t.app.inspection;
  const clock = { now: () => Date.now() };
  const driver = await createJobDriver({ sql: t.app.sql, inspector: inspection.inspector, clock }, { ownerId: 'fay', tier: 'partner' });
  const adminToken = await t.tokenFor('root', { admin: true });
  const admin = t.clientFor(adminToken);

  it('refuses anyone but an admin', async () => {
    const user = t.clientFor(await t.tokenFor('plain-user'));
    await expect(user.inspector.actors.query()).rejects.toMatchObject({ data: { code: 'FORBIDDEN' } });
    await expect(t.clientFor().inspector.actors.query()).rejects.toMatchObject({ data: { code: 'UNAUTHORIZED' } });
  });

  it('lists live actors, serves a job history and the statechart', async () => {
    const job = await driver.start();
    await job.send({ type: 'START' });
    await inspection.inspector.flush();
    const view = await admin.inspector.actors.query({ search: job.jobId.slice(0, 8) });
    expect(view.actors).toMatchObject([{ jobId: job.jobId, status: 'starting', host: 'http-proc', ownerId: 'fay' }]);
    const history = await admin.inspector.history.query({ jobId: job.jobId });
    expect(history.records.some((r) => r.kind === 'microstep')).toBe(true);
    const chart = await admin.inspector.statechart.query();
    expect(chart.layout.states.map((s) => s.id)).toContain('job.checks.awaitingConfirmation');
    job.release('test over');
  });

  it('serves the page and its assets from Warden itself, with nothing from elsewhere', async () => {
    const page = await fetch(`${t.url}/inspector/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toContain("default-src 'none'");
    const html = await page.text();
    expect(html).toContain('<script type="module" src="inspector.js">');
    for (const asset of ['inspector.js', 'api.js', 'dom.js', 'statechart.js', 'timeline.js', 'inspector.css', 'favicon.svg']) {
      const res = await fetch(`${t.url}/inspector/${asset}`);
      expect(res.status).toBe(200);
      const text = await res.text();
      // The only absolute URL allowed is the SVG namespace, which is a name, not a request.
      expect(text.replace(/http:\/\/www\.w3\.org\/2000\/svg/g, '')).not.toMatch(/https?:\/\//);
    }
    expect(html).not.toMatch(/https?:\/\//);
    const bare = await fetch(`${t.url}/inspector`, { redirect: 'manual' });
    expect([bare.status, bare.headers.get('location')]).toEqual([308, '/inspector/']);
  });

  it('follows one job live in the terminal until it ends (npm run inspect)', async () => {
    const job = await driver.start();
    await inspection.inspector.flush();
    const cli = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('../../src/cli/inspect.ts', import.meta.url)), job.jobId, '--url', t.url], {
      env: { ...process.env, WARDEN_TOKEN: adminToken, NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    cli.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => cli.once('exit', resolve));
    // Wait for its first screen (the history) before moving the job.
    await new Promise<void>((resolve) =>
      cli.stdout.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        if (out.includes(`job ${job.jobId}`)) resolve();
      }),
    );
    for (const event of RETRY_THEN_READY) await job.send(event);
    await inspection.inspector.flush();
    job.release('finished');
    await inspection.inspector.flush();
    expect(await exited, err).toBe(0);
    expect(out).toContain('event    CHECKS_FAILED reason="lint: 3 problems"');
    expect(out).toMatch(/snapshot ready \(done\)/);
    expect(out).toMatch(/── ready \(ready\) iteration 1/);
    expect(out).toContain('durable transition log (11)');
    expect(out).toMatch(/#\s+11 checks → ready/);
  });
});
