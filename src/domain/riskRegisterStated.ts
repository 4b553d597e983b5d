import { z } from 'zod';
import { RISK_LEVELS } from './riskRegister.js';

/**
 * What a register's written summary states, kept exactly as written so that every figure can be checked
 * against the risks (riskRegisterProfile.ts). Each figure carries the line it came from (1-based) when it
 * was imported from Markdown, so a disagreement can point at it. Stored as jsonb, hence a schema.
 */

const line = z.number().int().positive().nullable();
const count = z.number().int().min(0).max(1_000_000);
const levelEnum = z.enum(RISK_LEVELS);

const statedNumber = z.strictObject({ value: count, line });

/** `- Medium Risks (Score 4): -5 × 3 = -15` */
const statedDeduction = z.strictObject({
  level: levelEnum,
  perRisk: count,
  count,
  amount: count,
  line,
});

/** `100 - 20 - 10 = 70`: the terms in order (the first is the base), and the stated result. */
const statedArithmetic = z.strictObject({
  text: z.string().max(500),
  terms: z.array(count).min(1).max(2_000),
  result: count,
  line,
});

/** `- **Security:** 3 risks (1 critical, 1 high, 1 low)`; `levels` null when no breakdown is written. */
const statedCategoryLine = z.strictObject({
  name: z.string().min(1).max(200),
  total: count,
  levels: z.partialRecord(levelEnum, count).nullable(),
  line,
});

const statedComponentLine = z.strictObject({ name: z.string().min(1).max(200), total: count, line });

export const statedSummarySchema = z.strictObject({
  total: statedNumber.optional(),
  levels: z.partialRecord(levelEnum, statedNumber).optional(),
  overallScore: statedNumber.optional(),
  gate: z.strictObject({ value: z.string().max(50), line }).optional(),
  calculation: z
    .strictObject({
      base: statedNumber.optional(),
      deductions: z.array(statedDeduction).max(10),
      final: statedArithmetic.optional(),
    })
    .optional(),
  categories: z.array(statedCategoryLine).max(100).optional(),
  components: z.array(statedComponentLine).max(1_000).optional(),
  /** The line each risk's row was written on, so a row's stated score or priority can be pointed at. */
  rows: z.record(z.string().max(40), z.number().int().positive()).optional(),
});

export type StatedSummary = z.infer<typeof statedSummarySchema>;
export type StatedCategoryLine = z.infer<typeof statedCategoryLine>;
export type StatedDeduction = z.infer<typeof statedDeduction>;

/** A stated figure that the risks contradict. */
export interface Disagreement {
  /** Stable, machine-readable: `levels.medium`, `overallScore`, `calculation.arithmetic`, `risks.PERF-001.priority`, `categories.performance` … */
  figure: string;
  /** What the figure is, in words. */
  label: string;
  stated: number | string;
  computed: number | string;
  /** Line of the Markdown it was stated on, when imported. */
  line: number | null;
}

/** A stated figure the risks cannot confirm or refute. */
export interface Unverifiable {
  figure: string;
  label: string;
  stated: number | string;
  reason: string;
  line: number | null;
}

/** The header fields a register's Markdown carries (the export writes them, the import reads them). */
export interface RegisterHeadline {
  title: string;
  subject: string;
  reviewer: string | null;
  /** YYYY-MM-DD */
  reviewedOn: string | null;
  assessment: string | null;
}

/** What a register says about itself, as written: the header of a stored, imported or listed register. */
export interface RegisterHeader extends RegisterHeadline {
  /** The summary as it was written (imported registers); `{}` when none was. */
  stated: StatedSummary;
}
