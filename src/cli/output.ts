/**
 * How answers are printed, as qlik-cli prints them: indented JSON by default (a list as one JSON
 * array of its items), ids only with `-q`, the body as received with `--raw`, and a table with
 * `--table` for a person.
 */
import { isObject, oneLine, type Answer } from './api-client.js';
import type { Io, OutputOptions } from './api-command.js';

export type Kind = 'task' | 'reload';

export function printItems(io: Io, items: readonly unknown[], opts: OutputOptions, kind: Kind): void {
  if (opts.quiet) {
    io.out(items.map((item) => `${idOf(item)}\n`).join(''));
  } else if (opts.table) {
    io.out(items.length === 0 ? `No ${kind === 'task' ? 'reload tasks' : 'reloads'}.\n` : table(items, kind));
  } else {
    io.out(`${JSON.stringify(items, null, 2)}\n`);
  }
}

/** The body as received; a newline is added only on a terminal, so pipes get the exact bytes. */
export function printRaw(io: Io, text: string): void {
  io.out(text !== '' && !text.endsWith('\n') && process.stdout.isTTY ? `${text}\n` : text);
}

export function printOne(io: Io, answer: Answer, opts: OutputOptions, kind: Kind): void {
  if (opts.raw) printRaw(io, answer.text);
  else if (opts.quiet) io.out(`${idOf(answer.body)}\n`);
  else if (opts.table) io.out(table([answer.body], kind));
  else io.out(`${JSON.stringify(answer.body, null, 2)}\n`);
}

function idOf(item: unknown): string {
  return isObject(item) && typeof item.id === 'string' ? item.id : '';
}

type Column = readonly [header: string, cell: (item: Record<string, unknown>) => string];

const str = (v: unknown): string => (typeof v === 'string' && v !== '' ? v : '-');

const TASK_COLUMNS: readonly Column[] = [
  ['ID', (t) => str(t.id)],
  ['APP ID', (t) => str(t.appId)],
  ['STATE', (t) => (typeof t.disabledCode === 'string' && t.disabledCode !== '' && t.state === 'Disabled' ? `Disabled (${t.disabledCode})` : str(t.state))],
  ['TIME ZONE', (t) => str(t.timeZone)],
  ['NEXT RUN (UTC)', (t) => str(t.nextExecutionTime)],
  ['LAST RUN (UTC)', (t) => str(t.lastExecutionTime)],
  [
    'SCHEDULE',
    (t) => {
      const lines = Array.isArray(t.recurrence) ? t.recurrence.filter((l): l is string => typeof l === 'string') : [];
      if (lines.length === 0) return typeof t.startDateTime === 'string' && t.startDateTime !== '' ? `once at ${t.startDateTime}` : '-';
      return lines.length === 1 ? lines[0]! : `${lines[0]} (+${lines.length - 1} more)`;
    },
  ],
];

const RELOAD_COLUMNS: readonly Column[] = [
  ['ID', (r) => str(r.id)],
  ['APP ID', (r) => str(r.appId)],
  ['STATUS', (r) => str(r.status)],
  ['TYPE', (r) => `${str(r.type)}${r.partial === true ? ' (partial)' : ''}`],
  ['TASK', (r) => str(r.resourceType === 'reload-tasks' ? r.resourceId : undefined)],
  ['CREATED (UTC)', (r) => str(r.creationTime)],
  ['DURATION', (r) => duration(r.startTime, r.endTime)],
];

function duration(start: unknown, end: unknown): string {
  if (typeof start !== 'string' || typeof end !== 'string') return '-';
  const ms = Date.parse(end) - Date.parse(start);
  if (!Number.isFinite(ms) || ms < 0) return '-';
  return ms < 60_000 ? `${(ms / 1000).toFixed(1)}s` : `${Math.floor(ms / 60_000)}m${String(Math.round((ms % 60_000) / 1000)).padStart(2, '0')}s`;
}

function table(items: readonly unknown[], kind: Kind): string {
  const columns = kind === 'task' ? TASK_COLUMNS : RELOAD_COLUMNS;
  // Cells come from the server: one line each, no control characters.
  const rows = items.map((item) => columns.map(([, cell]) => oneLine(cell(isObject(item) ? item : {}))));
  const header = columns.map(([h]) => h);
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c]!.length)));
  const line = (cells: readonly string[]): string => cells.map((cell, c) => cell.padEnd(widths[c]!)).join('  ').trimEnd();
  return `${[line(header), ...rows.map(line)].join('\n')}\n`;
}
