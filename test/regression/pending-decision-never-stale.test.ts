import { afterAll, describe, expect, it } from 'vitest';
import { createManualClock } from '../../src/clock.js';
import { createDecisionsRepository } from '../../src/db/decisionsRepository.js';
import { migrate } from '../../src/db/migrate.js';
import { createProjectsRepository } from '../../src/db/projectsRepository.js';
import { createUsersRepository } from '../../src/db/usersRepository.js';
import { DAY_MS } from '../../src/domain/riskRules.js';
import { DEFAULT_TIERS } from '../../src/domain/tiers.js';
import { createMemoryStores } from '../../src/redis/memory/createMemoryStores.js';
import { createRiskRuntime } from '../../src/risk/riskRuntime.js';
import { useTestDb } from '../helpers/testDb.js';

// stale_decision read only the last decision made: a project whose one decision had been waiting for
// weeks, never decided, was never stale. A pending decision's age now counts, in the dashboard and in
// the bulk scan alike.
const db = await useTestDb('pending_decision_stale');
await migrate(db.sql);
const clock = createManualClock('2034-01-10T10:00:00Z');
const stores = createMemoryStores({ clock });
const runtime = await createRiskRuntime({
  sql: db.sql,
  clock,
  tiers: DEFAULT_TIERS,
  logger: { warn: () => {}, error: () => {} },
  tokens: stores.tokens,
  scanThreads: 0,
});
afterAll(async () => {
  await runtime.close();
  await stores.close();
});

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
