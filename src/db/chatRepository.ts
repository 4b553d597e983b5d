import { z } from 'zod';
import { WardenError } from '../errors.js';
import type { Sql, TransactionSql } from './client.js';
import { isoFromDb } from './instant.js';
import { pageLimitSchema, parseCursorOrThrow, toPage, type Page } from './pageCursor.js';

/** A chat session as stored; times are ISO strings. */
export interface ChatSessionRow {
  id: string;
  ownerId: string;
  title: string;
  createdAt: string;
  updatedAt: string;
}

export interface ChatMessageRow {
  seq: number;
  role: 'user' | 'assistant';
  content: string;
  tokenCount: number;
  createdAt: string;
}

const sessionSchema = z
  .object({ id: z.string(), owner_id: z.string(), title: z.string(), created_at: isoFromDb, updated_at: isoFromDb })
  .transform((r): ChatSessionRow => ({ id: r.id, ownerId: r.owner_id, title: r.title, createdAt: r.created_at, updatedAt: r.updated_at }));

const messageSchema = z
  .object({
    seq: z.number().int(),
    role: z.enum(['user', 'assistant']),
    content: z.string(),
    token_count: z.number().int(),
    created_at: isoFromDb,
  })
  .transform((r): ChatMessageRow => ({ seq: r.seq, role: r.role, content: r.content, tokenCount: r.token_count, createdAt: r.created_at }));

const uuid = z.uuid();
const historyCursorSchema = z.strictObject({ after: z.number().int().nonnegative() });

/** A message of a turn as it is saved. */
export interface NewMessage {
  role: 'user' | 'assistant';
  content: string;
  tokenCount: number;
}

type Db = Sql | TransactionSql;

/**
 * Chat storage (SPEC §8). Every read and write of a session names its owner: another user's session
 * is indistinguishable from a missing one (null / false), and so is an id that is not a UUID.
 */
export interface ChatRepository {
  createSession(tx: Db, session: { id: string; ownerId: string; title: string; at: Date }): Promise<ChatSessionRow>;
  /** The owner's session, row-locked until the transaction ends: turns of one session run one at a time. */
  lockSession(tx: TransactionSql, ownerId: string, sessionId: string): Promise<ChatSessionRow | null>;
  getSession(ownerId: string, sessionId: string): Promise<ChatSessionRow | null>;
  /** The newest `count` messages, oldest first. */
  newestMessages(tx: Db, sessionId: string, count: number): Promise<ChatMessageRow[]>;
  /**
   * Saves a turn's messages in order and moves the session's updated_at. Their time is never before the
   * session's last one, so (created_at, seq) stays the conversation's order even if clocks disagree.
   */
  appendMessages(tx: TransactionSql, sessionId: string, messages: NewMessage[], at: Date): Promise<void>;
  /** Oldest first, after `cursor`; INVALID_CURSOR for a cursor this did not make. */
  history(ownerId: string, sessionId: string, options: { limit?: number | undefined; cursor?: string | null }): Promise<Page<ChatMessageRow> | null>;
  /** Newest first (by creation), keyset-paginated. */
  listSessions(ownerId: string, options: { limit?: number | undefined; cursor?: string | null }): Promise<Page<ChatSessionRow>>;
  /** True when the owner's session existed; its messages go with it (ON DELETE CASCADE). */
  deleteSession(ownerId: string, sessionId: string): Promise<boolean>;
  /** Deletes sessions (and their messages) last touched before `before`; returns how many. */
  deleteUntouchedSince(before: Date): Promise<number>;
}

export function createChatRepository(sql: Sql): ChatRepository {
  const getSession = async (ownerId: string, sessionId: string): Promise<ChatSessionRow | null> => {
    if (!uuid.safeParse(sessionId).success) return null;
    const rows = await sql`select * from chat_sessions where id = ${sessionId} and owner_id = ${ownerId}`;
    return rows[0] ? sessionSchema.parse(rows[0]) : null;
  };

  return {
    async createSession(tx, s) {
      const rows = await tx`
        insert into chat_sessions (id, owner_id, title, created_at, updated_at)
        values (${s.id}, ${s.ownerId}, ${s.title}, ${s.at}, ${s.at})
        returning *`;
      return sessionSchema.parse(rows[0]);
    },

    async lockSession(tx, ownerId, sessionId) {
      if (!uuid.safeParse(sessionId).success) return null;
      const rows = await tx`select * from chat_sessions where id = ${sessionId} and owner_id = ${ownerId} for update`;
      return rows[0] ? sessionSchema.parse(rows[0]) : null;
    },

    getSession,

    async newestMessages(tx, sessionId, count) {
      const rows = await tx`
        select * from (
          select seq, role, content, token_count, created_at from chat_messages
          where session_id = ${sessionId}
          order by created_at desc, seq desc
          limit ${count}
        ) newest
        order by created_at, seq`;
      return rows.map((r) => messageSchema.parse(r));
    },

    async appendMessages(tx, sessionId, messages, at) {
      const [row] = await tx<{ at: Date }[]>`
        update chat_sessions set updated_at = greatest(updated_at, ${at}) where id = ${sessionId} returning updated_at as at`;
      const when = row?.at ?? at;
      for (const m of messages) {
        await tx`
          insert into chat_messages (session_id, role, content, token_count, created_at)
          values (${sessionId}, ${m.role}, ${m.content}, ${m.tokenCount}, ${when})`;
      }
    },

    async history(ownerId, sessionId, options) {
      if (!(await getSession(ownerId, sessionId))) return null;
      const limit = pageLimitSchema.parse(options.limit);
      const after = decodeHistoryCursor(options.cursor);
      const rows = await sql`
        select seq, role, content, token_count, created_at from chat_messages
        where session_id = ${sessionId} and seq > ${after}
        order by created_at, seq
        limit ${limit + 1}`;
      const items = rows.map((r) => messageSchema.parse(r)).slice(0, limit);
      const last = items.at(-1);
      return { items, nextCursor: rows.length > limit && last ? encodeHistoryCursor(last.seq) : null };
    },

    async listSessions(ownerId, options) {
      const limit = pageLimitSchema.parse(options.limit);
      const cursor = parseCursorOrThrow(options.cursor);
      const rows = await sql`
        select * from chat_sessions
        where owner_id = ${ownerId}
          ${cursor ? sql`and (created_at, id) < (${cursor.createdAt}::timestamptz, ${cursor.id}::uuid)` : sql``}
        order by created_at desc, id desc
        limit ${limit + 1}`;
      return toPage(rows.map((r) => sessionSchema.parse(r)), limit);
    },

    async deleteSession(ownerId, sessionId) {
      if (!uuid.safeParse(sessionId).success) return false;
      const rows = await sql`delete from chat_sessions where id = ${sessionId} and owner_id = ${ownerId} returning id`;
      return rows.length > 0;
    },

    async deleteUntouchedSince(before) {
      const rows = await sql`delete from chat_sessions where updated_at < ${before} returning id`;
      return rows.length;
    },
  };
}

// seq alone orders a session's messages (turns commit one after the other under the session's row
// lock), so the history cursor is just the last seq seen.
function encodeHistoryCursor(seq: number): string {
  return Buffer.from(JSON.stringify({ after: seq })).toString('base64url');
}

function decodeHistoryCursor(raw: string | null | undefined): number {
  if (raw === undefined || raw === null) return 0;
  try {
    const parsed = historyCursorSchema.safeParse(JSON.parse(Buffer.from(raw, 'base64url').toString('utf8')));
    if (parsed.success) return parsed.data.after;
  } catch {
    // fall through: not a cursor of ours
  }
  throw new WardenError('INVALID_CURSOR', 'Invalid page cursor', { cursor: raw.slice(0, 100) });
}
