import { nextUtcMidnight, utcDate } from '../clock.js';
import type { Sql, TransactionSql } from './client.js';

/**
 * Adds tokens to a user's count for the UTC date of `at` (SPEC §4): the record the hot token counter is
 * rebuilt from. Call it inside the transaction that stores what used them (a chat turn), so the count
 * and the fact commit together.
 */
export async function addDailyTokens(tx: Sql | TransactionSql, userId: string, at: number, tokens: number): Promise<void> {
  if (tokens <= 0) return;
  await tx`
    insert into daily_usage (user_id, day, tokens_used) values (${userId}, ${utcDate(at)}::date, ${tokens})
    on conflict (user_id, day) do update set tokens_used = daily_usage.tokens_used + excluded.tokens_used`;
}

/** Per user, the day's recorded counts: jobs admitted (from the transition log) and tokens used. */
export interface DailyCounts {
  userId: string;
  jobsAdmitted: number;
  tokensUsed: number;
}

/** The counts of every user who has some on the UTC date of `at` (the rebuild of the hot counters). */
export async function readDailyCounts(sql: Sql, at: number): Promise<DailyCounts[]> {
  const day = utcDate(at);
  // Instants, not dates: a date compared with a timestamptz would be read in the session's time zone.
  const from = new Date(`${day}T00:00:00Z`).toISOString();
  const to = new Date(nextUtcMidnight(at)).toISOString();
  const rows = await sql<{ user_id: string; jobs_admitted: number; tokens_used: number }[]>`
    with admitted as (
      select j.owner_id as user_id, count(*)::int as n
      from job_transitions t join jobs j on j.id = t.job_id
      where t.to_status = 'queued' and (t.from_status is null or t.from_status = 'scheduled')
        and t.at >= ${from}::timestamptz and t.at < ${to}::timestamptz
      group by j.owner_id
    )
    select coalesce(a.user_id, u.user_id) as user_id, coalesce(a.n, 0) as jobs_admitted, coalesce(u.tokens_used, 0)::bigint as tokens_used
    from admitted a full join (select user_id, tokens_used from daily_usage where day = ${day}::date) u on u.user_id = a.user_id`;
  return rows.map((r) => ({ userId: r.user_id, jobsAdmitted: r.jobs_admitted, tokensUsed: r.tokens_used }));
}
