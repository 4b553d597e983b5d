import type { Redis } from 'ioredis';
import type { Clock } from '../clock.js';
import { createChannelFanout } from '../redis/channelFanout.js';
import type { Keys } from '../redis/keys.js';
import {
  inspectionBatchSchema,
  inspectionRecordSchema,
  liveActorStateSchema,
  type GoneActor,
  type InspectionBatch,
  type InspectionRecord,
  type InspectorHost,
  type LiveActorState,
} from './inspectionRecord.js';
import { DEFAULT_RING_SIZE } from './inspectionRing.js';

export type BatchListener = (batch: InspectionBatch) => void;

/**
 * Where inspection is shared: per job a bounded ring of records, per process a registry of the actors it
 * hosts (alive while its heartbeat is), and a broadcast of every batch. Two implementations behind this
 * one type, like the hot stores: Redis (any number of processes) and in-process (the embedded default).
 * Both pass the same tests (test/integration/inspector.test.ts).
 */
export interface InspectionStore {
  readonly kind: 'redis' | 'memory';
  /** Records kept per job; older ones are dropped as newer ones arrive. */
  readonly ringSize: number;
  /** Appends the records to their jobs' rings, applies the host's registry changes, publishes the batch. */
  write(batch: InspectionBatch): Promise<void>;
  /** Keeps the host (and so its actors) alive for the store's host TTL from now. */
  heartbeat(host: string): Promise<void>;
  /** A host shutting down cleanly: its actors disappear now (published as gone) instead of at expiry. */
  removeHost(host: string, reason: string): Promise<void>;
  /** The job's ring, oldest first. */
  ring(jobId: string): Promise<InspectionRecord[]>;
  /** The actors of every host whose heartbeat has not run out (by the injected clock). */
  liveActors(): Promise<LiveActorState[]>;
  /** The job's live actor (the latest updated, should two hosts list it), or null. */
  liveActor(jobId: string): Promise<LiveActorState | null>;
  hosts(): Promise<InspectorHost[]>;
  /** Resolves once batches are being received. */
  subscribe(listener: BatchListener): Promise<() => Promise<void>>;
  close(): Promise<void>;
}

export interface InspectionStoreOptions {
  clock: Clock;
  ringSize?: number;
  /** How long a job's ring stays after its last record (default 6 h). */
  ringTtlMs?: number;
  /** How long a host counts as alive after a heartbeat (default 15 s). */
  hostTtlMs?: number;
  onError?: (error: unknown) => void;
}

export const DEFAULT_RING_TTL_MS = 6 * 3_600_000;
export const DEFAULT_HOST_TTL_MS = 15_000;
/** Items (records, upserts, removals) per published message, so one huge flush is several messages. */
export const MAX_BATCH_ITEMS = 500;

/** The most recently updated of several entries for one job, or null. */
export function latest(actors: LiveActorState[]): LiveActorState | null {
  return actors.reduce<LiveActorState | null>((best, a) => (best === null || a.updatedAt > best.updatedAt ? a : best), null);
}

/** Splits a batch into messages of at most `max` items, in order. */
export function chunkBatch(batch: InspectionBatch, max = MAX_BATCH_ITEMS): InspectionBatch[] {
  const total = batch.records.length + batch.upserts.length + batch.gone.length;
  if (total <= max) return [batch];
  const chunks: InspectionBatch[] = [];
  let current: InspectionBatch = { host: batch.host, records: [], upserts: [], gone: [] };
  let size = 0;
  const room = () => {
    if (size < max) return;
    chunks.push(current);
    current = { host: batch.host, records: [], upserts: [], gone: [] };
    size = 0;
  };
  for (const record of batch.records) {
    room();
    current.records.push(record);
    size++;
  }
  for (const upsert of batch.upserts) {
    room();
    current.upserts.push(upsert);
    size++;
  }
  for (const gone of batch.gone) {
    room();
    current.gone.push(gone);
    size++;
  }
  if (size > 0) chunks.push(current);
  return chunks;
}

/**
 * The InspectionStore on Redis. A job's ring is a list capped with RPUSH + LTRIM (newest last) and a TTL;
 * a host's registry is a hash (job id → JSON) expiring with its heartbeat, and the hosts sorted set is
 * scored by heartbeat expiry so that readers judge liveness by the injected clock. Batches go out on
 * one pub/sub channel. Everything read back is validated with zod; a bad entry is reported and skipped.
 */
export function createRedisInspectionStore(
  options: InspectionStoreOptions & { redis: Redis; keys: Keys; connectSubscriber: () => Redis; ownsSubscriber?: boolean },
): InspectionStore {
  const { redis, keys, clock } = options;
  const ringSize = options.ringSize ?? DEFAULT_RING_SIZE;
  const ringTtlMs = options.ringTtlMs ?? DEFAULT_RING_TTL_MS;
  const hostTtlMs = options.hostTtlMs ?? DEFAULT_HOST_TTL_MS;
  const onError = options.onError ?? ((error: unknown) => process.emitWarning(`inspection store: ${String(error)}`));
  const channel = keys.inspection();
  const fanout = createChannelFanout({
    channel,
    schema: inspectionBatchSchema,
    connectSubscriber: options.connectSubscriber,
    onError,
    name: 'inspection store',
    ownsConnection: options.ownsSubscriber ?? true,
  });

  const publish = (pipe: ReturnType<Redis['pipeline']>, batch: InspectionBatch) => {
    for (const chunk of chunkBatch(batch)) pipe.publish(channel, JSON.stringify(chunk));
  };

  const exec = async (pipe: ReturnType<Redis['pipeline']>) => {
    const results = (await pipe.exec()) ?? [];
    const failed = results.find(([error]) => error !== null);
    if (failed?.[0]) throw failed[0];
  };

  const parseEach = <T>(raws: string[], parse: (value: unknown) => T): T[] => {
    const out: T[] = [];
    for (const raw of raws) {
      try {
        out.push(parse(JSON.parse(raw)));
      } catch (error) {
        onError(error);
      }
    }
    return out;
  };

  const aliveHosts = async (): Promise<[string, number][]> => {
    const now = clock.now();
    const flat = await redis.zrangebyscore(keys.inspectionHosts(), `(${now}`, '+inf', 'WITHSCORES');
    const hosts: [string, number][] = [];
    for (let i = 0; i + 1 < flat.length; i += 2) hosts.push([flat[i] ?? '', Number(flat[i + 1])]);
    return hosts;
  };

  return {
    kind: 'redis',
    ringSize,
    async write(batch) {
      const pipe = redis.pipeline();
      const byJob = new Map<string, string[]>();
      for (const record of batch.records) {
        const list = byJob.get(record.jobId) ?? [];
        list.push(JSON.stringify(record));
        byJob.set(record.jobId, list);
      }
      for (const [jobId, encoded] of byJob) {
        const key = keys.inspectionRing(jobId);
        pipe.rpush(key, ...encoded).ltrim(key, -ringSize, -1).pexpire(key, ringTtlMs);
      }
      const actorsKey = keys.inspectionActors(batch.host);
      if (batch.upserts.length > 0) {
        pipe.hset(actorsKey, Object.fromEntries(batch.upserts.map((actor) => [actor.jobId, JSON.stringify(actor)])));
        pipe.pexpire(actorsKey, hostTtlMs);
      }
      if (batch.gone.length > 0) pipe.hdel(actorsKey, ...batch.gone.map((g) => g.jobId));
      publish(pipe, batch);
      await exec(pipe);
    },
    async heartbeat(host) {
      const now = clock.now();
      await exec(
        redis
          .pipeline()
          .zadd(keys.inspectionHosts(), now + hostTtlMs, host)
          .pexpire(keys.inspectionActors(host), hostTtlMs)
          // Hosts dead for long are forgotten; their hashes have expired already.
          .zremrangebyscore(keys.inspectionHosts(), '-inf', now - 100 * hostTtlMs),
      );
    },
    async removeHost(host, reason) {
      const key = keys.inspectionActors(host);
      const jobIds = await redis.hkeys(key);
      const pipe = redis.pipeline().zrem(keys.inspectionHosts(), host).del(key);
      if (jobIds.length > 0) publish(pipe, { host, records: [], upserts: [], gone: jobIds.map((jobId): GoneActor => ({ jobId, host, reason })) });
      await exec(pipe);
    },
    async ring(jobId) {
      const raws = await redis.lrange(keys.inspectionRing(jobId), 0, -1);
      return parseEach(raws, (value) => inspectionRecordSchema.parse(value));
    },
    async liveActors() {
      const hosts = await aliveHosts();
      if (hosts.length === 0) return [];
      const pipe = redis.pipeline();
      for (const [host] of hosts) pipe.hvals(keys.inspectionActors(host));
      const results = (await pipe.exec()) ?? [];
      const actors: LiveActorState[] = [];
      for (const [error, values] of results) {
        if (error) throw error;
        actors.push(...parseEach(values as string[], (value) => liveActorStateSchema.parse(value)));
      }
      return actors;
    },
    async liveActor(jobId) {
      const hosts = await aliveHosts();
      if (hosts.length === 0) return null;
      const pipe = redis.pipeline();
      for (const [host] of hosts) pipe.hget(keys.inspectionActors(host), jobId);
      const results = (await pipe.exec()) ?? [];
      const found = parseEach(
        results.flatMap(([error, value]) => (error === null && typeof value === 'string' ? [value] : [])),
        (value) => liveActorStateSchema.parse(value),
      );
      return latest(found);
    },
    async hosts() {
      const hosts = await aliveHosts();
      const pipe = redis.pipeline();
      for (const [host] of hosts) pipe.hlen(keys.inspectionActors(host));
      const counts = (await pipe.exec()) ?? [];
      return hosts.map(([host, expiresAt], i) => ({ host, expiresAt, actors: Number(counts[i]?.[1] ?? 0) }));
    },
    subscribe: (listener) => fanout.subscribe(listener),
    close: () => fanout.close(),
  };
}
