/**
 * PostgreSQL and several instances: the scheduler's firing rate with 1, 2 and 3 instances (separate
 * processes) on one PostgreSQL database, the same on SQLite, GET by id on both, and graphile-worker
 * and pg-boss completing the same number of no-op jobs on the same server, in one run.
 *
 *   node --import tsx bench/postgres/run.ts           # full run (~13 min); writes docs/benchmarks-postgres.md
 *   node --import tsx bench/postgres/run.ts --quick   # 10,000 tasks, short API runs; prints only
 *
 * Flags:
 *   --tasks=N              tasks in the backlog (default 100000)
 *   --per-task=K           occurrences due per task (default 1: all due in the same second; K > 1:
 *                          minutely tasks due K times, MISFIRE_POLICY=all, OVERLAP_POLICY=queue)
 *   --instances=1,2,3      instance counts on PostgreSQL
 *   --pool=N               each instance's pool (DATABASE_POOL_SIZE; default 10, the service's default)
 *   --rounds=N             rounds of the runs without dispatching and of the peers' batched
 *                          configurations (default 3; the verdicts use the median)
 *   --no-dispatch          skip the runs with dispatching (one round: they take about a minute each)
 *   --no-sqlite  --no-api  --no-peers  --no-evidence
 *   --peer-jobs=N          jobs per peer run (default: as many as our firings)
 *   --peer-cap-s=S         processing time limit of the peers' default configurations (default 20)
 *   --peer-batched-cap-s=S the same for their batched configurations (default 120)
 *   --single-inserts=N     default configurations: jobs inserted one per call, timed (default 2000)
 *   --boss-workers=N --boss-batch=N   pg-boss batched: work() calls and batchSize (default 2 × 5000)
 *   --items-per-job=N      graphile-worker batch jobs: items per job (default 100)
 *   --evidence-dispatch-tasks=N  backlog of the traced run with dispatching (default 20000)
 *   --api-seconds=S --api-warmup=S --api-rounds=N --api-connections=A,B   (10, 3, 2, 100,10)
 *   --quiet-wait=S         before each measurement, wait until the machine uses less than
 *   --quiet-cores=C        C cores (default 0.5) over 2 s; S seconds of waiting in all (default 90)
 *   --write / --no-write   --out=FILE (docs/benchmarks-postgres.md)
 *   --render-only=FILE     write the doc from a previous run's saved results (path printed at the end)
 *
 * Databases: rt_bench_pg_<pid>_* on the server of BENCH_DATABASE_URL (default
 * postgres://postgres@127.0.0.1:5432/postgres), all dropped at the end; SQLite files under /tmp.
 */
import { execSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { measureApi, type ApiResult } from './api.js';
import { admin, createDatabase, dropDatabase, dropRunDatabases, seedPostgres, seedSqlite, copySqlite, urlOf, type Backlog } from './db.js';
import type { PeerJob, PeerKind, PeerResult } from './peers.js';
import { backendCpu, conditions, root, spawnChild, exited, waitForQuiet, type Conditions, type Quiet } from './proc.js';
import { mainProfile, type ProfileSummary } from './profile.js';
import { render, type Results } from './report.js';
import { runScheduler, type SchedRun } from './sched.js';

export interface Options {
  tasks: number;
  perTask: number;
  instances: number[];
  pool: number;
  dispatch: boolean;
  sqlite: boolean;
  api: boolean;
  peers: boolean;
  evidence: boolean;
  peerJobs: number | undefined;
  peerCapS: number;
  peerBatchedCapS: number;
  singleInserts: number;
  bossWorkers: number;
  bossBatch: number;
  itemsPerJob: number;
  evidenceDispatchTasks: number;
  apiSeconds: number;
  apiWarmup: number;
  apiRounds: number;
  apiConnections: number[];
  quietWaitS: number;
  quietCores: number;
  rounds: number;
  quick: boolean;
  write: boolean;
  out: string;
  renderOnly: string | undefined;
}

function parseArgs(argv: readonly string[]): Options {
  const o: Options = {
    tasks: 100_000,
    perTask: 1,
    instances: [1, 2, 3],
    pool: 10,
    dispatch: true,
    sqlite: true,
    api: true,
    peers: true,
    evidence: true,
    peerJobs: undefined,
    peerCapS: 20,
    peerBatchedCapS: 120,
    singleInserts: 2000,
    bossWorkers: 2,
    bossBatch: 5000,
    itemsPerJob: 100,
    evidenceDispatchTasks: 20_000,
    apiSeconds: 10,
    apiWarmup: 3,
    apiRounds: 2,
    apiConnections: [100, 10],
    quietWaitS: 90,
    quietCores: 0.5,
    rounds: 3,
    quick: false,
    write: true,
    out: 'docs/benchmarks-postgres.md',
    renderOnly: undefined,
  };
  let writeSet = false;
  for (const a of argv) {
    const [k, v] = a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    const int = (): number => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 0) throw new Error(`${k}: '${v}' is not a whole number`);
      return n;
    };
    const list = (): number[] => (v ?? '').split(',').map((x) => {
      const n = Number(x);
      if (!Number.isInteger(n) || n <= 0) throw new Error(`${k}: '${v}' is not a list of positive whole numbers`);
      return n;
    });
    switch (k) {
      case '--quick':
        Object.assign(o, { quick: true, tasks: 10_000, apiSeconds: 3, apiWarmup: 1, apiRounds: 1, apiConnections: [100], peerCapS: 5, peerBatchedCapS: 60, singleInserts: 500, quietWaitS: 0, rounds: 1 });
        if (!writeSet) o.write = false;
        break;
      case '--tasks': o.tasks = int(); break;
      case '--per-task': o.perTask = Math.max(1, int()); break;
      case '--instances': o.instances = list(); break;
      case '--pool': o.pool = int(); break;
      case '--no-dispatch': o.dispatch = false; break;
      case '--no-sqlite': o.sqlite = false; break;
      case '--no-api': o.api = false; break;
      case '--no-peers': o.peers = false; break;
      case '--no-evidence': o.evidence = false; break;
      case '--peer-jobs': o.peerJobs = int(); break;
      case '--peer-cap-s': o.peerCapS = int(); break;
      case '--peer-batched-cap-s': o.peerBatchedCapS = int(); break;
      case '--single-inserts': o.singleInserts = int(); break;
      case '--boss-workers': o.bossWorkers = int(); break;
      case '--boss-batch': o.bossBatch = int(); break;
      case '--items-per-job': o.itemsPerJob = int(); break;
      case '--evidence-dispatch-tasks': o.evidenceDispatchTasks = int(); break;
      case '--api-seconds': o.apiSeconds = int(); break;
      case '--api-warmup': o.apiWarmup = int(); break;
      case '--api-rounds': o.apiRounds = int(); break;
      case '--api-connections': o.apiConnections = list(); break;
      case '--quiet-wait': o.quietWaitS = int(); break;
      case '--rounds': o.rounds = Math.max(1, int()); break;
      case '--quiet-cores': o.quietCores = Number(v); break;
      case '--write': o.write = true; writeSet = true; break;
      case '--no-write': o.write = false; writeSet = true; break;
      case '--out': o.out = v ?? o.out; break;
      case '--render-only': o.renderOnly = v; break;
      default: throw new Error(`unknown flag ${a} (see the comment at the top of bench/postgres/run.ts)`);
    }
  }
  return o;
}

const log = (s: string): void => void process.stderr.write(`[bench:postgres] ${new Date().toISOString().slice(11, 19)} ${s}\n`);

function sh(cmd: string): string {
  try {
    return execSync(cmd, { encoding: 'utf8', shell: '/bin/sh', cwd: root, stdio: ['ignore', 'pipe', 'ignore'] }).trimEnd();
  } catch (e) {
    return `(${cmd} failed: ${(e as Error).message.split('\n')[0]})`;
  }
}

const SETTINGS = ['server_version', 'shared_buffers', 'synchronous_commit', 'max_connections', 'fsync', 'full_page_writes', 'wal_level', 'max_wal_size', 'checkpoint_timeout', 'work_mem', 'autovacuum', 'random_page_cost'];

async function machine(): Promise<Results['machine']> {
  const settings: Record<string, string> = {};
  for (const name of SETTINGS) settings[name] = (await admin<Record<string, string>>(`SHOW ${name}`))[0]![name]!;
  return {
    nproc: sh('nproc'),
    lscpu: sh('lscpu | head -20'),
    node: sh('node -v'),
    free: sh('free -g'),
    psql: sh('psql --version'),
    settings,
    commit: sh('git rev-parse --short HEAD'),
    dirty: sh('git status --porcelain -- src migrations').split('\n').filter(Boolean).map((l) => l.slice(3)).join(', '),
    versions: {
      'graphile-worker': (JSON.parse(readFileSync(join(root, 'node_modules/graphile-worker/package.json'), 'utf8')) as { version: string }).version,
      'pg-boss': (JSON.parse(readFileSync(join(root, 'node_modules/pg-boss/package.json'), 'utf8')) as { version: string }).version,
      pg: (JSON.parse(readFileSync(join(root, 'node_modules/pg/package.json'), 'utf8')) as { version: string }).version,
      autocannon: (JSON.parse(readFileSync(join(root, 'node_modules/autocannon/package.json'), 'utf8')) as { version: string }).version,
    },
  };
}

export interface PeerRun extends PeerResult {
  readonly round?: number;
  readonly conditions: Conditions;
  readonly backendsCpuS: number;
}

async function runPeer(id: string, kind: PeerKind, o: Options, jobs: number, quiet: (what: string) => Promise<Quiet>): Promise<PeerRun> {
  const database = `rt_bench_pg_${id}_${kind.replace(/-/g, '_')}`;
  const url = await createDatabase(database);
  try {
    const batched = kind !== 'graphile-default' && kind !== 'pgboss-default';
    const job: PeerJob = {
      kind,
      url,
      jobs,
      capS: batched ? o.peerBatchedCapS : o.peerCapS,
      itemsPerJob: o.itemsPerJob,
      bossWorkers: o.bossWorkers,
      bossBatch: o.bossBatch,
      singleInserts: o.singleInserts,
    };
    const child = spawnChild<PeerResult>('peers.ts', job, { timeoutS: job.capS + 600 });
    let window: (() => Conditions) | undefined;
    let backends: { stop(): Promise<number> } | undefined;
    let q: Quiet | undefined;
    child.child.on('message', (m: { kind?: string }) => {
      if (m.kind === 'inserted') {
        void quiet(kind).then((x) => {
          q = x;
          child.send({ kind: 'go' });
        });
      }
      if (m.kind !== 'processing') return;
      window = conditions(q);
      backends = backendCpu(database);
    });
    const r = await child.result;
    const cond = window ? window() : conditions()();
    const backendsCpuS = backends ? await backends.stop() : NaN;
    await exited(child);
    log(
      `${kind}: ${r.completed.toLocaleString('en-US')} of ${r.units.toLocaleString('en-US')} ${r.unit} in ${r.processSeconds.toFixed(2)} s = ${Math.round(r.perSecond).toLocaleString('en-US')}/s${r.finished ? '' : ' (stopped at the cap)'}; insert ${r.insertSeconds.toFixed(1)} s; load ${cond.loadBefore.toFixed(2)}`,
    );
    return { ...r, conditions: cond, backendsCpuS };
  } finally {
    await dropDatabase(database);
  }
}

function output(results: Results, o: Options): void {
  const { markdown, summary } = render(results);
  console.log(summary);
  const out = join(root, o.out);
  if (o.write) {
    writeFileSync(out, markdown);
    log(`wrote ${relative(process.cwd(), out)}`);
  } else {
    const preview = join(tmpdir(), 'benchmarks-postgres.preview.md');
    writeFileSync(preview, markdown);
    log(`not written (--quick / --no-write); preview in ${preview}`);
  }
}

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  if (o.renderOnly) {
    output(JSON.parse(readFileSync(o.renderOnly, 'utf8')) as Results, o);
    return;
  }
  const started = new Date();
  const t0 = performance.now();
  const id = String(process.pid);
  const tmp = mkdtempSync(join(tmpdir(), 'rt-bench-postgres-'));
  const backlog: Backlog = { tasks: o.tasks, perTask: o.perTask };
  const expected = o.tasks * o.perTask;
  const command = ['node --import tsx bench/postgres/run.ts', ...process.argv.slice(2)].join(' ');
  log(`${command} (run id ${id}; load average ${loadavg().map((l) => l.toFixed(2)).join(' ')})`);
  const onSignal = (): void => {
    void dropRunDatabases(id).finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const info = await machine();
    // The backlog, seeded once: a template database (each run gets a copy) and a SQLite file.
    const template = `rt_bench_pg_${id}_tpl`;
    await createDatabase(template);
    const seedPgS = await seedPostgres(urlOf(template), backlog);
    log(`seeded ${expected.toLocaleString('en-US')} due occurrences (${o.tasks.toLocaleString('en-US')} tasks) into PostgreSQL in ${seedPgS.toFixed(1)} s`);
    const schema: Array<{ table: string; indexes: string[] }> = [];
    for (const table of ['occurrences', 'reloads', 'reload_tasks', 'task_due']) {
      const rows = await admin<{ indexname: string }>('SELECT indexname FROM pg_indexes WHERE tablename = $1 ORDER BY indexname', [table], urlOf(template));
      schema.push({ table, indexes: rows.map((x) => x.indexname) });
    }
    const sqliteTemplate = join(tmp, 'template.db');
    const seedSqliteS = await seedSqlite(sqliteTemplate, backlog);
    log(`seeded the same into SQLite in ${seedSqliteS.toFixed(1)} s`);

    const budget = { leftS: o.quietWaitS, maxCores: o.quietCores };
    const quiet = (what: string): Promise<Quiet> => (o.quietWaitS > 0 ? waitForQuiet(budget, log, what) : Promise.resolve({ waitedS: 0, othersCores: NaN }));
    const sched: SchedRun[] = [];
    const timeoutS = Math.max(300, Math.ceil(expected / 200));
    const pgRun = (instances: number, mode: 'fire' | 'dispatch', extra: { trace?: Record<string, readonly number[]>; profileDir?: string; label?: string } = {}): Promise<SchedRun> => {
      const database = `rt_bench_pg_${id}_run`;
      return runScheduler({
        label: extra.label ?? `PostgreSQL, ${instances} instance${instances > 1 ? 's' : ''}, ${mode}`,
        backlog,
        instances,
        mode,
        postgres: { template, database, url: urlOf(database), poolSize: o.pool },
        timeoutS,
        log,
        quiet: () => quiet(extra.label ?? `PostgreSQL ×${instances}, ${mode}`),
        ...(extra.trace && { trace: extra.trace }),
        ...(extra.profileDir && { profileDir: extra.profileDir }),
      });
    };
    const sqliteRun = (mode: 'fire' | 'dispatch'): Promise<SchedRun> => {
      const path = join(tmp, `run-${mode}.db`);
      copySqlite(sqliteTemplate, path);
      return runScheduler({ label: `SQLite, 1 instance, ${mode}`, backlog, instances: 1, mode, sqlite: { path }, timeoutS, log, quiet: () => quiet(`SQLite, ${mode}`) }).finally(() => {
        for (const s of ['', '-wal', '-shm']) rmSync(path + s, { force: true });
      });
    };
    // A measurement that fails is noted and the run goes on with the next one.
    const errors: string[] = [];
    const attempt = async <T>(what: string, fn: () => Promise<T>): Promise<T | undefined> => {
      try {
        return await fn();
      } catch (e) {
        const msg = `${what}: ${e instanceof Error ? e.message : String(e)}`;
        errors.push(msg);
        log(`FAILED ${msg}`);
        return undefined;
      }
    };
    const push = <T>(list: T[], x: T | undefined): void => void (x !== undefined && list.push(x));
    // Firing without dispatching: several rounds (instance counts in alternating order), as the
    // machine's load comes and goes; with dispatching (minutes each): one.
    for (let round = 1; round <= o.rounds; round++) {
      const order = round % 2 === 1 ? o.instances : [...o.instances].reverse();
      for (const n of order) push(sched, await attempt(`PostgreSQL, ${n} instance(s), fire, round ${round}`, async () => ({ ...(await pgRun(n, 'fire')), round })));
      if (o.sqlite) push(sched, await attempt(`SQLite, fire, round ${round}`, async () => ({ ...(await sqliteRun('fire')), round })));
    }
    if (o.dispatch) {
      for (const n of o.instances) push(sched, await attempt(`PostgreSQL, ${n} instance(s), dispatch`, async () => ({ ...(await pgRun(n, 'dispatch')), round: 1 })));
      if (o.sqlite) push(sched, await attempt('SQLite, dispatch', async () => ({ ...(await sqliteRun('dispatch')), round: 1 })));
    }

    const peerJobs = o.peerJobs ?? expected;
    const peers: PeerRun[] = [];
    if (o.peers) {
      // The default configurations are capped and their batch-job variant is not comparable: one
      // round each; the batched configurations as many rounds as ours.
      const plan: Array<[PeerKind, number]> = [['graphile-default', 1], ['pgboss-default', 1], ['graphile-batch-jobs', 1]];
      for (let round = 1; round <= o.rounds; round++) plan.push(['graphile-batched', round], ['pgboss-batched', round]);
      for (const [kind, round] of plan) push(peers, await attempt(`${kind}, round ${round}`, async () => ({ ...(await runPeer(id, kind, o, peerJobs, quiet)), round })));
    }

    let api: ApiResult | undefined;
    if (o.api) {
      const database = `rt_bench_pg_${id}_api`;
      api = await attempt('GET by id', async () => {
        const url = await createDatabase(database, template);
        try {
          return await measureApi({ pg: { url, database }, sqliteTemplate, dir: tmp, connections: o.apiConnections, seconds: o.apiSeconds, warmupS: o.apiWarmup, rounds: o.apiRounds, log, quiet });
        } finally {
          await dropDatabase(database);
        }
      });
    }

    // Evidence (not measurements: tracing and profiling slow them): one instance firing the whole
    // backlog with every statement timed, the hot ones explained, under --cpu-prof; and one instance
    // with dispatching on a smaller backlog, for the dispatcher's statements.
    let evidence: Results['evidence'];
    if (o.evidence) evidence = await attempt('evidence', async () => {
      const batches = Math.ceil(o.tasks / 1000);
      const mid = 1 + Math.ceil(batches / 2);
      const profileDir = join(tmp, 'profile');
      log('evidence: one instance firing, statements traced and explained, under --cpu-prof');
      const fire = await pgRun(1, 'fire', {
        label: 'evidence: PostgreSQL, 1 instance, fire (traced, explained, profiled)',
        profileDir,
        trace: {
          DUE_TASKS: [2, mid, 1 + batches],
          INSERT_OCCURRENCES: [1, batches],
          INSERT_RELOADS: [1, batches],
          ADVANCE_TASKS: [1, batches],
          OLD_QUEUED: [2],
        },
      });
      const profile: ProfileSummary | undefined = mainProfile(profileDir, root);
      const small: Backlog = { tasks: Math.min(o.tasks, o.evidenceDispatchTasks), perTask: o.perTask };
      const smallTemplate = `rt_bench_pg_${id}_tpl_small`;
      await createDatabase(smallTemplate);
      await seedPostgres(urlOf(smallTemplate), small);
      log(`evidence: one instance with dispatching on ${small.tasks.toLocaleString('en-US')} tasks, statements traced and explained`);
      const database = `rt_bench_pg_${id}_run`;
      const dispatch = await runScheduler({
        label: 'evidence: PostgreSQL, 1 instance, dispatch (traced, explained)',
        backlog: small,
        instances: 1,
        mode: 'dispatch',
        postgres: { template: smallTemplate, database, url: urlOf(database), poolSize: o.pool },
        timeoutS,
        log,
        trace: { STARTABLE: [2, 3], START_RELOADS: [1], FINISH_RELOAD: [1], RESET_FAILURES: [1], OLD_QUEUED: [2], RUNNING_COUNT: [2] },
      });
      await dropDatabase(smallTemplate);
      return { fire, dispatch, profile, explainedCalls: { batches, mid } };
    });

    const totalSeconds = (performance.now() - t0) / 1000;
    const results: Results = {
      started: started.toISOString(),
      totalSeconds,
      command: `cd ${root} && ${command}`,
      options: o,
      backlog,
      seed: { postgresS: seedPgS, sqliteS: seedSqliteS },
      machine: info,
      schema,
      sched,
      peers,
      peerJobs,
      api,
      evidence,
      errors,
    };
    // Each run keeps its own file: a quick partial run after a full one used to overwrite the full
    // run's results before they were rendered again.
    const saved = join(tmpdir(), `rt-bench-postgres.${new Date().toISOString().replace(/[:.]/g, '-')}.results.json`);
    writeFileSync(saved, JSON.stringify(results));
    log(`total ${totalSeconds.toFixed(0)} s; results saved in ${saved} (re-render with --render-only=${saved})`);
    output(results, o);
  } finally {
    const dropped = await dropRunDatabases(id);
    if (dropped.length) log(`dropped ${dropped.join(', ')}`);
    rmSync(tmp, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
