/** PostgreSQL error codes (SQLSTATE) this code branches on; postgres.js puts the server's code on `err.code`. */
export const PG_UNIQUE_VIOLATION = '23505';
export const PG_FOREIGN_KEY_VIOLATION = '23503';

interface PgErrorFields {
  code?: unknown;
  constraint_name?: unknown;
}

function fields(err: unknown): PgErrorFields {
  return typeof err === 'object' && err !== null ? err : {};
}

export function isUniqueViolation(err: unknown): boolean {
  return fields(err).code === PG_UNIQUE_VIOLATION;
}

/** True for a foreign-key violation, optionally of one named constraint. */
export function isForeignKeyViolation(err: unknown, constraint?: string): boolean {
  const f = fields(err);
  return f.code === PG_FOREIGN_KEY_VIOLATION && (constraint === undefined || f.constraint_name === constraint);
}
