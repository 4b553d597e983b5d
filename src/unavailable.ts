import { WardenError } from './errors.js';

/** What a caller is told to wait before retrying a call refused for an unreachable dependency. */
export const RETRY_AFTER_SECONDS = 5;

/** postgres.js' own connection failure codes, and the server's "shutting down / starting" SQLSTATEs. */
const POSTGRES_CODES = new Set(['CONNECT_TIMEOUT', 'CONNECTION_CLOSED', 'CONNECTION_ENDED', 'CONNECTION_DESTROYED', '57P01', '57P02', '57P03']);
/** Socket errors: only postgres.js surfaces these to callers (ioredis refuses with its own messages). */
const SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENOTFOUND']);
/** ioredis' messages when a command cannot reach Redis (no offline queue, timeout, connection lost). */
const REDIS_MESSAGES = [/Stream isn't writeable/, /Connection is closed/, /Command timed out/, /Reached the max retries per request/, /Connection in subscriber mode/];

/**
 * The dependency an error says is unreachable, or null when the error is something else. Callers turn
 * it into a typed UNAVAILABLE (503 with a retry-after) instead of an INTERNAL error.
 */
export function unreachableService(error: unknown): 'redis' | 'postgres' | null {
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 4; e = e.cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && POSTGRES_CODES.has(code)) return 'postgres';
    if (typeof code === 'string' && code.startsWith('08')) return 'postgres';
    if (typeof code === 'string' && SOCKET_CODES.has(code)) return 'postgres';
    if (e.name === 'MaxRetriesPerRequestError' || REDIS_MESSAGES.some((m) => m.test(e.message))) return 'redis';
  }
  return null;
}

/**
 * A hot read that PostgreSQL's answer can do without (a queue position, the latest message): while
 * Redis is unreachable it yields `fallback`, so reads PostgreSQL can answer keep answering. Any other
 * error is thrown.
 */
export async function unlessRedisDown<T>(read: Promise<T>, fallback: T): Promise<T> {
  try {
    return await read;
  } catch (error) {
    if (unreachableService(error) === 'redis') return fallback;
    throw error;
  }
}

/** The UNAVAILABLE error for an error that says a dependency is unreachable, else undefined. */
export function unavailableErrorOf(error: unknown): WardenError<'UNAVAILABLE'> | undefined {
  const service = unreachableService(error);
  if (!service) return undefined;
  const name = service === 'redis' ? 'Redis' : 'PostgreSQL';
  return new WardenError('UNAVAILABLE', `${name} is unreachable; try again in ${RETRY_AFTER_SECONDS} seconds`, { service, retryAfterSeconds: RETRY_AFTER_SECONDS }, { cause: error });
}
