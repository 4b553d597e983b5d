import { levelFromName, MAX_RISKS_PER_REGISTER, RISK_LEVELS, type RegisterRisk, type RiskLevel } from '../domain/riskRegister.js';
import type { RegisterHeader, StatedSummary } from '../domain/riskRegisterStated.js';
import { readBlocks, type Block } from './markdownBlocks.js';
import { readRiskTable, type ImportProblem } from './registerRiskTable.js';
import { isCalendarDate } from '../domain/calendarDate.js';

export type { ImportProblem } from './registerRiskTable.js';

/** A register read from a BMAD-style risk profile: its header, what its summary states, its risks. */
export interface ParsedRegister extends RegisterHeader {
  risks: RegisterRisk[];
}

export type ParseResult = { ok: true; register: ParsedRegister } | { ok: false; problems: ImportProblem[] };

const FALLBACK_TITLE = 'Risk Profile';
const MAX_TEXT = 200;
const MAX_ASSESSMENT = 5000;

/**
 * Reads a risk profile written in Markdown. Tolerant about layout (sections may be missing, table columns
 * in any order, extra columns ignored); strict wherever a guess would put a false figure into the
 * register: such problems refuse the whole import, each listed with its line.
 */
export function parseRegisterMarkdown(markdown: string): ParseResult {
  const blocks = readBlocks(markdown);
  const problems: ImportProblem[] = [];
  const stated: StatedSummary = {};
  const header = { title: '', subject: '', reviewer: null as string | null, reviewedOn: null as string | null, assessment: null as string | null };
  let explicitTitle: string | null = null;
  let explicitSubject: string | null = null;
  /** Mitigations written under a risk's own heading ("### 1. SEC-001: …"), applied when its row has none. */
  const detailMitigations = new Map<string, string>();
  let detailRisk: string | null = null;
  let assessmentEnd = 0;

  for (const block of blocks) {
    if (block.kind === 'heading') {
      if (block.depth === 1 && !header.title) header.title = block.text;
      detailRisk = block.depth >= 3 ? (/\b([A-Z][A-Z0-9]*(?:-[A-Z0-9]+)+)\b/.exec(block.text)?.[1] ?? null) : null;
      continue;
    }
    if (block.kind !== 'line') continue;
    const labelled = splitLabel(block.text);
    const { h2, h3 } = block.section;
    if (h2 === '' && labelled) {
      const value = labelled.value;
      if (/^date$/i.test(labelled.label)) {
        if (isCalendarDate(value)) header.reviewedOn = value;
        else problems.push({ line: block.line, message: `Date "${value}" is not a date written YYYY-MM-DD` });
      } else if (/^reviewer$/i.test(labelled.label)) header.reviewer = value.slice(0, MAX_TEXT);
      else if (/^title$/i.test(labelled.label)) explicitTitle = value;
      else if (/^subject$/i.test(labelled.label)) explicitSubject = value;
    } else if (h2.includes('executive summary')) {
      // The assessment paragraph may wrap over several source lines.
      if (!block.listItem && header.assessment !== null && block.line === assessmentEnd + 1) {
        header.assessment = `${header.assessment} ${block.text}`.slice(0, MAX_ASSESSMENT);
        assessmentEnd = block.line;
        continue;
      }
      readSummaryLine(block, stated, header, problems);
      if (header.assessment !== null && assessmentEnd === 0) assessmentEnd = block.line;
    } else if (h2.includes('distribution') || h3.startsWith('by ')) {
      readDistributionLine(block, h3 || h2, stated);
    } else if (h2.includes('calculation')) {
      readCalculationLine(block, stated);
    }
    if (detailRisk && labelled && /^mitigation$/i.test(labelled.label)) detailMitigations.set(detailRisk, labelled.value);
  }

  // The table under a "… Risk Register" heading when there is one, else the first with a risk id column.
  const tables = blocks.filter((b): b is Extract<Block, { kind: 'table' }> => b.kind === 'table' && hasIdColumn(b.header));
  const table = tables.find((b) => b.section.h2.includes('register')) ?? tables[0];
  let risks: RegisterRisk[] = [];
  const rowLines = new Map<string, number>();
  if (!table) problems.push({ line: null, message: 'No risk table: expected a table with a "Risk ID" column' });
  else risks = readRiskTable(table, detailMitigations, problems, rowLines);
  if (risks.length > MAX_RISKS_PER_REGISTER) {
    problems.push({ line: table?.line ?? null, message: `${risks.length} risks; a register holds at most ${MAX_RISKS_PER_REGISTER}` });
  }
  if (problems.length > 0) return { ok: false, problems: problems.sort((a, b) => (a.line ?? 0) - (b.line ?? 0)) };
  if (rowLines.size > 0) stated.rows = Object.fromEntries(rowLines);

  const heading = header.title || FALLBACK_TITLE;
  const subject = explicitSubject ?? (/^risk profile\s*[:—–-]\s*(.+)$/i.exec(heading)?.[1] ?? heading);
  return {
    ok: true,
    register: {
      title: (explicitTitle ?? heading).slice(0, MAX_TEXT),
      subject: subject.slice(0, MAX_TEXT),
      reviewer: header.reviewer,
      reviewedOn: header.reviewedOn,
      assessment: header.assessment,
      stated,
      risks,
    },
  };
}

/** `Critical Risks: 1` → { label: 'Critical Risks', value: '1' } (bold already removed). */
function splitLabel(text: string): { label: string; value: string } | null {
  const m = /^([^:]{1,80}):\s*(.*)$/.exec(text);
  return m ? { label: m[1]!.trim(), value: m[2]!.trim() } : null;
}

function leadingCount(value: string): number | null {
  const m = /^(\d{1,7})\b/.exec(value.trim());
  return m ? Number(m[1]) : null;
}

function readSummaryLine(
  block: Extract<Block, { kind: 'line' }>,
  stated: StatedSummary,
  header: { assessment: string | null },
  problems: ImportProblem[],
): void {
  const labelled = splitLabel(block.text);
  if (!labelled) return;
  const label = labelled.label.toLowerCase();
  const line = block.line;
  const figure = (name: string): { value: number; line: number } | null => {
    const value = leadingCount(labelled.value);
    if (value === null) problems.push({ line, message: `${name} "${labelled.value}" is not a number` });
    return value === null ? null : { value, line };
  };
  const level = /^(critical|high|medium|low|minimal)\b/.exec(label)?.[1];
  if (level && /risks?$/.test(label)) {
    const value = figure(labelled.label);
    if (value) stated.levels = { ...stated.levels, [level]: value };
  } else if (label.startsWith('total')) {
    const value = figure(labelled.label);
    if (value) stated.total = value;
  } else if (label.includes('risk score') || label.includes('overall score')) {
    const value = figure(labelled.label);
    if (value) stated.overallScore = value;
  } else if (label.startsWith('gate')) {
    stated.gate = { value: labelled.value.split(/\s/)[0] ?? '', line };
  } else if (label.includes('assessment')) {
    header.assessment = labelled.value.slice(0, MAX_ASSESSMENT);
  }
}

/** `Security: 3 risks (1 critical, 1 high, 1 low)` or `Auth Service: 4 risks`. */
function readDistributionLine(block: Extract<Block, { kind: 'line' }>, heading: string, stated: StatedSummary): void {
  const labelled = splitLabel(block.text);
  if (!labelled || !block.listItem) return;
  const total = leadingCount(labelled.value);
  if (total === null) return;
  const name = labelled.label.slice(0, MAX_TEXT);
  if (heading.includes('component')) {
    stated.components = [...(stated.components ?? []), { name, total, line: block.line }];
  } else if (heading.includes('category')) {
    stated.categories = [...(stated.categories ?? []), { name, total, levels: readBreakdown(labelled.value), line: block.line }];
  }
}

/** `(1 critical, 1 high)` → counts; null when absent or when any part names no level (then only the total is checked). */
function readBreakdown(value: string): Partial<Record<RiskLevel, number>> | null {
  const inner = /\(([^)]*)\)/.exec(value)?.[1];
  if (inner === undefined) return null;
  const levels: Partial<Record<RiskLevel, number>> = {};
  for (const part of inner.split(/[,;]/)) {
    const m = /^\s*(\d{1,7})\s+([a-z]+)\s*$/i.exec(part);
    const level = m ? levelFromName(m[2]!) : null;
    if (!m || !level) return null;
    levels[level] = (levels[level] ?? 0) + Number(m[1]);
  }
  return levels;
}

const DEDUCTION_LINE = /^(critical|high|medium|low|minimal)\b[^:]*:\s*[-−–]?\s*(\d{1,7})\s*[×x*]\s*(\d{1,7})\s*=\s*[-−–]?\s*(\d{1,9})\b/i;

function readCalculationLine(block: Extract<Block, { kind: 'line' }>, stated: StatedSummary): void {
  const calc = (stated.calculation ??= { deductions: [] });
  const deduction = DEDUCTION_LINE.exec(block.text);
  if (deduction) {
    const level = RISK_LEVELS.find((l) => l === deduction[1]!.toLowerCase());
    if (level) {
      const [perRisk, count, amount] = [deduction[2], deduction[3], deduction[4]].map(Number) as [number, number, number];
      calc.deductions.push({ level, perRisk, count, amount, line: block.line });
    }
    return;
  }
  const labelled = splitLabel(block.text);
  if (!labelled) return;
  if (/^base/i.test(labelled.label)) {
    const value = leadingCount(labelled.value);
    if (value !== null) calc.base = { value, line: block.line };
    return;
  }
  // `100 - 20 - 10 - 15 - 8 = 58/100`
  const [left, right] = labelled.value.split('=');
  const terms = /^\s*\d{1,7}(?:\s*[-−–]\s*\d{1,7})*\s*$/.test(left ?? '') ? (left ?? '').match(/\d{1,7}/g)?.map(Number) : undefined;
  const results = right?.replace(/\/\s*100\b/g, '').match(/\d{1,7}/g);
  const result = results?.at(-1);
  if (terms && terms.length > 0 && result !== undefined) {
    calc.final = { text: labelled.value.slice(0, 500), terms: terms.slice(0, 2000), result: Number(result), line: block.line };
  }
}

function hasIdColumn(header: string[]): boolean {
  return header.some((h) => /^(risk\s*)?id$/i.test(h.trim()));
}
