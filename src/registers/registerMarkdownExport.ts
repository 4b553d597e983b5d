import { BASE_SCORE, capitalize, describeCounts, LEVEL_DEDUCTION, RISK_LEVELS, type RegisterRisk, type RiskLevel } from '../domain/riskRegister.js';
import { calculationTerms, type RegisterProfile } from '../domain/riskRegisterProfile.js';
import type { RegisterHeadline } from '../domain/riskRegisterStated.js';


/** How each level's deduction line names the scores it covers (BMAD's wording). */
const LEVEL_SCORES: Readonly<Record<RiskLevel, string>> = {
  critical: 'Score 9',
  high: 'Score 6',
  medium: 'Score 4',
  low: 'Score 2-3',
  minimal: 'Score 1',
};

/**
 * The register as a BMAD-style risk profile, every figure computed: importing it again gives the same
 * profile with no disagreements (test/unit/registerMarkdown.test.ts checks the round trip).
 */
export function renderRegisterMarkdown(header: RegisterHeadline, risks: readonly RegisterRisk[], profile: RegisterProfile): string {
  const out: string[] = [];
  const heading = `Risk Profile: ${header.subject}`;
  out.push(`# ${heading}`, '');
  const meta = [
    ...(header.title === heading ? [] : [`Title: ${header.title}`]),
    ...(header.reviewedOn ? [`Date: ${header.reviewedOn}`] : []),
    ...(header.reviewer ? [`Reviewer: ${header.reviewer}`] : []),
  ];
  // Hard line breaks keep each field on its own line when the Markdown is rendered.
  if (meta.length > 0) out.push(meta.join('  \n'), '');

  out.push('## Executive Summary', '');
  out.push(`- **Total Risks Identified:** ${profile.total}`);
  for (const level of RISK_LEVELS) out.push(`- **${capitalize(level)} Risks:** ${profile.levels[level]}`);
  out.push(`- **Risk Score:** ${profile.overallScore}/100`, `- **Gate:** ${profile.gate}`, '');
  if (header.assessment) out.push(`**Overall Assessment:** ${header.assessment}`, '');

  if (profile.mustFix.length > 0) {
    out.push('## Must Fix', '');
    for (const item of profile.mustFix) out.push(`- ${item.id} (score ${item.score}, ${item.level}): ${item.description}`);
    out.push('');
  }

  out.push('## Risk Distribution', '', '### By Category', '');
  for (const c of profile.categories) out.push(`- **${capitalize(c.category)}:** ${describeCounts(c.total, c.levels)}`);
  out.push('');
  if (profile.components.length > 0) {
    out.push('### By Component', '');
    for (const c of profile.components) out.push(`- **${c.component}:** ${describeCounts(c.total, null)}`);
    out.push('');
  }

  out.push('## Detailed Risk Register', '');
  out.push(row(['Risk ID', 'Category', 'Component', 'Description', 'Probability', 'Impact', 'Score', 'Priority', 'Mitigation', 'Owner', 'Timeline', 'Residual Risk']));
  out.push(row(Array.from({ length: 12 }, () => '---')));
  risks.forEach((risk, i) => {
    const scored = profile.risks[i];
    out.push(
      row([
        risk.id,
        capitalize(risk.category),
        risk.component ?? '',
        risk.description,
        rating(risk.probability),
        rating(risk.impact),
        String(scored?.score ?? risk.probability * risk.impact),
        capitalize(scored?.level ?? 'minimal'),
        mitigationCell(risk),
        risk.owner ?? '',
        risk.timeline ?? '',
        risk.residualRisk ?? '',
      ]),
    );
  });
  out.push('');

  out.push('## Risk Score Calculation', '', `**Base Score:** ${BASE_SCORE}`, '', '**Deductions:**', '');
  for (const level of RISK_LEVELS.filter((l) => LEVEL_DEDUCTION[l] > 0)) {
    const per = LEVEL_DEDUCTION[level];
    const n = profile.levels[level];
    out.push(`- ${capitalize(level)} Risks (${LEVEL_SCORES[level]}): -${per} × ${n} = -${per * n}`);
  }
  const terms = calculationTerms(profile.levels);
  const sum = [String(BASE_SCORE), ...terms.map(String)].join(' - ');
  const floor = terms.reduce((s, t) => s - t, BASE_SCORE) < 0 ? ' (never below 0)' : '';
  out.push('', `**Final Risk Score:** ${sum} = **${profile.overallScore}/100**${floor}`, '');
  return out.join('\n');
}

function rating(value: number): string {
  return `${['', 'Low', 'Medium', 'High'][value] ?? ''} (${value})`;
}

function mitigationCell(risk: RegisterRisk): string {
  if (risk.mitigation && risk.mitigationPlan) return `${capitalize(risk.mitigation)} - ${risk.mitigationPlan}`;
  return risk.mitigation ? capitalize(risk.mitigation) : (risk.mitigationPlan ?? '');
}

/** A table row; a `|` inside a cell is escaped so it stays in its cell. */
function row(cells: string[]): string {
  return `| ${cells.map((c) => c.replace(/\|/g, '\\|')).join(' | ')} |`;
}
