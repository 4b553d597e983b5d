import { z } from 'zod';
import { WardenError } from '../errors.js';

/**
 * Keyset pagination position: the (created_at, id) of the last row of a page. Lists are ordered by
 * `created_at desc, id desc`, so the next page is every row strictly after that pair — stable while rows
 * are inserted (no duplicate, no gap), unlike OFFSET. Opaque to clients: base64url of JSON.
 */
export interface PageCursor {
  createdAt: string;
  id: string;
}

export interface Page<T> {
  items: T[];
  /** Pass back as `cursor` for the next page; null on the last page. */
  nextCursor: string | null;
}

const cursorShape = z.strictObject({ createdAt: z.iso.datetime(), id: z.uuid() });

export function encodeCursor(cursor: PageCursor): string {
  return Buffer.from(JSON.stringify(cursor)).toString('base64url');
}

/** Null when `raw` is not a cursor this module made. */
export function decodeCursor(raw: string): PageCursor | null {
  try {
    const parsed = cursorShape.safeParse(JSON.parse(Buffer.from(raw, 'base64url').toString('utf8')));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

/** For API inputs: a string that decodes as a cursor. */
export const pageCursorSchema = z.string().max(512).refine((raw) => decodeCursor(raw) !== null, 'invalid cursor');

/** Page sizes: default 20, at most 100. */
export const pageLimitSchema = z.number().int().min(1).max(100).default(20);

/** Decodes a caller's cursor or throws INVALID_CURSOR (never silently restarts from page one). */
export function parseCursorOrThrow(raw: string | null | undefined): PageCursor | null {
  if (raw === undefined || raw === null) return null;
  const cursor = decodeCursor(raw);
  if (!cursor) throw new WardenError('INVALID_CURSOR', 'Invalid page cursor', { cursor: raw.slice(0, 100) });
  return cursor;
}

/** Cuts a page fetched with `limit + 1` rows and derives the next cursor from its last row. */
export function toPage<T extends { createdAt: string; id: string }>(rows: T[], limit: number): Page<T> {
  const items = rows.slice(0, limit);
  const last = items.at(-1);
  return { items, nextCursor: rows.length > limit && last ? encodeCursor({ createdAt: last.createdAt, id: last.id }) : null };
}
