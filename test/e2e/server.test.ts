// The real process, as a user runs it: `reload-task serve` on a fresh data directory, a token from
// `reload-task token`, the spec's cURL calls over HTTP, and a clean stop on SIGTERM.
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';

const main = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'reload-tasks-e2e-'));
const env = { ...process.env, DATA_DIR: dir, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info' };
let server: ChildProcess;
let url: string;
let stdout = '';

before(async () => {
  server = spawn(process.execPath, ['--import', 'tsx', main, 'serve'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  server.stdout!.setEncoding('utf8');
  url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no banner: ${stdout}`)), 20_000);
    server.stdout!.on('data', (chunk: string) => {
      stdout += chunk;
      const m = /listening on (http:\/\/\S+)/.exec(stdout);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    server.on('exit', (code) => reject(new Error(`server exited ${code}: ${stdout}`)));
  });
});

after(() => {
  if (server.exitCode === null) server.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

function token(...args: string[]): string {
  const r = spawnSync(process.execPath, ['--import', 'tsx', main, 'token', ...args], { env, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.trim();
}

describe('the service as a user runs it', () => {
  it('prints where it listens, its data directory and how to get a token', () => {
    assert.match(stdout, /data directory: /);
    assert.match(stdout, /reload-task token --tenant <tenantId> --user <userId>/);
    // The signing key was created with user-only permissions.
    assert.equal(statSync(join(dir, 'signing-key.pem')).mode & 0o077, 0);
  });

  it('answers the spec\'s cURL calls with a CLI-minted token', async () => {
    const jwt = token('--tenant', 'acme', '--user', 'alice');
    assert.match(jwt, /^[\w-]+\.[\w-]+\.[\w-]+$/);
    const auth = { authorization: `Bearer ${jwt}` };
    const body = {
      appId: '116dbfae-7fb9-4983-8e23-5ccd8c508722',
      partial: false,
      timeZone: 'America/Toronto',
      autoReload: false,
      recurrence: ['RRULE:FREQ=DAILY;INTERVAL=1;BYHOUR=11;BYMINUTE=18;BYSECOND=0', 'RRULE:FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,TU;BYHOUR=13;BYMINUTE=17;BYSECOND=0'],
      endDateTime: '2099-10-12T23:59:00',
      startDateTime: '2030-09-19T11:18:00',
      autoReloadPartial: false,
      type: 'scheduled_reload',
    };
    const created = await fetch(`${url}/api/v1/reload-tasks`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    assert.equal(created.status, 201);
    const task = (await created.json()) as { id: string; nextExecutionTime: string; links: { self: { href: string } } };
    assert.equal(task.nextExecutionTime, '2030-09-19T15:18:00Z');
    assert.equal(task.links.self.href, `${url}/api/v1/reload-tasks/${task.id}`);

    const got = await fetch(task.links.self.href, { headers: auth });
    assert.equal(got.status, 200);

    const list = await fetch(`${url}/api/v1/reload-tasks`, { headers: auth });
    assert.equal(((await list.json()) as { data: unknown[] }).data.length, 1);

    const put = await fetch(task.links.self.href, { method: 'PUT', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ ...body, state: 'Disabled' }) });
    assert.equal(put.status, 200);
    assert.equal(((await put.json()) as { disabledCode: string }).disabledCode, 'MANUALLY');

    const del = await fetch(task.links.self.href, { method: 'DELETE', headers: auth });
    assert.equal(del.status, 204);
    assert.equal((await fetch(task.links.self.href, { headers: auth })).status, 404);

    const anonymous = await fetch(`${url}/api/v1/reload-tasks`);
    assert.equal(anonymous.status, 401);
    assert.match(anonymous.headers.get('content-type') ?? '', /^application\/json/);
  });

  it('logs one JSON line per request with its trace id, and never the token', async () => {
    const jwt = token('--tenant', 'acme', '--user', 'alice');
    let logs = '';
    server.stdout!.on('data', (c: string) => (logs += c));
    await fetch(`${url}/api/v1/reload-tasks`, { headers: { authorization: `Bearer ${jwt}`, traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' } });
    // The line is written after the response; wait for it to come through the pipe (bounded).
    const find = () => logs.split('\n').find((l) => l.includes('0af7651916cd43dd8448eb211c80319c'));
    for (let i = 0; i < 100 && !find(); i++) await new Promise((r) => setTimeout(r, 20));
    const line = find();
    assert.ok(line, logs);
    const entry = JSON.parse(line) as Record<string, unknown>;
    assert.equal(entry.statusCode, 200);
    assert.equal(entry.tenantId, 'acme');
    assert.ok(!logs.includes(jwt.split('.')[2]!));
  });

  it('stops cleanly on SIGTERM, after letting a running reload finish within the grace', async () => {
    // The simulated executor's reloads take SIMULATED_DURATION_MS (2 s by default); the grace
    // (SHUTDOWN_GRACE_SECONDS) is 10 s. The process once exited (code 13) as soon as the HTTP server
    // had closed: nothing it still waited for kept Node's event loop alive.
    const auth = { authorization: `Bearer ${token('--tenant', 'acme', '--user', 'alice')}`, 'content-type': 'application/json' };
    const posted = await fetch(`${url}/api/v1/reloads`, { method: 'POST', headers: auth, body: JSON.stringify({ appId: 'app-at-shutdown' }) });
    assert.equal(posted.status, 201);
    const { id } = (await posted.json()) as { id: string };
    const status = async () => ((await (await fetch(`${url}/api/v1/reloads/${id}`, { headers: auth })).json()) as { status: string }).status;
    for (let i = 0; i < 200 && (await status()) !== 'RELOADING'; i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(await status(), 'RELOADING');
    const exited = new Promise<number | null>((resolve) => server.on('exit', (code) => resolve(code)));
    server.kill('SIGTERM');
    assert.equal(await exited, 0);
    const db = new Database(join(dir, 'reload-tasks.db'), { readonly: true });
    try {
      assert.equal((db.prepare('SELECT status FROM reloads WHERE id = ?').get(id) as { status: string }).status, 'SUCCEEDED');
    } finally {
      db.close();
    }
  });
});
