import { z } from 'zod';
import { isCalendarDate } from '../src/domain/calendarDate.js';
import {
  MAX_RISK_ID_LENGTH,
  MAX_RISKS_PER_REGISTER,
  MITIGATION_KINDS,
  RISK_CATEGORIES,
  RISK_ID_PATTERN,
} from '../src/domain/riskRegister.js';

/** Largest Markdown import, in UTF-8 bytes. */
export const MAX_MARKDOWN_BYTES = 1024 * 1024;

/** Ids are bounded but not shape-checked: a malformed id answers NOT_FOUND, exactly like a missing one. */
export const registerIdSchema = z.string().min(1).max(200);

/** One line of text: trimmed, non-empty, no control characters (NUL above all, which PostgreSQL text refuses). */
const line = (max: number) =>
  z
    .string()
    .trim()
    .min(1)
    .max(max)
    .regex(/^\P{Cc}*$/u, 'must not contain control characters');
const optionalLine = (max: number) => line(max).nullable().optional();

export const riskIdSchema = z
  .string()
  .trim()
  .max(MAX_RISK_ID_LENGTH)
  .regex(RISK_ID_PATTERN, 'must look like SEC-001 (capitals, digits, dash-separated)');

const rating = z.union([z.literal(1), z.literal(2), z.literal(3)]);

const riskFields = {
  category: z.enum(RISK_CATEGORIES),
  component: optionalLine(500),
  description: line(2000),
  probability: rating,
  impact: rating,
  mitigation: z.enum(MITIGATION_KINDS).nullable().optional(),
  mitigationPlan: optionalLine(500),
  owner: optionalLine(500),
  timeline: optionalLine(500),
  residualRisk: optionalLine(500),
};

export const riskInput = z.strictObject({ id: riskIdSchema, ...riskFields });
export type RiskInput = z.infer<typeof riskInput>;

export const createRegisterInput = z.strictObject({
  title: line(200),
  subject: line(200),
  reviewer: optionalLine(200),
  reviewedOn: z.iso.date().refine(isCalendarDate, 'not a date PostgreSQL can store (years 0001–9999)').nullable().optional(),
  assessment: optionalLine(5000),
  risks: z
    .array(riskInput)
    .max(MAX_RISKS_PER_REGISTER)
    .optional()
    .superRefine((risks, ctx) => {
      const seen = new Set<string>();
      risks?.forEach((risk, i) => {
        if (seen.has(risk.id)) ctx.addIssue({ code: 'custom', path: [i, 'id'], message: `duplicate risk id ${risk.id}` });
        seen.add(risk.id);
      });
    }),
});

export const registerRefInput = z.strictObject({ registerId: registerIdSchema });

export const listRegistersInput = z
  .strictObject({
    limit: z.number().int().min(1).max(100).optional(),
    cursor: z.string().min(1).max(512).optional(),
  })
  .optional();

export const addRiskInput = z.strictObject({ registerId: registerIdSchema, risk: riskInput });

export const updateRiskInput = z.strictObject({
  registerId: registerIdSchema,
  riskId: riskIdSchema,
  // What is given changes; null clears an optional field. `statedScore`/`statedPriority` null forget what a document said.
  patch: z
    .strictObject({
      ...riskFields,
      category: riskFields.category.optional(),
      description: riskFields.description.optional(),
      probability: rating.optional(),
      impact: rating.optional(),
      statedScore: z.null().optional(),
      statedPriority: z.null().optional(),
    })
    .refine((patch) => Object.keys(patch).length > 0, 'nothing to change'),
});

export const removeRiskInput = z.strictObject({ registerId: registerIdSchema, riskId: riskIdSchema });

export const importRegisterInput = z.strictObject({
  markdown: z
    .string()
    .min(1)
    // Characters first (cheap, and bounds the byte count at 4×), then the exact UTF-8 size.
    .max(MAX_MARKDOWN_BYTES)
    .refine((text) => Buffer.byteLength(text, 'utf8') <= MAX_MARKDOWN_BYTES, `must be at most ${MAX_MARKDOWN_BYTES} bytes`)
    // Tab, line feed and carriage return are text; other control characters (NUL …) are not.
    .refine((text) => !/[^\P{Cc}\t\n\r]/u.test(text), 'must not contain control characters'),
  dryRun: z.boolean().optional(),
});
