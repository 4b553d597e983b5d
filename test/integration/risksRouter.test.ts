import { TRPCError } from '@trpc/server';
import { describe, expect, it } from 'vitest';
import { risksRouter } from '../../router/risks.router.js';
import { createCallerFactory, router } from '../../router/trpc.js';
import { createRiskFact } from '../../src/domain/riskFact.js';
import type { RiskEventJson, RiskScope } from '../../src/risk/riskEvent.js';
import { createRiskRuntime, type RiskRuntime } from '../../src/risk/riskRuntime.js';
import { startTestApp, type TestApp } from '../helpers/testApp.js';

// The risks router on the real app services (auth, repositories, Redis), called in process.
const createCaller = createCallerFactory(router({ risks: risksRouter }));
// At the top level, not in beforeAll: the helpers' afterAll hooks (close the app, drop the schema) must
// be registered on the file, and a hook registered inside another hook is not run.
const t: TestApp = await startTestApp('risks-router');
const runtime: RiskRuntime = await createRiskRuntime({
  sql: t.app.sql,
  clock: t.app.services.clock,
  tiers: t.config.tiers,
  logger: t.app.services.log,
  tokens: t.app.stores.tokens,
  ...(t.app.redis ? { redis: t.app.redis } : {}),
  scanThreads: 1,
});
t.app.services.risks = runtime;
t.app.onClose('drain', () => runtime.close());
const callerFor = (token: string, signal?: AbortSignal) =>
  createCaller({ services: t.app.services, token }, signal ? { signal } : {}).risks;

const codeOf = async (work: Promise<unknown>) => {
  const err: unknown = await work.catch((e: unknown) => e);
  return err instanceof TRPCError ? err.code : err;
};

describe('risks router', () => {
  it("serves the owner's dashboard, journey and dismissals; others get NOT_FOUND", async () => {
    const alice = callerFor(await t.tokenFor('alice'));
    const bob = callerFor(await t.tokenFor('bob'));
    const project = await t.app.services.projects.createProject({ ownerId: 'alice', name: 'p', now: Date.now() });
    const dashboard = await alice.dashboard({ projectId: project.id });
    expect(dashboard).toMatchObject({ projectId: project.id, risks: [], suggestedFocus: 'All clear — ready to build', degraded: [] });
    expect(await alice.dismiss({ projectId: project.id, rule: 'stale_project' })).toMatchObject({ dismissedBy: 'alice' });
    expect((await alice.journey({ projectId: project.id })).dismissedRules).toEqual(['stale_project']);
    expect(await alice.dismissals({ projectId: project.id })).toHaveLength(1);
    expect(await codeOf(bob.dashboard({ projectId: project.id }))).toBe('NOT_FOUND');
    expect(await codeOf(bob.dismissals({ projectId: project.id }))).toBe('NOT_FOUND');
    expect(await codeOf(bob.dismiss({ projectId: project.id, rule: 'stale_project' }))).toBe('NOT_FOUND');
    expect(await codeOf(alice.dismiss({ projectId: project.id, rule: 'nope' as 'stale_project' }))).toBe('BAD_REQUEST');
  });

  it('runs a scan for an admin only', async () => {
    const user = callerFor(await t.tokenFor('carol'));
    const admin = callerFor(await t.tokenFor('root', { admin: true }));
    expect(await codeOf(user.scan())).toBe('FORBIDDEN');
    expect(await admin.scan()).toMatchObject({ failed: 0, threads: 1 });
  });

  it('streams the risk facts the caller may see: their own, their projects; an admin sees all', async () => {
    const controller = new AbortController();
    const dave = callerFor(await t.tokenFor('dave'), controller.signal);
    const admin = callerFor(await t.tokenFor('root2', { admin: true }), controller.signal);
    const project = await t.app.services.projects.createProject({ ownerId: 'dave', name: 'p', now: Date.now() });
    const publish = (scope: RiskScope, riskType = 'STALE_PROJECT') =>
      runtime.bus.publish({ type: 'RISK_DETECTED', scope, fact: createRiskFact({ riskType, severity: '0.40' }) });
    /** Opens a stream and waits until it is live: probes are published until the first one arrives. */
    const open = async (caller: typeof dave, probe: RiskScope) => {
      // In process, a tracked() event is its envelope: [id, data, symbol] (over HTTP the client unwraps it).
      const stream = (await caller.events()) as AsyncIterable<[string, RiskEventJson]>;
      const iterator = stream[Symbol.asyncIterator]();
      const first = iterator.next();
      let live = false;
      void first.then(() => (live = true));
      while (!live) {
        await publish(probe, 'PROBE');
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      return iterator;
    };
    const take = async (iterator: AsyncIterator<[string, RiskEventJson]>, n: number) => {
      const seen: RiskScope[] = [];
      while (seen.length < n) {
        const step: IteratorResult<[string, RiskEventJson], unknown> = await iterator.next();
        if (step.done) break;
        const [id, event] = step.value;
        expect(id).toBe(event.fact.riskId);
        if (event.fact.riskType !== 'PROBE') seen.push(event.scope);
      }
      return seen;
    };
    const adminStream = await open(admin, { kind: 'platform' });
    const daveStream = await open(dave, { kind: 'user', id: 'dave' });
    const daves = take(daveStream, 2);
    const admins = take(adminStream, 4);
    for (const scope of [
      { kind: 'user', id: 'someone-else' },
      { kind: 'user', id: 'dave' },
      { kind: 'platform' },
      { kind: 'project', id: project.id },
    ] as const) {
      await publish(scope);
    }
    expect(await daves).toEqual([
      { kind: 'user', id: 'dave' },
      { kind: 'project', id: project.id },
    ]);
    expect(await admins).toEqual([
      { kind: 'user', id: 'someone-else' },
      { kind: 'user', id: 'dave' },
      { kind: 'platform' },
      { kind: 'project', id: project.id },
    ]);
    controller.abort();
  });
});
