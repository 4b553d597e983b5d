import type { Clock } from '../clock.js';
import type { Decision, PlannedDecisionInput } from '../db/decisionsRepository.js';
import { appendRisks, openCausalityChain, type CausalityChain } from '../domain/causalityChain.js';
import type { EventBus, Unsubscribe } from './eventBus.js';
import type { RiskEvent } from './riskEvent.js';
import type { RiskLogger } from './riskLogger.js';
import { RISK_TYPE_OF } from './scanFacts.js';

/**
 * Planners (SPEC §6): consumers of risk facts that act on them. A planner opens a causality chain whose
 * origin is the fact it reacts to, collects the riskIds it acted on, and turns it into a pending
 * decision for a project's owner; the owner's choice (projects.decide) closes the chain.
 *
 * Each planner is a subscriber of the risk bus in every process. With Redis, every process receives
 * every event, so a planner runs once per process per fact and MUST be idempotent: `openDecision`
 * opens at most one decision per chain origin (a unique index; the first process wins, the others get
 * null), so a planner that opens one decision per fact, with that fact as origin, needs nothing more.
 * A planner that fails is logged; delivery to the others goes on.
 *
 * Warden ships `buildFailuresPlanner`; a host adds its own with `createApp(config, { planners: [...] })`.
 */
export interface RiskPlanner {
  /** Names the planner in logs. */
  readonly name: string;
  /** Whether this planner acts on the event (cheap; asked for every fact published). */
  accepts(event: RiskEvent): boolean;
  /** Acts on an accepted event. Runs in every process that receives it: must be idempotent. */
  plan(event: RiskEvent, context: PlannerContext): Promise<void>;
}

/** What a planner may do. */
export interface PlannerContext {
  clock: Clock;
  logger: RiskLogger;
  /**
   * Opens a pending decision on a project carrying `chain`; null when a decision with the same chain
   * origin exists already (another process, a redelivery) or the project does not exist.
   */
  openDecision(input: Omit<PlannedDecisionInput, 'at'>): Promise<Decision | null>;
}

/** The chain of a planner reacting to one fact: origin = that fact, riskIds = [its id]. */
export function chainFromFact(event: RiskEvent): CausalityChain {
  return appendRisks(openCausalityChain({ id: event.fact.riskId, type: event.fact.riskType }), event.fact.riskId);
}

export const BUILD_FAILURES_QUESTION = 'Builds keep failing — retry with a narrower goal, or stop?';
export const BUILD_FAILURES_CHOICES = ['retry_narrower', 'stop'] as const;

/** A project's build_failures risk raised: ask its owner whether to retry with a narrower goal, or stop. */
export const buildFailuresPlanner: RiskPlanner = {
  name: 'build-failures',
  accepts: (event) => event.scope.kind === 'project' && event.fact.riskType === RISK_TYPE_OF.build_failures,
  async plan(event, context) {
    if (event.scope.kind !== 'project') return;
    await context.openDecision({
      projectId: event.scope.id,
      gateType: 'build_failures',
      question: BUILD_FAILURES_QUESTION,
      choices: [...BUILD_FAILURES_CHOICES],
      chain: chainFromFact(event),
    });
  },
};

/** Subscribes each planner to the bus; the returned function unsubscribes them all. */
export function startPlanners(options: {
  bus: EventBus;
  planners: readonly RiskPlanner[];
  context: PlannerContext;
}): Unsubscribe {
  const offs = options.planners.map((planner) =>
    options.bus.subscribe({ scope: { kind: 'platform' }, select: () => true, name: `planner:${planner.name}` }, async (event) => {
      if (planner.accepts(event)) await planner.plan(event, options.context);
    }),
  );
  return () => {
    for (const off of offs) off();
  };
}
