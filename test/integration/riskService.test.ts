import { randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { createManualClock } from '../../src/clock.js';
import { createDecisionsRepository } from '../../src/db/decisionsRepository.js';
import { createJobsRepository } from '../../src/db/jobsRepository.js';
import { migrate } from '../../src/db/migrate.js';
import { createProjectsRepository } from '../../src/db/projectsRepository.js';
import { createRisksRepository } from '../../src/db/risksRepository.js';
import { createUsersRepository } from '../../src/db/usersRepository.js';
import { DAY_MS } from '../../src/domain/riskRules.js';
import { DEFAULT_TIERS } from '../../src/domain/tiers.js';
import { isWardenError } from '../../src/errors.js';
import { createRedis } from '../../src/redis/client.js';
import { createRedisTokenStore } from '../../src/redis/tokenStore.js';
import type { RiskLogger } from '../../src/risk/riskLogger.js';
import { createRiskService, type UsageReader } from '../../src/risk/riskService.js';
import { useTestDb } from '../helpers/testDb.js';
import { useTestRedis } from '../helpers/testRedis.js';

const db = await useTestDb('risk_service');
await migrate(db.sql);
const redis = useTestRedis('risksvc');
// In the future of the real clock: Redis expires the token counters at a real time computed from this clock.
const T0 = Date.parse('2031-03-01T10:00:00Z');
const clock = createManualClock(T0);
const users = createUsersRepository(db.sql);
const projects = createProjectsRepository(db.sql);
const jobs = createJobsRepository(db.sql);
const risks = createRisksRepository(db.sql);
const decisions = createDecisionsRepository(db.sql);
const tokens = createRedisTokenStore(redis.redis, redis.keys, clock);

function recorder(): RiskLogger & { warns: string[] } {
  const warns: string[] = [];
  return { warns, warn: (_o, msg) => warns.push(msg), error: (_o, msg) => warns.push(`error: ${msg}`) };
}

const serviceWith = (usage: UsageReader, logger = recorder()) =>
  createRiskService({ risks, decisions, usage, tiers: DEFAULT_TIERS, clock, logger, usageTimeoutMs: 2000 });
const service = serviceWith(tokens);

/** A fresh user (tier given) with one project created now. */
async function ownerWithProject(tier = 'bootstrapper', tokenBudgetOverride: number | null = null) {
  const userId = `user-${randomUUID().slice(0, 8)}`;
  await users.upsertUser({ id: userId, tier, tokenBudgetOverride, now: clock.now() });
  const project = await projects.createProject({ ownerId: userId, name: 'P', now: clock.now() });
  return { userId, projectId: project.id };
}

async function finishJob(userId: string, projectId: string, status: 'ready' | 'failed', jobId: string = randomUUID()) {
  await risks.recordBuildOutcome({ jobId, projectId, status, finishedAt: clock.now() });
  return jobId;
}

const rules = async (userId: string, projectId: string) =>
  (await service.dashboard(userId, projectId)).risks.map((r) => r.rule);

describe('dashboard', () => {
  it('is all clear for a fresh project', async () => {
    const { userId, projectId } = await ownerWithProject();
    expect(await service.dashboard(userId, projectId)).toEqual({
      projectId,
      risks: [],
      failureCount: 0,
      pendingDecisions: [],
      lastDecisions: [],
      latestBuild: null,
      suggestedFocus: 'All clear — ready to build',
      degraded: [],
    });
  });

  it('shows the newest job as the latest build status', async () => {
    const { userId, projectId } = await ownerWithProject();
    await jobs.insertJob({ ownerId: userId, projectId, tier: 'bootstrapper', goal: 'a', status: 'queued', now: clock.now() });
    const newer = await jobs.insertJob({
      ownerId: userId,
      projectId,
      tier: 'bootstrapper',
      goal: 'b',
      status: 'scheduled',
      now: clock.now() + 1000,
    });
    expect((await service.dashboard(userId, projectId)).latestBuild).toMatchObject({ jobId: newer.id, status: 'scheduled' });
  });
});

describe('build_failures: the consecutive-failure streak', () => {
  it('is no risk at 2 failures, a risk at 3, and a ready job resets it', async () => {
    const { userId, projectId } = await ownerWithProject();
    await finishJob(userId, projectId, 'failed');
    await finishJob(userId, projectId, 'failed');
    expect((await service.dashboard(userId, projectId)).failureCount).toBe(2);
    expect(await rules(userId, projectId)).toEqual([]);

    await finishJob(userId, projectId, 'failed');
    const third = await service.dashboard(userId, projectId);
    expect(third.failureCount).toBe(3);
    expect(third.risks).toEqual([
      { type: 'system', rule: 'build_failures', message: '3 consecutive build failures. Review implementation or dependencies.' },
    ]);

    await finishJob(userId, projectId, 'ready');
    expect((await service.dashboard(userId, projectId)).failureCount).toBe(0);
    expect(await rules(userId, projectId)).toEqual([]);
    await finishJob(userId, projectId, 'failed');
    expect((await service.dashboard(userId, projectId)).failureCount).toBe(1);
  });

  it('counts a job once, however often its outcome is reported', async () => {
    const { projectId } = await ownerWithProject();
    const jobId = randomUUID();
    const first = await risks.recordBuildOutcome({ jobId, projectId, status: 'failed', finishedAt: clock.now() });
    const again = await risks.recordBuildOutcome({ jobId, projectId, status: 'failed', finishedAt: clock.now() });
    expect(first).toEqual({ counted: true, consecutiveFailures: 1 });
    expect(again).toEqual({ counted: false, consecutiveFailures: 1 });
  });
});

describe('staleness, by whole days', () => {
  it('stale_decision: 6 days is no risk, 7 days is', async () => {
    const { userId, projectId } = await ownerWithProject();
    await projects.recordDecision(userId, projectId, clock.now());
    await projects.recordActivity(userId, projectId, clock.now() + 7 * DAY_MS);
    const at = (days: number) => {
      clock.set(T0 + days * DAY_MS);
    };
    try {
      at(7 - 1 / DAY_MS);
      expect(await rules(userId, projectId)).toEqual([]);
      at(7);
      const d = await service.dashboard(userId, projectId);
      expect(d.risks).toEqual([
        { type: 'system', rule: 'stale_decision', message: 'No decision made in 7 days. Project may need attention.' },
      ]);
      expect(d.suggestedFocus).toBe('Address risk: No decision made in 7 days. Project may need attention.');
    } finally {
      clock.set(T0);
    }
  });

  it('stale_project: 13 days is no risk, 14 days is', async () => {
    const { userId, projectId } = await ownerWithProject();
    try {
      clock.set(T0 + 14 * DAY_MS - 1);
      expect(await rules(userId, projectId)).toEqual([]);
      clock.set(T0 + 14 * DAY_MS);
      expect((await service.dashboard(userId, projectId)).risks).toEqual([
        { type: 'system', rule: 'stale_project', message: 'No activity in 14 days. Project may be abandoned.' },
      ]);
    } finally {
      clock.set(T0);
    }
  });
});

describe('high_token_usage (llm)', () => {
  it('is no risk at exactly 80%, a risk just above, "85%" at 85%, and after the system risks', async () => {
    const { userId, projectId } = await ownerWithProject('bootstrapper');
    await tokens.add(userId, 400_000);
    expect(await rules(userId, projectId)).toEqual([]);
    await tokens.add(userId, 1);
    expect(await rules(userId, projectId)).toEqual(['high_token_usage']);
    await tokens.add(userId, 24_999);
    for (let i = 0; i < 3; i++) await finishJob(userId, projectId, 'failed');
    expect((await service.dashboard(userId, projectId)).risks).toEqual([
      { type: 'system', rule: 'build_failures', message: '3 consecutive build failures. Review implementation or dependencies.' },
      {
        type: 'llm',
        rule: 'high_token_usage',
        message: "We're at 85% of today's token budget. Consider upgrading to avoid interruptions.",
      },
    ]);
  });

  it('is never a risk for an unlimited budget, and follows an override', async () => {
    const unlimited = await ownerWithProject('cto_scale');
    await tokens.add(unlimited.userId, 50_000_000);
    expect(await rules(unlimited.userId, unlimited.projectId)).toEqual([]);

    const overridden = await ownerWithProject('cto_scale', 1000);
    await tokens.add(overridden.userId, 900);
    expect(await rules(overridden.userId, overridden.projectId)).toEqual(['high_token_usage']);
  });
});

describe('decisions', () => {
  it('suggests the oldest pending decision; deciding moves last_decision_at and lists it', async () => {
    const { userId, projectId } = await ownerWithProject();
    const older = await decisions.openDecision({ ownerId: userId, projectId, gateType: 'architecture_review', at: T0 });
    await decisions.openDecision({ ownerId: userId, projectId, gateType: 'security', at: T0 + 1000 });
    const d = await service.dashboard(userId, projectId);
    expect(d.pendingDecisions.map((p) => p.gateType)).toEqual(['architecture_review', 'security']);
    expect(d.suggestedFocus).toBe('Review Architecture Review decision to continue');

    const decided = await decisions.decide({ ownerId: userId, projectId, decisionId: older!.id, at: T0 + 5000 });
    expect(decided).toMatchObject({ status: 'decided', decidedBy: userId, decidedAt: new Date(T0 + 5000).toISOString() });
    expect(await decisions.decide({ ownerId: userId, projectId, decisionId: older!.id, at: T0 + 6000 })).toBeNull();
    const after = await service.dashboard(userId, projectId);
    expect(after.suggestedFocus).toBe('Review Security decision to continue');
    expect(after.lastDecisions.map((x) => x.id)).toEqual([older!.id]);
    expect((await projects.getProject(userId, projectId))?.lastDecisionAt).toBe(new Date(T0 + 5000).toISOString());
  });

  it("cannot be opened or decided on another user's project", async () => {
    const a = await ownerWithProject();
    const b = await ownerWithProject();
    expect(await decisions.openDecision({ ownerId: b.userId, projectId: a.projectId, gateType: 'x', at: T0 })).toBeNull();
    const mine = await decisions.openDecision({ ownerId: a.userId, projectId: a.projectId, gateType: 'x', at: T0 });
    expect(await decisions.decide({ ownerId: b.userId, projectId: a.projectId, decisionId: mine!.id, at: T0 })).toBeNull();
  });
});

describe('journey and dismissals', () => {
  it('shows the risks minus the dismissed rules; dismissals record who and when', async () => {
    const { userId, projectId } = await ownerWithProject();
    for (let i = 0; i < 3; i++) await finishJob(userId, projectId, 'failed');
    clock.set(T0 + 20 * DAY_MS);
    try {
      expect((await service.journey(userId, projectId)).risks.map((r) => r.rule)).toEqual(['build_failures', 'stale_project']);
      const dismissal = await service.dismiss(userId, projectId, 'stale_project');
      expect(dismissal).toEqual({
        projectId,
        rule: 'stale_project',
        dismissedBy: userId,
        dismissedAt: new Date(T0 + 20 * DAY_MS).toISOString(),
      });
      const journey = await service.journey(userId, projectId);
      expect(journey.risks.map((r) => r.rule)).toEqual(['build_failures']);
      expect(journey.dismissedRules).toEqual(['stale_project']);
      // The dashboard still shows everything.
      expect(await rules(userId, projectId)).toEqual(['build_failures', 'stale_project']);

      clock.advance(DAY_MS);
      expect(await service.dismiss(userId, projectId, 'stale_project')).toEqual(dismissal);
      expect(await service.dismissals(userId, projectId)).toEqual([dismissal]);
    } finally {
      clock.set(T0);
    }
  });
});

describe('owner only', () => {
  it("answers NOT_FOUND for another user's project, exactly as for a missing one", async () => {
    const a = await ownerWithProject();
    const b = await ownerWithProject();
    const calls = [
      (user: string, project: string) => service.dashboard(user, project),
      (user: string, project: string) => service.journey(user, project),
      (user: string, project: string) => service.dismiss(user, project, 'stale_project'),
      (user: string, project: string) => service.dismissals(user, project),
    ];
    for (const call of calls) {
      for (const project of [a.projectId, randomUUID(), 'not-a-uuid']) {
        const err: unknown = await call(b.userId, project).catch((e: unknown) => e);
        expect(isWardenError(err, 'NOT_FOUND')).toBe(true);
      }
    }
    expect(await service.dismissals(a.userId, a.projectId)).toEqual([]);
  });
});

describe('degrade, never fail', () => {
  it('answers without llm risks, marked degraded, with one warning, when Redis is unreachable', async () => {
    const port = await closedPort();
    const down = createRedis(`redis://127.0.0.1:${port}`, {
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      connectTimeout: 200,
      retryStrategy: () => null,
    });
    down.on('error', () => {});
    const logger = recorder();
    const degradedService = serviceWith(createRedisTokenStore(down, redis.keys, clock), logger);
    const { userId, projectId } = await ownerWithProject();
    for (let i = 0; i < 3; i++) await finishJob(userId, projectId, 'failed');

    const d = await degradedService.dashboard(userId, projectId);
    expect(d.degraded).toEqual(['llm']);
    expect(d.risks.map((r) => r.rule)).toEqual(['build_failures']);
    expect(logger.warns).toEqual(['token usage unavailable; llm risk signal degraded']);
    expect((await degradedService.journey(userId, projectId)).degraded).toEqual(['llm']);
    down.disconnect();
  });

  it('counts a read slower than the timeout as degraded too', async () => {
    const logger = recorder();
    const never: UsageReader = { used: () => new Promise<number>(() => {}) };
    const slow = createRiskService({ risks, decisions, usage: never, tiers: DEFAULT_TIERS, clock, logger, usageTimeoutMs: 20 });
    const { userId, projectId } = await ownerWithProject();
    expect((await slow.dashboard(userId, projectId)).degraded).toEqual(['llm']);
    expect(logger.warns).toHaveLength(1);
  });
});

/** A TCP port nothing listens on: bound by the OS, then released. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}
