// The hot-path histogram must read, on /metrics, exactly as the prom-client Histogram it replaces:
// the same lines for the same observations, bucket edges and +Inf included.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { Histogram, Registry } from 'prom-client';
import { FastHistogram } from '../src/fast-histogram.js';

const NAME = 'x_request_duration_seconds';
const HELP = 'A duration.';
const BUCKETS = [0.001, 0.01, 0.1, 1];

function both() {
  const a = new Registry();
  const b = new Registry();
  const theirs = new Histogram({ name: NAME, help: HELP, labelNames: ['method', 'route', 'status_code'], buckets: BUCKETS, registers: [a] });
  const ours = new FastHistogram(NAME, HELP, ['method', 'route', 'status_code'], BUCKETS, b);
  const observe = (labels: { method: string; route: string; status_code: number }, v: number) => {
    theirs.labels(labels).observe(v);
    ours.series(labels).observe(v);
  };
  return { a, b, ours, observe };
}

it('writes the same exposition as prom-client for the same observations', async () => {
  const { a, b, observe } = both();
  const get = { method: 'GET', route: '/api/v1/reload-tasks/:taskId', status_code: 200 };
  const post = { method: 'POST', route: '/api/v1/reload-tasks', status_code: 400 };
  for (const v of [0.0005, 0.001, 0.0011, 0.01, 0.5, 1, 3, 0]) observe(get, v);
  observe(post, 0.02);
  observe({ ...get }, 0.05); // the same labels in another object: the same series
  assert.equal(await b.metrics(), await a.metrics());
  const sorted = (j: Awaited<ReturnType<Registry['getMetricsAsJSON']>>) => JSON.stringify(j, (_k, v) => (v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort()) : v));
  assert.equal(sorted(await b.getMetricsAsJSON()), sorted(await a.getMetricsAsJSON()));
});

it('resets to zero, as prom-client does, keeping the series', async () => {
  const { a, b, observe } = both();
  observe({ method: 'GET', route: '/', status_code: 200 }, 0.2);
  a.resetMetrics();
  b.resetMetrics();
  const ours = await b.metrics();
  assert.match(ours, /x_request_duration_seconds_count\{method="GET",route="\/",status_code="200"\} 0/);
});

it('refuses buckets that do not increase', () => {
  assert.throws(() => new FastHistogram('y', 'h', [], [1, 1], new Registry()), /buckets must increase/);
});
