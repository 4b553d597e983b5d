import type { Clock } from '../clock.js';
import type { Sql } from '../db/client.js';
import { createJobsRepository } from '../db/jobsRepository.js';
import type { HttpRoute } from '../http/createHttpServer.js';
import type { Logger } from '../log.js';
import type { RedisConnections } from '../redis/redisConnections.js';
import { createInspector, type Inspector } from './createInspector.js';
import { createRedisInspectionStore, type InspectionStore } from './inspectionStore.js';
import { createInspectorRoute } from './inspectorRoute.js';
import { createInspectorService, type InspectorService } from './inspectorService.js';
import { createMemoryInspectionStore } from './memoryInspectionStore.js';

export interface AppInspectorOptions {
  /** This process's name on records and in the registry; give the job runtime the same one. */
  processId?: string;
  ringSize?: number;
  ringTtlMs?: number;
  hostTtlMs?: number;
  heartbeatMs?: number;
  flushMs?: number;
}

/** The inspector of one Warden process: collector, store, read service and page. */
export interface AppInspector {
  /** The runtime's seam: `inspect`, `track`, `untrack` (see createInspector.ts). */
  readonly inspector: Inspector;
  readonly service: InspectorService;
  readonly store: InspectionStore;
  /** `/inspector/`, for the HTTP server's routes. */
  readonly route: HttpRoute;
  /** First heartbeat, then one every heartbeatMs. */
  start(): Promise<void>;
  /** Flushes, removes this process's actors, closes the store and its connections. Idempotent. */
  close(): Promise<void>;
}

/**
 * Builds the inspector from what createApp has: with Redis it shares over the process' connections
 * (and key prefix), with the in-process stand-in it stays in process. Build it before the job
 * runtime, whose actors take `inspector.inspect`.
 */
export function createAppInspector(
  deps: { redis: Pick<RedisConnections, 'commands' | 'subscriber' | 'keys'> | null; sql: Sql; clock: Clock; log?: Logger },
  options: AppInspectorOptions = {},
): AppInspector {
  const { clock, log } = deps;
  const onError = (err: unknown) => log?.warn({ err }, 'inspection store error');
  const shared = {
    clock,
    onError,
    ...(options.ringSize === undefined ? {} : { ringSize: options.ringSize }),
    ...(options.ringTtlMs === undefined ? {} : { ringTtlMs: options.ringTtlMs }),
    ...(options.hostTtlMs === undefined ? {} : { hostTtlMs: options.hostTtlMs }),
  };
  let store: InspectionStore;
  const { redis } = deps;
  if (redis) {
    store = createRedisInspectionStore({ ...shared, redis: redis.commands, keys: redis.keys, connectSubscriber: () => redis.subscriber, ownsSubscriber: false });
  } else {
    store = createMemoryInspectionStore(shared);
  }
  const inspector = createInspector({
    store,
    clock,
    ...(options.processId === undefined ? {} : { processId: options.processId }),
    ...(options.heartbeatMs === undefined ? {} : { heartbeatMs: options.heartbeatMs }),
    ...(options.flushMs === undefined ? {} : { flushMs: options.flushMs }),
    onError: (err, context) => log?.warn({ err, during: context.during }, 'inspector error'),
  });
  const service = createInspectorService({ store, jobs: createJobsRepository(deps.sql), clock });
  let closing: Promise<void> | undefined;
  return {
    inspector,
    service,
    store,
    route: createInspectorRoute(),
    start: () => inspector.start(),
    close() {
      closing ??= (async () => {
        await inspector.close();
        await store.close();
      })();
      return closing;
    },
  };
}
