import { describe, expect, it } from 'vitest';
import type { WardenClient } from '../../src/client.js';
import { createRiskFact } from '../../src/domain/riskFact.js';
import type { RiskEventJson, RiskScope } from '../../src/risk/riskEvent.js';
import { startTestApp } from '../helpers/testApp.js';

// risks.events kept no history: a client that reconnected with lastEventId got only what came after it
// reconnected, and lost every fact published while it was away. Facts are now stored per user, and the
// stream resumes from the log after lastEventId, with no gap and no duplicate, over the real SSE wire.
const t = await startTestApp('risk_events_resume', { env: { WARDEN_RISK_SCAN_SECONDS: '0' } });
const risks = t.app.services.risks!;

const publish = async (scope: RiskScope, riskType: string) => {
  const fact = createRiskFact({ riskType, severity: '0.50' });
  await risks.bus.publish({ type: 'RISK_DETECTED', scope, fact });
  return fact.riskId;
};

interface Watched {
  got: { id: string | undefined; data: RiskEventJson }[];
  until(n: number): Promise<void>;
  stop(): void;
}

function watch(client: WardenClient, lastEventId?: string): Watched {
  const waiters = new Set<() => void>();
  const watched: Watched = {
    got: [],
    until: (n) =>
      new Promise((resolve) => {
        const check = () => {
          if (watched.got.length < n) return;
          waiters.delete(check);
          resolve();
        };
        waiters.add(check);
        check();
      }),
    stop: () => sub.unsubscribe(),
  };
  const sub = client.risks.events.subscribe(lastEventId === undefined ? undefined : { lastEventId }, {
    onData: (envelope) => {
      watched.got.push({ id: envelope.id, data: envelope.data });
      waiters.forEach((w) => w());
    },
  });
  return watched;
}

/** Opens a stream and waits until it is live: probes are published until one arrives. */
async function openLive(client: WardenClient, userId: string): Promise<Watched> {
  const watched = watch(client);
  while (watched.got.length === 0) {
    await publish({ kind: 'user', id: userId }, 'PROBE');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return watched;
}

describe('risks.events resumes from lastEventId', () => {
  it('replays what was published while the client was away, then goes on live, with no duplicate', async () => {
    const alice = t.clientFor(await t.tokenFor('alice'));
    await t.tokenFor('bob');
    const project = await alice.projects.create.mutate({ name: 'resumed' });

    const first = await openLive(alice, 'alice');
    const seenBefore = first.got.length;
    const kept = await publish({ kind: 'user', id: 'alice' }, 'BEFORE_GAP');
    await first.until(seenBefore + 1);
    first.stop();
    const lastId = first.got.at(-1)!.id!;
    expect(lastId).toBe(kept);

    // Away: two facts of alice's (one on her project), one of bob's, one platform-wide.
    const missed = [
      await publish({ kind: 'user', id: 'alice' }, 'IN_GAP_USER'),
      await publish({ kind: 'user', id: 'bob' }, 'NOT_ALICES'),
      await publish({ kind: 'project', id: project.projectId }, 'IN_GAP_PROJECT'),
      await publish({ kind: 'platform' }, 'PLATFORM_WIDE'),
    ];

    const resumed = watch(alice, lastId);
    await resumed.until(2);
    const live = await publish({ kind: 'user', id: 'alice' }, 'AFTER_RESUME');
    await resumed.until(3);
    resumed.stop();
    expect(resumed.got.map((e) => e.id)).toEqual([missed[0], missed[2], live]);
    expect(resumed.got.map((e) => e.data.fact.riskType)).toEqual(['IN_GAP_USER', 'IN_GAP_PROJECT', 'AFTER_RESUME']);
    expect(resumed.got[1]!.data.scope).toEqual({ kind: 'project', id: project.projectId });
  });

  it('pages through the history newest first or oldest first, the caller’s own facts only', async () => {
    const carol = t.clientFor(await t.tokenFor('carol'));
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push(await publish({ kind: 'user', id: 'carol' }, `HISTORY_${i}`));
    await publish({ kind: 'user', id: 'dave' }, 'DAVES');
    await publish({ kind: 'platform' }, 'PLATFORM_WIDE');

    const pages = async (order: 'newest' | 'oldest') => {
      const seen: string[] = [];
      let cursor: string | undefined;
      do {
        const page = await carol.risks.history.query({ limit: 2, order, ...(cursor ? { cursor } : {}) });
        expect(page.items.length).toBeLessThanOrEqual(2);
        seen.push(...page.items.map((item) => item.fact.riskId));
        cursor = page.nextCursor ?? undefined;
      } while (cursor);
      return seen;
    };
    expect(await pages('oldest')).toEqual(ids);
    expect(await pages('newest')).toEqual([...ids].reverse());
    const [newest] = (await carol.risks.history.query()).items;
    expect(newest).toMatchObject({ type: 'RISK_DETECTED', scope: { kind: 'user', id: 'carol' }, fact: { riskId: ids[4], severity: '0.50' } });
  });
});
