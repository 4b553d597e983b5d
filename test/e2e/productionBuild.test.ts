import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { createWardenClient } from '../../src/client.js';
import type { JobEvent } from '../../src/redis/jobEvent.js';
import { spawnedServerEnv } from '../helpers/testApp.js';
import { useTestDb } from '../helpers/testDb.js';
import { useTestRedis } from '../helpers/testRedis.js';

const run = promisify(execFile);

/**
 * The production path: `npm run build` compiles the server and copies its assets, and plain
 * `node <out>/src/main.js` — no tsx anywhere — serves the job flow on real Redis and PostgreSQL: migrations
 * and Lua scripts found next to the compiled code, the inspector page served, a risk scan on the Piscina
 * worker threads loaded from the built .js files, a token minted by the built CLI, a job submitted and
 * followed to ready through the typed client. Built into test-results/ (never over a dist/ in use).
 */
const db = await useTestDb('prod_build');
const redis = useTestRedis('prod-build');
const outDir = `test-results/build-${randomUUID().slice(0, 8)}`;
afterAll(() => rmSync(outDir, { recursive: true, force: true }));

const env: NodeJS.ProcessEnv = {
  PATH: process.env.PATH,
  HOME: process.env.HOME,
  // No loader inherited: the built server must run on Node alone.
  NODE_OPTIONS: '',
  ...spawnedServerEnv(db, redis),
  NODE_ENV: 'production',
  WARDEN_RISK_SCAN_THREADS: '1',
};

let server: ChildProcess | undefined;
afterAll(async () => {
  if (!server || server.exitCode !== null) return;
  const exited = new Promise((resolve) => server?.once('exit', resolve));
  server.kill('SIGTERM');
  await exited;
});

/** Starts the built server; resolves with its URL and banner once the banner is printed (its token line is last). */
function startBuilt(): Promise<{ url: string; banner: string }> {
  const child = spawn(process.execPath, [`${outDir}/src/main.js`], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  server = child;
  const lines: string[] = [];
  return new Promise((resolve, reject) => {
    createInterface({ input: child.stdout }).on('line', (line) => {
      lines.push(line);
      const banner = lines.join('\n');
      if (line.includes('    token ')) resolve({ url: /Warden listening on (http:\/\/\S+)/.exec(banner)?.[1] ?? '', banner });
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('exit', (code) => reject(new Error(`node ${outDir}/src/main.js exited with ${code}: ${stderr}`)));
  });
}

describe('npm run build, then node dist/src/main.js', () => {
  let url = '';

  it('builds', async () => {
    const { stdout } = await run('npm', ['run', '-s', 'build', '--', '--out-dir', outDir], { env: process.env, maxBuffer: 10 * 1024 * 1024 });
    expect(stdout).toContain(`built ${outDir}/`);
  }, 300_000);

  it('starts without tsx and serves the inspector page from the built assets', async () => {
    const started = await startBuilt();
    url = started.url;
    const { banner } = started;
    // The banner names the built token command, not the npm script (which needs tsx).
    expect(banner).toContain(`node ${outDir}/src/cli/token.js --user alice --tier partner`);
    expect(((await (await fetch(`${url}/healthz`)).json()) as { status: string }).status).toBe('ok');
    const page = await fetch(`${url}/inspector/`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<html');
  });

  it('runs the job flow through the typed client, with a token from the built CLI', async () => {
    const { stdout } = await run(process.execPath, [`${outDir}/src/cli/token.js`, '--user', 'prod-user', '--tier', 'partner'], { env });
    const token = stdout.trim().split('\n').at(-1) ?? '';
    const client = createWardenClient({ url, token });
    const { projectId } = await client.projects.create.mutate({ name: 'built' });
    const job = await client.jobs.submit.mutate({ projectId, goal: 'a landing page' });
    const events = await new Promise<JobEvent[]>((resolve, reject) => {
      const seen: JobEvent[] = [];
      client.jobs.events.subscribe({ jobId: job.jobId, lastEventId: '0' }, {
        onData: ({ data }) => void seen.push(data),
        onComplete: () => resolve(seen),
        onError: reject,
      });
    });
    expect(events.map((e) => e.status)).toEqual(['queued', 'starting', 'scaffold', 'code', 'deps', 'checks', 'ready']);
  });

  it('scans risks on worker threads loaded from the built files', async () => {
    const { stdout } = await run(process.execPath, [`${outDir}/src/cli/token.js`, '--user', 'prod-admin', '--tier', 'cto_scale', '--admin'], { env });
    const admin = createWardenClient({ url, token: stdout.trim().split('\n').at(-1) ?? '' });
    // Failing to load the worker file would reject the scan; threads: 1 says it went to the pool.
    expect(await admin.risks.scan.mutate()).toMatchObject({ threads: 1 });
  });
});
