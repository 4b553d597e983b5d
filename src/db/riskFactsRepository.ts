import { z } from 'zod';
import { parseRiskFact } from '../domain/riskFact.js';
import { riskEventToJson, riskScopeSchema, type RiskEvent, type RiskEventJson } from '../risk/riskEvent.js';
import type { Sql } from './client.js';
import { instantSchema, type Instant } from './instant.js';

/**
 * The durable log of risk facts (SPEC §6): every fact filed under the user it concerns, numbered by a
 * per-user sequence. A user-scoped fact belongs to that user, a project-scoped one to the project's
 * owner; a platform-wide fact belongs to nobody and is not kept (admins see it live only).
 */

/** One stored fact, in the wire form subscribers and history readers receive. */
export interface StoredRiskFact {
  /** The owner's sequence number: increasing, never reused (gaps where facts were withdrawn). */
  seq: number;
  event: RiskEventJson;
}

export type HistoryOrder = 'newest' | 'oldest';

const uuid = z.uuid();
const seqSchema = z.coerce.number().int().min(1);

const storedRowSchema = z
  .object({ seq: seqSchema, scope_kind: z.enum(['user', 'project']), scope_id: z.string(), fact: z.unknown() })
  .transform((r, ctx): StoredRiskFact => {
    const scope = riskScopeSchema.safeParse({ kind: r.scope_kind, id: r.scope_id });
    if (!scope.success) {
      ctx.addIssue({ code: 'custom', message: 'stored risk fact has an invalid scope' });
      return z.NEVER;
    }
    // Through parseRiskEvent's rules: a stored fact is read back exactly as it was published.
    return { seq: r.seq, event: riskEventToJson({ type: 'RISK_DETECTED', scope: scope.data, fact: parseRiskFact(r.fact) }) };
  });

export interface RiskFactsRepository {
  /**
   * Stores a published fact under its owner with the owner's next sequence number. Returns the owner and
   * seq, or null when nobody owns it (platform scope, a project that does not exist) or the same riskId
   * was stored before.
   */
  record(event: RiskEvent): Promise<{ userId: string; seq: number } | null>;
  /** Removes a fact whose publish failed, so it never counts as emitted. */
  withdraw(riskId: string): Promise<void>;
  /** The user's facts after `seq`, oldest first, at most `limit`. */
  after(userId: string, seq: number, limit?: number): Promise<StoredRiskFact[]>;
  /** The seq of one of the user's facts; null when it is not theirs, or no longer kept. */
  seqOf(userId: string, riskId: string): Promise<number | null>;
  /** The user's latest sequence number (0 before their first fact). */
  lastSeq(userId: string): Promise<number>;
  /** A page of the user's facts in the given order, strictly past the seq `from` (null: from the start). */
  page(userId: string, options: { order: HistoryOrder; from: number | null; limit: number }): Promise<StoredRiskFact[]>;
  /** Deletes the facts older than `cutoff`; returns how many. */
  purgeBefore(cutoff: Instant): Promise<number>;
}

export function createRiskFactsRepository(sql: Sql): RiskFactsRepository {
  return {
    async record(event) {
      const { scope, fact } = riskEventToJson(event);
      if (scope.kind === 'platform') return null;
      if (scope.kind === 'project' && !uuid.safeParse(scope.id).success) return null;
      const owner =
        scope.kind === 'user'
          ? sql`select ${scope.id}::text as user_id`
          : sql`select owner_id as user_id from projects where id = ${scope.id}::uuid`;
      // One statement: the next number (row-locked until commit) and the fact, or neither.
      const rows = await sql`
        with owner as (${owner}),
        next as (
          insert into risk_fact_sequences (user_id, last_seq)
          select user_id, 1 from owner
          on conflict (user_id) do update set last_seq = risk_fact_sequences.last_seq + 1
          returning user_id, last_seq
        )
        insert into risk_facts (user_id, seq, risk_id, scope_kind, scope_id, fact, at)
        select user_id, last_seq, ${fact.riskId}, ${scope.kind}, ${scope.id}, ${JSON.stringify(fact)}::text::jsonb, ${fact.timestamp}::timestamptz
        from next
        on conflict (risk_id) do nothing
        returning user_id, seq`;
      const row = z.object({ user_id: z.string(), seq: seqSchema }).array().parse(rows)[0];
      return row ? { userId: row.user_id, seq: row.seq } : null;
    },

    async withdraw(riskId) {
      await sql`delete from risk_facts where risk_id = ${riskId}`;
    },

    async after(userId, seq, limit = 100) {
      const rows = await sql`
        select seq, scope_kind, scope_id, fact from risk_facts
        where user_id = ${userId} and seq > ${seq} order by seq limit ${limit}`;
      return rows.map((r) => storedRowSchema.parse(r));
    },

    async seqOf(userId, riskId) {
      const rows = await sql`select seq from risk_facts where user_id = ${userId} and risk_id = ${riskId}`;
      return z.object({ seq: seqSchema }).array().parse(rows)[0]?.seq ?? null;
    },

    async lastSeq(userId) {
      const rows = await sql`select last_seq from risk_fact_sequences where user_id = ${userId}`;
      return z.object({ last_seq: seqSchema }).array().parse(rows)[0]?.last_seq ?? 0;
    },

    async page(userId, { order, from, limit }) {
      const rows =
        order === 'newest'
          ? await sql`
              select seq, scope_kind, scope_id, fact from risk_facts
              where user_id = ${userId} ${from === null ? sql`` : sql`and seq < ${from}`}
              order by seq desc limit ${limit}`
          : await sql`
              select seq, scope_kind, scope_id, fact from risk_facts
              where user_id = ${userId} ${from === null ? sql`` : sql`and seq > ${from}`}
              order by seq limit ${limit}`;
      return rows.map((r) => storedRowSchema.parse(r));
    },

    async purgeBefore(cutoff) {
      const result = await sql`delete from risk_facts where at < ${instantSchema.parse(cutoff)}`;
      return result.count;
    },
  };
}
