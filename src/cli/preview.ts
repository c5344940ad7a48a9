/**
 * `reload-task preview`: the run times a schedule denotes, computed by the same engine the
 * scheduler fires from, so what a person sees here is what will run.
 */
import { Command, Option } from 'commander';
import { anchorMinuteAfter, compileSchedule, MAX_LIST, RecurrenceError } from '../recurrence/index.js';
import { parseRecurrenceFlag, UsageError } from './recurrence-flag.js';

interface PreviewOptions {
  timeZone: string;
  startDateTime?: string;
  endDateTime?: string;
  recurrence: string[];
  count: number;
  after?: number;
  json?: boolean;
}

const INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/i;
const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];

export function previewCommand(write: (text: string) => void): Command {
  return new Command('preview')
    .description('print the run times of a schedule (the first ones, or the first ones after an instant)')
    .requiredOption('--timeZone <zone>', 'IANA time zone the schedule is expanded in, e.g. Europe/Zurich')
    .option('--startDateTime <local>', 'local start, without offset, e.g. 2027-01-01T11:18:00; without it, lines start at the first whole minute after --after (or now), as a task created then would')
    .option('--endDateTime <local>', 'local end (inclusive), without offset')
    .addOption(
      new Option('--recurrence <line>', 'an RRULE/EXRULE/RDATE/EXDATE line; repeat the flag, or give a qlik-cli list \'"RRULE:…","RRULE:…"\'')
        .argParser((value: string, previous: string[]) => [...previous, ...parseRecurrenceFlag(value)])
        .default([]),
    )
    .addOption(new Option('--count <n>', `how many run times to print (1 to ${MAX_LIST})`).argParser(parseCount).default(10))
    .addOption(new Option('--after <instant>', 'print the run times strictly after this instant (RFC 3339 with offset, e.g. 2027-03-01T00:00:00Z)').argParser(parseInstant))
    .option('--json', 'print one JSON array of RFC 3339 times with the zone\'s offset')
    .addHelpText(
      'after',
      `
Example:
  reload-task preview --timeZone America/Toronto --startDateTime 2027-01-01T11:18:00 \\
    --recurrence 'RRULE:FREQ=DAILY;BYHOUR=11;BYMINUTE=18;BYSECOND=0' --count 3`,
    )
    .action((opts: PreviewOptions) => {
      let schedule;
      try {
        // Lines without a start start where the service would start them: at the first whole minute
        // after the task is created, here after --after (or now), and the times listed are after it.
        let anchor: string | null = null;
        if (opts.recurrence.length > 0 && !opts.startDateTime) {
          opts.after ??= Date.now();
          anchor = anchorMinuteAfter(opts.timeZone, opts.after);
        }
        schedule = compileSchedule({
          timeZone: opts.timeZone,
          startDateTime: anchor ?? opts.startDateTime,
          endDateTime: opts.endDateTime,
          recurrence: opts.recurrence,
        });
      } catch (e) {
        if (e instanceof RecurrenceError) throw new UsageError(e.message);
        throw e;
      }
      let times: number[];
      try {
        times = schedule.first(opts.count, opts.after);
      } catch (e) {
        if (e instanceof RecurrenceError) throw new UsageError(e.message);
        throw e;
      }
      if (opts.json) {
        write(`${JSON.stringify(times.map((t) => schedule.formatLocal(t)))}\n`);
        return;
      }
      write(table(times, (t) => schedule.formatLocal(t), schedule.timeZone, schedule.isEmpty));
    });
}

function table(times: number[], format: (t: number) => string, zone: string, empty: boolean): string {
  if (times.length === 0) {
    return empty ? 'No schedule: no startDateTime and no recurrence lines.\n' : 'No run times: the schedule has no occurrence in that range.\n';
  }
  const rows = times.map((t, i) => {
    const local = format(t);
    // The weekday of the local date, which is what a person checks a schedule against.
    const [y, m, d] = local.slice(0, 10).split('-').map(Number) as [number, number, number];
    const weekday = WEEKDAYS[new Date(Date.UTC(y, m - 1, d)).getUTCDay()]!;
    return [String(i + 1), `${local.slice(0, 10)} ${local.slice(11, 19)} ${local.slice(19)}`, weekday, new Date(t).toISOString().replace('.000Z', 'Z')];
  });
  const header = ['#', `Local time (${zone})`, 'Day', 'UTC'];
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c]!.length)));
  const line = (cells: string[]): string => cells.map((cell, c) => (c === 0 ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!))).join('  ').trimEnd();
  return `${[line(header), ...rows.map(line)].join('\n')}\n`;
}

function parseCount(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > MAX_LIST) {
    throw new UsageError(`--count: '${value}' is not an integer from 1 to ${MAX_LIST}`);
  }
  return Number(value);
}

function parseInstant(value: string): number {
  const ms = Date.parse(value);
  if (!INSTANT.test(value) || Number.isNaN(ms)) {
    throw new UsageError(`--after: '${value}' is not an RFC 3339 instant with an offset (e.g. 2027-03-01T00:00:00Z)`);
  }
  return ms;
}
