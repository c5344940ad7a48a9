// --retry, --interval and pagination links, against a scripted server: the real service cannot be
// made to answer 503 or 500 on cue, and its 429s ask for up to a minute's wait. The CLI is the
// real process all the same.
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, beforeEach, describe, it } from 'node:test';
import { cli, type Result } from './cli-harness.js';

type Reply = (req: IncomingMessage, res: ServerResponse) => void;

let server: Server;
let url: string;
/** Replies in order; the last one repeats. */
let script: Reply[] = [];
let requests: Array<{ method: string; url: string; at: number }> = [];

const envelope = (status: number, code: string, title: string, detail: string): Reply => (_req, res) => {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify({ errors: [{ code, title, detail }], traceId: 'a'.repeat(32) }));
};
const page = (ids: string[], next?: string): Reply => (_req, res) => {
  res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ data: ids.map((id) => ({ id })), links: { self: { href: 'x' }, ...(next && { next: { href: next } }) } }));
};

before(async () => {
  server = createServer((req, res) => {
    requests.push({ method: req.method!, url: req.url!, at: Date.now() });
    const reply = script[Math.min(requests.length - 1, script.length - 1)]!;
    req.resume().on('end', () => reply(req, res));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(async () => {
  await new Promise((resolve) => server?.close(resolve));
});

beforeEach(() => {
  requests = [];
});

const rt = (...args: string[]): Promise<Result> => cli(args, { env: { RELOAD_TASKS_SERVER: url, RELOAD_TASKS_TOKEN: 't' } });

describe('--retry', () => {
  it('waits as Retry-After says on 503, then succeeds', async () => {
    const unavailable: Reply = (_req, res) => {
      res.setHeader('retry-after', '1');
      envelope(503, 'HTTP-503', 'Service unavailable.', 'the database is busy')(_req, res);
    };
    script = [unavailable, unavailable, page(['a'])];
    const r = await rt('ls', '--retry', '3', '-q');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'a\n');
    assert.equal(requests.length, 3);
    assert.ok(requests[2]!.at - requests[0]!.at >= 1900, 'waited about a second twice');
    assert.match(r.stderr, /^retry 1 of 3 in 1s: 503 HTTP-503 Service unavailable\.: the database is busy \(traceId a{32}\) \[\/api\/v1\/reload-tasks\]\nretry 2 of 3 in 1s: /);
  });

  it('retries a create on 429 (not handled), but not on 500 (maybe handled)', async () => {
    const limited: Reply = (_req, res) => {
      res.setHeader('retry-after', '0');
      envelope(429, 'HTTP-429', 'API rate limit reached.', 'You need to wait 0 seconds until limit is lifted.')(_req, res);
    };
    script = [limited, (_req, res) => res.writeHead(201, { 'content-type': 'application/json' }).end('{"id":"new"}')];
    const created = await rt('create', '--appId', 'a', '--timeZone', 'UTC', '--retry', '2', '-q');
    assert.equal(created.code, 0, created.stderr);
    assert.equal(created.stdout, 'new\n');
    assert.deepEqual(requests.map((q) => q.method), ['POST', 'POST']);

    requests = [];
    script = [envelope(500, 'HTTP-500', 'Internal server error.', 'a bug')];
    const failed = await rt('create', '--appId', 'a', '--timeZone', 'UTC', '--retry', '2');
    assert.equal(failed.code, 1);
    assert.equal(requests.length, 1);
    assert.match(failed.stderr, /^error: 500 HTTP-500 Internal server error\.: a bug \(traceId a{32}\)\n$/);
  });

  it('backs off exponentially from --interval on 5xx of a GET, and reports the last error', async () => {
    script = [envelope(502, 'HTTP-502', 'Bad gateway.', 'upstream')];
    const r = await rt('get', 'x', '--retry', '2', '--interval', '0.2');
    assert.equal(r.code, 1);
    assert.equal(requests.length, 3);
    assert.match(r.stderr, /retry 1 of 2 in 0\.2s: .*\nretry 2 of 2 in 0\.4s: .*\nerror: 502 HTTP-502 Bad gateway\.: upstream/);
    assert.ok(requests[2]!.at - requests[0]!.at >= 550);
  });

  it('does not retry without --retry; an answer that is not the API\'s envelope is still one line', async () => {
    script = [(_req, res) => res.writeHead(502, 'Bad Gateway', { 'content-type': 'text/html' }).end('<html>\n<body>\u001b[31mbad gateway</body>\n</html>')];
    const r = await rt('ls');
    assert.equal(r.code, 1);
    assert.equal(requests.length, 1);
    assert.equal(r.stderr, 'error: 502 Bad Gateway: <html> <body> [31mbad gateway</body> </html>\n');
  });

  it('retries when the server cannot be reached', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const r = await cli(['create', '--appId', 'a', '--timeZone', 'UTC', '--retry', '1', '--interval', '0.1'], { env: { RELOAD_TASKS_SERVER: `http://127.0.0.1:${port}`, RELOAD_TASKS_TOKEN: 't' } });
    assert.equal(r.code, 1);
    // A refused connection never reached a server, so even a create is sent again.
    assert.match(r.stderr, new RegExp(`^retry 1 of 1 in 0\\.1s: cannot reach http://127\\.0\\.0\\.1:${port}: .*ECONNREFUSED.*\\nerror: cannot reach http://127\\.0\\.0\\.1:${port}: .*ECONNREFUSED`));
  });
});

describe('ls --limit across pages', () => {
  it('follows links.next as it is on our server; from another origin only its query is used', async () => {
    script = [page(['a', 'b'], `${url}/api/v1/reload-tasks?limit=2&next=c1`), page(['c', 'd'], 'https://elsewhere.example/api/v1/reload-tasks?limit=2&next=c2'), page(['e', 'f'])];
    const r = await rt('ls', '--limit', '5', '--appId', 'x', '-q');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'a\nb\nc\nd\ne\n');
    assert.deepEqual(requests.map((q) => q.url), ['/api/v1/reload-tasks?appId=x&limit=5', '/api/v1/reload-tasks?limit=2&next=c1', '/api/v1/reload-tasks?limit=2&next=c2']);
  });

  it('stops when a next link repeats a page', async () => {
    script = [page(['a'], `${url}/api/v1/reload-tasks?limit=1&next=same`)];
    const r = await rt('ls', '--limit', '10', '-q');
    assert.equal(r.code, 1);
    assert.match(r.stderr, /the next link repeats a page already read/);
    assert.equal(requests.length, 2);
  });
});
