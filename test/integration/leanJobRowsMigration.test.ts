/**
 * The upgrade path of migration 0009 (lean job rows): a schema at 0008 holding jobs in every condition
 * the earlier releases could leave them, migrated, then driven on by the new commit statement.
 */
import { copyFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createJobRuntimeQueries } from '../../src/db/jobRuntimeQueries.js';
import { createJobsRepository } from '../../src/db/jobsRepository.js';
import { listMigrations, migrate } from '../../src/db/migrate.js';
import { recordTransitions } from '../../src/db/recordTransitions.js';
import { useTestDb } from '../helpers/testDb.js';

const db = await useTestDb('lean_rows_upgrade');
const dir = await mkdtemp(join(tmpdir(), 'warden-mig-0008-'));
afterAll(() => rm(dir, { recursive: true, force: true }));

const T0 = Date.parse('2026-11-30T09:00:00Z');
const at = (s: number) => new Date(T0 + s * 1000);
const snapshotOf = (value: string) => ({ version: 1, snapshot: { status: 'active', value, context: { jobId: 'x', iteration: 0 } } });

/** The old schema (0001–0008) with the jobs an earlier release could have left, in every condition. */
async function seedAt0008(): Promise<Record<'running' | 'legacyReady' | 'failed' | 'scheduled' | 'leftScheduled', string>> {
  for (const m of (await listMigrations()).filter((m) => m.version <= 8)) await copyFile(m.file, join(dir, basename(m.file)));
  expect((await migrate(db.sql, { directory: dir })).applied.at(-1)).toBe('0008_risk_facts_and_planner');
  await db.sql`insert into users (id, tier, created_at, updated_at) values ('olga', 'partner', ${at(0)}, ${at(0)})`;
  const [project] = await db.sql<{ id: string }[]>`
    insert into projects (id, owner_id, name, created_at, last_activity_at)
    values (gen_random_uuid(), 'olga', 'P', ${at(0)}, ${at(0)}) returning id`;
  const job = async (status: string, seq: number, extra: { finishedAt?: Date; scheduledFor?: Date; createdS: number }) => {
    const [row] = await db.sql<{ id: string }[]>`
      insert into jobs (id, owner_id, project_id, tier, goal, status, iteration, seq, created_at, updated_at,
                        started_at, finished_at, snapshot, machine_version, scheduled_for)
      values (gen_random_uuid(), 'olga', ${project?.id ?? ''}, 'partner', 'g', ${status}, 0, ${seq}, ${at(extra.createdS)},
              ${at(extra.createdS + 60)}, null, ${extra.finishedAt ?? null}, ${JSON.stringify(snapshotOf(status))}::jsonb, 1,
              ${extra.scheduledFor ?? null})
      returning id`;
    const id = row?.id ?? '';
    await db.sql`insert into job_transitions (job_id, seq, from_status, to_status, message, iteration, at)
                 values (${id}, 1, null, 'queued', 'Queued…', 0, ${at(extra.createdS)})`;
    return id;
  };
  return {
    running: await job('code', 1, { createdS: 1 }),
    // Terminal without finished_at: nothing in 0001–0008 forbade it.
    legacyReady: await job('ready', 1, { createdS: 2 }),
    failed: await job('failed', 1, { createdS: 3, finishedAt: at(100) }),
    scheduled: await job('scheduled', 1, { createdS: 4, scheduledFor: at(86_400) }),
    // Left `scheduled` while its scheduled_for stayed behind.
    leftScheduled: await job('queued', 1, { createdS: 5, scheduledFor: at(3_600) }),
  };
}

describe('migration 0009 on a database with existing jobs', () => {
  it('carries every job over, makes the new invariants true, and the runtime moves the jobs on', async () => {
    const ids = await seedAt0008();
    const before = await db.sql`select id, status, seq, created_at, snapshot::text as snapshot from jobs order by created_at`;

    // Up to the current schema (later migrations too, e.g. 0010's fail_request column): the runtime below needs it.
    expect((await migrate(db.sql)).applied[0]).toBe('0009_lean_job_rows');

    const after = await db.sql`select id, status, seq, created_at, snapshot::text as snapshot from jobs order by created_at`;
    expect(after.map((r) => ({ ...r, snapshot: JSON.parse(String(r.snapshot)) as unknown }))).toEqual(
      before.map((r) => ({ ...r, snapshot: JSON.parse(String(r.snapshot)) as unknown })),
    );
    const [legacy] = await db.sql`select finished_at, updated_at from jobs where id = ${ids.legacyReady}`;
    expect(legacy?.finished_at).toEqual(legacy?.updated_at);
    const [failed] = await db.sql`select finished_at from jobs where id = ${ids.failed}`;
    expect(failed?.finished_at).toEqual(at(100));
    const [scheduled] = await db.sql`select scheduled_for from jobs where id = ${ids.scheduled}`;
    expect(scheduled?.scheduled_for).toEqual(at(86_400));
    const [left] = await db.sql`select scheduled_for from jobs where id = ${ids.leftScheduled}`;
    expect(left?.scheduled_for).toBeNull();

    const [table] = await db.sql<{ options: string[] | null; snapshot_type: string }[]>`
      select c.reloptions as options, format_type(a.atttypid, a.atttypmod) as snapshot_type
      from pg_class c join pg_attribute a on a.attrelid = c.oid and a.attname = 'snapshot'
      where c.oid = 'jobs'::regclass`;
    expect(table).toEqual({ options: ['fillfactor=50'], snapshot_type: 'json' });
    // No index of jobs names a column a transition changes: its updates can stay on their page.
    const indexes = await db.sql<{ indexdef: string }[]>`select indexdef from pg_indexes where tablename = 'jobs' and schemaname = ${db.schema}`;
    for (const { indexdef } of indexes) expect(indexdef).not.toMatch(/\b(status|updated_at|seq|iteration|awaiting_confirmation|snapshot)\b/);

    // The sweeps see the unfinished jobs, and only them.
    const queries = createJobRuntimeQueries(db.sql);
    expect(new Set(await queries.findOverAge(at(1_000_000), 10))).toEqual(new Set([ids.running, ids.scheduled, ids.leftScheduled]));
    expect(await queries.claimDueScheduled(at(100_000), at(100_060), 10)).toHaveLength(1);

    // The new commit statement moves an upgraded job on, and its snapshot comes back as stored.
    const next = snapshotOf('deps');
    const [outcome] = await recordTransitions(db.sql, [
      { jobId: ids.running, seq: 2, fromStatus: 'code', toStatus: 'deps', message: 'Installing…', iteration: 0, at: at(200), awaitingConfirmation: false, snapshot: next.snapshot, machineVersion: 1 },
    ]);
    expect(outcome).toEqual({ jobId: ids.running, seq: 2, applied: true });
    const jobs = createJobsRepository(db.sql);
    expect(await jobs.getJob('olga', ids.running)).toMatchObject({ status: 'deps', seq: 2, snapshot: next.snapshot, finishedAt: null });
    const listed = await jobs.listJobs({ ownerId: 'olga', limit: 20 });
    expect(listed.items.map((j) => j.status)).toEqual(['queued', 'scheduled', 'failed', 'ready', 'deps']);
  });
});
