import { z } from 'zod';

/** SPEC §8: a message is 1–1,000 characters after trimming. */
export const MAX_CHAT_MESSAGE = 1_000;

/** Ids are bounded but not shape-checked: a malformed id answers NOT_FOUND, exactly like a missing one. */
export const conversationIdSchema = z.string().min(1).max(200);

export const sendChatInput = z.strictObject({
  conversationId: conversationIdSchema.optional(),
  // Control characters other than line breaks and tabs are an input error (PostgreSQL text refuses NUL).
  message: z
    .string()
    .trim()
    .min(1)
    .max(MAX_CHAT_MESSAGE)
    .regex(/^(?:[\t\n\r]|\P{Cc})*$/u, 'must not contain control characters'),
});

/**
 * chat.stream's input: a send, plus the `lastEventId` tRPC's SSE link adds when it reconnects after a
 * dropped connection. A reconnect must not run the turn again (the message would be sent twice), so a
 * stream input carrying one is refused; see chat.router.ts.
 */
export const streamChatInput = sendChatInput.extend({ lastEventId: z.string().max(100).nullish() });

export const chatHistoryInput = z.strictObject({
  conversationId: conversationIdSchema,
  limit: z.number().int().min(1).max(100).optional(),
  cursor: z.string().min(1).max(512).optional(),
});

export const chatSessionsInput = z
  .strictObject({
    limit: z.number().int().min(1).max(100).optional(),
    cursor: z.string().min(1).max(512).optional(),
  })
  .optional();

export const chatSessionRefInput = z.strictObject({ conversationId: conversationIdSchema });
