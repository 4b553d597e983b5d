import {
  categoryFromName,
  MAX_RISK_ID_LENGTH,
  MITIGATION_KINDS,
  RISK_CATEGORIES,
  RISK_ID_PATTERN,
  type MitigationKind,
  type Rating,
  type RegisterRisk,
} from '../domain/riskRegister.js';
import type { Block } from './markdownBlocks.js';

/** Why an import was refused: what, and on which line (null when it is about the whole document). */
export interface ImportProblem {
  line: number | null;
  message: string;
}

type Column =
  | 'id'
  | 'category'
  | 'component'
  | 'description'
  | 'probability'
  | 'impact'
  | 'score'
  | 'priority'
  | 'mitigation'
  | 'owner'
  | 'timeline'
  | 'residual';

const REQUIRED: readonly Column[] = ['id', 'category', 'description', 'probability', 'impact'];

/** Header names, matched case-insensitively after collapsing punctuation; the first match of a column wins. */
const HEADER_NAMES: Readonly<Record<Column, readonly string[]>> = {
  id: ['risk id', 'id'],
  category: ['category'],
  component: ['component', 'components', 'affected component', 'affected components'],
  description: ['description', 'risk description', 'risk', 'title'],
  probability: ['probability', 'likelihood'],
  impact: ['impact', 'severity'],
  score: ['score', 'risk score'],
  priority: ['priority', 'level', 'risk level'],
  mitigation: ['mitigation', 'mitigation strategy', 'mitigation kind'],
  owner: ['owner', 'risk owner'],
  timeline: ['timeline', 'due', 'target date'],
  residual: ['residual risk', 'residual'],
};

export const MAX_DESCRIPTION = 2000;
export const MAX_FIELD = 500;

/** Rows of the risk table as risks; every row problem goes to `problems` (the caller refuses the import). */
export function readRiskTable(
  table: Extract<Block, { kind: 'table' }>,
  detailMitigations: ReadonlyMap<string, string>,
  problems: ImportProblem[],
  rowLines: Map<string, number>,
): RegisterRisk[] {
  const columns = new Map<Column, number>();
  table.header.forEach((raw, index) => {
    const name = raw.toLowerCase().replace(/[^a-z0-9]+/g, ' ').trim();
    for (const [column, names] of Object.entries(HEADER_NAMES) as [Column, readonly string[]][]) {
      if (!columns.has(column) && names.includes(name)) columns.set(column, index);
    }
  });
  const missing = REQUIRED.filter((c) => !columns.has(c));
  if (missing.length > 0) {
    problems.push({ line: table.line, message: `The risk table has no ${missing.join(', ')} column` });
    return [];
  }

  const risks: RegisterRisk[] = [];
  const firstLine = new Map<string, number>();
  for (const row of table.rows) {
    const cell = (c: Column) => {
      const i = columns.get(c);
      return i === undefined ? '' : (row.cells[i] ?? '');
    };
    const plain = (c: Column) => {
      const i = columns.get(c);
      return i === undefined ? '' : (row.plain[i] ?? '');
    };
    if (row.plain.every((p) => p === '')) continue;
    const problem = (message: string) => problems.push({ line: row.line, message });

    // Upper-casing an id (`sec-001`) is no guess; anything else that is not an id is refused.
    const id = plain('id').toUpperCase();
    if (!RISK_ID_PATTERN.test(id) || id.length > MAX_RISK_ID_LENGTH) problem(`Risk id "${id}" is not an id like SEC-001`);
    const seenAt = firstLine.get(id);
    if (seenAt !== undefined) problem(`Duplicate risk id ${id} (first on line ${seenAt})`);
    else firstLine.set(id, row.line);

    const category = categoryFromName(plain('category'));
    if (!category) problem(`${id}: unknown category "${plain('category')}" (one of ${RISK_CATEGORIES.join(', ')})`);
    const probability = readRating(plain('probability'), `${id}: probability`, problem);
    const impact = readRating(plain('impact'), `${id}: impact`, problem);
    const description = cell('description');
    if (!description) problem(`${id}: no description`);
    if (description.length > MAX_DESCRIPTION) problem(`${id}: description longer than ${MAX_DESCRIPTION} characters`);

    let statedScore: number | null = null;
    const scoreText = plain('score');
    if (scoreText) {
      const m = /^(\d{1,3})\b/.exec(scoreText);
      if (m) statedScore = Number(m[1]);
      else problem(`${id}: score "${scoreText}" is not a number`);
    }
    const mitigation = readMitigation(cell('mitigation') || (detailMitigations.get(id) ?? ''));
    const optional = (c: Column) => {
      const value = cell(c);
      if (value.length > MAX_FIELD) problem(`${id}: ${c} longer than ${MAX_FIELD} characters`);
      return value || null;
    };
    const risk = {
      id,
      component: optional('component'),
      description,
      mitigation: mitigation.kind,
      mitigationPlan: mitigation.plan,
      owner: optional('owner'),
      timeline: optional('timeline'),
      residualRisk: optional('residual'),
      statedScore,
      statedPriority: plain('priority').slice(0, 50) || null,
    };
    if (category && probability && impact) {
      risks.push({ ...risk, category, probability, impact });
      rowLines.set(id, row.line);
    }
  }
  if (risks.length === 0 && problems.length === 0) {
    problems.push({ line: table.line, message: 'The risk table has no risk rows' });
  }
  return risks;
}

const RATING_WORDS: Readonly<Record<string, Rating>> = { low: 1, medium: 2, med: 2, high: 3 };

/**
 * `High (3)`, `3`, `high`, `High - tokens are stored …`. A word and a number that disagree (`Low (3)`)
 * or a number outside 1–3 is a problem: either way the register would carry a guess.
 */
export function readRating(text: string, what: string, problem: (message: string) => void): Rating | null {
  const value = text.trim().toLowerCase();
  const word = /^(low|medium|med|high)\b/.exec(value)?.[1];
  const number = /^\(?(\d+)\)?$/.exec(value)?.[1] ?? /^[a-z]+\s*\((\d+)\)/.exec(value)?.[1];
  const fromWord = word === undefined ? undefined : RATING_WORDS[word];
  const fromNumber = number === undefined ? undefined : Number(number);
  if (fromNumber !== undefined && (fromNumber < 1 || fromNumber > 3)) {
    problem(`${what} ${fromNumber} is outside 1–3`);
    return null;
  }
  if (fromWord !== undefined && fromNumber !== undefined && fromWord !== fromNumber) {
    problem(`${what} "${text}" contradicts itself`);
    return null;
  }
  const rating = fromNumber ?? fromWord;
  if (rating === undefined) {
    problem(`${what} "${text}" is not low/medium/high or 1–3`);
    return null;
  }
  return rating as Rating;
}

/** `Preventive - 30-minute lifetime` → kind and plan; text that names no kind is all plan. */
export function readMitigation(text: string): { kind: MitigationKind | null; plan: string | null } {
  const trimmed = text.trim();
  const m = /^([a-z]+)\b\s*(?:[-—–:]\s*)?(.*)$/i.exec(trimmed);
  const kind = MITIGATION_KINDS.find((k) => k === m?.[1]?.toLowerCase()) ?? null;
  if (kind) return { kind, plan: m?.[2]?.trim().slice(0, MAX_FIELD) || null };
  return { kind: null, plan: trimmed.slice(0, MAX_FIELD) || null };
}
