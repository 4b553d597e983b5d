import { describe, expect, it } from 'vitest';
import { useEmbeddedRiskRuntime } from '../helpers/embeddedRiskRuntime.js';
import { createRiskFactsRepository } from '../../src/db/riskFactsRepository.js';
import { createProjectsRepository } from '../../src/db/projectsRepository.js';
import { createUsersRepository } from '../../src/db/usersRepository.js';
import { createRiskFact } from '../../src/domain/riskFact.js';
import { DAY_MS } from '../../src/domain/riskRules.js';
import type { RiskScope } from '../../src/risk/riskEvent.js';
import { streamRiskEvents } from '../../src/risk/riskEventStream.js';

// The durable fact log on the real PostgreSQL: who owns a fact, the per-user sequence, withdrawal of a
// failed publish, retention by the injected clock, and the stream's resume rules.
const logged: string[] = [];
const { db, clock, runtime } = await useEmbeddedRiskRuntime({ label: 'risk_facts', startAt: '2032-03-01T12:00:00Z', logged, factRetentionDays: 90 });
const users = createUsersRepository(db.sql);
const projects = createProjectsRepository(db.sql);

const publish = async (scope: RiskScope, riskType = 'SOME_RISK', at = clock.now()) => {
  const fact = createRiskFact({ riskType, severity: '0.70', timestamp: at });
  await runtime.bus.publish({ type: 'RISK_DETECTED', scope, fact });
  return fact.riskId;
};

describe('the risk fact log', () => {
  it("files a fact under its user, a project's under the owner; platform facts and unknown projects under nobody", async () => {
    await users.upsertUser({ id: 'owner', tier: 'partner', now: clock.now() });
    const project = await projects.createProject({ ownerId: 'owner', name: 'p', now: clock.now() });
    const a = await publish({ kind: 'user', id: 'owner' });
    const b = await publish({ kind: 'project', id: project.id });
    await publish({ kind: 'platform' });
    await publish({ kind: 'project', id: '00000000-0000-4000-8000-000000000000' });
    await publish({ kind: 'project', id: 'not-a-uuid' });
    const stored = await runtime.facts.after('owner', 0);
    expect(stored.map((s) => [s.seq, s.event.fact.riskId, s.event.scope])).toEqual([
      [1, a, { kind: 'user', id: 'owner' }],
      [2, b, { kind: 'project', id: project.id }],
    ]);
    const count = await db.sql`select count(*)::int as n from risk_facts`;
    expect(count[0]?.n).toBe(2);
  });

  it('numbers a user’s facts without gaps or repeats when they are published at once', async () => {
    // Straight to the log from two pools (two processes): the bus would take one scope's publishes in turn.
    const pools = [runtime.facts, createRiskFactsRepository(db.connect(5))];
    const ids = await Promise.all(
      Array.from({ length: 20 }, async (_, i) => {
        const fact = createRiskFact({ riskType: 'SOME_RISK', severity: '0.70', timestamp: clock.now() });
        await pools[i % 2]!.record({ type: 'RISK_DETECTED', scope: { kind: 'user', id: 'busy' }, fact });
        return fact.riskId;
      }),
    );
    const stored = await runtime.facts.after('busy', 0);
    expect(stored.map((s) => s.seq)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(new Set(stored.map((s) => s.event.fact.riskId))).toEqual(new Set(ids));
    expect(await runtime.facts.lastSeq('busy')).toBe(20);
  });

  it('keeps nothing of a publish that failed', async () => {
    const off = runtime.bus.subscribe({ scope: { kind: 'user', id: 'audited' }, critical: true, name: 'audit' }, () => {
      throw new Error('audit store down');
    });
    await expect(publish({ kind: 'user', id: 'audited' })).rejects.toMatchObject({ code: 'PUBLISH_FAILED' });
    off();
    expect(await runtime.facts.after('audited', 0)).toEqual([]);
    const kept = await publish({ kind: 'user', id: 'audited' });
    // The withdrawn fact's number is not reused: numbers only order, and a reader never sees one go back.
    expect((await runtime.facts.after('audited', 0)).map((s) => [s.seq, s.event.fact.riskId])).toEqual([[2, kept]]);
  });

  it('purges facts older than the retention by the clock; the sequence goes on', async () => {
    const old = await publish({ kind: 'user', id: 'kept' }, 'OLD_ONE', clock.now() - 91 * DAY_MS);
    const recent = await publish({ kind: 'user', id: 'kept' }, 'RECENT_ONE', clock.now() - 89 * DAY_MS);
    expect(await runtime.purgeFacts()).toBeGreaterThanOrEqual(1);
    expect((await runtime.facts.after('kept', 0)).map((s) => s.event.fact.riskId)).toEqual([recent]);
    expect(await runtime.facts.seqOf('kept', old)).toBeNull();
    clock.advance(2 * DAY_MS);
    expect(await runtime.purgeFacts()).toBe(1);
    const next = await publish({ kind: 'user', id: 'kept' });
    expect(await runtime.facts.seqOf('kept', next)).toBe(3);
  });
});

describe('the stream', () => {
  const collect = async (stream: AsyncGenerator<{ fact: { riskId: string } }>, n: number) => {
    const got: string[] = [];
    for await (const event of stream) {
      got.push(event.fact.riskId);
      if (got.length === n) break;
    }
    return got;
  };

  it('replays after a known lastEventId, then live; an unknown one starts live', async () => {
    const first = await publish({ kind: 'user', id: 'reader' });
    const second = await publish({ kind: 'user', id: 'reader' });
    const third = await publish({ kind: 'user', id: 'reader' });
    const owns = (scope: RiskScope) => scope.kind === 'user' && scope.id === 'reader';
    const resumed = streamRiskEvents({ bus: runtime.bus, facts: runtime.facts, userId: 'reader', owns, lastEventId: first, logger: { warn: () => {}, error: () => {} } });
    expect(await collect(resumed, 2)).toEqual([second, third]);

    const fresh = streamRiskEvents({ bus: runtime.bus, facts: runtime.facts, userId: 'reader', owns, lastEventId: 'RSK_20000101_000000_00000000', logger: { warn: () => {}, error: () => {} } });
    // The generator subscribes on its first pull: publish until a live fact arrives.
    let arrived: string | null = null;
    void fresh.next().then((step) => (arrived = step.done ? 'ended' : step.value.fact.riskId));
    while (arrived === null) {
      await publish({ kind: 'user', id: 'reader' });
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await fresh.return();
    expect([first, second, third, 'ended']).not.toContain(arrived);
  });
});
