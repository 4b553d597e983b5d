import { describe, expect, it } from 'vitest';
import { ZodError } from 'zod';
import {
  appendLater,
  appendRisks,
  appendSignals,
  openCausalityChain,
  parseCausalityChain,
} from '../../src/domain/causalityChain.js';
import { createRiskId } from '../../src/domain/riskId.js';

const t = Date.parse('2026-01-05T10:00:00Z');
const r1 = createRiskId(t);
const r2 = createRiskId(t + 1000);

describe('causality chain', () => {
  it('opens with its origin and nothing collected', () => {
    const chain = openCausalityChain({ id: 'plan-1', type: 'planner' });
    expect(chain).toEqual({ origin: { id: 'plan-1', type: 'planner' }, signalIds: [], riskIds: [] });
  });

  it('is copy-on-write: appending returns a new chain and leaves the old one unchanged', () => {
    const a = openCausalityChain({ id: 'plan-1', type: 'planner' });
    const b = appendSignals(a, 'sig-1');
    const c = appendRisks(b, r1, r2);
    expect(a.signalIds).toEqual([]);
    expect(b.signalIds).toEqual(['sig-1']);
    expect(b.riskIds).toEqual([]);
    expect(c.riskIds).toEqual([r1, r2]);
    expect(c.signalIds).toBe(b.signalIds);
  });

  it('is frozen all the way down', () => {
    const chain = appendRisks(appendSignals(openCausalityChain({ id: 'p', type: 'planner' }), 's'), r1);
    expect(Object.isFrozen(chain)).toBe(true);
    expect(Object.isFrozen(chain.origin)).toBe(true);
    expect(Object.isFrozen(chain.riskIds)).toBe(true);
    expect(() => (chain.riskIds as string[]).push(r2)).toThrow(TypeError);
  });

  it('is append-only: an id already there is kept once, and the same chain comes back', () => {
    const chain = appendRisks(openCausalityChain({ id: 'p', type: 'planner' }), r1);
    expect(appendRisks(chain, r1)).toBe(chain);
    expect(appendRisks(chain, r1, r2).riskIds).toEqual([r1, r2]);
  });

  it('takes only valid risk ids in riskIds', () => {
    const chain = openCausalityChain({ id: 'p', type: 'planner' });
    expect(() => appendRisks(chain, 'not-a-risk')).toThrow(ZodError);
  });

  it('adds later stages when first used', () => {
    const chain = appendRisks(openCausalityChain({ id: 'p', type: 'planner' }), r1);
    expect('decisionIds' in chain).toBe(false);
    const later = appendLater(appendLater(chain, 'decisionIds', 'd-1'), 'actionIds', 'a-1', 'a-2');
    expect(later.decisionIds).toEqual(['d-1']);
    expect(later.actionIds).toEqual(['a-1', 'a-2']);
    expect(later.outcomeIds).toBeUndefined();
  });

  it('round-trips through JSON and rejects unknown fields and duplicates', () => {
    const chain = appendLater(appendRisks(openCausalityChain({ id: 'p', type: 'planner' }), r1), 'outcomeIds', 'o');
    const back = parseCausalityChain(JSON.parse(JSON.stringify(chain)));
    expect(back).toEqual(chain);
    expect(Object.isFrozen(back)).toBe(true);
    expect(() => parseCausalityChain({ ...chain, note: 'x' })).toThrow(ZodError);
    expect(() => parseCausalityChain({ ...chain, signalIds: ['s', 's'] })).toThrow(ZodError);
    expect(() => parseCausalityChain({ ...chain, riskIds: ['RSK_bad'] })).toThrow(ZodError);
  });

  it('requires an origin with id and type', () => {
    expect(() => openCausalityChain({ id: '', type: 'planner' })).toThrow(ZodError);
  });
});
