import type { ClaimStore } from './claimStore.js';
import type { ControlChannel } from './controlChannel.js';
import type { EstimatorStore } from './estimatorStore.js';
import type { JobEventFeed } from './jobEventFeed.js';
import type { QueueStore } from './queueStore.js';
import type { QuotaStore } from './quotaStore.js';
import type { RunnerRegistry } from './runnerRegistry.js';
import type { TokenStore } from './tokenStore.js';
import type { TransitionStore } from './transitionStore.js';

/**
 * Everything Warden keeps hot, behind one type with two implementations: Redis (createRedisStores, for
 * any number of processes) and the in-process stand-in (createMemoryStores, the embedded single-process
 * default). Both pass the same contract tests (test/contract/*.contract.test.ts). All of it is a copy:
 * PostgreSQL is the record, and src/jobs/hotStateRebuild.ts rebuilds what matters from it.
 */
export interface HotStores {
  readonly kind: 'redis' | 'memory';
  readonly transitions: TransitionStore;
  readonly events: JobEventFeed;
  readonly quotas: QuotaStore;
  readonly tokens: TokenStore;
  readonly queue: QueueStore;
  /** Jobs held by workers, with their user and project slots, as leases (SPEC §3). */
  readonly claims: ClaimStore;
  /** Messages between processes: fail requests (cancel, max age) and wake-ups. */
  readonly control: ControlChannel;
  readonly estimator: EstimatorStore;
  /** Live processes' job runners: the wait estimate's `workers` and idle runners. */
  readonly runners: RunnerRegistry;
  /**
   * The id of the last rebuild of this hot state from PostgreSQL. Missing (or not the id a process saw)
   * means the hot state was lost — Redis restarted empty, or this is a fresh stand-in — and must be
   * rebuilt from the record (src/jobs/hotStateRebuild.ts).
   */
  readonly epoch: { read(): Promise<string | null>; write(id: string): Promise<void> };
  /** True when the store answers (for /healthz); never throws, never hangs past its timeout. */
  ping(): Promise<boolean>;
  /** Ends subscriptions and closes the connections the stores own. Idempotent. */
  close(): Promise<void>;
}
