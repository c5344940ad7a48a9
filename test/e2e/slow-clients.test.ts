// Slow and large clients against the real server over real sockets: headers dribbled byte by byte
// (slowloris), a body that never finishes, idle keep-alive connections, an oversized body. Each is
// cut off at its limit, and meanwhile ordinary requests are served without delay.
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const main = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'reload-tasks-slow-'));
const env = {
  ...process.env,
  DATA_DIR: dir,
  PORT: '0',
  HOST: '127.0.0.1',
  LOG_LEVEL: 'silent',
  RATE_LIMIT_ENABLED: 'false',
  HTTP_HEADERS_TIMEOUT_SECONDS: '2',
  HTTP_REQUEST_TIMEOUT_SECONDS: '3',
  HTTP_KEEP_ALIVE_TIMEOUT_SECONDS: '1',
};
let server: ChildProcess;
let port: number;
let token: string;

before(async () => {
  server = spawn(process.execPath, ['--import', 'tsx', main, 'serve'], { env, stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    server.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) resolve(m[1]!);
    });
    server.on('exit', (code) => reject(new Error(`exited ${code}: ${out}`)));
  });
  port = Number(new URL(url).port);
  token = spawnSync(process.execPath, ['--import', 'tsx', main, 'token', '--tenant', 'acme', '--user', 'alice'], { env, encoding: 'utf8' }).stdout.trim();
  // One request first: the first one pays for loading and compiling the request path (1.2 s once on
  // a loaded CI machine), which is not what the timings below are about.
  await ordinaryRequestMs();
});
after(() => {
  server.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

/** Opens a raw connection; resolves with how long the server took to close it (and what it said). */
function raw(onOpen: (s: Socket) => void): Promise<{ closedAfterMs: number; answer: string }> {
  return new Promise((resolve) => {
    const started = Date.now();
    const s = connect(port, '127.0.0.1', () => onOpen(s));
    let answer = '';
    s.on('data', (c) => (answer += c.toString()));
    s.on('error', () => {});
    s.on('close', () => resolve({ closedAfterMs: Date.now() - started, answer }));
  });
}

async function ordinaryRequestMs(): Promise<number> {
  const t = Date.now();
  const res = await fetch(`http://127.0.0.1:${port}/api/v1/reload-tasks`, { headers: { authorization: `Bearer ${token}` } });
  assert.equal(res.status, 200);
  await res.arrayBuffer();
  return Date.now() - t;
}

describe('slow and large clients', { timeout: 60_000 }, () => {
  it('headers sent one byte at a time are cut off at the headers timeout, while others are served', async () => {
    const request = `GET /api/v1/reload-tasks HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\n\r\n`;
    const timers: NodeJS.Timeout[] = [];
    const slow = Array.from({ length: 20 }, () =>
      raw((s) => {
        let i = 0;
        const tick = setInterval(() => (i < request.length && !s.destroyed ? s.write(request[i++]!) : clearInterval(tick)), 200);
        timers.push(tick);
      }),
    );
    // Twenty slowloris connections are open: ordinary requests still go through at once.
    const during = await Promise.all([ordinaryRequestMs(), ordinaryRequestMs(), ordinaryRequestMs()]);
    assert.ok(Math.max(...during) < 1000, `ordinary requests took ${during} ms`);
    const results = await Promise.all(slow);
    timers.forEach(clearInterval);
    for (const r of results) {
      assert.ok(r.closedAfterMs < 5000, `a slow client held its connection ${r.closedAfterMs} ms`);
      assert.ok(!r.answer.startsWith('HTTP/1.1 200'), 'a slowloris request was answered 200');
    }
  });

  it('a body that never finishes is cut off at the request timeout', async () => {
    const r = await raw((s) => {
      s.write(`POST /api/v1/reload-tasks HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"appId":`);
    });
    assert.ok(r.closedAfterMs < 6000, `held ${r.closedAfterMs} ms`);
    assert.ok(r.closedAfterMs >= 2500, `closed too early (${r.closedAfterMs} ms): not the request timeout`);
    assert.match(r.answer, /^HTTP\/1\.1 408/);
    assert.match(r.answer, /"code":"HTTP-408"/);
  });

  it('headers over 16 KiB (an oversized token) and bytes that are not HTTP get the envelope too', async () => {
    const big = await raw((s) => s.write(`GET /api/v1/reload-tasks HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${'a'.repeat(20_000)}\r\n\r\n`));
    assert.match(big.answer, /^HTTP\/1\.1 431/);
    const body = big.answer.slice(big.answer.indexOf('\r\n\r\n') + 4);
    const parsed = JSON.parse(body) as { errors: Array<{ code: string; detail: string }>; traceId: string };
    assert.equal(parsed.errors[0]!.code, 'HTTP-431');
    assert.match(parsed.traceId, /^[0-9a-f]{32}$/);
    const garbage = await raw((s) => s.write('\u0000\u0001 not http at all\r\n\r\n'));
    assert.match(garbage.answer, /^HTTP\/1\.1 400/);
    assert.match(garbage.answer, /"code":"HTTP-400"/);
  });

  it('an idle keep-alive connection is closed after the keep-alive timeout', async () => {
    const r = await raw((s) => s.write(`GET /health/live HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\n\r\n`));
    assert.match(r.answer, /^HTTP\/1\.1 200/);
    assert.ok(r.closedAfterMs < 3000, `idle connection held ${r.closedAfterMs} ms`);
  });

  it('a body over the limit is refused with 413 before it is read to the end', async () => {
    const r = await raw((s) => {
      s.write(`POST /api/v1/reload-tasks HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\nContent-Type: application/json\r\nContent-Length: 10000000\r\nConnection: close\r\n\r\n`);
      s.write('{"appId":"');
    });
    assert.match(r.answer, /^HTTP\/1\.1 413/);
    assert.match(r.answer, /"code":"HTTP-413"/);
  });

  it('an HTTP/1.0 request without a Host header is a 400 envelope, not links to http://undefined', async () => {
    const r = await raw((s) => s.write(`GET /api/v1/reload-tasks HTTP/1.0\r\nAuthorization: Bearer ${token}\r\n\r\n`));
    assert.match(r.answer, /^HTTP\/1\.[01] 400/);
    assert.match(r.answer, /"code":"HTTP-400"/);
    assert.match(r.answer, /the Host header is not a valid host\[:port\]/);
    assert.doesNotMatch(r.answer, /undefined/);
  });
});
