/**
 * A mixed load at a fixed rate against the real service, for as long as asked (10 minutes by
 * default): reads, writes and firings together. It reports errors, latency percentiles per kind of
 * request, the firings and their skew, and the server's resident memory after warm-up and at the
 * end (the goal: within 10 %).
 *
 *   node --import tsx bench/load/run.ts [--minutes 10] [--rate 200] [--tasks 10000] [--warmup 60]
 *
 * The server runs in its own process on a fresh SQLite DATA_DIR (or DATABASE_URL when given), with
 * the simulated executor, rate limits lifted and logs off. Requests are sent open-loop: one every
 * 1/rate seconds whether or not earlier ones answered, so a slow server shows as latency, not as a
 * lower rate. The mix: 65 % GET a task, 15 % list a page of 100, 10 % PUT a task, 5 % POST a task,
 * 5 % DELETE one of the posted ones. The seeded tasks fire every minute, spread over the minute.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadOrCreateLocalKey } from '../../src/auth/local-key.js';
import { mintToken } from '../../src/auth/mint.js';
import { loadConfig } from '../../src/config.js';
import { openStore } from '../../src/store/open.js';
import { newTaskId } from '../../src/tasks/ids.js';
import { createTask } from '../../src/tasks/task.js';

const { values } = parseArgs({
  options: {
    minutes: { type: 'string', default: '10' },
    rate: { type: 'string', default: '200' },
    tasks: { type: 'string', default: '10000' },
    warmup: { type: 'string', default: '60' },
  },
});
const MINUTES = Number(values.minutes);
const RATE = Number(values.rate);
const TASKS = Number(values.tasks);
const WARMUP_S = Number(values.warmup);
const main = new URL('../../src/cli/main.ts', import.meta.url).pathname;

type Kind = 'get' | 'list' | 'put' | 'post' | 'delete';
const latencies: Record<Kind, number[]> = { get: [], list: [], put: [], post: [], delete: [] };
const errors: Record<string, number> = {};
const rss: Array<{ t: number; mb: number }> = [];

async function run(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'reload-tasks-load-'));
  const env = {
    ...process.env,
    DATA_DIR: dir,
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'silent',
    RATE_LIMIT_ENABLED: 'false',
    SIMULATED_DURATION_MS: '500',
    MAX_CONCURRENT_RELOADS: '1000',
    MAX_CONCURRENT_RELOADS_PER_TENANT: '1000',
  };
  const config = loadConfig(env);

  // Seed: tasks firing every minute, at seconds spread over the minute.
  const store = await openStore(config);
  const ids: string[] = [];
  const now = Date.now();
  for (let i = 0; i < TASKS; i++) {
    const t = createTask({ appId: `app-${i}`, timeZone: 'Europe/Zurich', startDateTime: '2026-01-01T00:00:00', recurrence: [`FREQ=MINUTELY;BYSECOND=${i % 60}`] }, newTaskId(now), { tenantId: 'load', userId: 'u' }, now);
    await store.insertTask(t);
    ids.push(t.id);
  }
  await store.close();
  const token = await mintToken(config.auth, () => loadOrCreateLocalKey(dir), { tenantId: 'load', userId: 'u', admin: false, expiresInSeconds: 7200, now: Date.now() });

  const server = spawn(process.execPath, ['--import', 'tsx', main, 'serve'], { env, stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    server.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) resolve(m[1]!);
    });
    server.on('exit', (code) => reject(new Error(`server exited ${code}`)));
  });
  const started = Date.now();
  const sampler = setInterval(() => rss.push({ t: (Date.now() - started) / 1000, mb: residentMb(server) }), 5000);

  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  const posted: string[] = [];
  let inFlight = 0;
  let sent = 0;
  const send = async (): Promise<void> => {
    const r = Math.random();
    const kind: Kind = r < 0.65 ? 'get' : r < 0.8 ? 'list' : r < 0.9 ? 'put' : r < 0.95 ? 'post' : 'delete';
    const id = ids[Math.floor(Math.random() * ids.length)]!;
    let path = `/api/v1/reload-tasks/${id}`;
    let init: RequestInit = { headers };
    if (kind === 'list') path = '/api/v1/reload-tasks?limit=100';
    if (kind === 'put') init = { method: 'PUT', headers, body: JSON.stringify({ partial: Math.random() < 0.5 }) };
    if (kind === 'post') {
      path = '/api/v1/reload-tasks';
      init = { method: 'POST', headers, body: JSON.stringify({ appId: 'posted', timeZone: 'UTC', startDateTime: '2030-01-01T00:00:00', recurrence: ['FREQ=DAILY'] }) };
    }
    if (kind === 'delete') {
      const victim = posted.shift();
      if (!victim) return;
      path = `/api/v1/reload-tasks/${victim}`;
      init = { method: 'DELETE', headers };
    }
    const t0 = performance.now();
    inFlight += 1;
    try {
      const res = await fetch(`${url}${path}`, init);
      const body = await res.text();
      const ms = performance.now() - t0;
      if (res.status >= 400) errors[`${kind} ${res.status}`] = (errors[`${kind} ${res.status}`] ?? 0) + 1;
      else {
        latencies[kind].push(ms);
        if (kind === 'post') posted.push((JSON.parse(body) as { id: string }).id);
      }
    } catch (e) {
      errors[`${kind} ${(e as Error).message}`] = (errors[`${kind} ${(e as Error).message}`] ?? 0) + 1;
    } finally {
      inFlight -= 1;
    }
  };

  const end = started + MINUTES * 60_000;
  const interval = 1000 / RATE;
  let next = performance.now();
  let lastReport = Date.now();
  while (Date.now() < end) {
    void send();
    sent += 1;
    next += interval;
    const wait = next - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    if (Date.now() - lastReport > 30_000) {
      lastReport = Date.now();
      const last = rss.at(-1);
      console.log(`${Math.round((Date.now() - started) / 1000)} s: ${sent} sent, ${inFlight} in flight, RSS ${last?.mb.toFixed(1)} MB, errors ${JSON.stringify(errors)}`);
    }
  }
  while (inFlight > 0) await new Promise((r) => setTimeout(r, 50));
  clearInterval(sampler);
  rss.push({ t: (Date.now() - started) / 1000, mb: residentMb(server) });
  const firings = await scrape(url);
  server.kill('SIGTERM');
  await new Promise((r) => server.once('exit', r));
  rmSync(dir, { recursive: true, force: true });
  report(sent, firings);
}

function residentMb(p: ChildProcess): number {
  const status = readFileSync(`/proc/${p.pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)![1]) / 1024;
}

/** Firings and skew from the service's own metrics. */
async function scrape(url: string): Promise<{ fired: number; skewP50: string; skewP99: string }> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const fired = Number(/reload_tasks_occurrences_total\{outcome="fired"\} (\d+)/.exec(text)?.[1] ?? 0);
  const buckets = [...text.matchAll(/reload_tasks_fire_skew_seconds_bucket\{le="([^"]+)"\} (\d+)/g)].map((m) => ({ le: m[1]!, n: Number(m[2]) }));
  const total = buckets.at(-1)?.n ?? 0;
  const q = (p: number): string => buckets.find((b) => b.n >= p * total)?.le ?? '?';
  return { fired, skewP50: `≤ ${q(0.5)} s`, skewP99: `≤ ${q(0.99)} s` };
}

function pct(xs: number[], p: number): string {
  if (xs.length === 0) return '-';
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))]!.toFixed(1);
}

function report(sent: number, firings: { fired: number; skewP50: string; skewP99: string }): void {
  const afterWarmup = rss.find((r) => r.t >= WARMUP_S) ?? rss[0]!;
  const last = rss.at(-1)!;
  const growth = ((last.mb - afterWarmup.mb) / afterWarmup.mb) * 100;
  const lines = [
    `Mixed load: ${MINUTES} min at ${RATE} requests/s (${sent} sent), ${TASKS} tasks firing every minute.`,
    '',
    '| Request | Count | p50 ms | p90 ms | p99 ms | max ms |',
    '|---|---:|---:|---:|---:|---:|',
    ...(Object.keys(latencies) as Kind[]).map((k) => `| ${k} | ${latencies[k].length} | ${pct(latencies[k], 0.5)} | ${pct(latencies[k], 0.9)} | ${pct(latencies[k], 0.99)} | ${pct(latencies[k], 1)} |`),
    '',
    `Errors: ${Object.keys(errors).length === 0 ? 'none' : JSON.stringify(errors)}`,
    `Firings: ${firings.fired}, skew p50 ${firings.skewP50}, p99 ${firings.skewP99} (from /metrics)`,
    `RSS after ${WARMUP_S} s warm-up: ${afterWarmup.mb.toFixed(1)} MB; at the end: ${last.mb.toFixed(1)} MB (${growth >= 0 ? '+' : ''}${growth.toFixed(1)} %; goal within 10 %: ${Math.abs(growth) <= 10 ? 'met' : 'not met'})`,
    `RSS samples (s: MB): ${rss.filter((_, i) => i % 12 === 0).map((r) => `${Math.round(r.t)}: ${r.mb.toFixed(0)}`).join(', ')}`,
  ];
  console.log(lines.join('\n'));
}

await run();
