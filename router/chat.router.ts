import { tracked, TRPCError } from '@trpc/server';
import { WardenError } from '../src/errors.js';
import type { ChatService } from '../src/chat/chatService.js';
import type { ChatStreamEvent } from '../src/chat/streamTurn.js';
import type { AuthedContext } from './context.js';
import { chatHistoryInput, chatSessionRefInput, chatSessionsInput, sendChatInput, streamChatInput } from './chat.schemas.js';
import { TRPC_CODE_OF, wardenErrorOf } from './errorMapping.js';
import { authedProcedure, router } from './trpc.js';

/** The chat service, or SERVICE_UNAVAILABLE when this server runs without it. */
function chatOf(ctx: AuthedContext): ChatService {
  const chat = ctx.services.chat;
  if (!chat) throw new WardenError('SERVICE_UNAVAILABLE', 'chat is not running', { service: 'chat' });
  return chat;
}

/**
 * tRPC's SSE link reconnects after an error with a 5xx code, and a reconnect runs the subscription
 * again — here, it would send the message again. So a turn that fails mid-stream ends the stream with
 * its WardenError (same `wardenCode` and `details` as chat.send) under a code the link does not retry:
 * TOO_MANY_REQUESTS for the model's 5xx-like failures ("not now; see retryAfterSeconds").
 */
const RECONNECTING_CODES = new Set(['INTERNAL_SERVER_ERROR', 'BAD_GATEWAY', 'SERVICE_UNAVAILABLE', 'GATEWAY_TIMEOUT']);

/**
 * The turn's events, numbered (tracked ids: a client that reconnects says how far it got, and is then
 * refused rather than sent a second turn), with a failure mapped as described above.
 */
async function* numberedWithTypedErrors(ctx: AuthedContext, events: AsyncIterable<ChatStreamEvent>) {
  let n = 0;
  try {
    for await (const event of events) yield tracked(String(++n), event);
  } catch (err) {
    // Errors thrown from a generator bypass the procedure's middleware: map them here as it would.
    const warden = wardenErrorOf(err);
    if (!warden) throw err;
    ctx.services.metrics.refusals.inc({ code: warden.code });
    const code = TRPC_CODE_OF[warden.code];
    throw new TRPCError({ code: RECONNECTING_CODES.has(code) ? 'TOO_MANY_REQUESTS' : code, message: warden.message, cause: warden });
  }
}

/** SPEC §8 over tRPC: thin calls into the ChatService. */
export const chatRouter = router({
  send: authedProcedure
    .meta({ description: 'Send a message (no conversationId: a new session); the answer with token usage and latency' })
    .input(sendChatInput)
    .mutation(({ ctx, input, signal }) => chatOf(ctx).send(ctx.user, input, signal)),

  stream: authedProcedure
    .meta({ description: 'chat.send, streamed: {type:"delta", text} pieces as generated, then {type:"done", result}; tracked ids' })
    .input(streamChatInput)
    .subscription(async ({ ctx, input, signal }) => {
      const { lastEventId, ...send } = input;
      if (lastEventId != null) {
        // The connection dropped mid-answer and the link reconnected: that turn was rolled back if it had
        // not committed. Sending the message again is the caller's call (chat.history shows which).
        throw new WardenError('CONFLICT', 'The chat stream was interrupted; check chat.history and send again.', {
          entity: 'chat turn',
          id: send.conversationId ?? 'new session',
          reason: 'stream_interrupted',
        });
      }
      // Awaited here, not in the generator: a foreign session, a spent budget or a too-long message is
      // refused by the procedure itself (typed, not retried by the SSE link).
      const events = await chatOf(ctx).stream(ctx.user, send, signal);
      return numberedWithTypedErrors(ctx, events);
    }),

  history: authedProcedure
    .meta({ description: "A session's messages, oldest first, keyset-paginated" })
    .input(chatHistoryInput)
    .query(({ ctx, input }) => chatOf(ctx).history(ctx.user, input)),

  sessions: authedProcedure
    .meta({ description: "The caller's chat sessions, newest first, keyset-paginated" })
    .input(chatSessionsInput)
    .query(({ ctx, input }) => chatOf(ctx).sessions(ctx.user, input ?? {})),

  delete: authedProcedure
    .meta({ description: 'Delete a session and its messages' })
    .input(chatSessionRefInput)
    .mutation(({ ctx, input }) => chatOf(ctx).delete(ctx.user, input.conversationId)),
});
