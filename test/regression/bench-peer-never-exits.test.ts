/**
 * `npm run bench -- jobs peer` printed its table and then never exited: the peer scenario gave BullMQ's
 * Worker a Redis connection of its own making, and BullMQ never closes a connection it was given. The
 * harness must end by itself once its scenarios are done (here the peer alone, at --quick counts).
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { TEST_DATABASE_URL, TEST_REDIS_URL } from '../setup/services.js';

describe('npm run bench -- peer --quick', () => {
  it('exits 0 by itself after its table', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'bench/run.ts', 'peer', '--quick'], {
      env: { ...process.env, REDIS_URL: TEST_REDIS_URL, DATABASE_URL: TEST_DATABASE_URL },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    // A hang is caught by vitest's test timeout; the child is not left behind.
    const killer = setTimeout(() => child.kill('SIGKILL'), 55_000);
    const [code] = (await once(child, 'exit')) as [number | null];
    clearTimeout(killer);
    expect(output).toContain('bullmq jobs/s (trivial)');
    expect(code).toBe(0);
  }, 60_000);
});
