import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { JOB_STATUSES } from '../../actors/jobTransitions.js';
import type { Sql } from '../../src/db/client.js';
import { MIGRATION_LOCK_CLASS, listMigrations, migrate } from '../../src/db/migrate.js';
import { useTestDb, type TestDb } from '../helpers/testDb.js';

// Schemas are made at the top level: useTestDb's cleanup hook must be registered outside a test.
const emptyDb = await useTestDb('mig_empty');
const checkDb = await useTestDb('mig_check');
const raceDb = await useTestDb('mig_race');
const busyDb = await useTestDb('mig_busy');
const freeDb = await useTestDb('mig_free');
const failDb = await useTestDb('mig_fail');
const namesDb = await useTestDb('mig_names');

const CORE_TABLES = ['job_transitions', 'jobs', 'projects', 'schema_migrations', 'users'];

async function tablesOf(sql: Sql, schema: string): Promise<string[]> {
  const rows = await sql<{ table_name: string }[]>`
    select table_name from information_schema.tables where table_schema = ${schema} order by table_name`;
  return rows.map((r) => r.table_name);
}

async function recordedVersions(sql: Sql): Promise<number[]> {
  const rows = await sql<{ version: number }[]>`select version from schema_migrations order by version`;
  return rows.map((r) => r.version);
}

/** Holds the schema's migration lock in a transaction until `release` is called. */
function holdMigrationLock(sql: Sql, schema: string) {
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  let markHeld!: () => void;
  const held = new Promise<void>((resolve) => (markHeld = resolve));
  const done = sql.begin(async (tx) => {
    await tx`select pg_advisory_xact_lock(${MIGRATION_LOCK_CLASS}::int, hashtext(${schema}))`;
    markHeld();
    await released;
  });
  return { held, release, done };
}

async function lockWaiters(sql: Sql, schema: string): Promise<number> {
  const [row] = await sql<{ n: number }[]>`
    select count(*)::int as n from pg_locks
    where locktype = 'advisory' and not granted
      and classid = ${MIGRATION_LOCK_CLASS}::int::oid and objid = hashtext(${schema})::oid and objsubid = 2`;
  return row?.n ?? 0;
}

/** Polls a condition (an event in another process), not a fixed sleep. */
async function until(check: () => Promise<boolean>, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `src/cli/migrate.ts` in a separate Node process, pointed at `schema` through the URL's search_path. */
function runMigrateCli(db: TestDb): Promise<CliRun> {
  const url = new URL(db.url);
  url.searchParams.set('search_path', db.schema);
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/migrate.ts'], {
    cwd: process.cwd(),
    env: { ...process.env, DATABASE_URL: url.toString() },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const appliedByCli = (run: CliRun) => [...run.stdout.matchAll(/^applied (\S+)$/gm)].map((m) => m[1]);

describe('migrate', () => {
  it('brings an empty schema up to date, then a second run applies nothing', async () => {
    const db = emptyDb;
    const shipped = await listMigrations();
    expect(shipped.map((m) => m.version)).toEqual([...shipped.map((m) => m.version)].sort((a, b) => a - b));
    expect(await tablesOf(db.sql, db.schema)).toEqual([]);

    const first = await migrate(db.sql);
    expect(first.applied[0]).toBe('0001_core');
    expect(first.applied).toHaveLength(shipped.length);
    expect(await tablesOf(db.sql, db.schema)).toEqual(expect.arrayContaining(CORE_TABLES));
    expect(await recordedVersions(db.sql)).toEqual(shipped.map((m) => m.version));

    const second = await migrate(db.sql);
    expect(second.applied).toEqual([]);
    expect(await recordedVersions(db.sql)).toEqual(shipped.map((m) => m.version));
  });

  it('keeps the nine statuses in the jobs status CHECK', async () => {
    const db = checkDb;
    await migrate(db.sql);
    const [row] = await db.sql<{ def: string }[]>`
      select pg_get_constraintdef(c.oid) as def from pg_constraint c
      join pg_class t on t.oid = c.conrelid join pg_namespace n on n.oid = t.relnamespace
      where n.nspname = ${db.schema} and t.relname = 'jobs' and c.contype = 'c'
        and pg_get_constraintdef(c.oid) like '%status%' and pg_get_constraintdef(c.oid) like '%queued%'`;
    const listed = [...(row?.def ?? '').matchAll(/'([a-z]+)'::text/g)].map((m) => m[1]);
    expect(new Set(listed)).toEqual(new Set(JOB_STATUSES));
    expect(listed).toHaveLength(JOB_STATUSES.length);
  });

  it('applies each migration exactly once when two pools and two processes start at once', async () => {
    const db = raceDb;
    const observer = db.connect(2);
    const lock = holdMigrationLock(observer, db.schema);
    await lock.held;

    // Everyone queues on the lock first, so the release starts a real race.
    const poolA = db.connect(2);
    const poolB = db.connect(2);
    const inProcess = [migrate(poolA), migrate(poolB)];
    const processes = [runMigrateCli(db), runMigrateCli(db)];
    await until(async () => (await lockWaiters(observer, db.schema)) === 4, 'four migrators to wait on the lock');
    expect(await tablesOf(observer, db.schema)).toEqual([]);
    lock.release();
    await lock.done;

    const results = await Promise.all(inProcess);
    const runs = await Promise.all(processes);
    for (const run of runs) expect(run, run.stderr).toMatchObject({ code: 0 });

    const shipped = (await listMigrations()).map((m) => `${String(m.version).padStart(4, '0')}_${m.name}`);
    const appliedEverywhere = [...results.flatMap((r) => r.applied), ...runs.flatMap(appliedByCli)];
    expect(appliedEverywhere.sort()).toEqual(shipped);
    expect(await recordedVersions(observer)).toEqual((await listMigrations()).map((m) => m.version));
    expect(await tablesOf(observer, db.schema)).toEqual(expect.arrayContaining(CORE_TABLES));
  });

  it('keys the lock by schema: a held lock on one schema does not block another', async () => {
    const busy = busyDb;
    const free = freeDb;
    const lock = holdMigrationLock(busy.sql, busy.schema);
    await lock.held;
    const result = await migrate(free.sql);
    expect(result.applied[0]).toBe('0001_core');
    lock.release();
    await lock.done;
  });
});

describe('migrate with a custom folder', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
  });

  async function folder(files: Record<string, string>): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), 'warden-mig-'));
    dirs.push(dir);
    await Promise.all(Object.entries(files).map(([name, text]) => writeFile(join(dir, name), text)));
    return dir;
  }

  it('applies in numeric order, rolls a failing migration back whole, and resumes after it is fixed', async () => {
    const db = failDb;
    const dir = await folder({
      '0010_third.sql': 'insert into log (step) values (10);',
      '0002_second.sql': 'insert into log (step) values (2);',
      '0001_first.sql': 'create table log (n serial primary key, step int not null);',
      '0011_broken.sql': 'create table half (x int); insert into log (step) values (11); select 1/0;',
      'README.md': 'not a migration',
    });
    await expect(migrate(db.sql, { directory: dir })).rejects.toThrow(/division by zero/);
    expect(await recordedVersions(db.sql)).toEqual([1, 2, 10]);
    const steps = await db.sql<{ step: number }[]>`select step from log order by n`;
    expect(steps.map((s) => s.step)).toEqual([2, 10]);
    expect(await tablesOf(db.sql, db.schema)).not.toContain('half');

    await writeFile(join(dir, '0011_broken.sql'), 'create table half (x int); insert into log (step) values (11);');
    expect((await migrate(db.sql, { directory: dir })).applied).toEqual(['0011_broken']);
    expect(await recordedVersions(db.sql)).toEqual([1, 2, 10, 11]);
  });

  it('refuses a folder with two files of one version, or a badly named file', async () => {
    const db = namesDb;
    const twice = await folder({ '0001_a.sql': 'select 1;', '0001_b.sql': 'select 1;' });
    await expect(migrate(db.sql, { directory: twice })).rejects.toThrow(/share version 1/);
    const badName = await folder({ '1_a.sql': 'select 1;' });
    await expect(migrate(db.sql, { directory: badName })).rejects.toThrow(/NNNN_name/);
  });
});
