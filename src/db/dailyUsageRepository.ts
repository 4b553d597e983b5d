import { utcDate } from '../clock.js';
import type { Sql, TransactionSql } from './client.js';

/** Today's durable counts of one user (SPEC §4): the record the hot counters are rebuilt from. */
export interface DailyUsage {
  jobsAdmitted: number;
  tokensUsed: number;
}

/**
 * Adds tokens to a user's count for the UTC date of `at`. Call it inside the transaction that stores
 * what used them (a chat turn, a step's transition), so the count and the fact commit together.
 */
export async function addDailyTokens(tx: Sql | TransactionSql, userId: string, at: number, tokens: number): Promise<void> {
  if (tokens <= 0) return;
  await tx`
    insert into daily_usage (user_id, day, tokens_used) values (${userId}, ${utcDate(at)}::date, ${tokens})
    on conflict (user_id, day) do update set tokens_used = daily_usage.tokens_used + excluded.tokens_used`;
}

/**
 * Adds `count` (negative to refund) to the jobs a user was admitted on the UTC date of `at`, inside the
 * transaction that stores the admitted job.
 */
export async function addDailyJobs(tx: Sql | TransactionSql, userId: string, at: number, count: number): Promise<void> {
  await tx`
    insert into daily_usage (user_id, day, jobs_admitted) values (${userId}, ${utcDate(at)}::date, ${Math.max(count, 0)})
    on conflict (user_id, day) do update set jobs_admitted = greatest(daily_usage.jobs_admitted + ${count}, 0)`;
}

/** One user's counts for the UTC date of `at` (zeros when nothing was recorded). */
export async function readDailyUsage(sql: Sql, userId: string, at: number): Promise<DailyUsage> {
  const [row] = await sql<{ jobs_admitted: number; tokens_used: number }[]>`
    select jobs_admitted, tokens_used from daily_usage where user_id = ${userId} and day = ${utcDate(at)}::date`;
  return { jobsAdmitted: row?.jobs_admitted ?? 0, tokensUsed: row?.tokens_used ?? 0 };
}
