import { describe, expect, it } from 'vitest';
import { runStep } from '../../src/jobs/runStep.js';
import type { StepContext, StepHandler } from '../../src/jobs/stepHandlers.js';

const context = (signal = new AbortController().signal): StepContext => ({
  jobId: 'j',
  ownerId: 'u',
  projectId: 'p',
  goal: 'g',
  step: 'code',
  iteration: 0,
  signal,
});

describe('runStep', () => {
  it('passes a result through with its tokens', async () => {
    expect(await runStep(() => Promise.resolve({ ok: true, tokens: { input: 3, output: 4 } }), context())).toEqual({
      kind: 'done',
      ok: true,
      tokens: { input: 3, output: 4 },
    });
    expect(await runStep(() => Promise.resolve({ ok: false, reason: 'x'.repeat(300) }), context())).toEqual({
      kind: 'done',
      ok: false,
      reason: `${'x'.repeat(199)}…`,
    });
  });

  it('turns a throw or a malformed result into the step breaking, with a reason', async () => {
    expect(await runStep(() => Promise.reject(new Error('disk full')), context())).toEqual({ kind: 'threw', reason: 'Step code failed: disk full' });
    const bad = (() => Promise.resolve({ ok: 'yes' })) as unknown as StepHandler;
    expect(await runStep(bad, context())).toEqual({ kind: 'threw', reason: 'Step handler for code returned an invalid result' });
    const negative = (() => Promise.resolve({ ok: true, tokens: { input: -1, output: 0 } })) as StepHandler;
    expect((await runStep(negative, context())).kind).toBe('threw');
  });

  it('settles at once on abort, even when the handler ignores the signal', async () => {
    const controller = new AbortController();
    const never: StepHandler = () => new Promise(() => {});
    const outcome = runStep(never, context(controller.signal));
    controller.abort();
    expect(await outcome).toEqual({ kind: 'aborted' });
    expect(await runStep(never, context(controller.signal))).toEqual({ kind: 'aborted' });
  });

  it('reports an abort, not a failure, when the handler throws because it was aborted', async () => {
    const controller = new AbortController();
    const honours: StepHandler = ({ signal }) =>
      new Promise((_, reject) => signal.addEventListener('abort', () => reject(new Error('aborted'))));
    const outcome = runStep(honours, context(controller.signal));
    controller.abort();
    expect(await outcome).toEqual({ kind: 'aborted' });
  });
});
