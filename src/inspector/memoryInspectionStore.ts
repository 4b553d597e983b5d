import type { InspectionBatch, InspectionRecord, LiveActorState } from './inspectionRecord.js';
import { DEFAULT_RING_SIZE, InspectionRing } from './inspectionRing.js';
import {
  chunkBatch,
  DEFAULT_HOST_TTL_MS,
  DEFAULT_RING_TTL_MS,
  latest,
  type BatchListener,
  type InspectionStore,
  type InspectionStoreOptions,
} from './inspectionStore.js';

/** Rings kept at most by the in-process store; the least recently written go first. */
export const DEFAULT_MAX_RINGS = 10_000;

interface RingEntry {
  ring: InspectionRing<InspectionRecord>;
  expiresAt: number;
}

interface HostEntry {
  expiresAt: number;
  actors: Map<string, LiveActorState>;
}

/**
 * The in-process InspectionStore (the embedded, single-process default): rings are InspectionRing
 * buffers, hosts a map with the same heartbeat expiry as on Redis. Rings expire by the clock and their
 * number is capped (`maxRings`), so memory stays bounded however many jobs pass. Batches are delivered
 * on a microtask, as pub/sub delivers them, never inside the writer's call.
 */
export function createMemoryInspectionStore(options: InspectionStoreOptions & { maxRings?: number }): InspectionStore {
  const { clock } = options;
  const ringSize = options.ringSize ?? DEFAULT_RING_SIZE;
  const ringTtlMs = options.ringTtlMs ?? DEFAULT_RING_TTL_MS;
  const hostTtlMs = options.hostTtlMs ?? DEFAULT_HOST_TTL_MS;
  const maxRings = options.maxRings ?? DEFAULT_MAX_RINGS;
  const onError = options.onError ?? ((error: unknown) => process.emitWarning(`inspection store: ${String(error)}`));
  const rings = new Map<string, RingEntry>();
  const hosts = new Map<string, HostEntry>();
  const listeners = new Set<BatchListener>();
  let closed = false;

  const publish = (batch: InspectionBatch) => {
    for (const chunk of chunkBatch(batch)) {
      queueMicrotask(() => {
        for (const listener of [...listeners]) {
          try {
            listener(chunk);
          } catch (error) {
            onError(error);
          }
        }
      });
    }
  };

  const hostEntry = (host: string): HostEntry => {
    let entry = hosts.get(host);
    if (!entry) {
      // A host that writes before its first heartbeat counts as alive for one TTL, as on Redis.
      entry = { expiresAt: clock.now() + hostTtlMs, actors: new Map() };
      hosts.set(host, entry);
    }
    return entry;
  };

  const alive = (): [string, HostEntry][] => {
    const now = clock.now();
    return [...hosts].filter(([, entry]) => entry.expiresAt > now);
  };

  return {
    kind: 'memory',
    ringSize,
    async write(batch) {
      if (closed) throw new Error('inspection store is closed');
      const now = clock.now();
      for (const record of batch.records) {
        let entry = rings.get(record.jobId);
        if (entry) rings.delete(record.jobId);
        else entry = { ring: new InspectionRing(ringSize), expiresAt: 0 };
        entry.ring.push(record);
        entry.expiresAt = now + ringTtlMs;
        // Re-inserted: the map's order is least recently written first.
        rings.set(record.jobId, entry);
      }
      for (const [jobId, entry] of rings) {
        if (rings.size <= maxRings && entry.expiresAt > now) break;
        rings.delete(jobId);
      }
      if (batch.upserts.length > 0 || batch.gone.length > 0) {
        const entry = hostEntry(batch.host);
        for (const actor of batch.upserts) entry.actors.set(actor.jobId, actor);
        for (const gone of batch.gone) entry.actors.delete(gone.jobId);
      }
      publish(batch);
    },
    async heartbeat(host) {
      hostEntry(host).expiresAt = clock.now() + hostTtlMs;
    },
    async removeHost(host, reason) {
      const entry = hosts.get(host);
      hosts.delete(host);
      if (entry && entry.actors.size > 0) {
        publish({ host, records: [], upserts: [], gone: [...entry.actors.keys()].map((jobId) => ({ jobId, host, reason })) });
      }
    },
    async ring(jobId) {
      const entry = rings.get(jobId);
      if (!entry || entry.expiresAt <= clock.now()) return [];
      return entry.ring.toArray();
    },
    async liveActors() {
      return alive().flatMap(([, entry]) => [...entry.actors.values()]);
    },
    async liveActor(jobId) {
      return latest(alive().flatMap(([, entry]) => entry.actors.get(jobId) ?? []));
    },
    async hosts() {
      return alive().map(([host, entry]) => ({ host, expiresAt: entry.expiresAt, actors: entry.actors.size }));
    },
    async subscribe(listener) {
      if (closed) throw new Error('inspection store is closed');
      listeners.add(listener);
      return async () => {
        listeners.delete(listener);
      };
    },
    async close() {
      closed = true;
      listeners.clear();
    },
  };
}
