import type { Redis } from 'ioredis';
import { z } from 'zod';
import type { Clock } from '../clock.js';
import type { Keys } from './keys.js';
import { loadScripts } from './luaScripts.js';
import { assertCount, assertId } from './storeArgs.js';

/** Who holds a pair of slots: a job, for one user and one project. */
export interface SlotClaim {
  /** The job id. */
  holder: string;
  userId: string;
  projectId: string;
}

export interface AcquireInput extends SlotClaim {
  userLimit: number;
  projectLimit: number;
  leaseMs: number;
}

export type AcquireResult = { acquired: true } | { acquired: false; full: 'user' | 'project' };

export interface SlotHolder {
  holder: string;
  /** When the lease runs out (ms) unless renewed. */
  expiresAt: number;
}

/**
 * Concurrency slots as leases (SPEC §3): a job runs only with both its user's and its project's slot,
 * renews them by heartbeat, and a holder that stops renewing loses them once the lease has run out —
 * no leaked slots. Lease expiry is compared with the injected clock, never the server's time.
 */
export interface SlotStore {
  /** Both slots or neither. Acquiring again as the same holder renews the lease. */
  acquire(input: AcquireInput): Promise<AcquireResult>;
  /** Renews both leases while both are still held; false when the lease was lost (then neither is held). */
  heartbeat(claim: SlotClaim & { leaseMs: number }): Promise<boolean>;
  /** Frees both slots; true when the holder held any. */
  release(claim: SlotClaim): Promise<boolean>;
  /** The live holders of a user's or a project's slots. */
  holders(kind: 'user' | 'project', id: string): Promise<SlotHolder[]>;
}

export function assertClaim(claim: SlotClaim): void {
  assertId('holder', claim.holder);
  assertId('userId', claim.userId);
  assertId('projectId', claim.projectId);
}

const acquireReplySchema = z.union([z.literal(1), z.literal(0), z.literal(-1)]);

/** The SlotStore on Redis: one sorted set per user and per project, scored by lease expiry. */
export function createRedisSlotStore(redis: Redis, keys: Keys, clock: Clock): SlotStore {
  const scripts = loadScripts(redis);
  const slotKeys = (claim: SlotClaim): [string, string] => [keys.userSlots(claim.userId), keys.projectSlots(claim.projectId)];
  return {
    async acquire(input) {
      assertClaim(input);
      assertCount('userLimit', input.userLimit);
      assertCount('projectLimit', input.projectLimit);
      assertCount('leaseMs', input.leaseMs, 1);
      const now = clock.now();
      const reply = acquireReplySchema.parse(
        await scripts.acquireSlots(slotKeys(input), [input.holder, input.userLimit, input.projectLimit, now, now + input.leaseMs]),
      );
      if (reply === 1) return { acquired: true };
      return { acquired: false, full: reply === 0 ? 'user' : 'project' };
    },

    async heartbeat(claim) {
      assertClaim(claim);
      assertCount('leaseMs', claim.leaseMs, 1);
      const now = clock.now();
      const reply = await scripts.heartbeatSlots(slotKeys(claim), [claim.holder, now, now + claim.leaseMs]);
      return z.union([z.literal(0), z.literal(1)]).parse(reply) === 1;
    },

    async release(claim) {
      assertClaim(claim);
      const [userKey, projectKey] = slotKeys(claim);
      const results = await redis.multi().zrem(userKey, claim.holder).zrem(projectKey, claim.holder).exec();
      return (results ?? []).some(([, removed]) => removed === 1);
    },

    async holders(kind, id) {
      assertId('id', id);
      const key = kind === 'user' ? keys.userSlots(id) : keys.projectSlots(id);
      const flat = await redis.zrangebyscore(key, `(${clock.now()}`, '+inf', 'WITHSCORES');
      const out: SlotHolder[] = [];
      for (let i = 0; i + 1 < flat.length; i += 2) out.push({ holder: flat[i] ?? '', expiresAt: Number(flat[i + 1]) });
      return out;
    },
  };
}
