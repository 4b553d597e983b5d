/**
 * The reads the lean jobs table must keep cheap: with 100,000 jobs in the table — most of them
 * finished, as a table that has run a while is — a user's page of 20 (all, and one status), one job by
 * id, the sweeps (stale runnable, over age, due scheduled), a user's newest unfinished job, and the
 * rebuild's read of every runnable job. Each is timed from the client (median and slowest of 50 after 5
 * warm-up calls), against the real PostgreSQL, with the statistics PostgreSQL has after an ANALYZE.
 */
import { createJobRuntimeQueries } from '../../src/db/jobRuntimeQueries.js';
import { createJobsRepository } from '../../src/db/jobsRepository.js';
import { openBenchEnv } from '../lib/benchEnv.js';
import { isMain, runStandalone, type BenchContext, type Metric, type Scenario } from '../lib/scenario.js';

const USERS = 1_000;

async function timeIt(run: () => Promise<unknown>): Promise<{ median: number; max: number }> {
  for (let i = 0; i < 5; i++) await run();
  const times: number[] = [];
  for (let i = 0; i < 50; i++) {
    const started = performance.now();
    await run();
    times.push(performance.now() - started);
  }
  times.sort((a, b) => a - b);
  return { median: times[25] ?? 0, max: times[times.length - 1] ?? 0 };
}

async function run(ctx: BenchContext): Promise<Metric[]> {
  const env = await openBenchEnv(ctx, 'rows');
  try {
    const jobs = Math.max(10_000, Math.round(100_000 * ctx.scale));
    ctx.progress(`seeding ${jobs} jobs`);
    const owners = await env.seedOwners(USERS, 'partner', 1);
    const now = Date.now();
    await env.sql`
      insert into jobs (id, owner_id, project_id, tier, goal, status, iteration, awaiting_confirmation, seq, created_at,
                        updated_at, started_at, finished_at, snapshot, machine_version, scheduled_for)
      select gen_random_uuid(), o.id, o.project, 'partner', 'goal', s.status, 0, s.status = 'checks', 6,
             to_timestamp((${now}::float8 - (${jobs} - n) * 1000) / 1000.0), to_timestamp((${now}::float8 - (${jobs} - n) * 1000 + 500) / 1000.0),
             null, case when s.status in ('ready', 'failed') then to_timestamp((${now}::float8 - (${jobs} - n) * 1000 + 500) / 1000.0) end,
             '{"status":"active"}', 1,
             case when s.status = 'scheduled' then to_timestamp((${now}::float8 + n * 1000) / 1000.0) end
      from generate_series(1, ${jobs}) n
      -- Of every 100 jobs: 94 finished, 2 queued, 2 running, 1 paused, 1 scheduled.
      cross join lateral (select case
        when n % 100 < 90 then 'ready' when n % 100 < 94 then 'failed' when n % 100 < 96 then 'queued'
        when n % 100 < 98 then 'code' when n % 100 < 99 then 'checks' else 'scheduled' end as status) s
      join (select row_number() over () - 1 as k, id, project from unnest(${owners.map((o) => o.id)}::text[], ${owners.map((o) => o.projects[0] ?? '')}::uuid[]) as u(id, project)) o
        on o.k = n % ${USERS}`;
    await env.sql`analyze jobs`;
    const repo = createJobsRepository(env.sql);
    const queries = createJobRuntimeQueries(env.sql);
    const owner = owners[7]?.id ?? '';
    const [someJob] = await env.sql<{ id: string }[]>`select id from jobs where owner_id = ${owner} limit 1`;
    const cases: [string, () => Promise<unknown>][] = [
      ['jobs.list, a page of 20', () => repo.listJobs({ ownerId: owner, limit: 20 })],
      ['jobs.list, a page of 20 with a status', () => repo.listJobs({ ownerId: owner, limit: 20, status: 'ready' })],
      ['jobs.get', () => repo.getJob(owner, someJob?.id ?? '')],
      ['sweep: stale runnable (limit 100)', () => queries.findStaleRunnable(now, 100)],
      ['sweep: over age (limit 100)', () => queries.findOverAge(now, 100)],
      // The scheduler's claim: the first call holds the jobs due within the hour, later ones find none due.
      ['sweep: due scheduled (limit 100)', () => queries.claimDueScheduled(now + 3_600_000, now + 7_200_000, 100)],
      ["a user's newest unfinished job", () => queries.currentIterations(owner)],
      ['rebuild: every runnable job', () => queries.findRunnableToRequeue({ all: true, staleBefore: now })],
    ];
    const metrics: Metric[] = [];
    for (const [name, call] of cases) {
      ctx.progress(name);
      const { median, max } = await timeIt(call);
      metrics.push({ name: `${name}: median`, value: median, unit: 'ms', better: 'lower' }, { name: `${name}: slowest`, value: max, unit: 'ms', better: 'lower' });
    }
    return metrics;
  } finally {
    await env.close();
  }
}

export const scenario: Scenario = {
  name: 'rows',
  description: 'Reads of the jobs table at 100,000 jobs: listing, get, sweeps, the rebuild read (ms, from the client)',
  run,
};

if (isMain(import.meta.url)) await runStandalone(scenario);
