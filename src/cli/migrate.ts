/**
 * `npm run migrate`: applies pending migrations to DATABASE_URL and prints what it applied.
 * The target schema is the connection's search_path; a URL query such as `?search_path=myschema` sets it
 * (postgres.js sends unknown URL parameters as startup parameters).
 */
import { loadConfig } from '../config.js';
import { createSql } from '../db/client.js';
import { migrate } from '../db/migrate.js';

async function main(): Promise<number> {
  const config = loadConfig();
  if (!config.databaseUrl) {
    process.stderr.write('DATABASE_URL is not set: nothing to migrate (the embedded default migrates itself at start).\n');
    return 1;
  }
  const sql = createSql(config.databaseUrl, { max: 1 });
  try {
    const { applied } = await migrate(sql, {
      onApplied: (m) => process.stdout.write(`applied ${String(m.version).padStart(4, '0')}_${m.name}\n`),
    });
    process.stdout.write(applied.length === 0 ? 'schema is up to date: nothing to apply\n' : `${applied.length} migration(s) applied\n`);
    return 0;
  } finally {
    await sql.end({ timeout: 5 });
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`migrate failed: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
