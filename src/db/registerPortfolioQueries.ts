import { z } from 'zod';
import { RISK_CATEGORIES, type Rating, type RiskCategory } from '../domain/riskRegister.js';
import type { Sql, TransactionSql } from './client.js';

/**
 * The portfolio's reads: every register of one owner with its risks packed one byte each, so that a
 * 120,000-risk portfolio arrives as 10,000 short strings rather than 120,000 row objects (the main
 * thread parses what PostgreSQL sends; the counting itself runs on worker threads).
 *
 * A risk's code is `category × 9 + (probability − 1) × 3 + (impact − 1)` (0–53, category in
 * RISK_CATEGORIES order), sent as the character `chr(48 + code)`.
 */
export const CODE_OFFSET = 48;

export interface PortfolioRegister {
  id: string;
  title: string;
  subject: string;
}

export interface PortfolioSnapshot {
  registers: PortfolioRegister[];
  /** Each register's risks' codes, in order: register i holds codes[offsets[i]] … codes[offsets[i + 1] − 1]. */
  codes: Uint8Array;
  offsets: Int32Array;
  /** Details of risks named by (register index, index within the register), read in the same snapshot. */
  details(keys: readonly (readonly [number, number])[]): Promise<PortfolioRiskDetail[]>;
}

export interface PortfolioRiskDetail {
  registerIndex: number;
  index: number;
  riskId: string;
  category: RiskCategory;
  component: string | null;
  description: string;
  probability: Rating;
  impact: Rating;
}

export interface RegisterPortfolioQueries {
  /** Runs `use` inside one read-only repeatable-read transaction: the codes and the details agree. */
  withPortfolio<T>(ownerId: string, use: (snapshot: PortfolioSnapshot) => Promise<T>): Promise<T>;
}

/** Registers per fetched page of the portfolio query. */
const PAGE_ROWS = 1000;
const rating = z.union([z.literal(1), z.literal(2), z.literal(3)]);
const detailRow = z.tuple([z.string(), z.number().int(), z.string(), z.enum(RISK_CATEGORIES), z.string().nullable(), z.string(), rating, rating]);

export function createRegisterPortfolioQueries(sql: Sql): RegisterPortfolioQueries {
  return {
    withPortfolio<T>(ownerId: string, use: (snapshot: PortfolioSnapshot) => Promise<T>) {
      // postgres.js types begin()'s result as UnwrapPromiseArray<T>, which is T for the objects used here.
      return sql.begin('isolation level repeatable read read only', async (tx) => {
        const registers: PortfolioRegister[] = [];
        const packed: string[] = [];
        let total = 0;
        // In pages, so the main thread parses a page at a time and stays responsive in between; fields are
        // checked by hand (a schema parse per row was most of the main thread's time at 10,000 registers).
        const pages = tx`
          select g.id::text, g.title, g.subject,
                 coalesce(string_agg(chr(${CODE_OFFSET}
                   + (array_position(${RISK_CATEGORIES as readonly string[] as string[]}::text[], r.category) - 1) * 9
                   + (r.probability - 1) * 3 + (r.impact - 1)), '' order by r.position), '') as codes
          from risk_registers g left join register_risks r on r.register_id = g.id
          where g.owner_id = ${ownerId}
          group by g.id
          order by g.created_at, g.id`.values().cursor(PAGE_ROWS);
        for await (const rows of pages) {
          for (const row of rows) {
            const [id, title, subject, codes] = row as unknown[];
            if (typeof id !== 'string' || typeof title !== 'string' || typeof subject !== 'string' || typeof codes !== 'string') {
              throw new TypeError('unexpected portfolio row shape');
            }
            registers.push({ id, title, subject });
            packed.push(codes);
            total += codes.length;
          }
        }
        const offsets = new Int32Array(registers.length + 1);
        const codes = new Uint8Array(new ArrayBuffer(total));
        let at = 0;
        packed.forEach((text, i) => {
          for (let j = 0; j < text.length; j++) codes[at + j] = text.charCodeAt(j) - CODE_OFFSET;
          at += text.length;
          offsets[i + 1] = at;
        });
        return use({ registers, codes, offsets, details: (keys) => readDetails(tx, registers, keys) });
      }) as Promise<T>;
    },
  };
}

async function readDetails(
  tx: TransactionSql,
  registers: readonly PortfolioRegister[],
  keys: readonly (readonly [number, number])[],
): Promise<PortfolioRiskDetail[]> {
  if (keys.length === 0) return [];
  const pairs = keys.flatMap(([r, i]) => {
    const id = registers[r]?.id;
    return id === undefined ? [] : [[id, i] as const];
  });
  const ids = pairs.map(([id]) => id);
  const positions = pairs.map(([, i]) => i);
  const rows = await tx`
    select numbered.register_id::text, numbered.idx, risk_id, category, component, description, probability, impact from (
      select r.*, (row_number() over (partition by register_id order by position) - 1)::int as idx
      from register_risks r where register_id = any(${ids}::uuid[])
    ) numbered
    join unnest(${ids}::uuid[], ${positions}::int[]) as wanted (register_id, idx)
      on wanted.register_id = numbered.register_id and wanted.idx = numbered.idx`.values();
  const indexOf = new Map(registers.map((r, i) => [r.id, i]));
  const details: PortfolioRiskDetail[] = [];
  for (const raw of rows) {
    const [registerId, index, riskId, category, component, description, probability, impact] = detailRow.parse(raw);
    const registerIndex = indexOf.get(registerId);
    if (registerIndex === undefined) continue;
    details.push({ registerIndex, index, riskId, category, component, description, probability, impact });
  }
  return details;
}
