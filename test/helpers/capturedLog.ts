import { createLogger, type Logger } from '../../src/log.js';

/** A logger whose JSON lines are kept in memory, for tests that check what a server logged. */
export interface CapturedLog {
  log: Logger;
  /** Every line written so far, parsed. */
  lines(): Record<string, unknown>[];
}

export function createCapturedLog(level = 'info'): CapturedLog {
  const raw: string[] = [];
  const log = createLogger({ level, destination: { write: (line: string) => void raw.push(line) } });
  return { log, lines: () => raw.map((line) => JSON.parse(line) as Record<string, unknown>) };
}
