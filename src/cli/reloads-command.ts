/**
 * `reload-task reloads ls | get | create | cancel` (alias `reload`, as qlik-cli's `qlik reload`):
 * the reload records, both scheduled and manual, and reloading an app by hand.
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
import { isObject } from './api-client.js';
import { UsageError } from './recurrence-flag.js';

const RELOADS = '/api/v1/reloads';
const SORTS = ['creationTime', 'status', 'startTime', 'endTime'].flatMap((f) => [f, `-${f}`, `+${f}`]);
const STATUSES = ['QUEUED', 'RELOADING', 'CANCELING', 'SUCCEEDED', 'FAILED', 'CANCELED', 'EXCEEDED_LIMIT'];
const APP = '116dbfae-7fb9-4983-8e23-5ccd8c508722';

type Options = ConnectionOptions & OutputOptions;

export function reloadsCommand(io: Io): Command {
  return new Command('reloads')
    .alias('reload')
    .description('list, show, start and cancel reloads (ls, get, create, cancel)')
    .addHelpText('after', `\nExamples:\n  reload-task reloads ls --table\n  reload-task reloads create --appId ${APP}`)
    .addCommand(lsCommand(io))
    .addCommand(getCommand(io))
    .addCommand(createCommand(io))
    .addCommand(cancelCommand(io));
}

function lsCommand(io: Io): Command {
  const cmd = new ApiCommand('ls')
    .description('list reloads, newest first (JSON array of reload records)')
    .option('--appId <appId>', 'only the reloads of this app')
    .option('--resourceId <id>', 'only the reloads of this resource: a reload task\'s id, or the id a client sent with its reloads')
    .addOption(new Option('--status <status>', 'only the reloads in this status').choices(STATUSES))
    .option('--limit <n>', 'the total number of reloads to retrieve, across pages (default: one page of 10)', parseLimit)
    .option('--next <cursor>', 'start at this cursor (from links.next of a --raw answer)')
    .option('--prev <cursor>', 'start at this cursor (from links.prev of a --raw answer)')
    .option('--log', 'include each reload\'s log')
    .addOption(new Option('--sort <field>', 'the order: creationTime, status, startTime or endTime; prefix - for descending (default -creationTime)').choices(SORTS))
    .option('--filter <scim>', 'a SCIM filter on status, partial and type, e.g. \'status eq "FAILED" or status eq "EXCEEDED_LIMIT"\'');
  booleanFlag(cmd, 'partial', 'only partial reloads; --partial=false: only full ones');
  addOutputOptions(addConnectionOptions(cmd), 'table');
  return cmd
    .addHelpText(
      'after',
      `\nExamples:\n  reload-task reloads ls --status FAILED --limit 50 --table\n  reload-task reloads ls --resourceId 65f1c0de12ab34cd56ef7890 -q\n  reload-task reloads ls --sort -endTime --filter 'status eq "FAILED" or status eq "EXCEEDED_LIMIT"' --table`,
    )
    .action(async (opts: Options & { appId?: string; resourceId?: string; status?: string; limit?: number; next?: string; prev?: string; log?: boolean; partial?: boolean; sort?: string; filter?: string }) => {
      if (opts.next !== undefined && opts.prev !== undefined) throw new UsageError('--next, --prev: give one of them, not both');
      const client = clientFor(opts, io);
      const query = { appId: opts.appId, resourceId: opts.resourceId, status: opts.status, partial: opts.partial, log: opts.log, sort: opts.sort, filter: opts.filter, next: opts.next, prev: opts.prev };
      if (opts.raw) {
        const answer = await client.call('GET', client.url(RELOADS, { ...query, limit: opts.limit === undefined ? undefined : Math.min(opts.limit, 100) }));
        printRaw(io, answer.text);
        return;
      }
      printItems(io, await client.list(RELOADS, query, opts.limit), opts, 'reload');
    });
}

function getCommand(io: Io): Command {
  const cmd = new ApiCommand('get').description('print one reload record, with its log').argument('<reloadId>', 'the reload\'s id');
  addOutputOptions(addConnectionOptions(cmd), 'table');
  return cmd
    .addHelpText('after', '\nExample:\n  reload-task reloads get 0190a1b2c3d4000000a1b2c3')
    .action(async (reloadId: string, opts: Options) => {
      const client = clientFor(opts, io);
      printOne(io, await client.call('GET', client.url(`${RELOADS}/${idSegment(reloadId, 'reloadId')}`)), opts, 'reload');
    });
}

function createCommand(io: Io): Command {
  const cmd = new ApiCommand('create')
    .description('reload an app now: queues a manual reload (prints the reload record)')
    .option('-f, --file <file>', 'read the request body (a JSON object) from a file, or - for standard input; flags override its fields')
    .option('--appId <appId>', 'the app to reload')
    .option('--weight <n>', 'its weight, 1 to 10: heavier reloads of a tenant start first (and Qlik Cloud gets it too)')
    .option('--variable <name=value>', 'a load-script variable; repeat the flag for more (at most 20)', (v: string, all: string[] = []) => [...all, v])
    .option('--resourceType <type>', 'the service asking: api (default), reload-tasks (run one of your tasks of this app now: --resourceId is its id), tasks or automate')
    .option('--resourceId <id>', 'the id of the resource within that service; `reloads ls --resourceId` finds its reloads');
  booleanFlag(cmd, 'partial', 'a partial reload (--partial=false sends false)');
  addOutputOptions(addConnectionOptions(cmd), 'table');
  return cmd
    .addHelpText('after', `\nExamples:\n  RELOAD_ID=$(reload-task reloads create --appId ${APP} -q)\n  reload-task reloads get "$RELOAD_ID"\n  reload-task reloads create --appId ${APP} --weight 5 --variable vRegion=EMEA --variable vYear=2027\n  reload-task reloads create --appId ${APP} --resourceType reload-tasks --resourceId "$TASK_ID"   # run a task now`)
    .action(async (opts: Options & { file?: string; appId?: string; partial?: boolean; weight?: string; variable?: string[]; resourceType?: string; resourceId?: string }) => {
      const body = opts.file !== undefined ? readBodyFile(opts.file) : {};
      if (opts.appId !== undefined) body.appId = opts.appId;
      if (opts.resourceType !== undefined) body.resourceType = opts.resourceType;
      if (opts.resourceId !== undefined) body.resourceId = opts.resourceId;
      if (opts.partial !== undefined) body.partial = opts.partial;
      // A number when it reads as one; anything else goes as sent, and the service says what is wrong.
      if (opts.weight !== undefined) body.weight = /^-?\d+(\.\d+)?$/.test(opts.weight) ? Number(opts.weight) : opts.weight;
      if (opts.variable !== undefined) {
        const variables: Record<string, string> = isObject(body.variables) ? { ...(body.variables as Record<string, string>) } : {};
        for (const pair of opts.variable) {
          const eq = pair.indexOf('=');
          if (eq < 1) throw new UsageError(`--variable: '${pair}' is not name=value`);
          variables[pair.slice(0, eq)] = pair.slice(eq + 1);
        }
        body.variables = variables;
      }
      const client = clientFor(opts, io);
      printOne(io, await client.call('POST', client.url(RELOADS), body), opts, 'reload');
    });
}

function cancelCommand(io: Io): Command {
  const cmd = new ApiCommand('cancel')
    .description('cancel a queued or running reload: prints nothing when it was queued (canceled at once), {"status":"CANCELING"} when it is being stopped')
    .argument('<reloadId>', 'the reload\'s id');
  addOutputOptions(addConnectionOptions(cmd), 'plain');
  return cmd
    .addHelpText('after', '\nExample:\n  reload-task reloads cancel 0190a1b2c3d4000000a1b2c3')
    .action(async (reloadId: string, opts: Options) => {
      const client = clientFor(opts, io);
      const answer = await client.call('POST', client.url(`${RELOADS}/${idSegment(reloadId, 'reloadId')}/actions/cancel`));
      if (opts.raw) printRaw(io, answer.text);
      else if (answer.status === 202 && !opts.quiet) io.out(`${JSON.stringify(answer.body, null, 2)}\n`);
    });
}
