// The counts taken on every request (tokens accepted, request durations) reach /metrics exactly,
// although they are kept outside prom-client until a scrape.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { Metrics } from '../src/metrics.js';

const metrics = () => new Metrics({ queueDepth: async () => 0, oldestQueuedAge: async () => 0, running: () => 0 });

it('counts accepted tokens by how, across scrapes', async () => {
  const m = metrics();
  for (let i = 0; i < 3; i++) m.tokenAccepted('cache');
  m.tokenAccepted('signature');
  let text = await m.registry.metrics();
  assert.match(text, /reload_tasks_auth_tokens_accepted_total\{check="cache"\} 3\n/);
  assert.match(text, /reload_tasks_auth_tokens_accepted_total\{check="signature"\} 1\n/);
  m.tokenAccepted('cache');
  text = await m.registry.metrics();
  assert.match(text, /reload_tasks_auth_tokens_accepted_total\{check="cache"\} 4\n/);
  assert.match(text, /reload_tasks_auth_tokens_accepted_total\{check="signature"\} 1\n/);
});

it('observes request durations per method, route pattern and status', async () => {
  const m = metrics();
  m.observeHttp('GET', '/api/v1/reload-tasks/:taskId', 200, 0.0004);
  m.observeHttp('GET', '/api/v1/reload-tasks/:taskId', 200, 0.003);
  m.observeHttp('GET', '/api/v1/reload-tasks/:taskId', 404, 0.002);
  m.observeHttp('PUT', '/api/v1/reload-tasks/:taskId', 200, 0.02);
  const text = await m.registry.metrics();
  const series = 'method="GET",route="/api/v1/reload-tasks/:taskId",status_code="200"';
  assert.ok(text.includes(`reload_tasks_http_request_duration_seconds_bucket{le="0.001",${series}} 1\n`), text);
  assert.ok(text.includes(`reload_tasks_http_request_duration_seconds_bucket{le="0.005",${series}} 2\n`));
  assert.ok(text.includes(`reload_tasks_http_request_duration_seconds_count{${series}} 2\n`));
  assert.ok(text.includes('reload_tasks_http_request_duration_seconds_count{method="GET",route="/api/v1/reload-tasks/:taskId",status_code="404"} 1\n'));
  assert.ok(text.includes('reload_tasks_http_request_duration_seconds_count{method="PUT",route="/api/v1/reload-tasks/:taskId",status_code="200"} 1\n'));
  assert.ok(text.includes('# TYPE reload_tasks_http_request_duration_seconds histogram\n'));
});

it('counts records deleted by retention, by kind', async () => {
  const m = metrics();
  m.pruned({ reloads: 1000, occurrences: 0 });
  m.pruned({ reloads: 3, occurrences: 7 });
  const text = await m.registry.metrics();
  assert.match(text, /reload_tasks_records_pruned_total\{record="reload"\} 1003\n/);
  assert.match(text, /reload_tasks_records_pruned_total\{record="occurrence"\} 7\n/);
});
