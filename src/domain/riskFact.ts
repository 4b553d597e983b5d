import { Decimal } from 'decimal.js';
import { z } from 'zod';
import { systemClock, type Clock } from '../clock.js';
import { createRiskId, riskIdSchema, riskIdStamp } from './riskId.js';

/**
 * Risk facts (SPEC §6): immutable records of one detected risk. Made only through `createRiskFact` or
 * `parseRiskFact`, which validate every field, reject unknown ones and freeze the result.
 *
 * Inputs accepted, and why:
 * - `severity`: a `Decimal`; a plain decimal string ("0.85", "1", "0.850"; no sign, no exponent); or a JS
 *   number whose shortest decimal form has at most 15 significant digits (the digits a double holds
 *   exactly, so `0.85` is the 0.85 its writer meant). A number like `0.1 + 0.2`
 *   (0.30000000000000004, 17 digits) is binary noise and refused rather than silently rounded. The value
 *   must lie in [0, 1]. It is kept as a Decimal and serialised with at least two decimals ("0.90",
 *   "0.855"): never rounded, so the string always means the exact value.
 * - `timestamp`: a Date, epoch ms, or an ISO 8601 string (date, or date and time with an optional zone);
 *   a time without a zone is UTC. Stored as an ISO string in UTC. Defaults to the clock's now. The year
 *   must fit the id's four digits (1970–9999).
 * - `riskId`: generated from the timestamp unless the caller supplies a valid one, which is kept as is.
 * - `affectedSymbol`: `BASE_QUOTE` in capitals, or null / omitted for a risk not tied to one symbol.
 */

export interface RiskFact {
  readonly riskId: string;
  /** ISO 8601, UTC (`…Z`). */
  readonly timestamp: string;
  readonly riskType: string;
  /** Exact; frozen. */
  readonly severity: Decimal;
  readonly affectedSymbol: string | null;
}

/** The published and stored shape of a fact: severity as a string. */
export interface RiskFactJson {
  riskId: string;
  timestamp: string;
  riskType: string;
  severity: string;
  affectedSymbol: string | null;
}

const RESERVED_TYPE_PREFIXES = ['SYSTEM_', 'INTERNAL_', '_'] as const;
const PLAIN_DECIMAL = /^\d+(\.\d+)?$/;
/** DBL_DIG: every decimal with this many significant digits survives decimal → double → decimal. */
const EXACT_DOUBLE_DIGITS = 15;
// Date, or date-time with optional seconds, fraction and zone. Anything else (RFC 2822, "yesterday") is refused.
const ISO_TIME =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:?\d{2})?)?$/i;

export const riskTypeSchema = z
  .string()
  .min(3, 'riskType must be 3 to 25 characters')
  .max(25, 'riskType must be 3 to 25 characters')
  .regex(/^[A-Z][A-Z0-9_]*$/, 'riskType must be capitals, digits and underscores, starting with a capital')
  .refine((t) => !RESERVED_TYPE_PREFIXES.some((p) => t.startsWith(p)), {
    message: `riskType may not start with ${RESERVED_TYPE_PREFIXES.join(', ')} (reserved)`,
  });

export const affectedSymbolSchema = z
  .string()
  .regex(/^[A-Z]+_[A-Z]+$/, 'affectedSymbol must look like BTC_USDT');

export const severitySchema = z.union([z.string(), z.number(), z.instanceof(Decimal)]).transform(toSeverity);

export const timestampSchema = z.union([z.string(), z.number(), z.date()]).transform(toTimestamp);

/** What a monitor passes to `createRiskFact`. Unknown fields are rejected. */
export const riskFactInputSchema = z.strictObject({
  riskId: riskIdSchema.optional(),
  timestamp: timestampSchema.optional(),
  riskType: riskTypeSchema,
  severity: severitySchema,
  affectedSymbol: affectedSymbolSchema.nullable().optional(),
});
export type RiskFactInput = z.input<typeof riskFactInputSchema>;

/** The wire form: every field present, severity a decimal string, timestamp a UTC ISO string. */
export const riskFactJsonSchema = z.strictObject({
  riskId: riskIdSchema,
  timestamp: z.string().regex(/Z$/, 'a serialised timestamp is UTC (ends in Z)').transform(toTimestamp),
  riskType: riskTypeSchema,
  severity: z.string().transform(toSeverity),
  affectedSymbol: affectedSymbolSchema.nullable(),
});

export interface CreateRiskFactOptions {
  clock?: Clock;
  /** Randomness for generated ids; tests pin it. */
  uuid?: () => string;
}

/** Validates `input` (throws a ZodError listing every problem) and returns a frozen fact. */
export function createRiskFact(input: unknown, options: CreateRiskFactOptions = {}): RiskFact {
  const parsed = riskFactInputSchema.parse(input);
  const timestamp = parsed.timestamp ?? new Date((options.clock ?? systemClock).now()).toISOString();
  const riskId = parsed.riskId ?? createRiskId(Date.parse(timestamp), options.uuid);
  return freezeFact({
    riskId,
    timestamp,
    riskType: parsed.riskType,
    severity: parsed.severity,
    affectedSymbol: parsed.affectedSymbol ?? null,
  });
}

/** Reads a fact in its wire form (from Redis, a queue or a database); throws a ZodError when invalid. */
export function parseRiskFact(json: unknown): RiskFact {
  const parsed = riskFactJsonSchema.parse(json);
  return freezeFact({ ...parsed });
}

/** The wire form; `parseRiskFact(riskFactToJson(f))` equals `f`. */
export function riskFactToJson(fact: RiskFact): RiskFactJson {
  return {
    riskId: fact.riskId,
    timestamp: fact.timestamp,
    riskType: fact.riskType,
    severity: formatSeverity(fact.severity),
    affectedSymbol: fact.affectedSymbol,
  };
}

/** At least two decimals ("0.90"), more when the value has them ("0.855"): exact, never rounded. */
export function formatSeverity(severity: Decimal): string {
  return severity.toFixed(Math.max(2, severity.decimalPlaces()));
}

function toSeverity(value: string | number | Decimal, ctx: z.RefinementCtx): Decimal {
  const parsed = toExactDecimal(value);
  if (typeof parsed === 'string') {
    ctx.addIssue({ code: 'custom', message: parsed });
    return z.NEVER;
  }
  return parsed;
}

function toTimestamp(value: string | number | Date, ctx: z.RefinementCtx): string {
  const ms = toUtcMs(value);
  if (ms === null) {
    ctx.addIssue({ code: 'custom', message: 'timestamp must be an ISO 8601 date-time (no zone means UTC), a Date or epoch ms' });
    return z.NEVER;
  }
  try {
    riskIdStamp(ms);
  } catch {
    ctx.addIssue({ code: 'custom', message: 'timestamp must lie between 1970 and 9999' });
    return z.NEVER;
  }
  return new Date(ms).toISOString();
}

function freezeFact(fact: RiskFact): RiskFact {
  Object.freeze(fact.severity);
  return Object.freeze(fact);
}

/** A Decimal in [0, 1], or the reason the value is refused. */
function toExactDecimal(value: string | number | Decimal): Decimal | string {
  let d: Decimal;
  if (value instanceof Decimal) {
    if (!value.isFinite()) return 'severity must be a finite decimal';
    d = new Decimal(value);
  } else if (typeof value === 'string') {
    if (!PLAIN_DECIMAL.test(value)) return 'severity must be a plain decimal string such as "0.85"';
    d = new Decimal(value);
  } else {
    if (!Number.isFinite(value)) return 'severity must be a finite number';
    d = new Decimal(String(value));
    if (d.precision() > EXACT_DOUBLE_DIGITS) {
      return `severity ${String(value)} carries binary floating-point noise; pass it as a decimal string`;
    }
  }
  if (d.lt(0) || d.gt(1)) return 'severity must be between 0 and 1';
  // -0 becomes 0 so that it serialises as "0.00".
  return d.isZero() ? new Decimal(0) : d;
}

function toUtcMs(value: string | number | Date): number | null {
  if (value instanceof Date) return Number.isFinite(value.getTime()) ? value.getTime() : null;
  if (typeof value === 'number') return Number.isInteger(value) ? value : null;
  const m = ISO_TIME.exec(value.trim());
  if (!m) return null;
  const [, y, mo, d, h = '00', mi = '00', s = '00', frac = '', zone] = m;
  const ms = Number(`0.${frac || '0'}`) * 1000;
  const wall = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s), Math.floor(ms));
  const check = new Date(wall);
  // Reject dates Date.UTC silently rolls over (February 30, hour 24 …).
  if (
    check.getUTCFullYear() !== Number(y) ||
    check.getUTCMonth() !== Number(mo) - 1 ||
    check.getUTCDate() !== Number(d) ||
    check.getUTCHours() !== Number(h) ||
    check.getUTCMinutes() !== Number(mi) ||
    check.getUTCSeconds() !== Number(s)
  ) {
    return null;
  }
  const offset = zoneOffsetMs(zone);
  return offset === null ? null : wall - offset;
}

/** Offset of `+02:00` / `-0530` / `Z` / none (UTC) in ms, to subtract from the wall time; null if impossible. */
function zoneOffsetMs(zone: string | undefined): number | null {
  if (!zone || zone.toUpperCase() === 'Z') return 0;
  const sign = zone.startsWith('-') ? -1 : 1;
  const digits = zone.slice(1).replace(':', '');
  const hours = Number(digits.slice(0, 2));
  const minutes = Number(digits.slice(2, 4));
  if (hours > 23 || minutes > 59) return null;
  return sign * (hours * 60 + minutes) * 60_000;
}
