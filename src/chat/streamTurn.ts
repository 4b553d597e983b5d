import type { ChatTurnResult } from './chatService.js';

/** What chat.stream sends: pieces of the answer as they are generated, then the turn's result. */
export type ChatStreamEvent = { type: 'delta'; text: string } | { type: 'done'; result: ChatTurnResult };

/**
 * Runs a turn that reports its answer piece by piece (`onDelta`) and yields those pieces as they come,
 * then the result. The turn runs inside a transaction callback, which cannot yield, hence the buffer
 * between the two. A failed turn's error is thrown after the pieces already received. When the reader
 * stops early (unsubscribed, disconnected) the turn is aborted: its model call stops and it saves nothing.
 */
export async function* streamTurn(
  run: (onDelta: (text: string) => void, signal: AbortSignal) => Promise<ChatTurnResult>,
  outer?: AbortSignal,
): AsyncGenerator<ChatStreamEvent, void, undefined> {
  const abort = new AbortController();
  const onOuterAbort = () => abort.abort(outer?.reason);
  outer?.addEventListener('abort', onOuterAbort, { once: true });
  if (outer?.aborted) onOuterAbort();

  const pieces: string[] = [];
  let wake: (() => void) | null = null;
  const notify = () => {
    wake?.();
    wake = null;
  };
  let settled = false;
  const turn = run((text) => {
    pieces.push(text);
    notify();
  }, abort.signal).finally(() => {
    settled = true;
    notify();
  });
  // Observed here so a failure is never "unhandled" while the reader is between pieces.
  turn.catch(() => undefined);

  let finished = false;
  try {
    for (;;) {
      const text = pieces.shift();
      if (text !== undefined) {
        yield { type: 'delta', text };
        continue;
      }
      if (settled) break;
      await new Promise<void>((resolve) => (wake = resolve));
    }
    const result = await turn;
    finished = true;
    yield { type: 'done', result };
  } finally {
    outer?.removeEventListener('abort', onOuterAbort);
    if (!finished) abort.abort(new Error('the stream was closed before the answer was complete'));
    // Whoever closed the stream early still waits for the turn to roll back before this returns.
    await turn.catch(() => undefined);
  }
}
