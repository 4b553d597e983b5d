import { describe, expect, it } from 'vitest';
import { useEmbeddedRiskRuntime } from '../helpers/embeddedRiskRuntime.js';
import { createDecisionsRepository } from '../../src/db/decisionsRepository.js';
import { createProjectsRepository } from '../../src/db/projectsRepository.js';
import { createUsersRepository } from '../../src/db/usersRepository.js';
import { DAY_MS } from '../../src/domain/riskRules.js';

// stale_decision read only the last decision made: a project whose one decision had been waiting for
// weeks, never decided, was never stale. A pending decision's age now counts, in the dashboard and in
// the bulk scan alike.
const { db, clock, runtime } = await useEmbeddedRiskRuntime({ label: 'pending_decision_stale', startAt: '2034-01-10T10:00:00Z' });

describe('a decision left pending', () => {
  it('raises stale_decision after 7 whole days, and deciding it clears the risk', async () => {
    await createUsersRepository(db.sql).upsertUser({ id: 'owner', tier: 'partner', now: clock.now() });
    const project = await createProjectsRepository(db.sql).createProject({ ownerId: 'owner', name: 'p', now: clock.now() });
    const decisions = createDecisionsRepository(db.sql);
    const pending = await decisions.openDecision({ ownerId: 'owner', projectId: project.id, gateType: 'architecture_review', at: clock.now() });

    clock.advance(7 * DAY_MS);
    await createProjectsRepository(db.sql).recordActivity('owner', project.id, clock.now());
    const dashboard = await runtime.service.dashboard('owner', project.id);
    expect(dashboard.risks.map((r) => r.rule)).toEqual(['stale_decision']);
    expect((await runtime.monitor.scan()).emitted.stale_decision).toBe(1);

    await decisions.decide({ ownerId: 'owner', projectId: project.id, decisionId: pending!.id, at: clock.now() });
    expect((await runtime.service.dashboard('owner', project.id)).risks).toEqual([]);
  });
});
