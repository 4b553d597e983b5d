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
  try {
    const raw: unknown = await Promise.race([handler(context), abortOf(signal)]);
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
  }
}

/**
 * One promise per signal that settles when it aborts: a hosting's steps share its signal, so its four or
 * more steps share one listener rather than adding and removing one each. Held weakly: it goes with the
 * signal.
 */
const abortPromises = new WeakMap<AbortSignal, Promise<typeof ABORTED>>();
function abortOf(signal: AbortSignal): Promise<typeof ABORTED> {
  let aborted = abortPromises.get(signal);
  if (!aborted) {
    aborted = new Promise((resolve) => signal.addEventListener('abort', () => resolve(ABORTED), { once: true }));
    abortPromises.set(signal, aborted);
  }
  return aborted;
}
