// `--help` everywhere: every command, down to each subcommand, shows an example; the top level
// still lists serve, token and preview beside the API commands.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { describe, it } from 'node:test';
import { contextCommand } from '../../src/cli/context-command.js';
import { previewCommand } from '../../src/cli/preview.js';
import { reloadsCommand } from '../../src/cli/reloads-command.js';
import { serveCommand } from '../../src/cli/serve.js';
import { taskCommands } from '../../src/cli/task-commands.js';
import { tokenCommand } from '../../src/cli/token.js';
import { cli } from './cli-harness.js';

function help(cmd: Command): string {
  let text = '';
  cmd.configureOutput({ writeOut: (s) => (text += s) });
  cmd.outputHelp();
  return text;
}

function walk(cmd: Command, path: string[] = []): Array<[string, Command]> {
  const here = [...path, cmd.name()];
  return [[here.join(' '), cmd], ...cmd.commands.flatMap((sub) => walk(sub, here))];
}

describe('reload-task --help', () => {
  it('lists the API commands and still serve, token and preview', async () => {
    const r = await cli(['--help']);
    assert.equal(r.code, 0, r.stderr);
    for (const name of ['ls', 'create', 'get', 'update', 'rm', 'reloads', 'context', 'token', 'preview', 'serve']) {
      assert.match(r.stdout, new RegExp(`^  ${name}\\b`, 'm'), name);
    }
  });

  it('every command has an example in its help', () => {
    const io = { out: () => {}, err: () => {} };
    const all = [...taskCommands(io), reloadsCommand(io), contextCommand(io), tokenCommand(io.out), previewCommand(io.out), serveCommand(io.out)].flatMap((c) => walk(c));
    assert.ok(all.length >= 19, String(all.length));
    for (const [name, cmd] of all) assert.match(help(cmd), /\nExamples?( \([^)]*\))?:\n  /, name);
  });

  it('--version prints the package\'s version, exit 0', async () => {
    const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    const r = await cli(['--version']);
    assert.deepEqual([r.code, r.stdout], [0, `${version}\n`]);
  });

  it('a subcommand\'s --help is printed by the real process, exit 0', async () => {
    const r = await cli(['reloads', 'cancel', '--help']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^Usage: reload-task reloads cancel \[options\] <reloadId>/);
    assert.match(r.stdout, /Example:\n  reload-task reloads cancel /);
  });
});
