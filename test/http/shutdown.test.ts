// Draining on SIGTERM (app.close()): a request in flight finishes; a request that still arrives on
// an open connection answers 503 in the envelope with Retry-After and Connection: close, so a
// client or a load balancer retries it elsewhere. Over a real socket: inject() refuses to run
// once closing has begun.
import assert from 'node:assert/strict';
import { connect, type AddressInfo } from 'node:net';
import { setImmediate as tick } from 'node:timers/promises';
import { it } from 'node:test';
import { createTestApi } from '../helpers/api.js';

interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** Splits what a socket received into HTTP/1.1 responses (Content-Length bodies only). */
function parseResponses(raw: string): RawResponse[] {
  const out: RawResponse[] = [];
  let rest = raw;
  while (rest.length > 0) {
    const end = rest.indexOf('\r\n\r\n');
    assert.ok(end > 0, `incomplete response: ${JSON.stringify(rest)}`);
    const [statusLine, ...lines] = rest.slice(0, end).split('\r\n');
    const headers: Record<string, string> = {};
    for (const line of lines) {
      const i = line.indexOf(':');
      headers[line.slice(0, i).toLowerCase()] = line.slice(i + 1).trim();
    }
    const length = Number(headers['content-length'] ?? 0);
    const body = Buffer.from(rest.slice(end + 4)).subarray(0, length).toString();
    out.push({ status: Number(statusLine!.split(' ')[1]), headers, body });
    rest = Buffer.from(rest.slice(end + 4)).subarray(length).toString();
  }
  return out;
}

it('while closing: the request in flight completes, the next one on its connection is a 503 envelope with Retry-After', { timeout: 30_000 }, async () => {
  const api = await createTestApi();
  await api.app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = api.app.server.address() as AddressInfo;
  const auth = `Bearer ${await api.token('acme', 'alice')}`;
  const body = JSON.stringify({ appId: 'drain', timeZone: 'UTC' });

  const socket = connect(port, '127.0.0.1');
  let received = '';
  socket.setEncoding('utf8');
  socket.on('data', (d: string) => (received += d));
  const ended = new Promise<void>((resolve) => socket.on('close', () => resolve()));
  const arrived = new Promise<void>((resolve) => api.app.server.once('request', () => resolve()));

  // A POST whose headers are in and whose body is not: in flight.
  socket.write(`POST /api/v1/reload-tasks HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nAuthorization: ${auth}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body.slice(0, 5)}`);
  await arrived;
  const closed = api.app.close();
  // preClose has run once the listener is gone (bounded, so a regression fails instead of hanging).
  for (let i = 0; api.app.server.listening; i++) {
    assert.ok(i < 100_000, 'the server never stopped listening after close()');
    await tick();
  }

  // The rest of the body, and a second request pipelined behind it on the same connection.
  socket.write(body.slice(5));
  socket.write(`GET /api/v1/reload-tasks HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nAuthorization: ${auth}\r\n\r\n`);
  await ended;
  await closed;

  const [first, second, ...more] = parseResponses(received);
  assert.equal(more.length, 0);
  assert.equal(first!.status, 201, first!.body);
  assert.equal(JSON.parse(first!.body).appId, 'drain');
  assert.equal(second!.status, 503, second!.body);
  assert.equal(second!.headers['retry-after'], '1');
  assert.equal(second!.headers.connection, 'close');
  assert.match(second!.headers['content-type']!, /^application\/json/);
  const envelope = JSON.parse(second!.body);
  assert.deepEqual(envelope.errors, [{ code: 'HTTP-503', title: 'Service unavailable.', detail: 'the service is shutting down; retry the request' }]);
  assert.match(envelope.traceId, /^[0-9a-f]{32}$/);

  // The task the first request created is there.
  assert.deepEqual((await api.store.listTasks({ tenantId: 'acme', limit: 10 })).map((t) => t.appId), ['drain']);
  await api.close(); // a second app.close() is a no-op; this drops the store and the directory
});
