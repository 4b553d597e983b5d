import type { TransitionRow } from '../db/jobRows.js';
import type { InspectionRecord, JsonValue, LiveActor } from './inspectionRecord.js';

/** ANSI styling, or none (a pipe, NO_COLOR). */
export interface Paint {
  dim(text: string): string;
  bold(text: string): string;
  red(text: string): string;
  green(text: string): string;
  yellow(text: string): string;
  blue(text: string): string;
  magenta(text: string): string;
}

const wrap = (open: number, close: number) => (text: string) => `\u001b[${open}m${text}\u001b[${close}m`;

export const ansi: Paint = {
  dim: wrap(2, 22),
  bold: wrap(1, 22),
  red: wrap(31, 39),
  green: wrap(32, 39),
  yellow: wrap(33, 39),
  blue: wrap(34, 39),
  magenta: wrap(35, 39),
};

const same = (text: string) => text;
export const plain: Paint = { dim: same, bold: same, red: same, green: same, yellow: same, blue: same, magenta: same };

/** `HH:MM:SS.mmm` in UTC, as every Warden date is. */
export function timeOf(ms: number): string {
  return new Date(ms).toISOString().slice(11, 23);
}

const show = (value: JsonValue): string => JSON.stringify(value);

/** One record as one terminal line: time, kind, then what happened. */
export function formatRecord(record: InspectionRecord, paint: Paint = plain): string {
  const head = `${paint.dim(timeOf(record.at))} `;
  switch (record.kind) {
    case 'actor':
      return `${head}${paint.magenta('actor   ')} created ${paint.dim(`(${record.session} on ${record.host})`)}`;
    case 'event': {
      const payload = record.payload ? Object.entries(record.payload).map(([k, v]) => `${k}=${show(v)}`).join(' ') : '';
      return `${head}${paint.blue('event   ')} ${paint.bold(record.event)}${payload ? ` ${paint.dim(payload)}` : ''}`;
    }
    case 'microstep':
      return `${head}${paint.yellow('step    ')} ${record.transitions.map((t) => `${t.source} → ${t.targets.join(', ')}`).join('; ')}`;
    case 'snapshot': {
      const changes = record.diff
        ? Object.entries(record.diff).map(([k, c]) => `${k}: ${show(c.from)} → ${show(c.to)}`)
        : Object.entries(record.context ?? {}).map(([k, v]) => `${k}=${show(v)}`);
      const status = record.status === 'active' ? '' : ` ${paint.dim(`(${record.status})`)}`;
      return `${head}${paint.green('snapshot')} ${paint.bold(record.state)}${status}${changes.length > 0 ? `  ${paint.dim(changes.join('  '))}` : ''}`;
    }
  }
}

/** The job's situation in one line: status, iteration, pause, host. */
export function formatActorLine(actor: LiveActor, paint: Paint = plain): string {
  const status = actor.status ?? '?';
  const colored = status === 'failed' ? paint.red(status) : status === 'ready' ? paint.green(status) : paint.bold(status);
  const pause = actor.awaitingConfirmation ? ` ${paint.yellow('awaiting confirmation')}` : '';
  return `${paint.dim('──')} ${colored} ${paint.dim(`(${actor.state ?? '?'})`)} iteration ${actor.iteration ?? '?'}${pause} ${paint.dim(`on ${actor.host}`)}`;
}

/** One row of the durable transition log. */
export function formatTransition(row: TransitionRow, paint: Paint = plain): string {
  const move = `${row.fromStatus ?? '∅'} → ${row.toStatus}`;
  return `${paint.dim(`#${String(row.seq).padStart(3)}`)} ${move.padEnd(22)} iter ${String(row.iteration).padEnd(3)} ${row.message} ${paint.dim(row.at)}`;
}
