import type { Clock } from '../../clock.js';
import type { SlotHolder } from '../claimStore.js';
import { assertCount, assertId } from '../storeArgs.js';
import { atomically } from './atomically.js';

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

/**
 * The stand-in's concurrency slots as leases (SPEC §3), under its ClaimStore; on Redis the same rules
 * live inside the claim scripts (claimJob.lua, renewClaim.lua, releaseClaim.lua): a job runs only with both its user's and its project's slot,
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

/** The stand-in's SlotStore: holder → lease expiry per user and per project, the rules of claimJob.lua. */
export function createMemorySlotStore(clock: Clock): SlotStore {
  const users = new Map<string, Map<string, number>>();
  const projects = new Map<string, Map<string, number>>();

  const leases = (table: Map<string, Map<string, number>>, id: string): Map<string, number> => {
    let set = table.get(id);
    if (!set) {
      set = new Map();
      table.set(id, set);
    }
    return set;
  };
  /** Drops leases expiring at or before `now`, and the set itself once empty (as Redis does). */
  const live = (table: Map<string, Map<string, number>>, id: string, now: number): Map<string, number> => {
    const set = leases(table, id);
    for (const [holder, expiresAt] of set) if (expiresAt <= now) set.delete(holder);
    return set;
  };
  const prune = (table: Map<string, Map<string, number>>, id: string) => {
    if (table.get(id)?.size === 0) table.delete(id);
  };
  const others = (set: Map<string, number>, holder: string) => set.size - (set.has(holder) ? 1 : 0);

  return {
    acquire: (input) =>
      atomically(() => {
        assertClaim(input);
        assertCount('userLimit', input.userLimit);
        assertCount('projectLimit', input.projectLimit);
        assertCount('leaseMs', input.leaseMs, 1);
        const now = clock.now();
        const user = live(users, input.userId, now);
        const project = live(projects, input.projectId, now);
        // The same order of checks as claimJob.lua: the user's slots first.
        let full: 'user' | 'project' | null = null;
        if (others(user, input.holder) >= input.userLimit) full = 'user';
        else if (others(project, input.holder) >= input.projectLimit) full = 'project';
        if (full === null) {
          user.set(input.holder, now + input.leaseMs);
          project.set(input.holder, now + input.leaseMs);
        }
        prune(users, input.userId);
        prune(projects, input.projectId);
        return full === null ? { acquired: true as const } : { acquired: false as const, full };
      }),

    heartbeat: (claim) =>
      atomically(() => {
        assertClaim(claim);
        assertCount('leaseMs', claim.leaseMs, 1);
        const now = clock.now();
        const user = leases(users, claim.userId);
        const project = leases(projects, claim.projectId);
        const held = [user, project].every((set) => (set.get(claim.holder) ?? -Infinity) > now);
        if (held) {
          user.set(claim.holder, now + claim.leaseMs);
          project.set(claim.holder, now + claim.leaseMs);
        } else {
          user.delete(claim.holder);
          project.delete(claim.holder);
        }
        prune(users, claim.userId);
        prune(projects, claim.projectId);
        return held;
      }),

    release: (claim) =>
      atomically(() => {
        assertClaim(claim);
        const fromUser = users.get(claim.userId)?.delete(claim.holder) ?? false;
        const fromProject = projects.get(claim.projectId)?.delete(claim.holder) ?? false;
        prune(users, claim.userId);
        prune(projects, claim.projectId);
        return fromUser || fromProject;
      }),

    holders: (kind, id) =>
      atomically(() => {
        assertId('id', id);
        const now = clock.now();
        const set = (kind === 'user' ? users : projects).get(id);
        const out: SlotHolder[] = [];
        for (const [holder, expiresAt] of set ?? []) if (expiresAt > now) out.push({ holder, expiresAt });
        // Redis returns members by score, then by name.
        return out.sort((a, b) => a.expiresAt - b.expiresAt || (a.holder < b.holder ? -1 : a.holder > b.holder ? 1 : 0));
      }),
  };
}
