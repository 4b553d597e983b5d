import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { spawnedServerEnv } from '../helpers/testApp.js';
import { useTestDb } from '../helpers/testDb.js';
import { useTestRedis } from '../helpers/testRedis.js';

/**
 * README's "A tour", run as written: every shell command and the TypeScript snippet of that section,
 * taken from README.md itself, against a server started the way `npm start` starts it (here on real
 * Redis and PostgreSQL, with this file's schema and key prefix, exported in the shell as the README
 * says). The only edits: the server's port instead of 3000, and `<projectId>` / `<jobId>` replaced by
 * what the earlier commands answered. Each command must exit 0 and write nothing on stderr.
 */
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const README_URL = 'http://127.0.0.1:3000';

const db = await useTestDb('readme_tour');
const redis = useTestRedis('readme-tour');
const state = mkdtempSync(join(tmpdir(), 'warden-tour-'));
// The snippet imports './src/client.js', as from the checkout's root: it is saved in a folder of
// test-results/ (git-ignored, not linted) where `src` links to the checkout's src/.
const snippetDir = join(ROOT, 'test-results', `tour-${randomUUID().slice(0, 8)}`);
const snippetFile = join(snippetDir, 'snippet.ts');
mkdirSync(snippetDir, { recursive: true });
symlinkSync(join(ROOT, 'src'), join(snippetDir, 'src'), 'dir');
afterAll(() => {
  rmSync(state, { recursive: true, force: true });
  rmSync(snippetDir, { recursive: true, force: true });
});

const env: NodeJS.ProcessEnv = {
  ...process.env,
  ...spawnedServerEnv(db, redis),
};

interface Block {
  lang: string;
  code: string;
}

/** The fenced code blocks of README's "A tour" section, in order. */
function tourBlocks(): Block[] {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const start = readme.indexOf('\n## A tour\n');
  const end = readme.indexOf('\n## ', start + 1);
  const section = readme.slice(start, end);
  return [...section.matchAll(/```(\w+)\n([\s\S]*?)```/g)].map((m) => ({ lang: m[1] ?? '', code: m[2] ?? '' }));
}

/** One shell block as commands: continuation lines joined, comments and blank lines left out. */
function commandsOf(code: string): string[] {
  return code
    .replace(/\\\n\s*/g, ' ')
    .split('\n')
    .filter((line) => line.trim() !== '' && !line.trim().startsWith('#'));
}

const children = new Set<ChildProcess>();
afterAll(async () => {
  for (const child of children) {
    if (child.exitCode !== null || child.signalCode !== null) continue;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  }
});

function startServer(): Promise<{ url: string; banner: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  child.once('exit', () => children.delete(child));
  const lines: string[] = [];
  return new Promise((resolve, reject) => {
    createInterface({ input: child.stdout }).on('line', (line) => {
      lines.push(line);
      if (line.includes('    token ')) resolve({ url: /Warden listening on (http:\/\/\S+)/.exec(lines.join('\n'))?.[1] ?? '', banner: lines.join('\n') });
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('exit', (code) => reject(new Error(`the server exited with ${code}: ${stderr}`)));
  });
}

/** Runs one command in bash with the tour's variables so far; keeps TOKEN and ADMIN if it sets them. */
function sh(command: string, vars: Record<string, string>, url: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const script = `set -eo pipefail\n${command}\nfor v in TOKEN ADMIN; do if [ -n "\${!v:-}" ]; then printf '%s' "\${!v}" > "${state}/$v"; fi; done\n`;
  const child = spawn('bash', ['-c', script], { cwd: ROOT, env: { ...env, ...vars, WARDEN_URL: url }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve) =>
    child.once('exit', (code) => {
      children.delete(child);
      resolve({ code, stdout, stderr });
    }),
  );
}

function readVar(name: string): string | undefined {
  try {
    return readFileSync(join(state, name), 'utf8');
  } catch {
    return undefined;
  }
}

describe("README's tour, verbatim", () => {
  it('runs every command of the tour against a running server', async () => {
    const blocks = tourBlocks();
    expect(blocks.map((b) => b.lang)).toEqual(['sh', 'ts', 'sh', 'sh']);
    const { url, banner } = await startServer();
    // With real servers the banner says to give npm run token the same database and secret.
    expect(banner).toMatch(/same DATABASE_URL and WARDEN_SECRET/);

    const vars: Record<string, string> = {};
    const ids: Record<string, string> = {};
    const outputs: { command: string; stdout: string }[] = [];
    const runBlock = async (code: string) => {
      for (const raw of commandsOf(code)) {
        const command = raw.replaceAll(README_URL, url).replaceAll('<projectId>', ids.projectId ?? '<projectId>').replaceAll('<jobId>', ids.jobId ?? '<jobId>');
        const result = await sh(command, vars, url);
        expect({ command, code: result.code, stderr: result.stderr }).toEqual({ command, code: 0, stderr: '' });
        for (const name of ['TOKEN', 'ADMIN']) {
          const value = readVar(name);
          if (value) vars[name] = value;
        }
        outputs.push({ command, stdout: result.stdout });
        if (command.includes('/trpc/projects.create')) ids.projectId = (JSON.parse(result.stdout) as { result: { data: { projectId: string } } }).result.data.projectId;
        if (command.includes('/trpc/jobs.submit')) ids.jobId = (JSON.parse(result.stdout) as { result: { data: { jobId: string } } }).result.data.jobId;
      }
    };
    const [first, snippet, curls, inspect] = blocks as [Block, Block, Block, Block];

    // 1. A token, then the example script: project → job → events until ready.
    await runBlock(first.code);
    expect(vars.TOKEN?.split('.')).toHaveLength(3);
    expect(outputs.at(-1)?.stdout).toMatch(/ready/);

    // 2. The typed-client snippet, saved where './src/client.js' resolves, run until its job is ready.
    writeFileSync(snippetFile, snippet.code.replaceAll(README_URL, url));
    const snippetRun = spawn(process.execPath, ['--import', 'tsx', snippetFile], { cwd: ROOT, env: { ...env, TOKEN: vars.TOKEN ?? '' }, stdio: ['ignore', 'pipe', 'pipe'] });
    children.add(snippetRun);
    snippetRun.once('exit', () => children.delete(snippetRun));
    let snippetOut = '';
    let snippetErr = '';
    snippetRun.stderr.on('data', (chunk: Buffer) => (snippetErr += chunk.toString()));
    await new Promise<void>((resolve, reject) => {
      snippetRun.stdout.on('data', (chunk: Buffer) => {
        snippetOut += chunk.toString();
        if (/ ready Build complete!/.test(snippetOut)) resolve();
      });
      snippetRun.once('exit', (code) => (/ ready /.test(snippetOut) ? resolve() : reject(new Error(`snippet exited ${code}: ${snippetErr}`))));
    });
    snippetRun.kill('SIGTERM');
    expect(snippetErr).toBe('');
    expect(snippetOut).toMatch(/^queued 1 /m);

    // 3. Plain JSON over HTTP and server-sent events with curl.
    await runBlock(curls.code);
    const out = (fragment: string) => outputs.find((o) => o.command.includes(fragment))?.stdout ?? '';
    expect(JSON.parse(out('/trpc/usage.get'))).toMatchObject({ result: { data: { jobsUsed: expect.any(Number) as number } } });
    expect(ids.jobId).toMatch(/^[0-9a-f-]{36}$/);
    expect(out('/trpc/jobs.events')).toContain('"status":"ready"');
    expect(JSON.parse(out('/healthz'))).toMatchObject({ status: 'ok' });
    expect(out('/metrics')).toContain('# TYPE');

    // 4. An admin token, and the job followed in the terminal.
    await runBlock(inspect.code);
    expect(vars.ADMIN?.split('.')).toHaveLength(3);
    expect(out('npm run inspect')).toContain(`job ${ids.jobId ?? ''}`);
    expect(out('npm run inspect')).toContain('durable transition log');
  }, 240_000);
});
