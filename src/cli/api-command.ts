/**
 * What the commands that call the API share: qlik-cli's common flags (`-q`, `--raw`, `--retry`,
 * `--interval`), where to connect (`--server`, `--token`, `--context`), reading a body with `-f`,
 * and booleans written pflag's way (`--partial=false`).
 */
import { readFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import { ApiClient, isObject } from './api-client.js';
import { resolveConnection } from './connection.js';
import { UsageError } from './recurrence-flag.js';

export interface Io {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
}

export interface ConnectionOptions {
  server?: string;
  token?: string;
  context?: string;
  retry: number;
  interval: number;
}

export interface OutputOptions {
  quiet?: boolean;
  raw?: boolean;
  json?: boolean;
  table?: boolean;
}

const TRUE = new Set(['1', 't', 'T', 'true', 'TRUE', 'True']);
const FALSE = new Set(['0', 'f', 'F', 'false', 'FALSE', 'False']);

/**
 * A command whose boolean flags also take `--flag=true|false`, as qlik-cli's (pflag) do, so that
 * `--partial=false` from a qlik-cli script sends `false`. Commander only knows `--flag` and
 * `--no-flag`, so `--flag=false` is rewritten to `--no-flag` before commander parses.
 */
export class ApiCommand extends Command {
  override parseOptions(argv: string[]): ReturnType<Command['parseOptions']> {
    return super.parseOptions(rewriteBooleanValues(argv, this.options));
  }
}

export function rewriteBooleanValues(argv: readonly string[], options: readonly Option[]): string[] {
  const out: string[] = [];
  const byLong = (long: string): Option | undefined => options.find((o) => o.long === long);
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      out.push(...argv.slice(i));
      break;
    }
    const m = /^(--[^=]+)=(.*)$/s.exec(arg);
    const flag = m ? byLong(m[1]!) : undefined;
    if (m && flag?.isBoolean()) {
      const value = m[2]!;
      const negation = `--no-${m[1]!.slice(2)}`;
      if (TRUE.has(value)) out.push(m[1]!);
      // Without a --no- form the flag is simply off when not given (-q, --raw, ...).
      else if (FALSE.has(value)) out.push(...(byLong(negation) ? [negation] : []));
      else throw new UsageError(`${m[1]}: '${value}' is not true or false`);
      continue;
    }
    out.push(arg);
    // The value of an option that takes one is not an option, whatever it looks like.
    const takesValue = !m && arg.startsWith('-') && options.find((o) => o.long === arg || o.short === arg)?.required;
    if (takesValue && i + 1 < argv.length) out.push(argv[++i]!);
  }
  return out;
}

/** A boolean body field: `--name`, `--name=false` and `--no-name` (hidden, for brevity). */
export function booleanFlag(cmd: Command, name: string, description: string): void {
  cmd.option(`--${name}`, description);
  cmd.addOption(new Option(`--no-${name}`).hideHelp());
}

export function addConnectionOptions(cmd: Command): Command {
  const group = 'Connection options:';
  return cmd
    .addOption(new Option('--server <url>', 'the service, e.g. http://localhost:8080 (default: $RELOAD_TASKS_SERVER, then the context\'s)').helpGroup(group))
    .addOption(new Option('--token <jwt>', 'bearer token (default: $RELOAD_TASKS_TOKEN, then the context\'s)').helpGroup(group))
    .addOption(new Option('--context <name>', 'use this saved context instead of the current one').helpGroup(group))
    .addOption(new Option('--retry <n>', 'retry up to n times (0 to 10) on 429, 503 and network errors, and on other 5xx except when creating').default(0).argParser(parseRetry).helpGroup(group))
    .addOption(new Option('--interval <seconds>', 'wait before the first retry, doubled for each next one; a Retry-After header wins').default(1).argParser(parseInterval).helpGroup(group));
}

/** `-q`, `--raw`, `--json` and, where a table helps, `--table`; `hidden` where there is no body to print. */
export function addOutputOptions(cmd: Command, kind: 'table' | 'plain' | 'hidden'): Command {
  const add = (option: Option): void => void cmd.addOption(kind === 'hidden' ? option.hideHelp() : option.helpGroup('Output options:'));
  add(new Option('-q, --quiet', 'print only ids, one per line').conflicts(['raw']));
  add(new Option('--raw', 'print the response body exactly as received (ls: the first page only)'));
  add(new Option('--json', 'print JSON, indented (the default)').conflicts(['table', 'quiet', 'raw']));
  if (kind === 'table') add(new Option('--table', 'print a table for people to read').conflicts(['quiet', 'raw']));
  return cmd;
}

export function clientFor(opts: ConnectionOptions, io: Io): ApiClient {
  const connection = resolveConnection(opts, process.env, (line) => io.err(`${line}\n`));
  return new ApiClient(connection, { retries: opts.retry, intervalSeconds: opts.interval }, (line) => io.err(`${line}\n`));
}

/** The JSON object in `-f file` (`-f -`: standard input). */
export function readBodyFile(file: string): Record<string, unknown> {
  let text: string;
  try {
    // File descriptor 0 reads all of standard input, also when it is a pipe.
    text = readFileSync(file === '-' ? 0 : file, 'utf8');
  } catch (e) {
    throw new UsageError(`--file: cannot read ${file === '-' ? 'standard input' : `'${file}'`}: ${(e as Error).message}`);
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (e) {
    throw new UsageError(`--file: ${file === '-' ? 'standard input' : `'${file}'`} is not JSON: ${(e as Error).message}`);
  }
  if (!isObject(body)) throw new UsageError(`--file: ${file === '-' ? 'standard input' : `'${file}'`} must hold one JSON object`);
  return body;
}

/** A path segment for an id given on the command line, so `../x` stays one segment. */
export function idSegment(id: string, what: string): string {
  if (id.trim() === '') throw new UsageError(`${what}: must not be empty`);
  return encodeURIComponent(id);
}

function parseRetry(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) > 10) throw new UsageError(`--retry: '${value}' is not an integer from 0 to 10`);
  return Number(value);
}

function parseInterval(value: string): number {
  const n = Number(value);
  if (!/^\d+(\.\d+)?$/.test(value) || !(n >= 0.1 && n <= 60)) throw new UsageError(`--interval: '${value}' is not a number of seconds from 0.1 to 60`);
  return n;
}

export function parseLimit(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > 1_000_000) throw new UsageError(`--limit: '${value}' is not an integer from 1 to 1000000`);
  return Number(value);
}
