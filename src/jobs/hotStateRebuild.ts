import { randomUUID } from 'node:crypto';
import { utcDate, type Clock } from '../clock.js';
import type { Sql } from '../db/client.js';
import { readDailyCounts } from '../db/dailyUsageRepository.js';
import { createJobRuntimeQueries } from '../db/jobRuntimeQueries.js';
import { nextAverage } from '../domain/waitEstimate.js';
import { resolveTier, type TierTable } from '../domain/tiers.js';
import type { ClaimStore } from '../redis/claimStore.js';
import type { HotStores } from '../redis/hotStores.js';

/** What one rebuild put back. */
export interface RebuildSummary {
  epoch: string;
  queued: number;
  users: number;
  tiers: number;
}

export interface HotStateRebuild {
  /**
   * Rebuilds the hot state from PostgreSQL when its epoch is missing (Redis restarted empty, a fresh
   * stand-in) or is not the one this process last saw, unless another process just did. The first
   * call adopts an epoch it finds. Returns what was rebuilt, or null when nothing had to be.
   */
  check(): Promise<RebuildSummary | null>;
}

/** Finished jobs per tier folded into the rebuilt wait estimate (older ones weigh < 0.7^20 ≈ 0.08 %). */
const ESTIMATOR_JOBS = 20;

/**
 * The hot state that matters is a copy of the record (SPEC §10): the queue (runnable jobs in tier, then
 * admission order), today's quota and token counters, and the wait estimator's averages. Claims need no
 * rebuild — a live holder re-asserts its own at its next heartbeat (renewClaim.lua), a dead one's job is
 * queued here (single process) or by the orphan sweep once its lease has run out — and published seqs
 * are restored by the publisher as it goes (a missing hot copy is started just before the transition it
 * publishes). One process rebuilds at a time: a PostgreSQL advisory lock elects it, and the epoch it
 * writes tells the others it is done.
 */
export function createHotStateRebuild(options: {
  sql: Sql;
  stores: Pick<HotStores, 'epoch' | 'quotas' | 'tokens' | 'estimator'>;
  claims: Pick<ClaimStore, 'requeueOrphan'>;
  tiers: TierTable;
  clock: Clock;
  leaseMs: number;
  /**
   * No other process can be running a job (the embedded stand-in, which lives and dies with this
   * process): every runnable job is queued at once. Otherwise a job in a running status is queued only
   * once it has gone a lease without a transition; before that its holder may still be alive.
   */
  singleProcess: boolean;
}): HotStateRebuild {
  const { sql, stores, clock, tiers } = options;
  const queries = createJobRuntimeQueries(sql);
  let known: string | undefined;

  const rebuild = async (): Promise<RebuildSummary> => {
    const now = clock.now();
    const runnable = await queries.findRunnableToRequeue({ all: options.singleProcess, staleBefore: now - options.leaseMs });
    // Tier first (higher boost runs first), admission order within it: the sort is stable.
    const ordered = runnable
      .map((job) => ({ id: job.id, boost: resolveTier(tiers, job.tier).queueBoost }))
      .sort((a, b) => b.boost - a.boost);
    // One connection, issued in order: each gets the next FIFO counter, so the order is kept.
    const queued = await Promise.all(ordered.map((job) => options.claims.requeueOrphan(job.id, job.boost)));

    const today = utcDate(now);
    const counts = await readDailyCounts(sql, now);
    await Promise.all(
      counts.flatMap((c) => [
        c.jobsAdmitted > 0 ? stores.quotas.restore(c.userId, today, c.jobsAdmitted) : Promise.resolve(),
        c.tokensUsed > 0 ? stores.tokens.restore(c.userId, today, c.tokensUsed) : Promise.resolve(),
      ]),
    );

    const durations = await sql<{ tier: string; seconds: number[] }[]>`
      select recent.tier, array_agg(greatest(0, recent.seconds - paused.seconds) order by recent.finished_at) as seconds from (
        select id, tier, finished_at, extract(epoch from finished_at - started_at)::float8 as seconds,
               row_number() over (partition by tier order by finished_at desc) as n
        from jobs where status = 'ready' and started_at is not null and finished_at is not null
      ) recent
      -- As the runner measures it: less the time paused for confirmation (alternating checks → checks).
      cross join lateral (
        select coalesce(sum(extract(epoch from next_at - at)), 0)::float8 as seconds from (
          select at, lead(at) over (order by seq) as next_at, row_number() over (order by seq) as k
          from job_transitions t where t.job_id = recent.id and t.from_status = 'checks' and t.to_status = 'checks'
        ) pauses where k % 2 = 1 and next_at is not null
      ) paused
      where recent.n <= ${ESTIMATOR_JOBS} group by recent.tier`;
    await Promise.all(
      durations.map(({ tier, seconds }) => {
        const average = seconds.reduce((avg, s) => nextAverage(avg, Math.max(0, s)), resolveTier(tiers, tier).defaultJobSeconds);
        return stores.estimator.restore(tier, average);
      }),
    );
    return { epoch: randomUUID(), queued: queued.filter(Boolean).length, users: counts.length, tiers: durations.length };
  };

  return {
    async check() {
      const seen = await stores.epoch.read();
      if (seen !== null && (known === undefined || seen === known)) {
        known = seen;
        return null;
      }
      return sql.begin(async (tx) => {
        // Per schema: the processes sharing one database schema share one hot state.
        await tx`select pg_advisory_xact_lock(hashtext(current_schema() || ':warden:hot-state-rebuild'))`;
        const now = await stores.epoch.read();
        if (now !== seen) {
          // Another process rebuilt while this one waited for the lock.
          known = now ?? undefined;
          return null;
        }
        const summary = await rebuild();
        await stores.epoch.write(summary.epoch);
        known = summary.epoch;
        return summary;
      });
    },
  };
}
