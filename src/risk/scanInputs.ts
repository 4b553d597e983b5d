import type { ProjectSignalRow, RiskScanRepository, UserBudgetRow } from '../db/riskScanRepository.js';
import { isHighTokenUsage } from '../domain/riskRules.js';
import { resolveTier, type TierTable } from '../domain/tiers.js';
import type { ScanViews } from '../workers/riskScanBuffers.js';
import type { DailyUsageSource } from './dailyUsageSource.js';

/**
 * What one risk scan reads, in bulk, with two reads running at once:
 * - users: every user with token usage today (pages from the usage source) and the budgets of those who
 *   could be over the threshold. A user without usage cannot be (0 tokens). A user without an override has
 *   their tier's budget, so one whose usage is at most 80% of the smallest tier budget cannot be either;
 *   the budgets of everyone else — users with an override (read first, through a partial index) and users
 *   above that floor — are read, page by page, in set-based queries sent while the next page is read.
 *   The result is exact, and the read shrinks from "every user" to "users who might be at risk".
 * - projects: every project's signals, in one query read through a cursor.
 */
export interface ScanInputs {
  users: { ids: string[]; used: number[]; budget: number[]; emitted: boolean[] };
  /** Users with any usage today (evaluated or not). */
  usersWithUsage: number;
  projects: ProjectSignalRow[];
}

export async function readScanInputs(options: {
  repository: RiskScanRepository;
  usage: DailyUsageSource;
  tiers: TierTable;
  date: string;
}): Promise<ScanInputs> {
  const { repository, usage, tiers, date } = options;
  const budgetOfTier = new Map<string, number>();
  // Memoised per tier name; an unknown name gets the bootstrapper budget (tiers.ts resolveTier).
  const tierBudget = (tier: string) => {
    let budget = budgetOfTier.get(tier);
    if (budget === undefined) budgetOfTier.set(tier, (budget = resolveTier(tiers, tier).tokensPerDay));
    return budget;
  };
  const finiteTierBudgets = [...Object.values(tiers).map((t) => t.tokensPerDay), resolveTier(tiers, '').tokensPerDay].filter((b) => b >= 0);
  // Infinity when every tier is unlimited: then only overrides can be at risk.
  const floorBudget = finiteTierBudgets.length > 0 ? Math.min(...finiteTierBudgets) : Number.POSITIVE_INFINITY;

  const users: ScanInputs['users'] = { ids: [], used: [], budget: [], emitted: [] };
  let usersWithUsage = 0;
  const add = (row: UserBudgetRow, used: number) => {
    const [id, tier, override, emitted] = checkUserRow(row);
    users.ids.push(id);
    users.used.push(used);
    users.budget.push(override ?? tierBudget(tier));
    users.emitted.push(emitted);
  };

  const readUsers = async () => {
    const overridesRead = repository.overrideBudgets(date);
    overridesRead.catch(() => {}); // awaited below; not unhandled if the usage source fails first
    let overrides: Map<string, UserBudgetRow> | null = null;
    const pending: Promise<void>[] = [];
    for await (const page of usage.pages(date)) {
      overrides ??= new Map((await overridesRead).map((row) => [checkUserRow(row)[0], row]));
      usersWithUsage += page.userIds.length;
      const candidates: string[] = [];
      const usedOf = new Map<string, number>();
      page.userIds.forEach((id, i) => {
        const used = page.used[i]!;
        const override = overrides?.get(id);
        if (override) add(override, used);
        else if (Number.isFinite(floorBudget) && isHighTokenUsage(used, floorBudget)) {
          candidates.push(id);
          usedOf.set(id, used);
        }
      });
      if (candidates.length > 0) {
        pending.push(
          repository.budgetsOf(candidates, date).then((rows) => {
            for (const row of rows) add(row, usedOf.get(row[0]) ?? 0);
          }),
        );
      }
    }
    await Promise.all([...pending, overridesRead]);
  };

  const readProjects = async () => {
    const projects: ProjectSignalRow[] = [];
    for await (const page of repository.projectSignals()) {
      for (const row of page) projects.push(checkProjectRow(row));
    }
    return projects;
  };

  const [, projects] = await Promise.all([readUsers(), readProjects()]);
  return { users, usersWithUsage, projects };
}

/** Copies the inputs into the shared views the workers read. */
export function fillScanViews(inputs: ScanInputs, views: ScanViews): void {
  const u = views.users;
  for (let i = 0; i < inputs.users.ids.length; i++) {
    u.used[i] = inputs.users.used[i]!;
    u.budget[i] = inputs.users.budget[i]!;
    u.emitted[i] = inputs.users.emitted[i] ? 1 : 0;
  }
  const p = views.projects;
  for (let i = 0; i < inputs.projects.length; i++) {
    const [, decisionAt, activityAt, failures, emitted] = inputs.projects[i]!;
    p.decisionAt[i] = decisionAt ?? Number.NaN;
    p.activityAt[i] = activityAt;
    p.failures[i] = failures;
    p.emitted[i] = emitted;
  }
}

// Field checks instead of a zod parse per row: at 100,000 rows that would cost more than the evaluation.
function checkUserRow(row: unknown): UserBudgetRow {
  if (
    Array.isArray(row) &&
    typeof row[0] === 'string' &&
    typeof row[1] === 'string' &&
    (row[2] === null || Number.isInteger(row[2])) &&
    typeof row[3] === 'boolean'
  ) {
    return row as UserBudgetRow;
  }
  throw new TypeError(`unexpected user budget row: ${JSON.stringify(row)}`);
}

function checkProjectRow(row: unknown): ProjectSignalRow {
  if (
    Array.isArray(row) &&
    typeof row[0] === 'string' &&
    (row[1] === null || Number.isFinite(row[1])) &&
    Number.isFinite(row[2]) &&
    Number.isInteger(row[3]) &&
    Number.isInteger(row[4])
  ) {
    return row as ProjectSignalRow;
  }
  throw new TypeError(`unexpected project signal row: ${JSON.stringify(row)}`);
}
