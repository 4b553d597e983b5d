import { wardenErrorOf } from '../../router/errorMapping.js';
import type { Logger } from '../log.js';
import type { TrpcCallError } from './trpcHandler.js';

/**
 * One log line per failed call. Unexpected failures (INTERNAL_SERVER_ERROR) are `error` lines with the
 * cause and its stack — the detail the client is not sent. Refusals (bad input, NOT_FOUND, QUEUE_FULL …)
 * are `info` lines with their codes. Never the input (it may be 1 MB, or private) nor any header.
 *
 * tRPC reports a refused subscription twice — once when the procedure fails and once when the error is
 * streamed — with the same error object (the fast SSE path does the same, to match); the second report
 * is dropped here, so both paths log one line.
 */
export function createRequestErrorLogger(log: Logger): (failure: TrpcCallError) => void {
  const logged = new WeakSet<object>();
  return ({ error, path, type, method }) => {
    if (logged.has(error)) return;
    logged.add(error);
    const wardenCode = wardenErrorOf(error)?.code;
    if (error.code === 'INTERNAL_SERVER_ERROR') {
      log.error({ err: error.cause ?? error, path, type, method, code: error.code, wardenCode }, 'request failed');
    } else {
      log.info({ path, type, method, code: error.code, wardenCode, reason: error.message.slice(0, 200) }, 'request refused');
    }
  };
}
