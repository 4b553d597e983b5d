/**
 * A `YYYY-MM-DD` naming a real day of the years 0001–9999, as PostgreSQL's `date` stores it. Stricter
 * than Date.parse, which rolls "2023-02-31" over to March 3rd, and than zod's ISO date, which accepts
 * year 0000 (PostgreSQL has no year 0: 1 BC is followed by AD 1).
 */
export function isCalendarDate(value: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(value) || value.startsWith('0000')) return false;
  const ms = Date.parse(`${value}T00:00:00Z`);
  return !Number.isNaN(ms) && new Date(ms).toISOString().slice(0, 10) === value;
}
