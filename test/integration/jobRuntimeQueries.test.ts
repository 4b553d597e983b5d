import { describe, expect, it } from 'vitest';
import { systemClock } from '../../src/clock.js';
import { createSql } from '../../src/db/client.js';
import { createJobRuntimeQueries } from '../../src/db/jobRuntimeQueries.js';
import { createJobsRepository } from '../../src/db/jobsRepository.js';
import { migrate } from '../../src/db/migrate.js';
import { seedOwners } from '../helpers/jobRuntimeHarness.js';
import { useTestDb } from '../helpers/testDb.js';

const db = await useTestDb('job_runtime_queries');
await migrate(db.sql);
const jobs = createJobsRepository(db.sql);

describe('currentIterations', () => {
  it('answers each owner with their newest unfinished job, however many ask in one tick, in one statement', async () => {
    const seeded = await seedOwners(db.sql, ['partner', 'bootstrapper', 'cto_scale'], 1);
    const [a, b, c] = seeded.users.map((u) => u.id) as [string, string, string];
    const project = (owner: string) => seeded.projects.find((p) => p.ownerId === owner)?.id ?? '';
    const insert = async (owner: string, tier: string, at: number, iteration: number, confirmations: number, status = 'queued') => {
      const row = await jobs.insertJob({
        ownerId: owner,
        projectId: project(owner),
        tier,
        goal: 'g',
        status: 'queued',
        now: at,
        snapshot: { context: { confirmations } },
        machineVersion: 1,
      });
      await db.sql`update jobs set iteration = ${iteration}, status = ${status},
                   finished_at = case when ${status} in ('ready', 'failed') then updated_at end where id = ${row.id}`;
    };
    const now = systemClock.now();
    await insert(a, 'partner', now - 2_000, 1, 0);
    await insert(a, 'partner', now - 1_000, 4, 1); // a's newest unfinished
    await insert(a, 'partner', now, 9, 3, 'ready'); // newer, but finished
    await insert(b, 'bootstrapper', now, 2, 0);
    // c has no job at all.

    const statements: string[] = [];
    const sql = createSql(db.url, { schema: db.schema, max: 4, onQuery: (q) => statements.push(q) });
    try {
      const queries = createJobRuntimeQueries(sql);
      const answers = await Promise.all([a, b, c, a, b].map((owner) => queries.currentIterations(owner)));
      expect(answers).toEqual([
        { tier: 'partner', iteration: 4, confirmations: 1 },
        { tier: 'bootstrapper', iteration: 2, confirmations: 0 },
        null,
        { tier: 'partner', iteration: 4, confirmations: 1 },
        { tier: 'bootstrapper', iteration: 2, confirmations: 0 },
      ]);
      expect(statements.filter((q) => /from jobs/.test(q))).toHaveLength(1);

      // A later tick reads again: it sees what changed in between.
      await db.sql`update jobs set iteration = 5 where owner_id = ${b}`;
      expect(await queries.currentIterations(b)).toEqual({ tier: 'bootstrapper', iteration: 5, confirmations: 0 });
    } finally {
      await sql.end({ timeout: 5 });
    }
  });
});
