import { z } from 'zod';

export const TIER_NAMES = ['bootstrapper', 'partner', 'cto_scale'] as const;
export type TierName = (typeof TIER_NAMES)[number];

export const tierLimitsSchema = z.strictObject({
  dailyJobs: z.number().int().nonnegative(),
  iterationDepth: z.number().int().positive(),
  concurrentPerUser: z.number().int().positive(),
  concurrentPerProject: z.number().int().positive(),
  queueBoost: z.number().int().min(0).max(999),
  defaultJobSeconds: z.number().positive(),
  /** -1 means unlimited. */
  tokensPerDay: z.number().int().min(-1),
});
export type TierLimits = z.infer<typeof tierLimitsSchema>;
export type TierTable = Record<TierName, TierLimits>;

/** SPEC §1. Configuration defaults, overridable through WARDEN_TIERS (see config.ts). */
export const DEFAULT_TIERS: TierTable = {
  bootstrapper: {
    dailyJobs: 5,
    iterationDepth: 2,
    concurrentPerUser: 2,
    concurrentPerProject: 2,
    queueBoost: 0,
    defaultJobSeconds: 480,
    tokensPerDay: 500_000,
  },
  partner: {
    dailyJobs: 50,
    iterationDepth: 3,
    concurrentPerUser: 3,
    concurrentPerProject: 3,
    queueBoost: 2,
    defaultJobSeconds: 600,
    tokensPerDay: 2_000_000,
  },
  cto_scale: {
    dailyJobs: 200,
    iterationDepth: 5,
    concurrentPerUser: 10,
    concurrentPerProject: 5,
    queueBoost: 5,
    defaultJobSeconds: 900,
    tokensPerDay: -1,
  },
};

/** The estimator's default for a tier name nobody configured (SPEC §1). */
export const UNKNOWN_TIER_JOB_SECONDS = 600;

export function isTierName(name: string): name is TierName {
  return (TIER_NAMES as readonly string[]).includes(name);
}

/**
 * Limits for a tier name; an unknown name gets the bootstrapper limits, except the estimator default,
 * which SPEC §1 sets to 600 s.
 */
export function resolveTier(tiers: TierTable, name: string): TierLimits {
  if (isTierName(name)) return tiers[name];
  return { ...tiers.bootstrapper, defaultJobSeconds: UNKNOWN_TIER_JOB_SECONDS };
}

/** The hard iteration cap is 3 × depth (SPEC §1). */
export function hardIterationCap(limits: Pick<TierLimits, 'iterationDepth'>): number {
  return 3 * limits.iterationDepth;
}

/** SPEC §4's refusal of an LLM call (a chat turn, a job step) once the day's token budget is spent. */
export const TOKEN_LIMIT_MESSAGE = (used: number, limit: number) =>
  `Daily token limit reached (${used}/${limit}). Resets at midnight UTC.`;

/** A user's token budget: their override when set, else the tier's; -1 is unlimited (SPEC §1). */
export function tokenBudget(limits: TierLimits, override: number | null | undefined): number {
  return override ?? limits.tokensPerDay;
}
