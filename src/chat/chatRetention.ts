import type { Clock } from '../clock.js';
import type { ChatRepository } from '../db/chatRepository.js';
import { createPeriodic, type Periodic } from '../jobs/periodic.js';
import type { Logger } from '../log.js';

const DAY_MS = 86_400_000;
/** How often the sweep runs: retention is counted in days, so an hour late is of no consequence. */
export const CHAT_RETENTION_INTERVAL_MS = 3_600_000;

/**
 * Deletes the sessions (and, by cascade, their messages) untouched for more than `retentionDays` by the
 * clock's now (SPEC §8); returns how many. Any process may run it at any time: a plain DELETE.
 */
export async function sweepChatRetention(deps: { repository: ChatRepository; clock: Clock; retentionDays: number }): Promise<number> {
  if (deps.retentionDays <= 0) return 0;
  return deps.repository.deleteUntouchedSince(new Date(deps.clock.now() - deps.retentionDays * DAY_MS));
}

/** The sweep, every hour; `runNow` for tests and operators. Off when retention is 0 (keep forever). */
export function createChatRetention(deps: {
  repository: ChatRepository;
  clock: Clock;
  retentionDays: number;
  log: Logger;
  intervalMs?: number;
}): Periodic {
  return createPeriodic(
    async () => {
      const deleted = await sweepChatRetention(deps);
      if (deleted > 0) deps.log.info({ deleted, retentionDays: deps.retentionDays }, 'chat sessions past retention deleted');
    },
    deps.intervalMs ?? CHAT_RETENTION_INTERVAL_MS,
    (err) => deps.log.warn({ err }, 'chat retention sweep failed'),
  );
}
