import { z } from 'zod';
import { riskIdSchema } from './riskId.js';

/**
 * A causality chain (SPEC §6): what a planner acted on, as ids only — the origin that started it, the
 * signals it read, the risks it acted on, then optional later stages (decisions, actions, outcomes). It is
 * append-only and copy-on-write: every append returns a new frozen chain and leaves the old one as it was,
 * so a chain handed to another component can never change under it.
 */

export const LATER_STAGES = ['decisionIds', 'actionIds', 'outcomeIds'] as const;
export type LaterStage = (typeof LATER_STAGES)[number];

export interface ChainOrigin {
  readonly id: string;
  readonly type: string;
}

export interface CausalityChain {
  readonly origin: ChainOrigin;
  readonly signalIds: readonly string[];
  readonly riskIds: readonly string[];
  readonly decisionIds?: readonly string[];
  readonly actionIds?: readonly string[];
  readonly outcomeIds?: readonly string[];
}

const idSchema = z.string().min(1).max(200);
const idsSchema = z.array(idSchema).refine((ids) => new Set(ids).size === ids.length, { message: 'ids must be unique' });

/** The stored and published shape; unknown fields rejected. */
export const causalityChainSchema = z.strictObject({
  origin: z.strictObject({ id: idSchema, type: z.string().min(1).max(100) }),
  signalIds: idsSchema,
  riskIds: z.array(riskIdSchema).refine((ids) => new Set(ids).size === ids.length, { message: 'ids must be unique' }),
  decisionIds: idsSchema.optional(),
  actionIds: idsSchema.optional(),
  outcomeIds: idsSchema.optional(),
});

/** A new chain with nothing collected yet. */
export function openCausalityChain(origin: ChainOrigin): CausalityChain {
  return freeze({ origin: causalityChainSchema.shape.origin.parse(origin), signalIds: [], riskIds: [] });
}

/** Reads a stored or received chain; throws a ZodError when it is not one. */
export function parseCausalityChain(json: unknown): CausalityChain {
  const parsed = causalityChainSchema.parse(json);
  const chain: Mutable = { origin: parsed.origin, signalIds: parsed.signalIds, riskIds: parsed.riskIds };
  for (const stage of LATER_STAGES) {
    const ids = parsed[stage];
    if (ids) chain[stage] = ids;
  }
  return freeze(chain);
}

/** The chain with `ids` appended to its signals; ids already there are kept once. */
export function appendSignals(chain: CausalityChain, ...ids: string[]): CausalityChain {
  return append(chain, 'signalIds', ids.map((id) => idSchema.parse(id)));
}

/** The chain with the risk ids it acted on appended; each must be a valid RSK id. */
export function appendRisks(chain: CausalityChain, ...riskIds: string[]): CausalityChain {
  return append(chain, 'riskIds', riskIds.map((id) => riskIdSchema.parse(id)));
}

/** The chain with ids appended to a later stage (decisions, actions, outcomes); the stage appears with its first id. */
export function appendLater(chain: CausalityChain, stage: LaterStage, ...ids: string[]): CausalityChain {
  return append(chain, stage, ids.map((id) => idSchema.parse(id)));
}

type Stage = 'signalIds' | 'riskIds' | LaterStage;
type Mutable = { -readonly [K in keyof CausalityChain]: CausalityChain[K] };

function append(chain: CausalityChain, stage: Stage, ids: readonly string[]): CausalityChain {
  const current = chain[stage] ?? [];
  const seen = new Set(current);
  const added = ids.filter((id) => !seen.has(id) && seen.add(id));
  // Nothing new: the same chain, so callers can compare by reference.
  if (added.length === 0) return chain;
  return freeze({ ...chain, [stage]: [...current, ...added] });
}

function freeze(chain: Mutable): CausalityChain {
  Object.freeze(chain.origin);
  for (const stage of ['signalIds', 'riskIds', ...LATER_STAGES] as const) {
    const ids = chain[stage];
    if (ids) Object.freeze(ids);
  }
  return Object.freeze(chain);
}
