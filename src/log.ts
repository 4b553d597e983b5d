import { pino, type Logger, type DestinationStream } from 'pino';

export type { Logger };

/**
 * Paths pino censors before a line is written. Tokens travel in the Authorization header and, for SSE,
 * in tRPC's `connectionParams`; neither may reach a log line, whatever object they arrive in.
 */
export const REDACTED_PATHS = [
  'authorization',
  'token',
  'connectionParams',
  'headers.authorization',
  'req.headers.authorization',
  '*.authorization',
  '*.token',
  '*.connectionParams',
  '*.headers.authorization',
  '*.*.connectionParams',
];

export interface LoggerOptions {
  level?: string;
  /** Where lines go; stdout by default. Tests pass a stream to read what was written. */
  destination?: DestinationStream;
}

/** One JSON object per line, with secrets censored (see REDACTED_PATHS). */
export function createLogger(options: LoggerOptions = {}): Logger {
  const opts = {
    level: options.level ?? 'info',
    base: { service: 'warden' },
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
  };
  return options.destination ? pino(opts, options.destination) : pino(opts);
}

/**
 * A URL's path without its query string: SSE URLs carry the token in `?connectionParams=…`, so a
 * request is logged by its path only.
 */
export function pathOnly(url: string | undefined): string {
  if (!url) return '/';
  const q = url.indexOf('?');
  return q === -1 ? url : url.slice(0, q);
}
