import type { Sql } from './client.js';

/**
 * The risk monitor's set-based queries: bulk reads of budgets and project signals, and the
 * compare-and-set writes that make each crossing emitted once across processes and restarts.
 *
 * Rows come back as arrays (`.values()`) and are checked field by field by the caller as it fills the
 * scan's typed arrays: at 100,000 rows a zod parse per row would cost more than the whole evaluation.
 */

/** [userId, tier, token_budget_override, usage risk already emitted on the date]. */
export type UserBudgetRow = [string, string, number | null, boolean];

/**
 * [projectId, decision reference epoch ms | null, last activity epoch ms, consecutive failures, emitted bits].
 * The decision reference is the older of the last decision and the oldest pending one (least() skips
 * nulls): both columns of the row itself, so the scan stays one pass over projects.
 */
export type ProjectSignalRow = [string, number | null, number, number, number];

export interface ProjectFlagSwap {
  projectId: string;
  /** The emitted bits the scan read; the write happens only if they are still stored. */
  from: number;
  to: number;
}

export interface RiskScanRepository {
  /** Budgets of these users (those that exist), and whether their usage risk was emitted on `date`. */
  budgetsOf(userIds: readonly string[], date: string): Promise<UserBudgetRow[]>;
  /** The same for every user with a budget override (through a partial index: overrides are few). */
  overrideBudgets(date: string): Promise<UserBudgetRow[]>;
  /**
   * Every project's signals, in pages read through a cursor: each page is a round trip, so parsing
   * 100,000 rows never holds the event loop for more than one page (one query blocked it ~50 ms here).
   */
  projectSignals(pageSize?: number): AsyncIterable<ProjectSignalRow[]>;
  /** Every user id, in pages (for the TokenStore usage source). */
  userIdPages(pageSize?: number): AsyncIterable<string[]>;
  /**
   * Marks the usage risk of these users emitted on `date`; returns the ids this call marked — a user
   * already marked (by an earlier scan, or another process just now) is not returned.
   */
  claimUsageRisks(userIds: readonly string[], date: string): Promise<string[]>;
  /** Undoes a claim whose event could not be published, so the next scan tries again. */
  releaseUsageRisks(userIds: readonly string[], date: string): Promise<void>;
  /** Compare-and-set of each project's emitted bits; returns the swaps that took effect. */
  swapProjectFlags(swaps: readonly ProjectFlagSwap[]): Promise<ProjectFlagSwap[]>;
  /** Clears emitted bits whose event could not be published. */
  clearProjectFlags(clears: readonly { projectId: string; bits: number }[]): Promise<void>;
}

export function createRiskScanRepository(sql: Sql): RiskScanRepository {
  return {
    async budgetsOf(userIds, date) {
      if (userIds.length === 0) return [];
      const rows = await sql`
        select id, tier, token_budget_override, coalesce(usage_risk_emitted_on = ${date}::date, false)
        from users where id = any(${userIds as string[]}::text[])`.values();
      return rows as unknown as UserBudgetRow[];
    },

    async overrideBudgets(date) {
      const rows = await sql`
        select id, tier, token_budget_override, coalesce(usage_risk_emitted_on = ${date}::date, false)
        from users where token_budget_override is not null`.values();
      return rows as unknown as UserBudgetRow[];
    },

    async *projectSignals(pageSize = 2000) {
      // Epoch ms as bigint: parsed as an integer, measured faster than float8 text here.
      const query = sql`
        select id,
               floor(extract(epoch from least(last_decision_at, oldest_pending_decision_at)) * 1000)::bigint,
               floor(extract(epoch from last_activity_at) * 1000)::bigint,
               consecutive_failures,
               risk_flags_emitted::int
        from projects`.values();
      for await (const rows of query.cursor(pageSize)) yield rows as unknown as ProjectSignalRow[];
    },

    async *userIdPages(pageSize = 10_000) {
      for await (const rows of sql`select id from users order by id`.values().cursor(pageSize)) {
        yield rows.map((r) => String(r[0]));
      }
    },

    async claimUsageRisks(userIds, date) {
      if (userIds.length === 0) return [];
      const rows = await sql`
        update users u set usage_risk_emitted_on = ${date}::date
        from unnest(${userIds as string[]}::text[]) as c(id)
        where u.id = c.id and u.usage_risk_emitted_on is distinct from ${date}::date
        returning u.id`.values();
      return rows.map((r) => String(r[0]));
    },

    async releaseUsageRisks(userIds, date) {
      if (userIds.length === 0) return;
      await sql`
        update users set usage_risk_emitted_on = null
        where id = any(${userIds as string[]}::text[]) and usage_risk_emitted_on = ${date}::date`;
    },

    async swapProjectFlags(swaps) {
      if (swaps.length === 0) return [];
      const rows = await sql`
        update projects p set risk_flags_emitted = c.next
        from unnest(${swaps.map((s) => s.projectId)}::uuid[], ${swaps.map((s) => s.from)}::int[],
                    ${swaps.map((s) => s.to)}::int[]) as c(id, prev, next)
        where p.id = c.id and p.risk_flags_emitted = c.prev
        returning p.id::text, c.prev, c.next`.values();
      return rows.map((r) => ({ projectId: String(r[0]), from: Number(r[1]), to: Number(r[2]) }));
    },

    async clearProjectFlags(clears) {
      if (clears.length === 0) return;
      await sql`
        update projects p set risk_flags_emitted = p.risk_flags_emitted & ~c.bits::smallint
        from unnest(${clears.map((c) => c.projectId)}::uuid[], ${clears.map((c) => c.bits)}::int[]) as c(id, bits)
        where p.id = c.id`;
    },
  };
}
