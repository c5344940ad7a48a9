// `reload-task context …` and where a command's server and token come from: flags, then
// RELOAD_TASKS_SERVER/RELOAD_TASKS_TOKEN, then the saved context. The real service answers; a
// second, recording server shows which token went where.
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { cli, startService, type Result, type Service } from './cli-harness.js';

let service: Service;
let token: string;
let recorder: Server;
let recorderUrl: string;
/** The Authorization header of each request the recording server got. */
const seen: Array<string | undefined> = [];

before(async () => {
  service = await startService();
  token = await service.token('acme', 'alice');
  recorder = createServer((req, res) => {
    seen.push(req.headers.authorization);
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"data":[],"links":{"self":{"href":"x"}}}');
  });
  await new Promise<void>((resolve) => recorder.listen(0, '127.0.0.1', resolve));
  recorderUrl = `http://127.0.0.1:${(recorder.address() as AddressInfo).port}`;
});

after(async () => {
  await new Promise((resolve) => recorder?.close(resolve));
  await service?.stop();
});

function ok(r: Result): string {
  assert.equal(r.code, 0, `exit ${r.code}: ${r.stderr}`);
  return r.stdout;
}

describe('reload-task context', () => {
  let dir: string;
  const rt = (args: string[], env: Record<string, string | undefined> = {}, input?: string): Promise<Result> =>
    cli(args, { env: { RELOAD_TASKS_CONFIG_DIR: dir, ...env }, ...(input !== undefined && { input }) });

  before(() => {
    dir = join(service.scratch, 'config', 'reload-task');
  });

  it('create saves the first context as current, in a 0600 file in a 0700 directory, atomically', async () => {
    // The token from standard input keeps it out of the shell history.
    assert.equal(ok(await rt(['context', 'create', 'local', '--server', `${service.url}/`, '--token', '-'], {}, `${token}\n`)), "Context 'local' saved; it is the current context.\n");
    assert.equal(statSync(dir).mode & 0o777, 0o700);
    assert.equal(statSync(join(dir, 'contexts.json')).mode & 0o777, 0o600);
    assert.deepEqual(readdirSync(dir), ['contexts.json']); // no temporary file left behind
    const file = JSON.parse(readFileSync(join(dir, 'contexts.json'), 'utf8')) as { current: string; contexts: Record<string, { server: string; token: string }> };
    assert.equal(file.current, 'local');
    assert.deepEqual(file.contexts.local, { server: service.url, token });
  });

  it('a command with no flags and no environment uses the current context', async () => {
    assert.equal(ok(await rt(['ls'])), '[]\n');
  });

  it('ls never prints a whole token', async () => {
    ok(await rt(['context', 'create', 'rec', '--server', recorderUrl, '--api-key', 'recorder-token-1234']));
    const table = ok(await rt(['context', 'ls']));
    assert.ok(!table.includes(token) && !table.includes('recorder-token-1234'));
    assert.match(table, /^CURRENT\s+NAME\s+SERVER\s+TOKEN\n\*\s+local\s+http:\/\/127\.0\.0\.1:\d+\s+\*\*\*\*\S{4}\n\s+rec\s+http:\/\/127\.0\.0\.1:\d+\s+\*\*\*\*1234\n$/);
    const listed = JSON.parse(ok(await rt(['context', 'ls', '--json']))) as Array<{ name: string; token: string; current: boolean }>;
    assert.deepEqual(listed.map((c) => [c.name, c.token, c.current]), [['local', `****${token.slice(-4)}`, true], ['rec', '****1234', false]]);
  });

  it('flags win over the environment, which wins over the context; --context picks another context', async () => {
    seen.length = 0;
    // Environment over context: the recorder gets the environment's token.
    ok(await rt(['ls'], { RELOAD_TASKS_SERVER: recorderUrl, RELOAD_TASKS_TOKEN: 'env-token' }));
    // Flag over environment.
    ok(await rt(['ls', '--token', 'flag-token'], { RELOAD_TASKS_SERVER: recorderUrl, RELOAD_TASKS_TOKEN: 'env-token' }));
    // --server over RELOAD_TASKS_SERVER: the real service, with the current context's token (its server).
    assert.equal(ok(await rt(['ls', '--server', service.url], { RELOAD_TASKS_SERVER: recorderUrl })), '[]\n');
    // --context: that context's server and token.
    ok(await rt(['ls', '--context', 'rec']));
    assert.deepEqual(seen, ['Bearer env-token', 'Bearer flag-token', 'Bearer recorder-token-1234']);
  });

  it('never sends a context\'s token to another server', async () => {
    seen.length = 0;
    const r = await rt(['ls'], { RELOAD_TASKS_SERVER: recorderUrl });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^error: no token for http:\/\/127\.0\.0\.1:\d+: give --token/);
    assert.deepEqual(seen, []);
  });

  it('use, update and rm; names that do not exist are bad usage', async () => {
    assert.equal(ok(await rt(['context', 'use', 'rec'])), "Current context: 'rec'.\n");
    ok(await rt(['context', 'update', 'rec', '--token', 'recorder-token-5678']));
    seen.length = 0;
    ok(await rt(['ls']));
    assert.deepEqual(seen, ['Bearer recorder-token-5678']);
    assert.equal(ok(await rt(['context', 'rm', 'rec'])), "Context 'rec' deleted.\n");
    assert.equal(ok(await rt(['context', 'ls', '-q'])), 'local\n');
    const [use, again, name, missing] = await Promise.all([
      rt(['context', 'use', 'nope']),
      rt(['context', 'create', 'local', '--server', service.url]),
      rt(['context', 'create', '../x', '--server', service.url]),
      rt(['ls', '--context', 'nope']),
    ]);
    assert.equal(use.code, 2);
    assert.match(use.stderr, /no context named 'nope'/);
    assert.equal(again.code, 2);
    assert.match(again.stderr, /a context named 'local' exists/);
    assert.equal(name.code, 2);
    assert.match(name.stderr, /context name '\.\.\/x'/);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /--context: no context named 'nope'/);
  });

  it('warns when the file can be read by others, and names a broken file', async () => {
    chmodSync(join(dir, 'contexts.json'), 0o644);
    const warned = await rt(['ls', '--context', 'local']);
    assert.equal(warned.code, 0, warned.stderr);
    assert.match(warned.stderr, /^warning: .*contexts\.json can be read by other users \(mode 644\); run: chmod 600/);

    const broken = join(service.scratch, 'broken');
    mkdirSync(broken);
    writeFileSync(join(broken, 'contexts.json'), '{"contexts": ');
    const r = await cli(['ls'], { env: { RELOAD_TASKS_CONFIG_DIR: broken } });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /contexts\.json: is not valid JSON; fix or remove the file/);
  });

  it('lives under $XDG_CONFIG_HOME/reload-task when RELOAD_TASKS_CONFIG_DIR is not set', async () => {
    const xdg = join(service.scratch, 'xdg');
    ok(await cli(['context', 'create', 'x', '--server', service.url, '--token', token], { env: { RELOAD_TASKS_CONFIG_DIR: undefined, XDG_CONFIG_HOME: xdg } }));
    assert.equal(statSync(join(xdg, 'reload-task', 'contexts.json')).mode & 0o777, 0o600);
  });
});
