import { PROJECT_RULE_BITS, RISK_THRESHOLDS, projectRuleCutoffs } from '../domain/riskRules.js';
import { viewScanBuffer, type ScanCapacity } from './riskScanBuffers.js';

/**
 * One part of a risk scan, run on a Piscina worker (or inline, for comparison). A plain function over
 * the shared typed arrays: it evaluates a range of users and a range of projects, writes its outputs in
 * place, and returns how many indices it wrote from the start of each range.
 *
 * The loops use the rules' thresholds and cutoffs (riskRules.ts) held in locals rather than calling the
 * per-entry predicates: on a worker thread loaded through tsx, the calls made the loop 3–5× slower
 * (measured; on the main thread they cost nothing). test/unit/riskScanWorker.test.ts checks that the two
 * forms agree.
 */
export interface ScanTask {
  buffer: SharedArrayBuffer;
  capacity: ScanCapacity;
  /** [start, end) of the users to evaluate. */
  users: [number, number];
  /** [start, end) of the projects to evaluate. */
  projects: [number, number];
  /** The scan's instant (epoch ms), so every part judges staleness at the same time. */
  now: number;
}

/** Indices written: user hits from `users[0]`, project changes from `projects[0]`. */
export type ScanTaskResult = [users: number, projects: number];

export default function evaluateScanPart(task: ScanTask): ScanTaskResult {
  const views = viewScanBuffer(task.buffer, task.capacity);

  // isHighTokenUsage: budget ≥ 0 (not unlimited) and used × 5 > budget × 4.
  const numerator = RISK_THRESHOLDS.usageNumerator;
  const denominator = RISK_THRESHOLDS.usageDenominator;
  const [userStart, userEnd] = task.users;
  const { used, budget, emitted: told, hits } = views.users;
  let userHits = 0;
  for (let i = userStart; i < userEnd; i++) {
    const b = budget[i]!;
    if (told[i] === 0 && b >= 0 && used[i]! * denominator > b * numerator) hits[userStart + userHits++] = i;
  }

  // projectRiskBits, with the cutoffs of this instant.
  const cutoffs = projectRuleCutoffs(task.now);
  const decisionCutoff = cutoffs.staleDecisionAtOrBefore;
  const activityCutoff = cutoffs.staleActivityAtOrBefore;
  const minFailures = cutoffs.minConsecutiveFailures;
  const decisionBit = PROJECT_RULE_BITS.stale_decision;
  const failuresBit = PROJECT_RULE_BITS.build_failures;
  const activityBit = PROJECT_RULE_BITS.stale_project;
  const [projectStart, projectEnd] = task.projects;
  const { decisionAt, activityAt, failures, emitted, current, changed } = views.projects;
  let projectChanges = 0;
  for (let i = projectStart; i < projectEnd; i++) {
    const bits =
      (decisionAt[i]! <= decisionCutoff ? decisionBit : 0) |
      (failures[i]! >= minFailures ? failuresBit : 0) |
      (activityAt[i]! <= activityCutoff ? activityBit : 0);
    current[i] = bits;
    if (bits !== emitted[i]) changed[projectStart + projectChanges++] = i;
  }
  return [userHits, projectChanges];
}
