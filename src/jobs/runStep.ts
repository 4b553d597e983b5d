import { z } from 'zod';
import { clipReason } from '../../actors/jobTransitions.js';
import type { StepContext, StepHandler, TokenUsage } from './stepHandlers.js';

/** What became of one step: its result, a throw (the step broke), or an abort (cancel, hand-back, lost). */
export type StepOutcome =
  | { kind: 'done'; ok: true; tokens?: TokenUsage }
  | { kind: 'done'; ok: false; reason: string; tokens?: TokenUsage }
  | { kind: 'threw'; reason: string }
  | { kind: 'aborted' };

const tokensSchema = z.strictObject({ input: z.number().int().nonnegative(), output: z.number().int().nonnegative() });
/** Handlers are host code: their results are checked like any other input. */
const stepResultSchema = z.union([
  z.strictObject({ ok: z.literal(true), tokens: tokensSchema.optional() }),
  z.strictObject({ ok: z.literal(false), reason: z.string(), tokens: tokensSchema.optional() }),
]);

const ABORTED = Symbol('aborted');
const DONE_OK: StepOutcome = Object.freeze({ kind: 'done', ok: true });

/** `{ ok: true }` and nothing else: most results, checked without building zod's result objects. */
function isPlainOk(raw: unknown): boolean {
  if (typeof raw !== 'object' || raw === null || Object.getPrototypeOf(raw) !== Object.prototype) return false;
  let keys = 0;
  for (const key in raw) if (Object.hasOwn(raw, key)) keys++;
  return keys === 1 && (raw as { ok?: unknown }).ok === true;
}

/**
 * Runs a step handler. An abort of `context.signal` settles the step at once, whether or not the handler
 * honours the signal (a handler that ignores it runs on, unheard). A throw or a malformed result is the
 * step breaking: its message becomes the failure reason (at most 200 characters).
 */
export async function runStep(handler: StepHandler, context: StepContext): Promise<StepOutcome> {
  const { signal } = context;
  if (signal.aborted) return { kind: 'aborted' };
  let onAbort: () => void = () => {};
  const aborted = new Promise<typeof ABORTED>((resolve) => {
    onAbort = () => resolve(ABORTED);
    signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    const raw: unknown = await Promise.race([handler(context), aborted]);
    if (raw === ABORTED) return { kind: 'aborted' };
    if (isPlainOk(raw)) return DONE_OK;
    const parsed = stepResultSchema.safeParse(raw);
    if (!parsed.success) return { kind: 'threw', reason: `Step handler for ${context.step} returned an invalid result` };
    const result = parsed.data;
    const tokens = result.tokens ? { tokens: result.tokens } : {};
    return result.ok ? { kind: 'done', ok: true, ...tokens } : { kind: 'done', ok: false, reason: clipReason(result.reason), ...tokens };
  } catch (error) {
    if (signal.aborted) return { kind: 'aborted' };
    const message = error instanceof Error ? error.message : String(error);
    return { kind: 'threw', reason: clipReason(`Step ${context.step} failed: ${message}`) };
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
}
