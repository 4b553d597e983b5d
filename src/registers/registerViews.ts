import type { RegisterRow } from '../db/registersRepository.js';
import type { Gate, LevelCounts } from '../domain/riskRegister.js';
import type { RegisterHeader } from '../domain/riskRegisterStated.js';

/** A register's header as the API shows it; times are ISO strings. */
export interface RegisterView extends RegisterHeader {
  registerId: string;
  riskCount: number;
  createdAt: string;
  updatedAt: string;
}

/** A list entry: the header with its computed level counts, score and gate. */
export interface RegisterSummary extends RegisterView {
  levels: LevelCounts;
  overallScore: number;
  gate: Gate;
}

export function toRegisterView(row: RegisterRow, riskCount: number): RegisterView {
  return {
    registerId: row.id,
    title: row.title,
    subject: row.subject,
    reviewer: row.reviewer,
    reviewedOn: row.reviewedOn,
    assessment: row.assessment,
    stated: row.stated,
    riskCount,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}
