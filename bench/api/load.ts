/**
 * Load generation: autocannon runs (throughput, with every response's latency kept at full
 * precision; autocannon's own histogram rounds to whole milliseconds) and a sequential one-request-
 * at-a-time client for unloaded latency and for walking `links.next.href`.
 */
import { Agent, request } from 'node:http';
import { createRequire } from 'node:module';
import type { EventEmitter } from 'node:events';
import { cpuWindow } from './proc.js';

interface AutocannonRequest {
  method?: string;
  path?: string;
  headers?: Record<string, string>;
}

interface AutocannonOptions {
  url: string;
  connections: number;
  duration: number;
  pipelining: number;
  headers?: Record<string, string>;
  requests?: AutocannonRequest[];
  timeout?: number;
}

interface AutocannonResult {
  requests: { average: number; total: number; sent: number };
  latency: { p50: number; p99: number; average: number; max: number };
  throughput: { average: number };
  duration: number;
  errors: number;
  timeouts: number;
  non2xx: number;
  '2xx': number;
  statusCodeStats: Record<string, { count: number }>;
}

type AutocannonInstance = EventEmitter & PromiseLike<AutocannonResult>;

// autocannon ships no types; this is the slice of its programmatic API used here.
const autocannon = createRequire(import.meta.url)('autocannon') as (o: AutocannonOptions) => AutocannonInstance;

export interface Percentiles {
  readonly count: number;
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly max: number;
  readonly mean: number;
}

/** Percentiles (nearest rank) of latencies in ms. */
export function percentiles(values: ArrayLike<number>, count = values.length): Percentiles {
  const sorted = Float64Array.from({ length: count }, (_, i) => values[i]!).sort();
  const at = (q: number): number => (count === 0 ? NaN : sorted[Math.min(count - 1, Math.max(0, Math.ceil(q * count) - 1))]!);
  let sum = 0;
  for (let i = 0; i < count; i++) sum += sorted[i]!;
  return { count, p50: at(0.5), p90: at(0.9), p99: at(0.99), max: count === 0 ? NaN : sorted[count - 1]!, mean: count === 0 ? NaN : sum / count };
}

export interface LoadResult {
  readonly label: string;
  readonly connections: number;
  readonly seconds: number;
  /** Completed 2xx responses per second over the run. */
  readonly rps: number;
  readonly latency: Percentiles;
  readonly bytesPerResponse: number;
  readonly non2xx: number;
  readonly errors: number;
  /** Responses by status code. */
  readonly statuses: Record<string, number>;
  /** CPU use of the server process, of this (load-generating) process and of all other processes, in % of one core. */
  readonly serverCpu: number;
  readonly loaderCpu: number;
  readonly otherCpu: number;
}

export interface LoadOptions {
  readonly label: string;
  readonly url: string;
  readonly connections: number;
  readonly seconds: number;
  readonly serverPid: number;
  readonly headers?: Record<string, string>;
  /** Paths cycled through by every connection (default: the url's own path). */
  readonly paths?: readonly string[];
}

export async function load(o: LoadOptions): Promise<LoadResult> {
  const latencies: number[] = [];
  let bytes = 0;
  const opts: AutocannonOptions = { url: o.url, connections: o.connections, duration: o.seconds, pipelining: 1, timeout: 10 };
  if (o.headers) opts.headers = o.headers;
  if (o.paths) opts.requests = o.paths.map((path) => ({ method: 'GET', path }));
  const cpu = cpuWindow(o.serverPid);
  const instance = autocannon(opts);
  instance.on('response', (_client: unknown, statusCode: number, resBytes: number, responseTime: number) => {
    if (statusCode >= 200 && statusCode < 300) {
      latencies.push(responseTime);
      bytes += resBytes;
    }
  });
  const r = await instance;
  const shares = cpu();
  return {
    label: o.label,
    connections: o.connections,
    seconds: r.duration,
    rps: r['2xx'] / r.duration,
    latency: percentiles(latencies),
    bytesPerResponse: latencies.length === 0 ? 0 : bytes / latencies.length,
    non2xx: r.non2xx,
    errors: r.errors + r.timeouts,
    statuses: Object.fromEntries(Object.entries(r.statusCodeStats).map(([k, v]) => [k, v.count])),
    serverCpu: shares.server,
    loaderCpu: shares.loader,
    otherCpu: shares.other,
  };
}

/** A keep-alive client that sends one request at a time and times each to the last body byte. */
export class SequentialClient {
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 1 });

  constructor(
    private readonly port: number,
    private readonly headers: Record<string, string>,
  ) {}

  /**
   * One GET. A kept-alive socket the server closed while idle (its keepAliveTimeout is 5 s) fails
   * at once with ECONNRESET; such a request is sent again, once, and timed afresh.
   */
  async get(path: string): Promise<{ status: number; body: string; ms: number }> {
    try {
      return await this.once(path);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ECONNRESET') throw e;
      return this.once(path);
    }
  }

  private once(path: string): Promise<{ status: number; body: string; ms: number }> {
    return new Promise((resolve, reject) => {
      const t0 = process.hrtime.bigint();
      const req = request({ host: '127.0.0.1', port: this.port, path, method: 'GET', headers: this.headers, agent: this.agent }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const ms = Number(process.hrtime.bigint() - t0) / 1e6;
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), ms });
        });
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end();
    });
  }

  close(): void {
    this.agent.destroy();
  }
}
