import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { useEmbeddedRiskRuntime } from '../helpers/embeddedRiskRuntime.js';
import { createProjectsRepository } from '../../src/db/projectsRepository.js';
import { createUsersRepository } from '../../src/db/usersRepository.js';

// A raised build_failures risk was published and nothing acted on it: no planner consumed risk facts,
// and causality chains were used by nothing. The shipped planner now opens a pending decision on the
// project carrying the chain of the fact it acted on.
const { db, clock, runtime } = await useEmbeddedRiskRuntime({ label: 'build_failures_decision', startAt: '2034-02-01T10:00:00Z' });

describe('a raised build_failures risk', () => {
  it('opens one pending decision on the project, with the causality chain of the fact', async () => {
    await createUsersRepository(db.sql).upsertUser({ id: 'owner', tier: 'partner', now: clock.now() });
    const project = await createProjectsRepository(db.sql).createProject({ ownerId: 'owner', name: 'p', now: clock.now() });
    for (let i = 0; i < 3; i++) {
      await runtime.recordBuildOutcome({ jobId: randomUUID(), projectId: project.id, status: 'failed', finishedAt: clock.now() });
    }
    const riskIds: string[] = [];
    runtime.bus.subscribe({ scope: { kind: 'project', id: project.id } }, (event) => void riskIds.push(event.fact.riskId));
    await runtime.monitor.scan();
    await runtime.monitor.scan();

    const { pending } = await runtime.decisions.listDecisions(project.id);
    expect(riskIds).toHaveLength(1);
    expect(pending).toHaveLength(1);
    expect(pending[0]).toMatchObject({
      gateType: 'build_failures',
      question: 'Builds keep failing — retry with a narrower goal, or stop?',
      chain: { origin: { id: riskIds[0], type: 'BUILD_FAILURES' }, riskIds: [riskIds[0]] },
    });
  });
});
