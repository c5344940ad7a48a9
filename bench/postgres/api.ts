/**
 * GET /api/v1/reload-tasks/{id} on PostgreSQL beside SQLite, as bench/api measures it on SQLite:
 * the service in its own process (bench/postgres/api-server.ts: loadConfig + startServer, through
 * tsx), RATE_LIMIT_ENABLED=false, LOG_LEVEL=silent, HTTP_MAX_REQUESTS_PER_SOCKET=0, a token signed with the data directory's
 * local key (src/auth/mint.ts, as `reload-task token` does), and autocannon cycling through the
 * task ids of one owner with that owner's (non-admin) token. Both servers hold the same seeded
 * tasks (the scheduler backlog); the runs alternate PostgreSQL and SQLite, round by round.
 */
import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { EventEmitter } from 'node:events';
import { loadOrCreateLocalKey } from '../../src/auth/local-key.js';
import { mintToken } from '../../src/auth/mint.js';
import { loadConfig } from '../../src/config.js';
import { SQLITE_FILE } from '../../src/store/open.js';
import { admin, copySqlite, ownerOf } from './db.js';
import { cpuSecondsOf, exited, spawnChild, type Child, type Conditions, type Quiet, conditions, backendCpu } from './proc.js';

export interface ApiOptions {
  readonly pg: { readonly url: string; readonly database: string };
  readonly sqliteTemplate: string;
  /** A directory for the SQLite data directory and the signing key. */
  readonly dir: string;
  readonly connections: readonly number[];
  readonly seconds: number;
  readonly warmupS: number;
  readonly rounds: number;
  readonly log: (s: string) => void;
  /** Waits for a quiet machine before each measured run. */
  readonly quiet: (what: string) => Promise<Quiet>;
}

export interface ApiRun {
  readonly store: 'postgres' | 'sqlite';
  readonly connections: number;
  readonly round: number;
  readonly rps: number;
  readonly p50: number;
  readonly p99: number;
  readonly non2xx: number;
  readonly errors: number;
  /** Answers by status code, and the body of one non-2xx answer (fetched after the run). */
  readonly statuses: Record<string, number>;
  readonly sampleError: string | undefined;
  /** CPU over the run, in % of one core: the server process, and (PostgreSQL) its backends. */
  readonly serverCpu: number;
  readonly backendCpu: number | null;
  readonly conditions: Conditions;
}

export interface ApiResult {
  readonly ids: number;
  readonly owner: string;
  readonly runs: ApiRun[];
}

interface AutocannonResult {
  duration: number;
  errors: number;
  timeouts: number;
  non2xx: number;
  '2xx': number;
  latency: { p50: number; p99: number };
  statusCodeStats?: Record<string, { count: number }>;
}
type Autocannon = (o: Record<string, unknown>) => EventEmitter & PromiseLike<AutocannonResult>;
const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;

const TASKS_PATH = '/api/v1/reload-tasks';

export async function measureApi(o: ApiOptions): Promise<ApiResult> {
  const owner = ownerOf(0);
  const ids = (await admin<{ id: string }>('SELECT id FROM reload_tasks WHERE tenant_id = $1 AND user_id = $2 ORDER BY id', [owner.tenantId, owner.userId], o.pg.url)).map((r) => r.id);
  if (ids.length === 0) throw new Error('no tasks for the API run');
  const dataDir = join(o.dir, 'api-data');
  mkdirSync(dataDir, { recursive: true });
  copySqlite(o.sqliteTemplate, join(dataDir, SQLITE_FILE));
  // HTTP_MAX_REQUESTS_PER_SOCKET=0: the service closes a keep-alive connection after 1000 requests
  // by default, and autocannon keeps sending on it and gets 503s; its connections are long-lived.
  const env = { DATA_DIR: dataDir, HOST: '127.0.0.1', PORT: '0', RATE_LIMIT_ENABLED: 'false', LOG_LEVEL: 'silent', HTTP_MAX_REQUESTS_PER_SOCKET: '0' };
  const config = loadConfig(env);
  const token = await mintToken(config.auth, () => loadOrCreateLocalKey(config.dataDir), { tenantId: owner.tenantId, userId: owner.userId, admin: false, expiresInSeconds: 3600, now: Date.now() });
  const headers = { authorization: `Bearer ${token}` };

  const servers: Record<'postgres' | 'sqlite', Child<never>> = {
    postgres: spawnChild<never>('api-server.ts', null, { env: { ...env, DATABASE_URL: o.pg.url } }),
    sqlite: spawnChild<never>('api-server.ts', null, { env }),
  };
  try {
    const ports = {
      postgres: Number((await servers.postgres.ready).port),
      sqlite: Number((await servers.sqlite.ready).port),
    };
    for (const store of ['postgres', 'sqlite'] as const) {
      const res = await fetch(`http://127.0.0.1:${ports[store]}${TASKS_PATH}/${ids[0]}`, { headers });
      const body = (await res.json()) as { id?: string };
      if (res.status !== 200 || body.id !== ids[0]) throw new Error(`GET by id on ${store}: ${res.status} ${JSON.stringify(body).slice(0, 200)}`);
    }
    const one = async (store: 'postgres' | 'sqlite', connections: number, seconds: number, round: number): Promise<ApiRun> => {
      const q = round > 0 ? await o.quiet(`GET by id, ${store}, ${connections} connections, round ${round}`) : undefined;
      const pid = servers[store].pid;
      const cpu0 = cpuSecondsOf(pid);
      const backends = store === 'postgres' ? backendCpu(o.pg.database) : undefined;
      const window = conditions(q);
      const r = await autocannon({
        url: `http://127.0.0.1:${ports[store]}`,
        connections,
        duration: seconds,
        pipelining: 1,
        timeout: 10,
        headers,
        requests: ids.map((id) => ({ method: 'GET', path: `${TASKS_PATH}/${id}` })),
      });
      const cond = window();
      const serverCpu = (100 * (cpuSecondsOf(pid) - cpu0)) / r.duration;
      const b = backends ? await backends.stop() : null;
      const statuses = Object.fromEntries(Object.entries(r.statusCodeStats ?? {}).map(([code, v]) => [code, v.count]));
      let sampleError: string | undefined;
      if (r.non2xx > 0) {
        // One request again, to see what a non-2xx answer said.
        for (const id of ids) {
          const res = await fetch(`http://127.0.0.1:${ports[store]}${TASKS_PATH}/${id}`, { headers });
          if (res.status >= 300) {
            sampleError = `${res.status} ${(await res.text()).slice(0, 300)}`;
            break;
          }
        }
        sampleError ??= '(every request answered 2xx afterwards)';
      }
      return {
        store,
        connections,
        round,
        rps: r['2xx'] / r.duration,
        p50: r.latency.p50,
        p99: r.latency.p99,
        non2xx: r.non2xx,
        errors: r.errors + r.timeouts,
        statuses,
        sampleError,
        serverCpu,
        backendCpu: b === null ? null : (100 * b) / r.duration,
        conditions: cond,
      };
    };
    if (o.warmupS > 0) for (const store of ['postgres', 'sqlite'] as const) await one(store, o.connections[0]!, o.warmupS, 0);
    const runs: ApiRun[] = [];
    for (let round = 1; round <= o.rounds; round++) {
      for (const c of o.connections) {
        for (const store of ['postgres', 'sqlite'] as const) {
          const r = await one(store, c, o.seconds, round);
          runs.push(r);
          o.log(`GET by id, ${store}, ${c} connections, round ${round}: ${Math.round(r.rps).toLocaleString('en-US')} req/s, p50 ${r.p50} ms, p99 ${r.p99} ms (server ${r.serverCpu.toFixed(0)} %${r.backendCpu === null ? '' : `, backends ${r.backendCpu.toFixed(0)} %`}; load ${r.conditions.loadBefore.toFixed(2)})`);
          if (r.non2xx > 0 || r.errors > 0) o.log(`GET by id on ${store}: ${r.non2xx} non-2xx (${JSON.stringify(r.statuses)}), ${r.errors} errors; afterwards: ${r.sampleError}`);
        }
      }
    }
    return { ids: ids.length, owner: `${owner.tenantId}/${owner.userId}`, runs };
  } finally {
    for (const s of Object.values(servers)) {
      s.child.kill('SIGTERM');
      const t = setTimeout(() => s.kill(), 10_000);
      await exited(s);
      clearTimeout(t);
    }
  }
}
