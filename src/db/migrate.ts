import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Sql, TransactionSql } from './client.js';

/** The shipped migrations: `NNNN_name.sql`, applied in numeric order. */
export const MIGRATIONS_DIR = new URL('./migrations/', import.meta.url);

/**
 * First key of the two-key advisory lock taken while migrating ("WMIG"); the second key is a hash of
 * the current schema, so two schemas (two test files) never wait on each other.
 */
export const MIGRATION_LOCK_CLASS = 0x574d4947;

export interface Migration {
  version: number;
  name: string;
  file: string;
}

export interface MigrateOptions {
  /** Folder holding `NNNN_name.sql` files; defaults to the shipped migrations. */
  directory?: URL | string;
  /** Called once per migration applied by this call. */
  onApplied?: (migration: Migration) => void;
}

export interface MigrateResult {
  /** `NNNN_name` of each migration this call applied, in order; empty when the schema was current. */
  applied: string[];
}

const FILE_PATTERN = /^(\d{4})_([a-z0-9_]+)\.sql$/;

/** Lists the migrations of a folder in version order; a duplicate version or a stray `.sql` file throws. */
export async function listMigrations(directory: URL | string = MIGRATIONS_DIR): Promise<Migration[]> {
  const dir = typeof directory === 'string' ? directory : fileURLToPath(directory);
  const migrations: Migration[] = [];
  for (const file of await readdir(dir)) {
    if (!file.endsWith('.sql')) continue;
    const match = FILE_PATTERN.exec(file);
    if (!match) throw new Error(`Migration file "${file}" is not named NNNN_name.sql`);
    migrations.push({ version: Number(match[1]), name: match[2] ?? '', file: join(dir, file) });
  }
  migrations.sort((a, b) => a.version - b.version);
  for (let i = 1; i < migrations.length; i++) {
    if (migrations[i]?.version === migrations[i - 1]?.version) {
      throw new Error(`Two migrations share version ${migrations[i]?.version}`);
    }
  }
  return migrations;
}

/**
 * Brings the schema that `search_path` names up to date. Each migration runs in its own transaction
 * that first takes a transaction-level advisory lock keyed by the schema, then (re)checks
 * `schema_migrations`: concurrent starts serialise on the lock and each migration is applied exactly
 * once; a failed migration rolls back whole and is not recorded. Running it again applies nothing.
 *
 * Why a transaction-level lock rather than a session lock on a reserved connection: it is released by
 * COMMIT/ROLLBACK or by the connection dying, so no code path (an exception, a killed process, a pool
 * that hands the connection to someone else) can leave the lock held; it also works through a
 * transaction-mode pooler. Versions are still applied in order, since each process walks them in order
 * and a version is attempted only after every earlier one is recorded.
 */
export async function migrate(sql: Sql, options: MigrateOptions = {}): Promise<MigrateResult> {
  const migrations = await listMigrations(options.directory);
  let recorded = await lockedAndRecorded(sql, () => Promise.resolve());
  const applied: string[] = [];
  for (const migration of migrations) {
    if (recorded.has(migration.version)) {
      checkName(migration, recorded.get(migration.version));
      continue;
    }
    const text = await readFile(migration.file, 'utf8');
    recorded = await lockedAndRecorded(sql, async (tx, current) => {
      // Another process may have applied it while this one waited for the lock.
      if (current.has(migration.version)) return checkName(migration, current.get(migration.version));
      await tx.unsafe(text);
      await tx`insert into schema_migrations (version, name, applied_at)
               values (${migration.version}, ${migration.name}, now())`;
      applied.push(label(migration));
      options.onApplied?.(migration);
    });
  }
  return { applied };
}

/** Runs `work` in a transaction holding the schema's migration lock; returns the versions recorded before it. */
async function lockedAndRecorded(
  sql: Sql,
  work: (tx: TransactionSql, recorded: Map<number, string>) => Promise<void>,
): Promise<Map<number, string>> {
  return sql.begin(async (tx) => {
    const [row] = await tx<{ schema: string | null }[]>`select current_schema() as schema`;
    if (!row?.schema) throw new Error('search_path names no existing schema: create it before migrating');
    await tx`select pg_advisory_xact_lock(${MIGRATION_LOCK_CLASS}::int, hashtext(${row.schema}))`;
    // Created under the lock: two first runs racing on CREATE TABLE IF NOT EXISTS can otherwise collide.
    await tx`create table if not exists schema_migrations (
               version integer primary key,
               name text not null,
               applied_at timestamptz not null)`;
    const rows = await tx<{ version: number; name: string }[]>`select version, name from schema_migrations`;
    const recorded = new Map(rows.map((r) => [r.version, r.name]));
    await work(tx, recorded);
    return recorded;
  });
}

function checkName(migration: Migration, recordedName: string | undefined): void {
  if (recordedName !== undefined && recordedName !== migration.name) {
    throw new Error(
      `Migration ${migration.version} is recorded as "${recordedName}" but the file is "${migration.name}": ` +
        'an applied migration was renamed or replaced',
    );
  }
}

function label(m: Migration): string {
  return `${String(m.version).padStart(4, '0')}_${m.name}`;
}
