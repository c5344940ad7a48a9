/**
 * `reload-task context create | update | use | ls | rm`: saved servers and tokens, so that a
 * person types `reload-task ls` instead of `--server … --token …` each time (qlik-cli's contexts).
 */
import { readFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import type { Io } from './api-command.js';
import { normalizeServer } from './connection.js';
import { checkContextName, configDir, maskToken, readContexts, writeContexts, type Contexts } from './contexts.js';
import { UsageError } from './recurrence-flag.js';

export function contextCommand(io: Io): Command {
  const example = 'reload-task context create local --server http://localhost:8080 --token "$(reload-task token --tenant acme --user alice --expires-in 30d)"';
  return new Command('context')
    .description('saved servers and tokens (create, update, use, ls, rm)')
    .addHelpText(
      'after',
      `
Contexts are kept in contexts.json under $RELOAD_TASKS_CONFIG_DIR, else $XDG_CONFIG_HOME/reload-task,
else ~/.config/reload-task, readable by you only. A command takes its server and token from
--server/--token, then RELOAD_TASKS_SERVER/RELOAD_TASKS_TOKEN, then the context (--context <name>,
else the current one); a context's token is only ever sent to that context's server.

Example:
  ${example}
  reload-task context use local
  reload-task ls`,
    )
    .addCommand(
      tokenOptions(new Command('create').description('save a context; the first one saved becomes the current one').argument('<name>', 'a name: letters, digits, ".", "_", "-"'))
        .requiredOption('--server <url>', 'the service, e.g. http://localhost:8080')
        .addHelpText('after', `\nExample:\n  ${example}`)
        .action((name: string, opts: { server: string; token?: string; apiKey?: string }) => {
          checkContextName(name);
          const server = normalizeServer(opts.server, '--server');
          const token = tokenFrom(opts);
          change(io, (saved) => {
            if (saved.byName.has(name)) throw new UsageError(`a context named '${name}' exists; change it with: reload-task context update ${name}`);
            saved.byName.set(name, { server, token });
            saved.current ??= name;
            return `Context '${name}' saved${saved.current === name ? '; it is the current context' : `; use it with: reload-task context use ${name}`}.`;
          });
        }),
    )
    .addCommand(
      tokenOptions(new Command('update').description('change a saved context\'s server or token').argument('<name>', 'the context'))
        .option('--server <url>', 'the service, e.g. http://localhost:8080')
        .addHelpText('after', '\nExample (a fresh token):\n  reload-task context update local --token "$(reload-task token --tenant acme --user alice)"')
        .action((name: string, opts: { server?: string; token?: string; apiKey?: string }) => {
          const server = opts.server === undefined ? undefined : normalizeServer(opts.server, '--server');
          const token = opts.token === undefined && opts.apiKey === undefined ? undefined : tokenFrom(opts);
          if (server === undefined && token === undefined) throw new UsageError('context update: give --server or --token');
          change(io, (saved) => {
            const old = saved.byName.get(name);
            if (!old) throw new UsageError(`no context named '${name}' (see: reload-task context ls)`);
            saved.byName.set(name, { server: server ?? old.server, token: token ?? old.token });
            return `Context '${name}' updated.`;
          });
        }),
    )
    .addCommand(
      new Command('use')
        .description('make a saved context the current one')
        .argument('<name>', 'the context')
        .addHelpText('after', '\nExample:\n  reload-task context use local')
        .action((name: string) => {
          change(io, (saved) => {
            if (!saved.byName.has(name)) throw new UsageError(`no context named '${name}' (see: reload-task context ls)`);
            saved.current = name;
            return `Current context: '${name}'.`;
          });
        }),
    )
    .addCommand(
      new Command('ls')
        .description('list the saved contexts (tokens are shown by their last 4 characters only)')
        .option('-q, --quiet', 'print only the names')
        .addOption(new Option('--json', 'print a JSON array').conflicts('quiet'))
        .addHelpText('after', '\nExample:\n  reload-task context ls')
        .action((opts: { quiet?: boolean; json?: boolean }) => {
          const saved = readContexts(configDir());
          const rows = [...saved.byName].map(([name, c]) => ({ name, server: c.server, token: c.token === '' ? '-' : maskToken(c.token), current: name === saved.current }));
          if (opts.quiet) io.out(rows.map((r) => `${r.name}\n`).join(''));
          else if (opts.json) io.out(`${JSON.stringify(rows, null, 2)}\n`);
          else if (rows.length === 0) io.out('No saved contexts. Save one with: reload-task context create <name> --server <url> --token <token>\n');
          else {
            const cells = [['CURRENT', 'NAME', 'SERVER', 'TOKEN'], ...rows.map((r) => [r.current ? '*' : '', r.name, r.server, r.token])];
            const widths = cells[0]!.map((_, c) => Math.max(...cells.map((row) => row[c]!.length)));
            io.out(cells.map((row) => row.map((cell, c) => cell.padEnd(widths[c]!)).join('  ').trimEnd()).join('\n') + '\n');
          }
        }),
    )
    .addCommand(
      new Command('rm')
        .description('delete a saved context (and its token)')
        .argument('<name>', 'the context')
        .addHelpText('after', '\nExample:\n  reload-task context rm local')
        .action((name: string) => {
          change(io, (saved) => {
            if (!saved.byName.delete(name)) throw new UsageError(`no context named '${name}' (see: reload-task context ls)`);
            if (saved.current === name) saved.current = undefined;
            return `Context '${name}' deleted.`;
          });
        }),
    );
}

function tokenOptions(cmd: Command): Command {
  return cmd
    .option('--token <jwt>', 'the bearer token to send; - reads it from standard input (keeps it out of the shell history)')
    .addOption(new Option('--api-key <key>', 'the same as --token (qlik-cli\'s name)').conflicts('token'));
}

function tokenFrom(opts: { token?: string; apiKey?: string }): string {
  const value = opts.token ?? opts.apiKey ?? '';
  if (value !== '-') return value.trim();
  try {
    return readFileSync(0, 'utf8').trim();
  } catch (e) {
    throw new UsageError(`--token -: cannot read standard input: ${(e as Error).message}`);
  }
}

/** Read, change, write back atomically, and say what was done. */
function change(io: Io, edit: (saved: Contexts) => string): void {
  const dir = configDir();
  const saved = readContexts(dir);
  const message = edit(saved);
  writeContexts(dir, saved);
  io.out(`${message}\n`);
}
