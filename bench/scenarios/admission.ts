/**
 * Admission under contention: 10,000 submits at once across 1,000 bootstrapper users (10 each, 5 allowed
 * per day), through the same JobService the API calls. Reports admissions/s and checks exactness: every
 * user ends with exactly 5 queued and 5 scheduled jobs.
 */
import { openBenchEnv } from '../lib/benchEnv.js';
import { isMain, runStandalone, type Metric, type Scenario } from '../lib/scenario.js';

const PER_USER = 10;

export const admissionScenario: Scenario = {
  name: 'admission',
  description: '10,000 concurrent submits across 1,000 users: admissions/s, exactness of the daily quota',
  async run(ctx) {
    const users = Math.max(100, Math.round(1000 * ctx.scale));
    const env = await openBenchEnv(ctx, 'admission');
    try {
      const owners = await env.seedOwners(users, 'bootstrapper', 1);
      const service = env.runtime({ workers: 0 }).service;
      ctx.progress(`${users * PER_USER} submits at once`);
      const started = performance.now();
      const results = await Promise.all(
        owners.flatMap((owner) =>
          Array.from({ length: PER_USER }, (_, i) => service.submit(owner, { projectId: owner.projects[0] ?? '', goal: `admission ${i}` })),
        ),
      );
      const seconds = (performance.now() - started) / 1000;
      const limit = 5;
      const rows = await env.sql<{ owner_id: string; queued: number; scheduled: number }[]>`
        select owner_id,
               count(*) filter (where status = 'queued')::int as queued,
               count(*) filter (where status = 'scheduled')::int as scheduled
        from jobs group by owner_id`;
      const exact = rows.length === users && rows.every((r) => r.queued === limit && r.scheduled === PER_USER - limit);
      const answeredQueued = results.filter((r) => r.status === 'queued').length;
      if (!exact || answeredQueued !== users * limit) {
        throw new Error(`admission not exact: ${answeredQueued} queued answers, ${rows.filter((r) => r.queued !== limit).length} users off`);
      }
      const metrics: Metric[] = [
        { name: 'submits/s (10 per user, 1,000 users)', value: results.length / seconds, unit: 'submits/s', better: 'higher' },
        { name: 'users with exactly 5 admitted', value: rows.filter((r) => r.queued === limit).length, unit: `of ${users}` },
      ];
      return metrics;
    } finally {
      await env.close();
    }
  },
};

if (isMain(import.meta.url)) await runStandalone(admissionScenario);
