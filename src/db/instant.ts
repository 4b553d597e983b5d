import { z } from 'zod';

/**
 * A point in time as callers hold it: epoch milliseconds (what `Clock.now()` returns), a Date, or an ISO
 * string. Repositories take instants explicitly (the clock stays with the caller) and return ISO strings.
 */
export type Instant = number | Date | string;

export const instantSchema = z
  .union([z.number().finite(), z.date(), z.string()])
  .transform((value, ctx) => {
    const date = new Date(value);
    if (Number.isNaN(date.getTime())) {
      ctx.addIssue({ code: 'custom', message: `not a valid instant: ${String(value)}` });
      return z.NEVER;
    }
    return date;
  });

/** Normalises an instant to a Date (millisecond precision, the precision every stored time has). */
export function toDate(value: Instant): Date {
  return instantSchema.parse(value);
}

/** An instant as epoch milliseconds, without the Date and the parse of `toDate` (the commit's hot path). */
export function toEpochMs(value: Instant): number {
  const ms = typeof value === 'number' ? value : typeof value === 'string' ? Date.parse(value) : value.getTime();
  if (!Number.isFinite(ms)) throw new RangeError(`not a valid instant: ${String(value)}`);
  return ms;
}

/** A `timestamptz` column as read by postgres.js (a Date) → the ISO string repositories return. */
export const isoFromDb = z.date().transform((d) => d.toISOString());
