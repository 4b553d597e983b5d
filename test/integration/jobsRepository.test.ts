import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { STAGE_LABELS } from '../../actors/jobTransitions.js';
import type { JobListItem } from '../../src/db/jobRows.js';
import { createJobsRepository, type InsertJobInput } from '../../src/db/jobsRepository.js';
import { migrate } from '../../src/db/migrate.js';
import { createProjectsRepository } from '../../src/db/projectsRepository.js';
import { createUsersRepository } from '../../src/db/usersRepository.js';
import { isWardenError } from '../../src/errors.js';
import { useTestDb } from '../helpers/testDb.js';

const db = await useTestDb('jobs_repo');
await migrate(db.sql);
const jobs = createJobsRepository(db.sql);
const projects = createProjectsRepository(db.sql);
const users = createUsersRepository(db.sql);
const T0 = Date.parse('2026-03-01T10:00:00Z');
for (const id of ['alice', 'bob']) await users.upsertUser({ id, tier: 'partner', now: T0 });
const aliceProject = await projects.createProject({ ownerId: 'alice', name: 'A', now: T0 });
const aliceOther = await projects.createProject({ ownerId: 'alice', name: 'A2', now: T0 });
const bobProject = await projects.createProject({ ownerId: 'bob', name: 'B', now: T0 });

const base = (over: Partial<InsertJobInput> = {}): InsertJobInput => ({
  ownerId: 'alice',
  projectId: aliceProject.id,
  tier: 'partner',
  goal: 'Build a todo app',
  status: 'queued',
  now: T0,
  ...over,
});

async function countJobs(): Promise<number> {
  const [row] = await db.sql<{ n: number }[]>`select count(*)::int as n from jobs`;
  return row?.n ?? 0;
}

describe('insertJob / getJob', () => {
  it('creates a queued job with its first transition (seq 1) and reads it back', async () => {
    const job = await jobs.insertJob(base({ queueScore: 998e12 + 7 }));
    expect(job).toMatchObject({
      ownerId: 'alice',
      projectId: aliceProject.id,
      status: 'queued',
      seq: 1,
      iteration: 0,
      awaitingConfirmation: false,
      createdAt: '2026-03-01T10:00:00.000Z',
      startedAt: null,
      finishedAt: null,
      error: null,
      snapshot: null,
      machineVersion: null,
      scheduledFor: null,
      queueScore: 998e12 + 7,
    });
    expect(await jobs.getTransitions(job.id)).toEqual([
      { jobId: job.id, seq: 1, fromStatus: null, toStatus: 'queued', message: STAGE_LABELS.queued, iteration: 0, at: job.createdAt },
    ]);
    expect(await jobs.getJob('alice', job.id)).toEqual(job);
    expect(await jobs.getJob(null, job.id)).toEqual(job);
  });

  it('creates a scheduled job with its release time, message and snapshot', async () => {
    const job = await jobs.insertJob(
      base({
        status: 'scheduled',
        message: 'Daily limit reached. Scheduled for tomorrow.',
        scheduledFor: '2026-03-02T00:03:00Z',
        snapshot: { value: 'scheduled', context: { iteration: 0 } },
        machineVersion: 1,
      }),
    );
    expect(job).toMatchObject({
      status: 'scheduled',
      scheduledFor: '2026-03-02T00:03:00.000Z',
      snapshot: { value: 'scheduled', context: { iteration: 0 } },
      machineVersion: 1,
    });
    const [first] = await jobs.getTransitions(job.id);
    expect(first).toMatchObject({ seq: 1, toStatus: 'scheduled', message: 'Daily limit reached. Scheduled for tomorrow.' });
  });

  it("answers another owner's job, an unknown id and a non-UUID exactly alike: null", async () => {
    const job = await jobs.insertJob(base());
    expect(await jobs.getJob('bob', job.id)).toBeNull();
    expect(await jobs.getJob('alice', randomUUID())).toBeNull();
    expect(await jobs.getJob('alice', 'nope')).toBeNull();
  });

  it("refuses a job in another owner's project, an unknown project or user, and a taken id; stores nothing", async () => {
    const before = await countJobs();
    const cases: [Partial<InsertJobInput>, string][] = [
      [{ projectId: bobProject.id }, 'project'],
      [{ projectId: randomUUID() }, 'project'],
      [{ projectId: 'not-a-uuid' }, 'project'],
      [{ ownerId: 'ghost' }, 'user'],
    ];
    for (const [over, entity] of cases) {
      const err = await jobs.insertJob(base(over)).catch((e: unknown) => e);
      expect(isWardenError(err, 'NOT_FOUND') && err.details.entity).toBe(entity);
    }
    const id = randomUUID();
    await jobs.insertJob(base({ id }));
    const dup = await jobs.insertJob(base({ id })).catch((e: unknown) => e);
    expect(isWardenError(dup, 'CONFLICT')).toBe(true);
    expect(await countJobs()).toBe(before + 1);
    expect(await jobs.getTransitions(id)).toHaveLength(1);
  });

  it('inserts the job and its first transition atomically: a failing transition insert leaves no job', async () => {
    await db.sql.unsafe(`
      create function refuse_boom() returns trigger language plpgsql as $$
      begin
        if new.message = 'boom' then raise exception 'transition refused by test trigger'; end if;
        return new;
      end $$;
      create trigger refuse_boom before insert on job_transitions for each row execute function refuse_boom();`);
    try {
      const id = randomUUID();
      await expect(jobs.insertJob(base({ id, message: 'boom' }))).rejects.toThrow(/refused by test trigger/);
      expect(await jobs.getJob(null, id)).toBeNull();
    } finally {
      await db.sql.unsafe('drop trigger refuse_boom on job_transitions; drop function refuse_boom();');
    }
  });

  it('validates input before touching the database', async () => {
    await expect(jobs.insertJob(base({ goal: '' }))).rejects.toThrow();
    await expect(jobs.insertJob(base({ goal: 'x'.repeat(10_001) }))).rejects.toThrow();
    await expect(jobs.insertJob(base({ snapshot: { a: 1 } }))).rejects.toThrow(/machineVersion/);
  });
});

describe('listJobs', () => {
  it('pages by owner with no duplicate and no gap across equal times and inserts between pages', async () => {
    await users.upsertUser({ id: 'lister', tier: 'partner', now: T0 });
    const p1 = await projects.createProject({ ownerId: 'lister', name: 'L1', now: T0 });
    const p2 = await projects.createProject({ ownerId: 'lister', name: 'L2', now: T0 });
    const created = [];
    for (let i = 0; i < 31; i++) {
      created.push(
        await jobs.insertJob(
          base({ ownerId: 'lister', projectId: i % 2 ? p1.id : p2.id, status: i % 5 ? 'queued' : 'scheduled', now: T0 + Math.floor(i / 4) * 1000 }),
        ),
      );
    }
    const desc = (a: string, b: string) => (a < b ? 1 : a > b ? -1 : 0);
    const byNewest = <T extends { createdAt: string; id: string }>(xs: T[]) =>
      [...xs].sort((a, b) => desc(a.createdAt, b.createdAt) || desc(a.id, b.id)).map((j) => j.id);

    const seen: JobListItem[] = [];
    let cursor: string | null = null;
    let inserted = 0;
    do {
      const page = await jobs.listJobs({ ownerId: 'lister', limit: 6, cursor });
      expect(page.items.length).toBeLessThanOrEqual(6);
      seen.push(...page.items);
      cursor = page.nextCursor;
      // A newer job arrives while the client pages.
      inserted += 1;
      await jobs.insertJob(base({ ownerId: 'lister', projectId: p1.id, goal: 'late', now: T0 + 3_600_000 + inserted }));
    } while (cursor);
    expect(seen.filter((j) => j.goal !== 'late').map((j) => j.id)).toEqual(byNewest(created));
    expect(new Set(seen.map((j) => j.id)).size).toBe(seen.length);
    expect(seen.every((j) => !('snapshot' in j))).toBe(true);

    const inP1 = await jobs.listJobs({ ownerId: 'lister', projectId: p1.id, limit: 100 });
    expect(inP1.items.every((j) => j.projectId === p1.id)).toBe(true);
    expect(inP1.items.filter((j) => j.goal !== 'late').map((j) => j.id)).toEqual(byNewest(created.filter((j) => j.projectId === p1.id)));
    const scheduled = await jobs.listJobs({ ownerId: 'lister', status: 'scheduled', limit: 100 });
    expect(scheduled.items.map((j) => j.id)).toEqual(byNewest(created.filter((j) => j.status === 'scheduled')));
    expect(scheduled.nextCursor).toBeNull();
  });

  it("never lists another owner's jobs, even by their project id", async () => {
    await jobs.insertJob(base({ ownerId: 'bob', projectId: bobProject.id }));
    const asAlice = await jobs.listJobs({ ownerId: 'alice', projectId: bobProject.id });
    expect(asAlice.items).toEqual([]);
    const all = await jobs.listJobs({ ownerId: 'alice', limit: 100 });
    expect(all.items.length).toBeGreaterThan(0);
    expect(all.items.every((j) => j.ownerId === 'alice')).toBe(true);
    expect((await jobs.listJobs({ ownerId: 'alice', projectId: aliceOther.id })).items).toEqual([]);
    expect((await jobs.listJobs({ ownerId: 'alice', projectId: 'junk' })).items).toEqual([]);
    const err = await jobs.listJobs({ ownerId: 'alice', cursor: 'eyJ4IjoxfQ' }).catch((e: unknown) => e);
    expect(isWardenError(err, 'INVALID_CURSOR')).toBe(true);
  });
});
