import { afterAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/app.js';
import { createWardenClient, type WardenClient } from '../../src/client.js';
import { createRiskFact } from '../../src/domain/riskFact.js';
import type { RiskEventJson, RiskScope } from '../../src/risk/riskEvent.js';
import { startTestApp } from '../helpers/testApp.js';

// Two Warden processes on one PostgreSQL schema and one Redis prefix: facts published by one are
// stored once, and a client of the other resumes from lastEventId with no gap and no duplicate.
const a = await startTestApp('risk_facts_xproc', { env: { WARDEN_RISK_SCAN_SECONDS: '0' } });
const b = await createApp(a.config, { schema: a.db.schema });
afterAll(() => b.close());
const { url: bUrl } = await b.listen(0, '127.0.0.1');

const publishOnA = async (scope: RiskScope, riskType: string) => {
  const fact = createRiskFact({ riskType, severity: '0.20' });
  await a.app.services.risks!.bus.publish({ type: 'RISK_DETECTED', scope, fact });
  return fact.riskId;
};

function watch(client: WardenClient, lastEventId?: string) {
  const got: { id: string | undefined; data: RiskEventJson }[] = [];
  const waiters = new Set<() => void>();
  const sub = client.risks.events.subscribe(lastEventId === undefined ? undefined : { lastEventId }, {
    onData: (envelope) => {
      got.push({ id: envelope.id, data: envelope.data });
      waiters.forEach((w) => w());
    },
  });
  const until = (n: number) =>
    new Promise<void>((resolve) => {
      const check = () => {
        if (got.length < n) return;
        waiters.delete(check);
        resolve();
      };
      waiters.add(check);
      check();
    });
  return { got, until, stop: () => sub.unsubscribe() };
}

describe('risk facts across processes', () => {
  it("resumes on one process from facts another published, each stored once", async () => {
    const token = await a.tokenFor('xalice');
    const onB = createWardenClient({ url: bUrl, token });
    const first = watch(onB);
    // Live on B once a fact published on A arrives there.
    while (first.got.length === 0) {
      await publishOnA({ kind: 'user', id: 'xalice' }, 'PROBE');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    first.stop();
    const lastId = first.got.at(-1)!.id!;

    const missed = [await publishOnA({ kind: 'user', id: 'xalice' }, 'MISSED_ONE'), await publishOnA({ kind: 'user', id: 'xalice' }, 'MISSED_TWO')];
    const resumed = watch(onB, lastId);
    await resumed.until(2);
    const live = await publishOnA({ kind: 'user', id: 'xalice' }, 'LIVE_ONE');
    await resumed.until(3);
    resumed.stop();
    expect(resumed.got.map((e) => e.id)).toEqual([...missed, live]);

    const stored = await a.db.sql`select risk_id from risk_facts where user_id = 'xalice' and risk_id = any(${[...missed, live]})`;
    expect(stored).toHaveLength(3);
  });
});
