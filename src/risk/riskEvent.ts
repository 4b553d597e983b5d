import { z } from 'zod';
import { parseRiskFact, riskFactToJson, type RiskFact, type RiskFactJson } from '../domain/riskFact.js';

/**
 * The events of the risk bus (SPEC §6): `RISK_DETECTED` with the subject it concerns as its scope — the
 * platform, one user, or one project.
 */

export type RiskScope = { kind: 'platform' } | { kind: 'user'; id: string } | { kind: 'project'; id: string };

export interface RiskEvent {
  readonly type: 'RISK_DETECTED';
  readonly scope: RiskScope;
  readonly fact: RiskFact;
}

const subjectId = z.string().min(1).max(200);

export const riskScopeSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('platform') }),
  z.strictObject({ kind: z.literal('user'), id: subjectId }),
  z.strictObject({ kind: z.literal('project'), id: subjectId }),
]);

// The fact is validated by parseRiskFact, which also builds its Decimal and freezes it.
const envelopeSchema = z.strictObject({
  type: z.literal('RISK_DETECTED'),
  scope: riskScopeSchema,
  fact: z.unknown(),
});

/** The wire form, as published over Redis and sent to subscription clients. */
export interface RiskEventJson {
  type: 'RISK_DETECTED';
  scope: RiskScope;
  fact: RiskFactJson;
}

export function riskEventToJson(event: RiskEvent): RiskEventJson {
  return { type: event.type, scope: { ...event.scope }, fact: riskFactToJson(event.fact) };
}

/** Validates a received event (throws a ZodError) and returns it frozen. */
export function parseRiskEvent(json: unknown): RiskEvent {
  const parsed = envelopeSchema.parse(json);
  return Object.freeze({ type: parsed.type, scope: Object.freeze(parsed.scope), fact: parseRiskFact(parsed.fact) });
}

/** `platform`, `user:<id>` or `project:<id>`: the key subscribers of one scope are filed under. */
export function scopeKey(scope: RiskScope): string {
  return scope.kind === 'platform' ? 'platform' : `${scope.kind}:${scope.id}`;
}
