import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import type { WardenClient } from '../../src/client.js';
import type { RiskEvent } from '../../src/risk/riskEvent.js';
import { startTestApp, type TestApp } from '../helpers/testApp.js';
import { rejection } from '../helpers/rejection.js';

/**
 * Risk registers end to end: Warden on a free port against the real Redis and
 * PostgreSQL, driven by the typed client.
 */

const EXAMPLE = readFileSync(new URL('../fixtures/risk-profile-example.md', import.meta.url), 'utf8');
const TABLE_HEAD = '| Risk ID | Category | Description | Probability | Impact |\n| --- | --- | --- | --- | --- |\n';

let t: TestApp;
let alice: WardenClient;
let bob: WardenClient;
let aliceToken: string;
const aliceEvents: RiskEvent[] = [];

beforeAll(async () => {
  t = await startTestApp('registers-e2e', { env: { WARDEN_WORKERS: '0' } });
  aliceToken = await t.tokenFor('alice');
  alice = t.clientFor(aliceToken);
  bob = t.clientFor(await t.tokenFor('bob'));
  t.app.services.risks?.bus.subscribe({ scope: { kind: 'user', id: 'alice' }, name: 'test' }, (event) => {
    aliceEvents.push(event);
  });
});

async function countRows(): Promise<{ registers: number; risks: number }> {
  const [row] = await t.db.sql<{ registers: number; risks: number }[]>`
    select (select count(*)::int from risk_registers) as registers, (select count(*)::int from register_risks) as risks`;
  return row ?? { registers: -1, risks: -1 };
}

describe('registers.import of the example', () => {
  it('computes the exact profile and says where the stated summary is wrong', async () => {
    const result = await alice.registers.import.mutate({ markdown: EXAMPLE });
    if (!result.stored) throw new Error('expected the register to be stored');
    const { profile, register } = result;
    expect(register).toMatchObject({ title: 'Risk Profile: Story 4.2', subject: 'Story 4.2', reviewer: 'Release QA', reviewedOn: '2026-03-09', riskCount: 9 });
    expect(profile.levels).toEqual({ critical: 1, high: 1, medium: 2, low: 3, minimal: 2 });
    expect(profile.overallScore).toBe(54);
    expect(profile.gate).toBe('FAIL');
    expect(profile.mustFix.map((m) => m.id)).toEqual(['SEC-001', 'SEC-002']);
    const found = profile.disagreements.map(({ figure, stated, computed }) => ({ figure, stated, computed }));
    expect(found).toEqual(
      expect.arrayContaining([
        { figure: 'levels.medium', stated: 3, computed: 2 },
        { figure: 'levels.low', stated: 4, computed: 3 },
        { figure: 'overallScore', stated: 58, computed: 54 },
        { figure: 'calculation.arithmetic', stated: 58, computed: 47 },
        { figure: 'risks.PERF-001.priority', stated: 'medium', computed: 'low' },
        { figure: 'categories.performance', stated: '1 risk (1 medium)', computed: '1 risk (1 low)' },
        { figure: 'categories.operational', stated: '2 risks (1 medium, 1 low)', computed: '2 risks (1 medium, 1 minimal)' },
        { figure: 'categories.business', stated: '1 risk (1 low)', computed: '1 risk (1 minimal)' },
      ]),
    );
    expect(profile.unverifiable).toEqual([]);

    // Stored: the same profile comes back from get and profile.
    expect(await alice.registers.profile.query({ registerId: register.registerId })).toEqual(profile);
    expect((await alice.registers.get.query({ registerId: register.registerId })).risks).toHaveLength(9);
    const { items } = await alice.registers.list.query();
    expect(items.find((i) => i.registerId === register.registerId)).toMatchObject({ overallScore: 54, gate: 'FAIL', riskCount: 9 });

    // A critical risk tells the owner (SPEC §6).
    expect(aliceEvents.map((e) => [e.scope, e.fact.riskType])).toContainEqual([{ kind: 'user', id: 'alice' }, 'REGISTER_CRITICAL_RISK']);
  });

  it('round-trips import → export → import with no disagreements', async () => {
    const first = await alice.registers.import.mutate({ markdown: EXAMPLE });
    if (!first.stored) throw new Error('expected the register to be stored');
    const { markdown } = await alice.registers.export.query({ registerId: first.register.registerId });
    const second = await alice.registers.import.mutate({ markdown });
    if (!second.stored) throw new Error('expected the register to be stored');
    expect(second.profile.disagreements).toEqual([]);
    expect(second.profile.unverifiable).toEqual([]);
    expect({ ...second.profile, disagreements: [] }).toEqual({ ...first.profile, disagreements: [] });
    expect(second.risks.map(({ statedPriority: _p, ...r }) => r)).toEqual(
      first.risks.map(({ statedPriority: _p, ...r }) => r),
    );
  });

  it('dryRun answers the profile and stores nothing', async () => {
    const before = await countRows();
    const result = await alice.registers.import.mutate({ markdown: EXAMPLE, dryRun: true });
    expect(result.stored).toBe(false);
    expect(result.profile.overallScore).toBe(54);
    expect(await countRows()).toEqual(before);
  });
});

describe('refused imports and bad input, on the wire', () => {
  it('refuses a table with no risk rows and duplicate ids with every problem listed; nothing stored', async () => {
    const before = await countRows();
    const empty = await rejection(alice.registers.import.mutate({ markdown: `# Risk Profile: X\n\n${TABLE_HEAD}` }));
    expect(empty.data).toMatchObject({ code: 'BAD_REQUEST', httpStatus: 400, wardenCode: 'IMPORT_REFUSED' });
    expect(empty.data?.details).toEqual({ problems: [{ line: 3, message: 'The risk table has no risk rows' }] });

    const duplicate = `# Risk Profile: X\n\n${TABLE_HEAD}| SEC-001 | Security | A | 2 | 2 |\n| SEC-001 | Security | B | 3 | 3 |\n| SEC-002 | Weather | C | 9 | 1 |\n`;
    const dup = await rejection(alice.registers.import.mutate({ markdown: duplicate }));
    expect(dup.data).toMatchObject({ httpStatus: 400, wardenCode: 'IMPORT_REFUSED' });
    expect(dup.data?.details).toEqual({
      problems: [
        { line: 6, message: 'Duplicate risk id SEC-001 (first on line 5)' },
        { line: 7, message: 'SEC-002: unknown category "Weather" (one of technical, performance, data, security, operational, business)' },
        { line: 7, message: 'SEC-002: probability 9 is outside 1–3' },
      ],
    });
    const noTable = await rejection(alice.registers.import.mutate({ markdown: '# Risk Profile: X\n\nJust prose.\n' }));
    expect(noTable.data?.wardenCode).toBe('IMPORT_REFUSED');
    expect(await countRows()).toEqual(before);
  });

  it('answers empty, 2 MB, wrong-typed and unknown-field input with the zod issues', async () => {
    const before = await countRows();
    const importRaw = alice.registers.import.mutate as (input: unknown) => Promise<unknown>;
    const cases: [unknown, string][] = [
      [{ markdown: '' }, 'too_small'],
      [{ markdown: 'x'.repeat(2_000_000) }, 'too_big'],
      [{ markdown: 42 }, 'invalid_type'],
      [{ markdown: EXAMPLE, store: true }, 'unrecognized_keys'],
    ];
    for (const [input, code] of cases) {
      const err = await rejection(importRaw(input));
      const label = JSON.stringify(input).slice(0, 40);
      expect(err.message, label).toBe('Invalid input');
      expect(err.data, label).toMatchObject({ code: 'BAD_REQUEST', httpStatus: 400, wardenCode: null });
      expect(err.data?.issues?.map((i) => i.code), label).toContain(code);
    }
    // A NUL (which PostgreSQL text refuses) is bad input too, whichever layer's rule names it.
    const nul = await rejection(importRaw({ markdown: `${EXAMPLE}\u0000` }));
    expect(nul.data).toMatchObject({ code: 'BAD_REQUEST', httpStatus: 400 });
    expect(nul.data?.issues?.length).toBeGreaterThan(0);
    const create = alice.registers.create.mutate as (input: unknown) => Promise<unknown>;
    const risk = { id: 'SEC-001', category: 'security', description: 'x', probability: 2, impact: 2 };
    for (const input of [
      { title: 'T', subject: 'S', risks: [risk, risk] },
      { title: 'T', subject: 'S', risks: [{ ...risk, probability: 4 }] },
      { title: 'T', subject: 'S', risks: [{ ...risk, id: 'sec 1' }] },
      { title: '', subject: 'S' },
    ]) {
      const err = await rejection(create(input));
      expect(err.data, JSON.stringify(input)).toMatchObject({ code: 'BAD_REQUEST', httpStatus: 400 });
      expect(err.data?.issues?.length).toBeGreaterThan(0);
    }

    // Over raw HTTP: the status is 400 and the 2 MB string is not echoed.
    const res = await fetch(`${t.url}/trpc/registers.import`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${aliceToken}` },
      body: JSON.stringify({ markdown: 'x'.repeat(2_000_000) }),
    });
    expect(res.status).toBe(400);
    expect((await res.text()).length).toBeLessThan(2_000);
    expect(await countRows()).toEqual(before);
  });
});

describe('isolation', () => {
  it("answers another user's register exactly like a missing one", async () => {
    const mine = await alice.registers.create.mutate({ title: 'Release 3', subject: 'Release 3' });
    const registerId = mine.register.registerId;
    const missing = randomUUID();
    const risk = { id: 'TECH-001', category: 'technical' as const, description: 'x', probability: 1 as const, impact: 1 as const };
    const calls: [string, (id: string) => Promise<unknown>][] = [
      ['get', (id) => bob.registers.get.query({ registerId: id })],
      ['profile', (id) => bob.registers.profile.query({ registerId: id })],
      ['export', (id) => bob.registers.export.query({ registerId: id })],
      ['addRisk', (id) => bob.registers.addRisk.mutate({ registerId: id, risk })],
      ['updateRisk', (id) => bob.registers.updateRisk.mutate({ registerId: id, riskId: 'TECH-001', patch: { impact: 3 } })],
      ['removeRisk', (id) => bob.registers.removeRisk.mutate({ registerId: id, riskId: 'TECH-001' })],
      ['delete', (id) => bob.registers.delete.mutate({ registerId: id })],
    ];
    for (const [name, call] of calls) {
      const theirs = await rejection(call(registerId));
      const none = await rejection(call(missing));
      expect(theirs.data, name).toMatchObject({ code: 'NOT_FOUND', httpStatus: 404, wardenCode: 'NOT_FOUND' });
      expect(theirs.message, name).toBe(none.message);
      expect(theirs.data?.details, name).toEqual({ entity: 'register', id: registerId });
      expect(none.data?.details, name).toEqual({ entity: 'register', id: missing });
    }
    expect((await bob.registers.list.query()).items).toEqual([]);
    expect((await bob.registers.portfolio.query()).registers).toBe(0);
    // Untouched by all of that.
    expect((await alice.registers.get.query({ registerId })).risks).toEqual([]);
  });
});

describe('editing a register', () => {
  it('adds, updates and removes risks, answering the profile each time; delete cascades', async () => {
    const created = await alice.registers.create.mutate({
      title: 'Checkout',
      subject: 'Story 7.1',
      risks: [{ id: 'DATA-001', category: 'data', description: 'Orders lost on retry', probability: 2, impact: 2 }],
    });
    const registerId = created.register.registerId;
    expect(created.profile).toMatchObject({ overallScore: 95, gate: 'PASS' });

    const added = await alice.registers.addRisk.mutate({
      registerId,
      risk: { id: 'SEC-001', category: 'security', component: 'Payments', description: 'Card data logged', probability: 2, impact: 3, mitigation: 'preventive' },
    });
    expect(added.profile).toMatchObject({ overallScore: 85, gate: 'CONCERNS', mustFix: [expect.objectContaining({ id: 'SEC-001', score: 6 })] });
    expect(aliceEvents.map((e) => e.fact.riskType)).toContain('REGISTER_HIGH_RISK');

    const dup = await rejection(alice.registers.addRisk.mutate({ registerId, risk: { id: 'SEC-001', category: 'security', description: 'again', probability: 1, impact: 1 } }));
    expect(dup.data).toMatchObject({ code: 'CONFLICT', wardenCode: 'CONFLICT' });

    const updated = await alice.registers.updateRisk.mutate({ registerId, riskId: 'SEC-001', patch: { probability: 3, component: null } });
    expect(updated.profile).toMatchObject({ overallScore: 75, gate: 'FAIL', levels: { critical: 1, medium: 1 } });
    expect(updated.risks.find((r) => r.id === 'SEC-001')).toMatchObject({ probability: 3, impact: 3, component: null, mitigation: 'preventive' });

    const missingRisk = await rejection(alice.registers.removeRisk.mutate({ registerId, riskId: 'SEC-404' }));
    expect(missingRisk.data).toMatchObject({ code: 'NOT_FOUND', details: { entity: 'risk', id: 'SEC-404' } });

    const removed = await alice.registers.removeRisk.mutate({ registerId, riskId: 'SEC-001' });
    expect(removed.profile).toMatchObject({ overallScore: 95, gate: 'PASS', total: 1 });

    expect(await alice.registers.delete.mutate({ registerId })).toEqual({ registerId, deleted: true });
    const [left] = await t.db.sql<{ n: number }[]>`select count(*)::int as n from register_risks where register_id = ${registerId}`;
    expect(left?.n).toBe(0);
    expect((await rejection(alice.registers.get.query({ registerId }))).data?.code).toBe('NOT_FOUND');
  });

  it('pages the list newest first', async () => {
    const carol = t.clientFor(await t.tokenFor('carol'));
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await carol.registers.create.mutate({ title: `R${i}`, subject: `S${i}` })).register.registerId);
    const first = await carol.registers.list.query({ limit: 2 });
    const second = await carol.registers.list.query({ limit: 2, cursor: first.nextCursor ?? undefined });
    const third = await carol.registers.list.query({ limit: 2, cursor: second.nextCursor ?? undefined });
    expect([...first.items, ...second.items, ...third.items].map((i) => i.registerId)).toEqual(ids.reverse());
    expect(third.nextCursor).toBeNull();
  });
});

describe('registers.portfolio', () => {
  it("aggregates the caller's registers", async () => {
    const dave = t.clientFor(await t.tokenFor('dave'));
    const empty = await dave.registers.portfolio.query();
    expect(empty).toMatchObject({ registers: 0, risks: 0, worstGate: null, averageOverallScore: null, top: [] });

    const example = await dave.registers.import.mutate({ markdown: EXAMPLE });
    if (!example.stored) throw new Error('expected the register to be stored');
    await dave.registers.create.mutate({
      title: 'Quiet',
      subject: 'Story 1.1',
      risks: [{ id: 'BUS-001', category: 'business', description: 'Nobody reads the changelog', probability: 2, impact: 2 }],
    });
    const portfolio = await dave.registers.portfolio.query();
    expect(portfolio).toMatchObject({
      registers: 2,
      risks: 10,
      levels: { critical: 1, high: 1, medium: 3, low: 3, minimal: 2 },
      worstGate: 'FAIL',
      worstGateRegisterCount: 1,
      worstGateRegisters: [{ registerId: example.register.registerId, title: 'Risk Profile: Story 4.2', subject: 'Story 4.2' }],
      averageOverallScore: (54 + 95) / 2,
      computedOn: 'thread',
    });
    expect(portfolio.categories.find((c) => c.category === 'business')).toEqual({
      category: 'business',
      total: 2,
      levels: { critical: 0, high: 0, medium: 1, low: 0, minimal: 1 },
    });
    expect(portfolio.top.slice(0, 3).map((r) => [r.riskId, r.score, r.level])).toEqual([
      ['SEC-001', 9, 'critical'],
      ['SEC-002', 6, 'high'],
      ['TECH-001', 4, 'medium'],
    ]);
    expect(portfolio.top).toHaveLength(10);
    expect(portfolio.top[0]).toMatchObject({ registerId: example.register.registerId, description: 'Reset tokens never expire', category: 'security' });
  });
});
