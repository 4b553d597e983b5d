import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { MAX_RISKS_PER_REGISTER, MITIGATION_KINDS, RISK_CATEGORIES, type RegisterRisk } from '../domain/riskRegister.js';
import { statedSummarySchema, type RegisterHeader } from '../domain/riskRegisterStated.js';
import { notFound, WardenError } from '../errors.js';
import type { Sql, TransactionSql } from './client.js';
import { isoFromDb, toDate, type Instant } from './instant.js';
import { pageLimitSchema, parseCursorOrThrow, toPage, type Page } from './pageCursor.js';
import { isForeignKeyViolation } from './pgErrors.js';
import { createRegisterPortfolioQueries, type RegisterPortfolioQueries } from './registerPortfolioQueries.js';

/** A register's header as stored; times are ISO strings. */
export interface RegisterRow extends RegisterHeader {
  id: string;
  ownerId: string;
  createdAt: string;
  updatedAt: string;
}

/** A register with its risks in their written order. */
export interface RegisterRecord {
  register: RegisterRow;
  risks: RegisterRisk[];
}

/** A list entry: the header and the score of each risk (the caller derives levels; SQL does not repeat the table). */
export interface RegisterListRow extends RegisterRow {
  scores: number[];
}

export interface NewRegister extends RegisterHeader {
  ownerId: string;
  risks: readonly RegisterRisk[];
  now: Instant;
  id?: string;
}

export type RiskPatch = Partial<Omit<RegisterRisk, 'id'>>;

export interface RegistersRepository extends RegisterPortfolioQueries {
  /** Throws NOT_FOUND (entity "user") when the owner has no user row. */
  create(input: NewRegister): Promise<RegisterRecord>;
  /** Null when missing, not a UUID, or another user's: the caller cannot tell which. */
  get(ownerId: string, registerId: string): Promise<RegisterRecord | null>;
  /** Newest first, keyset-paginated; INVALID_CURSOR for a cursor it did not make. */
  list(ownerId: string, options?: { limit?: number; cursor?: string | null }): Promise<Page<RegisterListRow>>;
  /** Deletes the register and (cascade) its risks; false when it was not the owner's. */
  delete(ownerId: string, registerId: string): Promise<boolean>;
  /** Null when not the owner's register; CONFLICT for a duplicate id or a full register. */
  addRisk(ownerId: string, registerId: string, risk: RegisterRisk, now: Instant): Promise<RegisterRecord | null>;
  /** Null when not the owner's register; NOT_FOUND (entity "risk") when it has no such risk. */
  updateRisk(ownerId: string, registerId: string, riskId: string, patch: RiskPatch, now: Instant): Promise<RegisterRecord | null>;
  removeRisk(ownerId: string, registerId: string, riskId: string, now: Instant): Promise<RegisterRecord | null>;
}

const registerRowSchema = z
  .object({
    id: z.string(),
    owner_id: z.string(),
    title: z.string(),
    subject: z.string(),
    reviewer: z.string().nullable(),
    reviewed_on: z.string().nullable(),
    assessment: z.string().nullable(),
    stated: statedSummarySchema,
    created_at: isoFromDb,
    updated_at: isoFromDb,
  })
  .transform(
    (r): RegisterRow => ({
      id: r.id,
      ownerId: r.owner_id,
      title: r.title,
      subject: r.subject,
      reviewer: r.reviewer,
      reviewedOn: r.reviewed_on,
      assessment: r.assessment,
      stated: r.stated,
      createdAt: r.created_at,
      updatedAt: r.updated_at,
    }),
  );

const rating = z.union([z.literal(1), z.literal(2), z.literal(3)]);
const riskRowSchema = z
  .object({
    risk_id: z.string(),
    category: z.enum(RISK_CATEGORIES),
    component: z.string().nullable(),
    description: z.string(),
    probability: rating,
    impact: rating,
    mitigation: z.enum(MITIGATION_KINDS).nullable(),
    mitigation_plan: z.string().nullable(),
    owner: z.string().nullable(),
    timeline: z.string().nullable(),
    residual_risk: z.string().nullable(),
    stated_score: z.number().int().nullable(),
    stated_priority: z.string().nullable(),
  })
  .transform(
    (r): RegisterRisk => ({
      id: r.risk_id,
      category: r.category,
      component: r.component,
      description: r.description,
      probability: r.probability,
      impact: r.impact,
      mitigation: r.mitigation,
      mitigationPlan: r.mitigation_plan,
      owner: r.owner,
      timeline: r.timeline,
      residualRisk: r.residual_risk,
      statedScore: r.stated_score,
      statedPriority: r.stated_priority,
    }),
  );

const uuid = z.uuid();
const listOptionsSchema = z.object({ limit: pageLimitSchema, cursor: z.string().nullish() });

function riskColumns(registerId: string, risk: RegisterRisk, position: number) {
  return {
    register_id: registerId,
    risk_id: risk.id,
    position,
    category: risk.category,
    component: risk.component,
    description: risk.description,
    probability: risk.probability,
    impact: risk.impact,
    mitigation: risk.mitigation,
    mitigation_plan: risk.mitigationPlan,
    owner: risk.owner,
    timeline: risk.timeline,
    residual_risk: risk.residualRisk,
    stated_score: risk.statedScore,
    stated_priority: risk.statedPriority,
  };
}

const SELECT_REGISTER = 'id::text, owner_id, title, subject, reviewer, reviewed_on::text, assessment, stated, created_at, updated_at';

export function createRegistersRepository(sql: Sql): RegistersRepository {
  const read = async (tx: Sql | TransactionSql, ownerId: string, registerId: string): Promise<RegisterRecord | null> => {
    const rows = await tx`
      select ${tx.unsafe(SELECT_REGISTER)} from risk_registers where id = ${registerId} and owner_id = ${ownerId}`;
    if (!rows[0]) return null;
    const risks = await tx`select * from register_risks where register_id = ${registerId} order by position`;
    return { register: registerRowSchema.parse(rows[0]), risks: risks.map((r) => riskRowSchema.parse(r)) };
  };

  /** Runs `change` on the owner's register, locked, then returns it as it is after; null when not theirs. */
  const mutate = async (
    ownerId: string,
    registerId: string,
    now: Instant,
    change: (tx: TransactionSql, record: RegisterRecord) => Promise<void>,
  ): Promise<RegisterRecord | null> => {
    if (!uuid.safeParse(registerId).success) return null;
    return sql.begin(async (tx) => {
      const locked = await tx`select 1 from risk_registers where id = ${registerId} and owner_id = ${ownerId} for update`;
      if (locked.length === 0) return null;
      const before = await read(tx, ownerId, registerId);
      if (!before) return null;
      await change(tx, before);
      await tx`update risk_registers set updated_at = ${toDate(now)} where id = ${registerId}`;
      return read(tx, ownerId, registerId);
    });
  };

  return {
    ...createRegisterPortfolioQueries(sql),

    async create(input) {
      const id = input.id ?? randomUUID();
      const now = toDate(input.now);
      const stated = statedSummarySchema.parse(input.stated);
      try {
        return await sql.begin(async (tx) => {
          await tx`
            insert into risk_registers (id, owner_id, title, subject, reviewer, reviewed_on, assessment, stated, created_at, updated_at)
            values (${id}, ${input.ownerId}, ${input.title}, ${input.subject}, ${input.reviewer}, ${input.reviewedOn},
                    ${input.assessment}, ${tx.json(stated)}, ${now}, ${now})`;
          const rows = input.risks.map((risk, i) => riskColumns(id, risk, i));
          if (rows.length > 0) await tx`insert into register_risks ${tx(rows)}`;
          const record = await read(tx, input.ownerId, id);
          if (!record) throw new Error('register vanished inside its own transaction');
          return record;
        });
      } catch (err) {
        if (isForeignKeyViolation(err)) throw notFound('user', input.ownerId);
        throw err;
      }
    },

    get(ownerId, registerId) {
      if (!uuid.safeParse(registerId).success) return Promise.resolve(null);
      return read(sql, ownerId, registerId);
    },

    async list(ownerId, options = {}) {
      const { limit, cursor: raw } = listOptionsSchema.parse(options);
      const cursor = parseCursorOrThrow(raw);
      const rows = await sql`
        select ${sql.unsafe(SELECT_REGISTER.replace(/(^|, )/g, '$1g.'))},
               coalesce((select array_agg(r.probability * r.impact) from register_risks r where r.register_id = g.id), '{}') as scores
        from risk_registers g
        where g.owner_id = ${ownerId}
          ${cursor ? sql`and (g.created_at, g.id) < (${cursor.createdAt}::timestamptz, ${cursor.id}::uuid)` : sql``}
        order by g.created_at desc, g.id desc
        limit ${limit + 1}`;
      const items = rows.map((r) => ({ ...registerRowSchema.parse(r), scores: z.array(z.number().int()).parse(r.scores) }));
      return toPage(items, limit);
    },

    async delete(ownerId, registerId) {
      if (!uuid.safeParse(registerId).success) return false;
      const rows = await sql`delete from risk_registers where id = ${registerId} and owner_id = ${ownerId} returning id`;
      return rows.length > 0;
    },

    addRisk(ownerId, registerId, risk, now) {
      return mutate(ownerId, registerId, now, async (tx, { risks }) => {
        if (risks.some((r) => r.id === risk.id)) {
          throw new WardenError('CONFLICT', `risk ${risk.id} already exists in this register`, { entity: 'risk', id: risk.id, reason: 'duplicate risk id' });
        }
        if (risks.length >= MAX_RISKS_PER_REGISTER) {
          const reason = `a register holds at most ${MAX_RISKS_PER_REGISTER} risks`;
          throw new WardenError('CONFLICT', reason, { entity: 'register', id: registerId, reason });
        }
        const [last] = await tx<{ next: number }[]>`
          select coalesce(max(position) + 1, 0)::int as next from register_risks where register_id = ${registerId}`;
        const position = last?.next ?? 0;
        await tx`insert into register_risks ${tx(riskColumns(registerId, risk, position))}`;
      });
    },

    updateRisk(ownerId, registerId, riskId, patch, now) {
      return mutate(ownerId, registerId, now, async (tx, { risks }) => {
        const current = risks.find((r) => r.id === riskId);
        if (!current) throw notFound('risk', riskId);
        const next = riskColumns(registerId, { ...current, ...patch, id: riskId }, 0);
        const { register_id: _r, risk_id: _i, position: _p, ...columns } = next;
        await tx`update register_risks set ${tx(columns)} where register_id = ${registerId} and risk_id = ${riskId}`;
      });
    },

    removeRisk(ownerId, registerId, riskId, now) {
      return mutate(ownerId, registerId, now, async (tx) => {
        const gone = await tx`delete from register_risks where register_id = ${registerId} and risk_id = ${riskId} returning risk_id`;
        if (gone.length === 0) throw notFound('risk', riskId);
      });
    },
  };
}
