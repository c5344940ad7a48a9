#!/usr/bin/env node
/**
 * The `reload-task` command. Output goes to stdout, problems to stderr; exit code 2 means the
 * command was called wrongly (bad flags or input), 1 that something failed while running.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, CommanderError } from 'commander';
import { backupCommand } from './backup.js';
import { contextCommand } from './context-command.js';
import { previewCommand } from './preview.js';
import { reloadsCommand } from './reloads-command.js';
import { serveCommand } from './serve.js';
import { taskCommands } from './task-commands.js';
import { tokenCommand } from './token.js';
import { UsageError } from './recurrence-flag.js';

/** This package's version, from its package.json (found from this module: src/ and dist/ alike). */
function packageVersion(): string {
  for (let dir = dirname(fileURLToPath(import.meta.url)), i = 0; i < 5; i++, dir = dirname(dir)) {
    const file = join(dir, 'package.json');
    if (!existsSync(file)) continue;
    const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: string };
    if (pkg.name === 'reload-tasks' && pkg.version) return pkg.version;
  }
  return 'unknown';
}

export function buildProgram(out: (text: string) => void, err: (text: string) => void): Command {
  const program = new Command('reload-task')
    .description('A self-hosted Qlik Cloud Reload Tasks API: schedule reloads, exactly once.')
    .version(packageVersion(), '-V, --version', 'print the version')
    .showHelpAfterError()
    .configureOutput({ writeOut: out, writeErr: err });
  const io = { out, err };
  // Grouped in `reload-task --help`: qlik-cli's reload-task commands first, then the rest.
  for (const cmd of taskCommands(io)) program.addCommand(cmd.helpGroup('Reload tasks (as qlik reload-task):'));
  program.addCommand(reloadsCommand(io).helpGroup('Reloads (as qlik reload):'));
  program.addCommand(contextCommand(io).helpGroup('Connecting:'));
  program.addCommand(tokenCommand(out).helpGroup('Connecting:'));
  program.addCommand(previewCommand(out).helpGroup('Schedules:'));
  program.addCommand(serveCommand(out).helpGroup('Running the service:'));
  program.addCommand(backupCommand(out).helpGroup('Running the service:'));
  // Every command reports usage mistakes through CommanderError instead of exiting by itself.
  const override = (cmd: Command): void => {
    cmd.exitOverride().configureOutput({ writeOut: out, writeErr: err });
    cmd.commands.forEach(override);
  };
  override(program);
  return program;
}

export async function main(argv: string[]): Promise<number> {
  const out = (text: string): void => void process.stdout.write(text);
  const err = (text: string): void => void process.stderr.write(text);
  const program = buildProgram(out, err);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      // Help and version are "errors" to commander, but successes to the user.
      return e.exitCode === 0 ? 0 : 2;
    }
    if (e instanceof UsageError) {
      err(`error: ${e.message}\n`);
      return 2;
    }
    err(`error: ${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  }
}

process.exitCode = await main(process.argv.slice(2));
