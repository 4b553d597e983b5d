import { randomUUID } from 'node:crypto';
import { TRPCClientError } from '@trpc/client';
import { describe, expect, it } from 'vitest';
import { createManualClock } from '../../src/clock.js';
import { createDecisionsRepository } from '../../src/db/decisionsRepository.js';
import { createRiskFact } from '../../src/domain/riskFact.js';
import { DAY_MS } from '../../src/domain/riskRules.js';
import { BUILD_FAILURES_QUESTION, buildFailuresPlanner, chainFromFact, type PlannerContext, type RiskPlanner } from '../../src/risk/planners.js';
import { startTestApp } from '../helpers/testApp.js';

// SPEC §6's planner on the wire: a raised build_failures risk opens a pending decision carrying its
// causality chain; projects.get and the dashboard show it; projects.decide closes the chain; left
// waiting 7 days it raises stale_decision. A host's planner runs beside the shipped one.
const clock = createManualClock('2033-05-02T08:00:00Z');
const hostPlanner: RiskPlanner = {
  name: 'host-review',
  accepts: (event) => event.scope.kind === 'project' && event.fact.riskType === 'HOST_ALERT',
  async plan(event, context) {
    if (event.scope.kind !== 'project') return;
    await context.openDecision({
      projectId: event.scope.id,
      gateType: 'host_review',
      question: 'The host flagged this project. Ship anyway?',
      choices: ['ship', 'hold'],
      chain: chainFromFact(event),
    });
  },
};
const t = await startTestApp('planner', { clock, env: { WARDEN_RISK_SCAN_SECONDS: '0' }, planners: [hostPlanner] });
const risks = t.app.services.risks!;

const wardenCode = (err: unknown) => (err instanceof TRPCClientError ? (err.data as { wardenCode?: string } | undefined)?.wardenCode : err);
const failThree = async (projectId: string) => {
  for (let i = 0; i < 3; i++) {
    await risks.recordBuildOutcome({ jobId: randomUUID(), projectId, status: 'failed', finishedAt: clock.now() });
  }
};
const scan = async () => t.clientFor(await t.tokenFor('root', { admin: true })).risks.scan.mutate();

describe('the build-failures planner', () => {
  it('opens a pending decision with the chain of the raised risk; the owner decides it and the chain closes', async () => {
    const alice = t.clientFor(await t.tokenFor('alice'));
    const bob = t.clientFor(await t.tokenFor('bob'));
    const { projectId } = await alice.projects.create.mutate({ name: 'flaky' });
    await failThree(projectId);
    expect((await scan()).emitted.build_failures).toBe(1);

    const [fact] = (await alice.risks.history.query()).items;
    expect(fact).toMatchObject({ scope: { kind: 'project', id: projectId }, fact: { riskType: 'BUILD_FAILURES' } });
    const riskId = fact!.fact.riskId;
    const project = await alice.projects.get.query({ projectId });
    expect(project.pendingDecisions).toHaveLength(1);
    const decision = project.pendingDecisions[0]!;
    expect(decision).toMatchObject({
      gateType: 'build_failures',
      status: 'pending',
      question: BUILD_FAILURES_QUESTION,
      choices: ['retry_narrower', 'stop'],
      chain: { origin: { id: riskId, type: 'BUILD_FAILURES' }, signalIds: [], riskIds: [riskId] },
    });
    const dashboard = await alice.risks.dashboard.query({ projectId });
    expect(dashboard.pendingDecisions.map((d) => d.id)).toEqual([decision.id]);
    expect(dashboard.suggestedFocus).toBe('Review Build Failures decision to continue');

    const refused = await alice.projects.decide.mutate({ projectId, decisionId: decision.id, choice: 'maybe' }).catch((e: unknown) => e);
    expect(wardenCode(refused)).toBe('CONFLICT');
    const foreign = await bob.projects.decide.mutate({ projectId, decisionId: decision.id, choice: 'stop' }).catch((e: unknown) => e);
    expect(wardenCode(foreign)).toBe('NOT_FOUND');

    const decided = await alice.projects.decide.mutate({ projectId, decisionId: decision.id, choice: 'retry_narrower' });
    expect(decided).toMatchObject({ status: 'decided', choice: 'retry_narrower', decidedBy: 'alice' });
    expect(decided.chain).toEqual({ origin: { id: riskId, type: 'BUILD_FAILURES' }, signalIds: [], riskIds: [riskId], decisionIds: [decision.id] });
    expect((await alice.projects.get.query({ projectId })).pendingDecisions).toEqual([]);
    const again = await alice.projects.decide.mutate({ projectId, decisionId: decision.id, choice: 'stop' }).catch((e: unknown) => e);
    expect(wardenCode(again)).toBe('NOT_FOUND');
  });

  it('opens one decision per fact however many processes receive it', async () => {
    await t.tokenFor('carol');
    const project = await t.app.services.projects.createProject({ ownerId: 'carol', name: 'busy', now: clock.now() });
    const fact = createRiskFact({ riskType: 'BUILD_FAILURES', severity: '0.80', timestamp: clock.now() });
    const event = { type: 'RISK_DETECTED', scope: { kind: 'project', id: project.id }, fact } as const;
    // Three "processes", each with its own pool, receive the same event at once.
    const pools = [t.db.connect(2), t.db.connect(2), t.db.connect(2)];
    await Promise.all(
      pools.map((pool) => {
        const decisions = createDecisionsRepository(pool);
        const openDecision: PlannerContext['openDecision'] = (input) => decisions.openPlannedDecision({ ...input, at: clock.now() });
        return buildFailuresPlanner.plan(event, { clock, logger: t.app.services.log, openDecision });
      }),
    );
    const listed = await risks.decisions.listDecisions(project.id);
    expect(listed.pending.map((d) => d.chain?.origin.id)).toEqual([fact.riskId]);
  });

  it("runs a host's planner beside the shipped one", async () => {
    const dave = t.clientFor(await t.tokenFor('dave'));
    const { projectId } = await dave.projects.create.mutate({ name: 'hosted' });
    const fact = createRiskFact({ riskType: 'HOST_ALERT', severity: '0.30', timestamp: clock.now() });
    await risks.bus.publish({ type: 'RISK_DETECTED', scope: { kind: 'project', id: projectId }, fact });
    const [decision] = (await dave.projects.get.query({ projectId })).pendingDecisions;
    expect(decision).toMatchObject({ gateType: 'host_review', choices: ['ship', 'hold'], chain: { origin: { id: fact.riskId, type: 'HOST_ALERT' } } });
    expect((await dave.projects.decide.mutate({ projectId, decisionId: decision!.id, choice: 'hold' })).choice).toBe('hold');
  });

  // Last: it moves the shared clock a week on.
  it('raises stale_decision for a decision left waiting 7 days, in the dashboard and the scan', async () => {
    const erin = () => t.tokenFor('erin').then((token) => t.clientFor(token));
    const { projectId } = await (await erin()).projects.create.mutate({ name: 'waiting' });
    await failThree(projectId);
    await scan();
    expect((await (await erin()).projects.get.query({ projectId })).pendingDecisions).toHaveLength(1);

    clock.advance(6 * DAY_MS);
    await (await erin()).projects.recordActivity.mutate({ projectId });
    expect((await (await erin()).risks.dashboard.query({ projectId })).risks.map((r) => r.rule)).toEqual(['build_failures']);
    expect((await scan()).emitted.stale_decision).toBe(0);

    clock.advance(DAY_MS);
    const dashboard = await (await erin()).risks.dashboard.query({ projectId });
    expect(dashboard.risks[0]).toEqual({ type: 'system', rule: 'stale_decision', message: 'No decision made in 7 days. Project may need attention.' });
    expect((await scan()).emitted.stale_decision).toBeGreaterThanOrEqual(1);
    const facts = (await (await erin()).risks.history.query()).items.map((i) => i.fact.riskType);
    expect(facts[0]).toBe('STALE_DECISION');
  });
});
