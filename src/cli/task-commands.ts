/**
 * `reload-task ls | create | get | update | rm`: qlik-cli's `qlik reload-task` commands, with the
 * same flags and output, against this service's /api/v1/reload-tasks.
 */
import { Command, Option } from 'commander';
import {
  addConnectionOptions,
  addOutputOptions,
  ApiCommand,
  booleanFlag,
  clientFor,
  idSegment,
  parseLimit,
  readBodyFile,
  type ConnectionOptions,
  type Io,
  type OutputOptions,
} from './api-command.js';
import { printItems, printOne, printRaw } from './output.js';
import { parseRecurrenceFlag, UsageError } from './recurrence-flag.js';

const TASKS = '/api/v1/reload-tasks';
const APP = '116dbfae-7fb9-4983-8e23-5ccd8c508722';

type Options = ConnectionOptions & OutputOptions;

interface BodyOptions {
  file?: string;
  appId?: string;
  timeZone?: string;
  recurrence?: string[];
  startDateTime?: string;
  endDateTime?: string;
  partial?: boolean;
  autoReload?: boolean;
  autoReloadPartial?: boolean;
  type?: string;
  state?: string;
}

const BODY_FIELDS = ['appId', 'timeZone', 'recurrence', 'startDateTime', 'endDateTime', 'partial', 'autoReload', 'autoReloadPartial', 'type', 'state'] as const;

export function taskCommands(io: Io): Command[] {
  return [lsCommand(io), createCommand(io), getCommand(io), updateCommand(io), rmCommand(io)];
}

function lsCommand(io: Io): Command {
  const cmd = new ApiCommand('ls')
    .description('list the reload tasks you may see (a JSON array)')
    .option('--appId <appId>', 'only the tasks of this app (case-sensitive)')
    .option('--limit <n>', 'the total number of tasks to retrieve, across pages (default: one page of 10)', parseLimit)
    .option('--next <cursor>', 'start at this cursor (from links.next of a --raw answer)')
    .option('--prev <cursor>', 'start at this cursor (from links.prev of a --raw answer)');
  booleanFlag(cmd, 'partial', 'only partial-reload tasks; --partial=false: only full-reload ones');
  addOutputOptions(addConnectionOptions(cmd), 'table');
  return cmd
    .addHelpText(
      'after',
      `
Examples:
  reload-task ls
  reload-task ls --appId ${APP} --limit 500 -q
  reload-task ls --table`,
    )
    .action(async (opts: Options & { appId?: string; limit?: number; next?: string; prev?: string; partial?: boolean }) => {
      if (opts.next !== undefined && opts.prev !== undefined) throw new UsageError('--next, --prev: give one of them, not both');
      const client = clientFor(opts, io);
      const query = { appId: opts.appId, partial: opts.partial, next: opts.next, prev: opts.prev };
      if (opts.raw) {
        // As qlik-cli: --raw is one request, the first page, links and all.
        const answer = await client.call('GET', client.url(TASKS, { ...query, limit: opts.limit === undefined ? undefined : Math.min(opts.limit, 100) }));
        printRaw(io, answer.text);
        return;
      }
      printItems(io, await client.list(TASKS, query, opts.limit), opts, 'task');
    });
}

function createCommand(io: Io): Command {
  const cmd = new ApiCommand('create').description('create a reload task (prints the task)');
  addBodyOptions(cmd, 'create');
  addOutputOptions(addConnectionOptions(cmd), 'table');
  return cmd
    .addHelpText(
      'after',
      `
Example (the spec's; flags may also be written --appId=…):
  reload-task create --appId ${APP} --timeZone America/Toronto \\
    --startDateTime 2027-09-19T11:18:00 --endDateTime 2027-10-12T23:59:00 \\
    --recurrence '"RRULE:FREQ=DAILY;INTERVAL=1;BYHOUR=11;BYMINUTE=18;BYSECOND=0","RRULE:FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,TU;BYHOUR=13;BYMINUTE=17;BYSECOND=0"'

  reload-task create -f task.json --appId ${APP} -q    # the body from a file, flags win
  cat task.json | reload-task create -f -`,
    )
    .action(async (opts: Options & BodyOptions) => {
      const body = bodyFrom(opts);
      const client = clientFor(opts, io);
      printOne(io, await client.call('POST', client.url(TASKS), body), opts, 'task');
    });
}

function getCommand(io: Io): Command {
  const cmd = new ApiCommand('get').description('print one reload task').argument('<taskId>', 'the task\'s id');
  addOutputOptions(addConnectionOptions(cmd), 'table');
  return cmd
    .addHelpText('after', '\nExample:\n  reload-task get 65f1c0de12ab34cd56ef7890')
    .action(async (taskId: string, opts: Options) => {
      const client = clientFor(opts, io);
      printOne(io, await client.call('GET', client.url(`${TASKS}/${idSegment(taskId, 'taskId')}`)), opts, 'task');
    });
}

function updateCommand(io: Io): Command {
  const cmd = new ApiCommand('update')
    .description('change a reload task; sends only the fields given, the others stay')
    .argument('<taskId>', 'the task\'s id');
  addBodyOptions(cmd, 'update');
  addOutputOptions(addConnectionOptions(cmd), 'table');
  return cmd
    .addHelpText(
      'after',
      `
Examples:
  reload-task update 65f1c0de12ab34cd56ef7890 --state Disabled
  reload-task update 65f1c0de12ab34cd56ef7890 --state=Enabled --partial=false
  reload-task update 65f1c0de12ab34cd56ef7890 --recurrence 'RRULE:FREQ=DAILY;BYHOUR=6' --endDateTime ''

An empty value (--recurrence '', --startDateTime '', --endDateTime '') clears the field.`,
    )
    .action(async (taskId: string, opts: Options & BodyOptions) => {
      const body = bodyFrom(opts);
      if (Object.keys(body).length === 0) throw new UsageError('update: nothing to change; give a field flag (e.g. --state Disabled) or -f <file>');
      const client = clientFor(opts, io);
      printOne(io, await client.call('PUT', client.url(`${TASKS}/${idSegment(taskId, 'taskId')}`), body), opts, 'task');
    });
}

function rmCommand(io: Io): Command {
  const cmd = new ApiCommand('rm')
    .description('delete reload tasks (prints nothing on success)')
    .argument('<taskId...>', 'the ids of the tasks to delete');
  // -q and --raw are accepted so qlik-cli scripts keep working; a deletion has no body to print.
  addOutputOptions(addConnectionOptions(cmd), 'hidden');
  return cmd
    .addHelpText('after', '\nExamples:\n  reload-task rm 65f1c0de12ab34cd56ef7890\n  reload-task ls --appId ' + APP + ' -q | xargs reload-task rm')
    .action(async (taskIds: string[], opts: Options) => {
      const client = clientFor(opts, io);
      const failed: string[] = [];
      for (const id of taskIds) {
        try {
          await client.call('DELETE', client.url(`${TASKS}/${idSegment(id, 'taskId')}`));
        } catch (e) {
          if (taskIds.length === 1) throw e;
          io.err(`error: ${id}: ${e instanceof Error ? e.message : String(e)}\n`);
          failed.push(id);
        }
      }
      if (failed.length > 0) throw new Error(`${failed.length} of ${taskIds.length} tasks were not deleted`);
    });
}

function addBodyOptions(cmd: Command, verb: 'create' | 'update'): void {
  cmd
    .option('-f, --file <file>', 'read the request body (a JSON object) from a file, or - for standard input; flags override its fields')
    .option('--appId <appId>', 'the ID of the app')
    .option('--timeZone <zone>', 'IANA time zone the schedule is expanded in, e.g. Europe/Zurich')
    .addOption(
      new Option('--recurrence <lines>', 'RRULE/EXRULE/RDATE/EXDATE lines: a qlik-cli list \'"RRULE:…","RRULE:…"\', or one line per flag')
        .argParser((value: string, previous: string[] | undefined) => [...(previous ?? []), ...(value.trim() === '' ? [] : parseRecurrenceFlag(value))]),
    )
    .option('--startDateTime <local>', 'local start without offset, e.g. 2027-01-01T11:18:00')
    .option('--endDateTime <local>', 'local end without offset (inclusive)');
  booleanFlag(cmd, 'partial', 'partial reloads (--partial=false sends false)');
  booleanFlag(cmd, 'autoReload', 'reload when the app\'s data changes (--autoReload=false sends false)');
  booleanFlag(cmd, 'autoReloadPartial', 'partial reload when the app\'s data changes (--autoReloadPartial=false sends false)');
  if (verb === 'create') cmd.option('--type <type>', '(deprecated, ignored) scheduled_reload');
  else cmd.addOption(new Option('--state <state>', 'the task\'s state').choices(['Enabled', 'Disabled', 'Completed']));
}

/** The `-f` body, if any, with each flag given written over it. */
function bodyFrom(opts: BodyOptions): Record<string, unknown> {
  const body = opts.file !== undefined ? readBodyFile(opts.file) : {};
  for (const field of BODY_FIELDS) {
    const value = opts[field];
    if (value !== undefined) body[field] = value;
  }
  return body;
}
