/**
 * What the risk components log through. A pino Logger satisfies it; tests pass a recorder. Injected so
 * that "one warning is logged" can be asserted, and so nothing in src/risk picks a logger on its own.
 */
export interface RiskLogger {
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/** Logs nothing; for callers that do not care (benchmarks). */
export const silentRiskLogger: RiskLogger = { warn: () => {}, error: () => {} };
