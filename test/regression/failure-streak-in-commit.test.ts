import { describe, expect, it } from 'vitest';
import { createJobsRepository } from '../../src/db/jobsRepository.js';
import { migrate } from '../../src/db/migrate.js';
import { createProjectsRepository } from '../../src/db/projectsRepository.js';
import { recordTransitions, type TransitionWrite } from '../../src/db/recordTransitions.js';
import { createUsersRepository } from '../../src/db/usersRepository.js';
import { useTestDb } from '../helpers/testDb.js';

/**
 * A project's consecutive-failure count used to be updated after the terminal event was published on
 * Redis: a failed publish, or a process that died in between, and the outcome was never counted. Now
 * the commit that records the terminal transition counts it, in the same statement.
 */
const db = await useTestDb('failure_streak');
await migrate(db.sql);
const jobs = createJobsRepository(db.sql);
const T0 = Date.parse('2026-03-01T10:00:00Z');
await createUsersRepository(db.sql).upsertUser({ id: 'streaky', tier: 'partner', now: T0 });
const projects = createProjectsRepository(db.sql);

async function projectWithJobs(n: number): Promise<{ projectId: string; jobIds: string[] }> {
  const project = await projects.createProject({ ownerId: 'streaky', name: 'P', now: T0 });
  const jobIds: string[] = [];
  for (let i = 0; i < n; i++) jobIds.push((await jobs.insertJob({ ownerId: 'streaky', projectId: project.id, tier: 'partner', goal: 'g', status: 'queued', now: T0 })).id);
  return { projectId: project.id, jobIds };
}

/** queued → starting → (failed | …ready): the terminal record at `at`. */
function finish(jobId: string, outcome: 'ready' | 'failed', at: number): TransitionWrite[] {
  const path = outcome === 'failed' ? (['queued', 'starting', 'failed'] as const) : (['queued', 'starting', 'scaffold', 'code', 'deps', 'checks', 'ready'] as const);
  return path.slice(1).map((to, i) => ({
    jobId,
    seq: i + 2,
    fromStatus: path[i] ?? 'queued',
    toStatus: to,
    message: to,
    iteration: 0,
    at: at - (path.length - 2 - i),
    awaitingConfirmation: false,
    ...(to === 'failed' ? { error: 'broke' } : {}),
  }));
}

const streakOf = async (projectId: string) =>
  (await db.sql<{ n: number }[]>`select consecutive_failures as n from projects where id = ${projectId}`)[0]?.n;

describe('the failure streak is counted by the terminal commit', () => {
  it('counts failures and resets at ready, in the same statement, once per job', async () => {
    const { projectId, jobIds } = await projectWithJobs(5);
    const [a, b, c, d, e] = jobIds as [string, string, string, string, string];
    await recordTransitions(db.sql, [...finish(a, 'failed', T0 + 10_000), ...finish(b, 'failed', T0 + 20_000)]);
    expect(await streakOf(projectId)).toBe(2);
    // One batch: a failure, then a ready job, then a failure: the streak is the one after the ready.
    await recordTransitions(db.sql, [...finish(c, 'failed', T0 + 30_000), ...finish(d, 'ready', T0 + 40_000), ...finish(e, 'failed', T0 + 50_000)]);
    expect(await streakOf(projectId)).toBe(1);
    // A refused repeat (same seqs again) counts nothing twice.
    await recordTransitions(db.sql, finish(e, 'failed', T0 + 50_000));
    expect(await streakOf(projectId)).toBe(1);
    const outcomes = await db.sql<{ n: number }[]>`select count(*)::int as n from project_build_outcomes where project_id = ${projectId}`;
    expect(outcomes[0]?.n).toBe(5);
  });
});
