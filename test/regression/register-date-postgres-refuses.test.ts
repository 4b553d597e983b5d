/**
 * Regression (found by test/e2e/wireFuzz.test.ts): a register date PostgreSQL's `date` refuses reached
 * the database and answered 500. Year 0000 passed zod's ISO date check on registers.create, and the
 * Markdown import accepted any YYYY-MM-DD that Date.parse takes, which rolls "2023-02-31" over to
 * March. Both must be refused as bad input (400 / an import problem), storing nothing.
 */
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/testApp.js';

const EXAMPLE = readFileSync(new URL('../fixtures/risk-profile-example.md', import.meta.url), 'utf8');
let t: TestApp;
let token: string;

async function post(path: string, input: unknown): Promise<{ status: number; text: string }> {
  const res = await fetch(`${t.url}/trpc/${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(input),
  });
  return { status: res.status, text: await res.text() };
}

async function registerCount(): Promise<number> {
  const [row] = await t.db.sql<{ n: number }[]>`select count(*)::int as n from risk_registers`;
  return row?.n ?? 0;
}

beforeAll(async () => {
  t = await startTestApp('register_dates', { env: { WARDEN_WORKERS: '0', WARDEN_RISK_SCAN_SECONDS: '0' } });
  token = await t.tokenFor('rita');
});

describe('register review dates PostgreSQL cannot store', () => {
  it('registers.create refuses year 0000 with a 400 and zod issues', async () => {
    const res = await post('registers.create', { title: 'T', subject: 'S', reviewedOn: '0000-02-29' });
    expect(res.status).toBe(400);
    expect(res.text).toContain('"path":["reviewedOn"]');
    expect(await registerCount()).toBe(0);
  });

  it('registers.import reports an impossible or year-0000 date as a problem instead of failing', async () => {
    for (const date of ['2023-02-31', '0000-01-01']) {
      const markdown = EXAMPLE.replace('Date: 2026-03-09', `Date: ${date}`);
      const res = await post('registers.import', { markdown });
      expect(res.status, date).toBeLessThan(500);
      expect(res.text, date).toContain(`Date \\"${date}\\" is not a date`);
    }
  });
});
