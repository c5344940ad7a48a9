// The backup procedure of docs/operations.md, as an operator runs it: `reload-task backup` while
// the service runs and writes, then a restore into a fresh DATA_DIR and a restart on it.
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const main = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
const dirs: string[] = [];
const children = new Set<ChildProcess>();
after(() => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
const tmp = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'reload-tasks-backup-'));
  dirs.push(d);
  return d;
};

async function serve(dataDir: string): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', main, 'serve'], { env: { ...process.env, DATA_DIR: dataDir, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'silent', RATE_LIMIT_ENABLED: 'false' }, stdio: ['ignore', 'pipe', 'inherit'] });
  children.add(child);
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) resolve(m[1]!);
    });
    child.on('exit', (code) => reject(new Error(`exited ${code}: ${out}`)));
  });
  return { child, url };
}

const stop = (c: ChildProcess) => new Promise<void>((r) => (c.once('exit', () => r()), c.kill('SIGTERM')));
const cli = (dataDir: string, ...args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', main, ...args], { env: { ...process.env, DATA_DIR: dataDir }, encoding: 'utf8' });

it('backs up a running service and restores it into a new data directory', { timeout: 120_000 }, async () => {
  const live = tmp();
  const { child, url } = await serve(live);
  const token = cli(live, 'token', '--tenant', 'acme', '--user', 'alice').stdout.trim();
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  const create = (i: number) =>
    fetch(`${url}/api/v1/reload-tasks`, { method: 'POST', headers, body: JSON.stringify({ appId: `app-${i}`, timeZone: 'Europe/Zurich', startDateTime: '2030-01-01T06:00:00', recurrence: ['FREQ=DAILY'] }) }).then((r) => r.json() as Promise<{ id: string }>);
  const before = await Promise.all(Array.from({ length: 50 }, (_, i) => create(i)));

  // Writes keep going while the backup runs.
  const writing = Promise.all(Array.from({ length: 50 }, (_, i) => create(100 + i)));
  const backupFile = join(tmp(), 'copy.db');
  const b = cli(live, 'backup', '--to', backupFile);
  assert.equal(b.status, 0, b.stderr);
  assert.match(b.stdout, /backed up .* pages\)/);
  await writing;
  assert.equal(cli(live, 'backup', '--to', backupFile).status, 2); // never overwrites
  await stop(child);

  // Restore: a new data directory with the copy (and the signing key), and a restart on it.
  const restored = tmp();
  copyFileSync(backupFile, join(restored, 'reload-tasks.db'));
  copyFileSync(join(live, 'signing-key.pem'), join(restored, 'signing-key.pem'));
  assert.ok(!existsSync(join(restored, 'reload-tasks.db-wal')));
  const second = await serve(restored);
  for (const t of before) {
    const r = await fetch(`${second.url}/api/v1/reload-tasks/${t.id}`, { headers });
    assert.equal(r.status, 200, `task ${t.id} missing after restore`);
  }
  const list = (await (await fetch(`${second.url}/api/v1/reload-tasks?limit=100&appId=app-7`, { headers })).json()) as { data: unknown[] };
  assert.equal(list.data.length, 1);
  await stop(second.child);
});
