/**
 * Child process of the `api` bench scenario: serves the same answer three ways so that the load
 * generator (in the parent, on the other core) measures servers, not itself:
 * - a bare node:http handler writing the JSON that usage.get answers,
 * - Warden with its fast path (the default),
 * - Warden through tRPC's stock Node adapter only.
 * Both Warden apps use the real Redis and PostgreSQL (a schema and key prefix of their own, removed on
 * exit). Prints one JSON line with the URLs and a token, then serves until stdin closes.
 */
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import postgres from 'postgres';
import { createApp } from '../../src/app.js';
import { secretKey, signToken } from '../../src/auth/tokens.js';
import { systemClock } from '../../src/clock.js';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/log.js';
import { createRedis } from '../../src/redis/client.js';
import { deleteByPrefix } from '../../src/redis/deleteByPrefix.js';

const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const databaseUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const secret = 'bench-secret-0123456789abcdefghij';
const id = randomUUID().slice(0, 8);
const schema = `bench_api_${id}`;
const keyPrefix = `bench:api:${id}:`;

const admin = postgres(databaseUrl, { max: 1, onnotice: () => {} });
await admin`create schema ${admin(schema)}`;
const config = loadConfig({
  DATABASE_URL: databaseUrl,
  REDIS_URL: redisUrl,
  WARDEN_KEY_PREFIX: keyPrefix,
  WARDEN_SECRET: secret,
  LOG_LEVEL: 'silent',
});
const log = createLogger({ level: 'silent' });
const fast = await createApp(config, { schema, log });
const stock = await createApp(config, { schema, log, fastPath: false, migrate: false });
await fast.services.usersRepository.upsertUser({ id: 'bench', tier: 'partner', now: systemClock.now() });
const token = await signToken(secretKey(secret), { userId: 'bench', ttlSeconds: 3600, clock: systemClock });
const sample = await fast.services.stores.quotas.usage('bench', 50);

// The bare baseline answers exactly what usage.get answers (same bytes on the wire).
const payload = {
  jobsUsed: sample.used,
  jobsRemaining: sample.remaining,
  iterationsUsed: 0,
  iterationsRemaining: 9,
  iterationsBeforeConfirmation: 3,
  dailyLimitResetsAt: new Date(sample.resetsAt).toISOString(),
};
const bare = createServer((_req, res) => {
  const body = JSON.stringify({ result: { data: payload } });
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
});
await new Promise<void>((resolve) => bare.listen(0, '127.0.0.1', resolve));
const bareUrl = `http://127.0.0.1:${(bare.address() as AddressInfo).port}`;
const fastUrl = (await fast.listen(0, '127.0.0.1')).url;
const stockUrl = (await stock.listen(0, '127.0.0.1')).url;
process.stdout.write(`${JSON.stringify({ bareUrl, fastUrl, stockUrl, token })}\n`);

const shutdown = async () => {
  bare.close();
  await Promise.all([fast.close(), stock.close()]);
  const redis = createRedis(redisUrl);
  await deleteByPrefix(redis, keyPrefix);
  redis.disconnect();
  await admin`drop schema if exists ${admin(schema)} cascade`;
  await admin.end({ timeout: 5 });
  process.exit(0);
};
process.stdin.on('end', () => void shutdown());
process.stdin.on('close', () => void shutdown());
process.stdin.resume();
