/**
 * `api`: how close Warden's tRPC server gets to a bare node:http handler.
 *
 * A child process serves the same usage.get answer three ways (bench/lib/apiServers.ts): a bare handler,
 * Warden (fast path: the default), and Warden through tRPC's stock Node adapter. This process, on the
 * other core, drives each with the same closed-loop keep-alive load, then measures typed calls through
 * the real client (createWardenClient: httpBatchLink batches the calls issued in one tick).
 *
 * Run alone: `npx tsx bench/scenarios/api.ts` (REDIS_URL / DATABASE_URL / BENCH_SCALE as in bench/lib).
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { createWardenClient } from '../../src/client.js';
import { runHttpLoad } from '../lib/httpLoad.js';
import { isMain, runStandalone, type BenchContext, type Metric, type Scenario } from '../lib/scenario.js';

const CONCURRENCY = 32;
const serversReady = z.object({ bareUrl: z.url(), fastUrl: z.url(), stockUrl: z.url(), token: z.string() });

export const apiScenario: Scenario = {
  name: 'api',
  description: 'tRPC request rate (usage.get over HTTP) against a bare node:http handler, and typed batched calls/s',
  async run(ctx: BenchContext): Promise<Metric[]> {
    const durationMs = Math.max(500, Math.round(4_000 * ctx.scale));
    const maxRequests = Math.max(2_000, Math.round(400_000 * ctx.scale));
    const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('../lib/apiServers.ts', import.meta.url))], {
      env: { ...process.env, REDIS_URL: ctx.redisUrl, DATABASE_URL: ctx.databaseUrl },
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    try {
      const firstLine = await new Promise<string>((resolve, reject) => {
        createInterface({ input: child.stdout }).once('line', resolve);
        child.once('exit', (code) => reject(new Error(`api servers exited early (code ${code})`)));
      });
      const { bareUrl, fastUrl, stockUrl, token } = serversReady.parse(JSON.parse(firstLine));
      const headers = { authorization: `Bearer ${token}` };

      const measure = async (label: string, base: string) => {
        const url = `${base}/trpc/usage.get`;
        ctx.progress(`${label}: warming up`);
        await runHttpLoad({ url, headers, concurrency: CONCURRENCY, durationMs: Math.min(1_000, durationMs) });
        ctx.progress(`${label}: ${durationMs} ms at ${CONCURRENCY} connections`);
        const result = await runHttpLoad({ url, headers, concurrency: CONCURRENCY, durationMs, maxRequests });
        if (result.failures > 0) throw new Error(`${label}: ${result.failures} of ${result.requests} requests failed`);
        return result.requestsPerSecond;
      };
      const bare = await measure('bare node:http', bareUrl);
      const warden = await measure('warden usage.get', fastUrl);
      const stock = await measure('stock tRPC adapter', stockUrl);

      ctx.progress(`typed client: ${durationMs} ms, ${CONCURRENCY} calls in flight`);
      const client = createWardenClient({ url: fastUrl, token });
      await client.usage.get.query();
      let calls = 0;
      const deadline = performance.now() + durationMs;
      const t0 = performance.now();
      await Promise.all(
        Array.from({ length: CONCURRENCY }, async () => {
          while (performance.now() < deadline && calls < maxRequests) {
            await client.usage.get.query();
            calls++;
          }
        }),
      );
      const typedCallsPerSecond = calls / ((performance.now() - t0) / 1000);

      return [
        { name: 'bare node:http requests/s', value: bare, unit: 'req/s', better: 'higher' },
        { name: 'warden usage.get requests/s', value: warden, unit: 'req/s', better: 'higher' },
        { name: 'stock tRPC adapter requests/s', value: stock, unit: 'req/s', better: 'higher' },
        {
          name: 'warden / bare',
          value: warden / bare,
          unit: '×',
          better: 'higher',
          target: { op: '>=', value: 0.25, label: 'API target' },
        },
        { name: 'stock tRPC / bare', value: stock / bare, unit: '×', better: 'higher' },
        {
          name: 'typed client batched calls/s',
          value: typedCallsPerSecond,
          unit: 'calls/s',
          better: 'higher',
          target: { op: '>=', value: 20_000, label: 'performance target' },
        },
      ];
    } finally {
      child.stdin.end();
      await new Promise((resolve) => {
        if (child.exitCode !== null) resolve(undefined);
        else child.once('exit', resolve);
      });
    }
  },
};

export default apiScenario;

if (isMain(import.meta.url)) await runStandalone(apiScenario);
