/**
 * The Warden server of `npm run soak`, in its own process so that its memory is measured alone (the
 * load generator's allocations would otherwise be in the same heap).
 *
 *   env: DATABASE_URL, REDIS_URL, SOAK_SCHEMA, SOAK_KEY_PREFIX, SOAK_USERS, SOAK_SAMPLE_MS
 *   IPC out: { ready, url, tokens }, then { sample } every SOAK_SAMPLE_MS; IPC in: 'stop' (closes, exits),
 *   { snapshot: path } (writes a V8 heap snapshot there after a full GC, answers { snapshotWritten }).
 *
 * A full collection before each sample makes heapUsed the live heap, not the live heap plus whatever
 * garbage the last minor collections left, so the slope shows retention. (`gc` is obtained through V8
 * flags at run time: `--expose-gc` on the command line would be inherited, and refused, by the risk
 * scan's worker threads.)
 */
import { randomBytes } from 'node:crypto';
import { setFlagsFromString, writeHeapSnapshot } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { z } from 'zod';
import { createApp } from '../../src/app.js';
import { secretKey, signToken } from '../../src/auth/tokens.js';
import { systemClock } from '../../src/clock.js';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/log.js';

const env = z
  .object({
    DATABASE_URL: z.string(),
    REDIS_URL: z.string(),
    SOAK_SCHEMA: z.string(),
    SOAK_KEY_PREFIX: z.string(),
    SOAK_USERS: z.coerce.number().int().positive(),
    SOAK_SAMPLE_MS: z.coerce.number().int().positive(),
  })
  .parse(process.env);

/** One memory sample of this process. */
export interface SoakSample {
  atMs: number;
  rss: number;
  heapUsed: number;
  heapTotal: number;
  external: number;
}

const secret = randomBytes(24).toString('base64url');
const config = loadConfig({
  DATABASE_URL: env.DATABASE_URL,
  REDIS_URL: env.REDIS_URL,
  WARDEN_KEY_PREFIX: env.SOAK_KEY_PREFIX,
  WARDEN_SECRET: secret,
  WARDEN_WORKERS: '4',
  WARDEN_STEP_MS: '20',
  WARDEN_CHECKS_FAIL_RATE: '0.3',
  WARDEN_QUEUE_CAP: '100000',
  WARDEN_RISK_SCAN_SECONDS: '30',
  // Steady load for minutes: the daily quota must not turn submits into scheduled jobs.
  WARDEN_TIERS: JSON.stringify({ cto_scale: { dailyJobs: 10_000_000 } }),
  LOG_LEVEL: 'silent',
});
const app = await createApp(config, { schema: env.SOAK_SCHEMA, log: createLogger({ level: 'silent' }) });
const { url } = await app.listen(0, '127.0.0.1');

const tokens: string[] = [];
for (let i = 0; i < env.SOAK_USERS; i++) {
  const row = await app.services.usersRepository.upsertUser({ id: `soak-${i}`, tier: 'cto_scale', now: systemClock.now() });
  tokens.push(await signToken(secretKey(secret), { userId: row.id, tokenVersion: row.tokenVersion, ttlSeconds: 86_400, clock: systemClock }));
}

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as (() => void) | undefined;
const sample = (): SoakSample => {
  gc?.();
  const m = process.memoryUsage();
  return { atMs: Date.now(), rss: m.rss, heapUsed: m.heapUsed, heapTotal: m.heapTotal, external: m.external };
};
const timer = setInterval(() => process.send?.({ sample: sample() }), env.SOAK_SAMPLE_MS);
process.send?.({ ready: true, url, tokens, gc: gc !== undefined });

const snapshotRequest = z.object({ snapshot: z.string() });
process.on('message', (message) => {
  const request = snapshotRequest.safeParse(message);
  if (request.success) {
    gc?.();
    process.send?.({ snapshotWritten: writeHeapSnapshot(request.data.snapshot) });
    return;
  }
  if (message !== 'stop') return;
  clearInterval(timer);
  void app.close().then(() => process.exit(0));
});
// The parent gone (killed): leave too, rather than soak forever.
process.on('disconnect', () => {
  clearInterval(timer);
  void app.close().then(() => process.exit(0));
});
