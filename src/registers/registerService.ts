import type { Clock } from '../clock.js';
import type { Sql } from '../db/client.js';
import { createRegistersRepository, type RegisterRecord, type RegistersRepository, type RiskPatch } from '../db/registersRepository.js';
import { createRiskFact } from '../domain/riskFact.js';
import { emptyLevelCounts, gateOf, GATES, overallScore, riskLevel, type Gate, type LevelCounts, type RegisterRisk } from '../domain/riskRegister.js';
import { computeProfile, type RegisterProfile } from '../domain/riskRegisterProfile.js';
import type { RegisterHeadline } from '../domain/riskRegisterStated.js';
import { notFound, WardenError } from '../errors.js';
import type { EventBus } from '../risk/eventBus.js';
import type { RiskLogger } from '../risk/riskLogger.js';
import { createPortfolioEvaluator, type PortfolioEvaluator } from '../workers/portfolio.pool.js';
import { computePortfolio, type Portfolio } from './registerPortfolio.js';
import { renderRegisterMarkdown } from './registerMarkdownExport.js';
import { parseRegisterMarkdown } from './registerMarkdownImport.js';
import { toRegisterView, type RegisterSummary, type RegisterView } from './registerViews.js';

/** A register as every read and write answers: header, risks in order, computed profile. */
export interface RegisterDetail {
  register: RegisterView;
  risks: RegisterRisk[];
  profile: RegisterProfile;
}

export type RegisterImportResult =
  | ({ stored: true } & RegisterDetail)
  | { stored: false; register: RegisterHeadline; risks: RegisterRisk[]; profile: RegisterProfile };

export interface NewRegisterInput extends RegisterHeadline {
  risks: RegisterRisk[];
}

export interface RegisterService {
  create(ownerId: string, input: NewRegisterInput): Promise<RegisterDetail>;
  /** NOT_FOUND for a missing register and for another user's, alike. */
  get(ownerId: string, registerId: string): Promise<RegisterDetail>;
  list(ownerId: string, options: { limit?: number; cursor?: string | null }): Promise<{ items: RegisterSummary[]; nextCursor: string | null }>;
  delete(ownerId: string, registerId: string): Promise<{ registerId: string; deleted: true }>;
  addRisk(ownerId: string, registerId: string, risk: RegisterRisk): Promise<RegisterDetail>;
  updateRisk(ownerId: string, registerId: string, riskId: string, patch: RiskPatch): Promise<RegisterDetail>;
  removeRisk(ownerId: string, registerId: string, riskId: string): Promise<RegisterDetail>;
  profile(ownerId: string, registerId: string): Promise<RegisterProfile>;
  /** IMPORT_REFUSED (nothing stored) with every problem; dryRun stores nothing either way. */
  import(ownerId: string, input: { markdown: string; dryRun?: boolean }): Promise<RegisterImportResult>;
  export(ownerId: string, registerId: string): Promise<{ registerId: string; markdown: string }>;
  portfolio(ownerId: string): Promise<Portfolio>;
  close(): Promise<void>;
}

export interface RegisterServiceOptions {
  sql: Sql;
  clock: Clock;
  logger: RiskLogger;
  /** Where a register that gets a critical or high risk is announced (SPEC §6); none: not announced. */
  bus?: EventBus;
  /** Portfolio worker threads and the risk count above which they are used. */
  portfolioThreads?: number;
  portfolioPoolThreshold?: number;
}

/** The risk type and severity announced when a register's gate worsens to CONCERNS or FAIL. */
const GATE_FACT: Readonly<Record<Exclude<Gate, 'PASS'>, { riskType: string; severity: string }>> = {
  FAIL: { riskType: 'REGISTER_CRITICAL_RISK', severity: '0.90' },
  CONCERNS: { riskType: 'REGISTER_HIGH_RISK', severity: '0.60' },
};

export function createRegisterService(options: RegisterServiceOptions): RegisterService {
  const { sql, clock, logger, bus } = options;
  const repository: RegistersRepository = createRegistersRepository(sql);
  const evaluator: PortfolioEvaluator = createPortfolioEvaluator({
    logger,
    ...(options.portfolioThreads === undefined ? {} : { threads: options.portfolioThreads }),
    ...(options.portfolioPoolThreshold === undefined ? {} : { poolThreshold: options.portfolioPoolThreshold }),
  });

  const detail = (record: RegisterRecord): RegisterDetail => ({
    register: toRegisterView(record.register, record.risks.length),
    risks: record.risks,
    profile: computeProfile(record.risks, record.register.stated),
  });

  const owned = (record: RegisterRecord | null, registerId: string): RegisterDetail => {
    if (!record) throw notFound('register', registerId);
    return detail(record);
  };

  /** A write that worsens the gate to CONCERNS or FAIL tells the owner's subscribers. A failed publish is logged: the write stands. */
  const announce = async (ownerId: string, before: Gate, after: RegisterDetail): Promise<void> => {
    const gate = after.profile.gate;
    if (!bus || gate === 'PASS' || GATES.indexOf(gate) <= GATES.indexOf(before)) return;
    try {
      const fact = createRiskFact({ ...GATE_FACT[gate], timestamp: clock.now() });
      await bus.publish({ type: 'RISK_DETECTED', scope: { kind: 'user', id: ownerId }, fact });
    } catch (err) {
      logger.error({ err, registerId: after.register.registerId }, 'register risk fact not published');
    }
  };

  const gateNow = async (ownerId: string, registerId: string): Promise<Gate> => {
    const record = await repository.get(ownerId, registerId);
    return record ? gateOf(levelsOf(record.risks)) : 'PASS';
  };

  const get = async (ownerId: string, registerId: string): Promise<RegisterDetail> =>
    owned(await repository.get(ownerId, registerId), registerId);

  const store = async (ownerId: string, input: NewRegisterInput, stated: RegisterRecord['register']['stated']) => {
    const record = await repository.create({ ownerId, ...input, stated, now: clock.now() });
    const result = detail(record);
    await announce(ownerId, 'PASS', result);
    return result;
  };

  return {
    create: (ownerId, input) => store(ownerId, input, {}),

    get,

    async list(ownerId, { limit, cursor }) {
      const page = await repository.list(ownerId, { ...(limit === undefined ? {} : { limit }), cursor: cursor ?? null });
      const items = page.items.map((row): RegisterSummary => {
        const levels = emptyLevelCounts();
        for (const score of row.scores) levels[riskLevel(score)]++;
        return { ...toRegisterView(row, row.scores.length), levels, overallScore: overallScore(levels), gate: gateOf(levels) };
      });
      return { items, nextCursor: page.nextCursor };
    },

    async delete(ownerId, registerId) {
      if (!(await repository.delete(ownerId, registerId))) throw notFound('register', registerId);
      return { registerId, deleted: true };
    },

    async addRisk(ownerId, registerId, risk) {
      const before = await gateNow(ownerId, registerId);
      const result = owned(await repository.addRisk(ownerId, registerId, risk, clock.now()), registerId);
      await announce(ownerId, before, result);
      return result;
    },

    async updateRisk(ownerId, registerId, riskId, patch) {
      const before = await gateNow(ownerId, registerId);
      const result = owned(await repository.updateRisk(ownerId, registerId, riskId, patch, clock.now()), registerId);
      await announce(ownerId, before, result);
      return result;
    },

    async removeRisk(ownerId, registerId, riskId) {
      return owned(await repository.removeRisk(ownerId, registerId, riskId, clock.now()), registerId);
    },

    async profile(ownerId, registerId) {
      return (await get(ownerId, registerId)).profile;
    },

    async import(ownerId, { markdown, dryRun = false }) {
      const parsed = parseRegisterMarkdown(markdown);
      if (!parsed.ok) {
        const count = parsed.problems.length;
        throw new WardenError('IMPORT_REFUSED', `Import refused: ${count} problem${count === 1 ? '' : 's'}`, { problems: parsed.problems });
      }
      const { stated, risks, ...header } = parsed.register;
      if (dryRun) return { stored: false, register: header, risks, profile: computeProfile(risks, stated) };
      return { stored: true, ...(await store(ownerId, { ...header, risks }, stated)) };
    },

    async export(ownerId, registerId) {
      const { register, risks, profile } = await get(ownerId, registerId);
      return { registerId, markdown: renderRegisterMarkdown(register, risks, profile) };
    },

    portfolio: (ownerId) => computePortfolio(repository, evaluator, ownerId),

    close: () => evaluator.close(),
  };
}

function levelsOf(risks: readonly RegisterRisk[]): LevelCounts {
  const levels = emptyLevelCounts();
  for (const risk of risks) levels[riskLevel(risk.probability * risk.impact)]++;
  return levels;
}
