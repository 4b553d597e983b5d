import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { WardenConfig } from '../config.js';

/** Where the generated secret of a local setup lives (inside the git-ignored data folder). */
export function secretFilePath(dataDir: string): string {
  return join(dataDir, 'secret');
}

/**
 * The token signing secret: WARDEN_SECRET when set. Without it, a local setup generates one once into
 * `${WARDEN_DATA_DIR}/secret` (mode 0600), so that `npm run token` and `npm start` agree with zero
 * configuration. Production must set WARDEN_SECRET: several processes need the same one.
 */
export async function resolveSecret(config: Pick<WardenConfig, 'secret' | 'dataDir' | 'env'>): Promise<string> {
  if (config.secret) return config.secret;
  if (config.env === 'production') {
    throw new Error('WARDEN_SECRET must be set (at least 16 characters) when NODE_ENV=production');
  }
  const file = secretFilePath(config.dataDir);
  try {
    const stored = (await readFile(file, 'utf8')).trim();
    if (stored.length >= 16) return stored;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  await mkdir(config.dataDir, { recursive: true });
  const secret = randomBytes(32).toString('base64url');
  // 'wx' fails if another process wrote it first; then theirs wins and is read back.
  try {
    await writeFile(file, `${secret}\n`, { mode: 0o600, flag: 'wx' });
    return secret;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    return (await readFile(file, 'utf8')).trim();
  }
}
