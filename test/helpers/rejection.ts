import { TRPCClientError } from '@trpc/client';
import type { AppRouter } from '../../router/appRouter.js';

/** An error the typed client rejects with: `data` carries the code, httpStatus, wardenCode, details, issues. */
export type ClientError = TRPCClientError<AppRouter>;

/** The TRPCClientError a call rejects with (fails the test if it resolves or fails some other way). */
export async function rejection(call: Promise<unknown>): Promise<ClientError> {
  const outcome: unknown = await call.then(
    () => new Error('expected the call to fail'),
    (err: unknown) => err,
  );
  if (!(outcome instanceof TRPCClientError)) throw outcome;
  return outcome as ClientError;
}
