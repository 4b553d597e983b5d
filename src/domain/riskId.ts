import { createHash, randomUUID } from 'node:crypto';
import { z } from 'zod';

/**
 * Risk ids (SPEC §6): `RSK_YYYYMMDD_HHMMSS_xxxxxxxx`, the UTC second the risk was made and 8 lowercase
 * hex digits of SHA-256 over the prefix, that second and a random UUID. The time makes ids sort by age
 * and read at a glance; the hash makes two risks made in one second distinct.
 */

export const RISK_ID_PREFIX = 'RSK';
export const RISK_ID_PATTERN = /^RSK_(\d{4})(\d{2})(\d{2})_(\d{2})(\d{2})(\d{2})_([0-9a-f]{8})$/;

/** The latest instant a four-digit year can encode. */
const MAX_ID_MS = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

/** The `YYYYMMDD_HHMMSS` part for an instant; throws for a time a four-digit year cannot hold. */
export function riskIdStamp(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0 || ms > MAX_ID_MS) {
    throw new RangeError(`a risk id needs a time between 1970 and 9999, got ${ms}`);
  }
  const iso = new Date(ms).toISOString(); // 2026-01-05T10:04:09.123Z
  return `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}_${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}`;
}

/** A new risk id for the UTC second of `ms`. `uuid` is injectable so tests can pin the hash. */
export function createRiskId(ms: number, uuid: () => string = randomUUID): string {
  const stamp = riskIdStamp(ms);
  const hex = createHash('sha256').update(`${RISK_ID_PREFIX}|${stamp}|${uuid()}`).digest('hex').slice(0, 8);
  return `${RISK_ID_PREFIX}_${stamp}_${hex}`;
}

/** The instant (start of the UTC second) an id encodes, or null when the id is malformed or no real time. */
export function riskIdTime(id: string): number | null {
  const m = RISK_ID_PATTERN.exec(id);
  if (!m) return null;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const ms = Date.UTC(year, month - 1, day, hour, minute, second);
  // Date.UTC rolls 2026-02-30 over to March; a real date survives the round trip unchanged.
  const d = new Date(ms);
  const real =
    d.getUTCFullYear() === year &&
    d.getUTCMonth() === month - 1 &&
    d.getUTCDate() === day &&
    d.getUTCHours() === hour &&
    d.getUTCMinutes() === minute &&
    d.getUTCSeconds() === second;
  return real && ms >= 0 ? ms : null;
}

/** True for a well-formed id whose date and time exist (no month 13, no February 30, no second 60). */
export function isRiskId(id: string): boolean {
  return riskIdTime(id) !== null;
}

export const riskIdSchema = z
  .string()
  .refine(isRiskId, { message: 'riskId must be RSK_YYYYMMDD_HHMMSS_xxxxxxxx with a real UTC time and 8 lowercase hex' });
