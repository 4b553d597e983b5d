import type { RegisterRow } from '../db/registersRepository.js';
import type { Gate, LevelCounts } from '../domain/riskRegister.js';
import type { StatedSummary } from '../domain/riskRegisterStated.js';

/** A register's header as the API shows it; times are ISO strings. */
export interface RegisterView {
  registerId: string;
  title: string;
  subject: string;
  reviewer: string | null;
  /** YYYY-MM-DD */
  reviewedOn: string | null;
  assessment: string | null;
  /** The summary as it was written (imported registers); `{}` when none was. */
  stated: StatedSummary;
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
