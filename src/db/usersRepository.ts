import { z } from 'zod';
import type { Sql } from './client.js';
import { instantSchema, isoFromDb, type Instant } from './instant.js';

/** A user as stored; times are ISO strings. */
export interface UserRow {
  id: string;
  tier: string;
  /** Null: the tier's daily token budget; -1: unlimited. */
  tokenBudgetOverride: number | null;
  isAdmin: boolean;
  /** Tokens minted under a lower version are revoked (`npm run token -- --revoke` bumps it). */
  tokenVersion: number;
  createdAt: string;
  updatedAt: string;
}

const userRowSchema = z
  .object({
    id: z.string(),
    tier: z.string(),
    token_budget_override: z.number().int().nullable(),
    is_admin: z.boolean(),
    token_version: z.number().int().min(0),
    created_at: isoFromDb,
    updated_at: isoFromDb,
  })
  .transform(
    (r): UserRow => ({
      id: r.id,
      tier: r.tier,
      tokenBudgetOverride: r.token_budget_override,
      isAdmin: r.is_admin,
      tokenVersion: r.token_version,
      createdAt: r.created_at,
      updatedAt: r.updated_at,
    }),
  );

export interface UpsertUserInput {
  id: string;
  tier: string;
  /** Omitted: an existing user's override is kept; null clears it. */
  tokenBudgetOverride?: number | null;
  /** Omitted: an existing user's flag is kept (false for a new user). */
  isAdmin?: boolean;
  now: Instant;
}

const upsertInputSchema = z.object({
  id: z.string().min(1).max(200),
  tier: z.string().min(1).max(50),
  tokenBudgetOverride: z.number().int().min(-1).nullable().optional(),
  isAdmin: z.boolean().optional(),
  now: instantSchema,
});

export interface UsersRepository {
  /** Creates the user or updates its tier (and the fields given); returns the stored row. */
  upsertUser(input: UpsertUserInput): Promise<UserRow>;
  getUser(id: string): Promise<UserRow | null>;
  /** Revokes every token minted so far for the user (bumps its token version); null when no such user. */
  revokeTokens(id: string, now: Instant): Promise<UserRow | null>;
}

export function createUsersRepository(sql: Sql): UsersRepository {
  return {
    async upsertUser(input) {
      const u = upsertInputSchema.parse(input);
      const hasOverride = u.tokenBudgetOverride !== undefined;
      const hasAdmin = u.isAdmin !== undefined;
      // "Omitted means keep" is decided per column on conflict, so one statement serves create and update.
      const rows = await sql`
        insert into users (id, tier, token_budget_override, is_admin, created_at, updated_at)
        values (${u.id}, ${u.tier}, ${u.tokenBudgetOverride ?? null}, ${u.isAdmin ?? false}, ${u.now}, ${u.now})
        on conflict (id) do update set
          tier = excluded.tier,
          token_budget_override = case when ${hasOverride} then excluded.token_budget_override
                                       else users.token_budget_override end,
          is_admin = case when ${hasAdmin} then excluded.is_admin else users.is_admin end,
          updated_at = excluded.updated_at
        returning *`;
      return userRowSchema.parse(rows[0]);
    },

    async getUser(id) {
      const rows = await sql`select * from users where id = ${id}`;
      return rows[0] ? userRowSchema.parse(rows[0]) : null;
    },

    async revokeTokens(id, now) {
      const rows = await sql`
        update users set token_version = token_version + 1, updated_at = ${instantSchema.parse(now)}
        where id = ${id} returning *`;
      return rows[0] ? userRowSchema.parse(rows[0]) : null;
    },
  };
}
