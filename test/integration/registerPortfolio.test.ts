import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate } from '../../src/db/migrate.js';
import { createRegistersRepository } from '../../src/db/registersRepository.js';
import { GATES, RISK_CATEGORIES, RISK_LEVELS, type Gate } from '../../src/domain/riskRegister.js';
import { computeProfile } from '../../src/domain/riskRegisterProfile.js';
import { createManualClock } from '../../src/clock.js';
import { createRegisterService, type RegisterService } from '../../src/registers/registerService.js';
import { silentRiskLogger } from '../../src/risk/riskLogger.js';
import { seedRegisterPortfolio } from '../fixtures/registerPortfolioSeed.js';
import { useTestDb } from '../helpers/testDb.js';

/**
 * The portfolio on the Piscina pool and on the calling thread give the same answer, and that answer is
 * what the per-register profiles (the domain's computeProfile) add up to.
 */
const db = await useTestDb('register_portfolio');
const NOW = Date.parse('2031-01-01T00:00:00Z');
const REGISTERS = 400;
const PER_REGISTER = 12;
let onPool: RegisterService;
let onThread: RegisterService;

beforeAll(async () => {
  await migrate(db.sql);
  await seedRegisterPortfolio(db.sql, { ownerId: 'olga', registers: REGISTERS, risksPerRegister: PER_REGISTER, now: NOW });
  const clock = createManualClock(NOW);
  onPool = createRegisterService({ sql: db.sql, clock, logger: silentRiskLogger, portfolioPoolThreshold: 0, portfolioThreads: 2 });
  onThread = createRegisterService({ sql: db.sql, clock, logger: silentRiskLogger, portfolioPoolThreshold: Number.POSITIVE_INFINITY });
});

afterAll(async () => {
  await onPool.close();
  await onThread.close();
});

describe('registers.portfolio', () => {
  it('gives the same answer on the pool and on the thread, equal to the sum of the profiles', async () => {
    const pooled = await onPool.portfolio('olga');
    const inline = await onThread.portfolio('olga');
    expect(pooled.computedOn).toBe('pool');
    expect(inline.computedOn).toBe('thread');
    expect({ ...pooled, computedOn: null }).toEqual({ ...inline, computedOn: null });

    // The reference: every register's own profile, from the stored risks, oldest register first.
    const repository = createRegistersRepository(db.sql);
    const ids = await db.sql<{ id: string }[]>`select id::text from risk_registers where owner_id = 'olga' order by created_at, id`;
    const records = await Promise.all(ids.map(({ id }) => repository.get('olga', id)));
    const profiles = records.map((r) => computeProfile(r!.risks, r!.register.stated));
    const levels = Object.fromEntries(RISK_LEVELS.map((l) => [l, profiles.reduce((s, p) => s + p.levels[l], 0)]));
    expect(pooled.levels).toEqual(levels);
    expect(pooled.risks).toBe(REGISTERS * PER_REGISTER);
    expect(pooled.registers).toBe(REGISTERS);
    for (const category of RISK_CATEGORIES) {
      const total = profiles.reduce((s, p) => s + (p.categories.find((c) => c.category === category)?.total ?? 0), 0);
      expect(pooled.categories.find((c) => c.category === category)?.total, category).toBe(total);
    }
    const worst = profiles.reduce<Gate>((w, p) => (GATES.indexOf(p.gate) > GATES.indexOf(w) ? p.gate : w), 'PASS');
    const holders = records.filter((_, i) => profiles[i]!.gate === worst).map((r) => r!.register.id);
    expect(pooled.worstGate).toBe(worst);
    expect(pooled.worstGateRegisterCount).toBe(holders.length);
    expect(pooled.worstGateRegisters.map((r) => r.registerId)).toEqual(holders.slice(0, 100));
    const average = profiles.reduce((s, p) => s + p.overallScore, 0) / profiles.length;
    expect(pooled.averageOverallScore).toBeCloseTo(average, 2);

    const all = records.flatMap((r, i) => profiles[i]!.risks.map((s, j) => ({ registerId: r!.register.id, riskId: s.id, score: s.score, order: i * 1000 + j })));
    all.sort((a, b) => b.score - a.score || a.order - b.order);
    expect(pooled.top.map((t) => [t.registerId, t.riskId, t.score])).toEqual(all.slice(0, 20).map((a) => [a.registerId, a.riskId, a.score]));
    expect(pooled.top[0]?.description).toMatch(/^Risk \d+ of register \d+$/);
  });

  it('counts the pool only for large portfolios by default', async () => {
    const service = createRegisterService({ sql: db.sql, clock: createManualClock(NOW), logger: silentRiskLogger });
    try {
      // 4,800 risks: below the default threshold of 5,000.
      expect((await service.portfolio('olga')).computedOn).toBe('thread');
    } finally {
      await service.close();
    }
  });
});
