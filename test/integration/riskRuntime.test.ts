import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { useEmbeddedRiskRuntime } from '../helpers/embeddedRiskRuntime.js';
import { createProjectsRepository } from '../../src/db/projectsRepository.js';
import { createUsersRepository } from '../../src/db/usersRepository.js';
import { DAY_MS } from '../../src/domain/riskRules.js';
import type { RiskEvent } from '../../src/risk/riskEvent.js';

// The embedded mode: no Redis, the in-process stand-in's TokenStore, the in-process bus.
const warnings: string[] = [];
const { db, clock, stores, runtime } = await useEmbeddedRiskRuntime({ label: 'risk_runtime', startAt: '2031-02-01T09:00:00Z', logged: warnings, scanThreads: 1 });

describe('risk runtime without Redis', () => {
  it('scans the stand-in token store and publishes on the in-process bus, once', async () => {
    const users = createUsersRepository(db.sql);
    const projects = createProjectsRepository(db.sql);
    for (const id of ['heavy', 'light', 'unlimited']) {
      await users.upsertUser({ id, tier: id === 'unlimited' ? 'cto_scale' : 'bootstrapper', now: clock.now() });
    }
    await stores.tokens.add('heavy', 450_000);
    await stores.tokens.add('light', 10);
    await stores.tokens.add('unlimited', 9_000_000);
    const project = await projects.createProject({ ownerId: 'light', name: 'p', now: clock.now() - 15 * DAY_MS });
    for (let i = 0; i < 3; i++) {
      await runtime.recordBuildOutcome({ jobId: randomUUID(), projectId: project.id, status: 'failed', finishedAt: clock.now() - 15 * DAY_MS });
    }
    const seen: RiskEvent[] = [];
    runtime.bus.subscribe({ scope: { kind: 'platform' }, select: () => true }, (e) => void seen.push(e));

    const summary = await runtime.monitor.scan();
    expect(summary).toMatchObject({ users: 3, projects: 1, emitted: { high_token_usage: 1, build_failures: 1, stale_project: 1 } });
    expect(seen.map((e) => [e.scope, e.fact.riskType, e.fact.severity.toFixed(2)])).toEqual([
      [{ kind: 'user', id: 'heavy' }, 'HIGH_TOKEN_USAGE', '0.90'],
      [{ kind: 'project', id: project.id }, 'BUILD_FAILURES', '0.80'],
      [{ kind: 'project', id: project.id }, 'STALE_PROJECT', '0.40'],
    ]);
    expect((await runtime.monitor.scan()).emitted.total).toBe(0);
    expect((await runtime.service.dashboard('light', project.id)).failureCount).toBe(3);
    expect(warnings).toEqual([]);
  });

  it('undoes a crossing whose fact could not be published, and the next scan publishes it', async () => {
    const users = createUsersRepository(db.sql);
    await users.upsertUser({ id: 'retry', tier: 'bootstrapper', now: clock.now() });
    await stores.tokens.add('retry', 499_000);
    const off = runtime.bus.subscribe({ scope: { kind: 'user', id: 'retry' }, critical: true, name: 'audit' }, () => {
      throw new Error('audit store down');
    });
    const failed = await runtime.monitor.scan();
    expect(failed).toMatchObject({ failed: 1, emitted: { total: 0 } });
    expect(warnings).toEqual(['risk fact not published; retried next scan']);
    off();
    const seen: RiskEvent[] = [];
    runtime.bus.subscribe({ scope: { kind: 'user', id: 'retry' } }, (e) => void seen.push(e));
    expect((await runtime.monitor.scan()).emitted).toMatchObject({ total: 1, high_token_usage: 1 });
    expect(seen.map((e) => e.fact.severity.toFixed(2))).toEqual(['0.99']);
  });
});
