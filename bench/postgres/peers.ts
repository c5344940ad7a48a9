/**
 * The peers, each configuration in its own process on its own database of the same PostgreSQL
 * server: `node --import tsx bench/postgres/peers.ts '<job>'`. The child installs the library's
 * schema, inserts the backlog of no-op jobs (timed on its own), then starts the workers and times
 * processing from their start to the moment the database shows every job completed (graphile-worker
 * deletes a completed job; pg-boss marks it `completed`). A run that has not finished by its cap
 * stops there and reports how many jobs completed.
 */
import { createRequire } from 'node:module';
import pg from 'pg';
import type PgBossType from 'pg-boss';
import { Logger, makeWorkerUtils, run, runMigrations, type AddJobsJobSpec, type RunnerOptions } from 'graphile-worker';

export type PeerKind = 'graphile-default' | 'graphile-batched' | 'graphile-batch-jobs' | 'pgboss-default' | 'pgboss-batched';

export interface PeerJob {
  readonly kind: PeerKind;
  readonly url: string;
  readonly jobs: number;
  /** Seconds of processing after which the run stops, finished or not. */
  readonly capS: number;
  /** graphile-batch-jobs: items per job (the payload array). */
  readonly itemsPerJob: number;
  /** pgboss-batched: work() calls and their batchSize. */
  readonly bossWorkers: number;
  readonly bossBatch: number;
  /** Default configurations: how many jobs go in one per call (timed), before the rest in bulk. */
  readonly singleInserts: number;
}

export interface PeerResult {
  readonly kind: PeerKind;
  /** Units processed: jobs, or items for graphile-batch-jobs. */
  readonly units: number;
  readonly unit: 'jobs' | 'items';
  readonly rows: number;
  readonly insertSeconds: number;
  readonly insertMethod: string;
  /** Default configurations: the one-job-per-call inserts and their time. */
  readonly single: { jobs: number; seconds: number } | undefined;
  /** Start of the workers to all completed in the database (or to the cap). */
  readonly processSeconds: number;
  readonly completed: number;
  readonly finished: boolean;
  readonly perSecond: number;
  readonly config: string;
  readonly cpuS: number;
}

const silent = new Logger(() => () => {});
const progress = (s: string): void => void process.stderr.write(`[bench:postgres] peers: ${s}\n`);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Tells the runner the backlog is in, and waits for its go (it first waits for a quiet machine). */
function inserted(): Promise<void> {
  return new Promise((resolve) => {
    process.on('message', (m: { kind?: string }) => m.kind === 'go' && resolve());
    process.send!({ kind: 'inserted' });
  });
}

/** Runs `fn` over `items`, at most `width` at a time. */
async function parallel<T>(items: readonly T[], width: number, fn: (t: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}

async function count(url: string, statement: string, params: unknown[] = []): Promise<number> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return Number((await c.query<{ n: string }>(statement, params)).rows[0]!.n);
  } finally {
    await c.end();
  }
}

/** Polls until `left()` is 0 (every job completed in the database) or the deadline. */
async function untilDone(left: () => Promise<number>, deadline: number): Promise<number> {
  for (;;) {
    const n = await left();
    if (n === 0 || performance.now() >= deadline) return n;
    await sleep(10);
  }
}

async function graphile(job: PeerJob): Promise<PeerResult> {
  const batchJobs = job.kind === 'graphile-batch-jobs';
  const batched = job.kind !== 'graphile-default';
  await runMigrations({ connectionString: job.url, logger: silent });
  const utils = await makeWorkerUtils({ connectionString: job.url, logger: silent });
  const rows = batchJobs ? Math.ceil(job.jobs / job.itemsPerJob) : job.jobs;
  const t0 = performance.now();
  let insertMethod: string;
  let single: { jobs: number; seconds: number } | undefined;
  let bulkFrom = 0;
  if (!batched) {
    // One addJob() per job is the default way; at its rate the whole backlog would take minutes, so
    // only the first jobs go in that way (timed), and the rest in bulk.
    bulkFrom = Math.min(rows, job.singleInserts);
    await parallel(Array.from({ length: bulkFrom }, (_, i) => i), 10, (i) => utils.addJob('noop', { i }));
    single = { jobs: bulkFrom, seconds: (performance.now() - t0) / 1000 };
    insertMethod = `the first ${bulkFrom.toLocaleString('en-US')} with addJob() one job per call, 10 calls in flight; the rest with addJobs() in calls of 10,000`;
  } else {
    insertMethod = batchJobs ? `addJobs() in calls of 10,000 jobs, each job a batch job (payload: an array of ${job.itemsPerJob} items)` : 'addJobs() in calls of 10,000 jobs';
  }
  {
    for (let from = bulkFrom; from < rows; from += 10_000) {
      const specs: AddJobsJobSpec[] = [];
      for (let i = from; i < Math.min(rows, from + 10_000); i++) {
        specs.push({ identifier: 'noop', payload: batchJobs ? Array.from({ length: Math.min(job.itemsPerJob, job.jobs - i * job.itemsPerJob) }, (_, k) => ({ i: i * job.itemsPerJob + k })) : { i } });
      }
      await utils.addJobs(specs);
    }
  }
  const insertSeconds = (performance.now() - t0) / 1000;
  progress(`${job.kind}: ${rows} rows inserted in ${insertSeconds.toFixed(1)} s`);
  await utils.release();

  let units = 0;
  await inserted();
  process.send!({ kind: 'processing' });
  const options: RunnerOptions = batched
    ? {
        connectionString: job.url,
        concurrency: 24,
        maxPoolSize: 25,
        useNodeTime: true,
        noHandleSignals: true,
        logger: silent,
        preset: { worker: { localQueue: { size: 500 }, completeJobBatchDelay: 0, failJobBatchDelay: 0 } },
        taskList: { noop: async (payload) => void (units += Array.isArray(payload) ? payload.length : 1) },
      }
    : { connectionString: job.url, noHandleSignals: true, logger: silent, taskList: { noop: async () => void (units += 1) } };
  const config = batched
    ? 'concurrency 24, maxPoolSize 25, useNodeTime, localQueue.size 500, completeJobBatchDelay 0, failJobBatchDelay 0 (the configuration of graphile-worker\'s published performance figures, plus useNodeTime)'
    : 'run() with its defaults: concurrency 1, pool 10, pollInterval 2000 ms, no local queue, no completion batching';
  const cpu0 = process.cpuUsage();
  const p0 = performance.now();
  const deadline = p0 + job.capS * 1000;
  const runner = await run(options);
  const total = batchJobs ? job.jobs : rows;
  while (units < total && performance.now() < deadline) await sleep(5);
  const left = await untilDone(() => count(job.url, 'SELECT count(*) AS n FROM graphile_worker._private_jobs'), deadline);
  const processSeconds = (performance.now() - p0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  await runner.stop();
  const completedRows = rows - left;
  const completed = batchJobs ? Math.min(units, completedRows * job.itemsPerJob) : completedRows;
  return {
    kind: job.kind,
    units: total,
    unit: batchJobs ? 'items' : 'jobs',
    rows,
    insertSeconds,
    insertMethod,
    single,
    processSeconds,
    completed,
    finished: left === 0,
    perSecond: completed / processSeconds,
    config,
    cpuS: (cpu.user + cpu.system) / 1e6,
  };
}

async function pgboss(job: PeerJob): Promise<PeerResult> {
  const batched = job.kind === 'pgboss-batched';
  const PgBoss = createRequire(import.meta.url)('pg-boss') as typeof PgBossType;
  const boss = new PgBoss({ connectionString: job.url });
  boss.on('error', (e: unknown) => console.error('[pg-boss]', e));
  await boss.start();
  const queue = 'noop';
  await boss.createQueue(queue);
  const t0 = performance.now();
  let insertMethod: string;
  let single: { jobs: number; seconds: number } | undefined;
  let bulkFrom = 0;
  if (!batched) {
    bulkFrom = Math.min(job.jobs, job.singleInserts);
    await parallel(Array.from({ length: bulkFrom }, (_, i) => i), 10, (i) => boss.send(queue, { i }));
    single = { jobs: bulkFrom, seconds: (performance.now() - t0) / 1000 };
    insertMethod = `the first ${bulkFrom.toLocaleString('en-US')} with send() one job per call, 10 calls in flight; the rest with insert() in calls of 10,000`;
  } else {
    insertMethod = 'insert() in calls of 10,000 jobs';
  }
  {
    for (let from = bulkFrom; from < job.jobs; from += 10_000) {
      await boss.insert(Array.from({ length: Math.min(10_000, job.jobs - from) }, (_, k) => ({ name: queue, data: { i: from + k } })));
    }
  }
  const insertSeconds = (performance.now() - t0) / 1000;
  progress(`${job.kind}: ${job.jobs} jobs inserted in ${insertSeconds.toFixed(1)} s`);
  let units = 0;
  await inserted();
  process.send!({ kind: 'processing' });
  const cpu0 = process.cpuUsage();
  const p0 = performance.now();
  const deadline = p0 + job.capS * 1000;
  const handler = async (jobs: PgBossType.Job<object>[]): Promise<void> => void (units += jobs.length);
  if (batched) {
    for (let w = 0; w < job.bossWorkers; w++) await boss.work(queue, { batchSize: job.bossBatch, pollingIntervalSeconds: 0.5 }, handler);
  } else {
    await boss.work(queue, handler);
  }
  while (units < job.jobs && performance.now() < deadline) await sleep(5);
  const left = await untilDone(() => count(job.url, `SELECT count(*) AS n FROM pgboss.job WHERE name = $1 AND state <> 'completed'`, [queue]), deadline);
  const processSeconds = (performance.now() - p0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  await boss.stop({ graceful: false, wait: true, timeout: 5000 }).catch(() => {});
  const completed = job.jobs - left;
  return {
    kind: job.kind,
    units: job.jobs,
    unit: 'jobs',
    rows: job.jobs,
    insertSeconds,
    insertMethod,
    single,
    processSeconds,
    completed,
    finished: left === 0,
    perSecond: completed / processSeconds,
    config: batched
      ? `${job.bossWorkers} work() calls, each batchSize ${job.bossBatch}, pollingIntervalSeconds 0.5 (the minimum); constructor defaults otherwise`
      : 'new PgBoss(url) and one work() call with their defaults: batchSize 1, pollingIntervalSeconds 2',
    cpuS: (cpu.user + cpu.system) / 1e6,
  };
}

async function main(): Promise<void> {
  const job = JSON.parse(process.argv[2] ?? '') as PeerJob;
  process.send!({ kind: 'ready' });
  const result = job.kind.startsWith('graphile') ? await graphile(job) : await pgboss(job);
  process.send!({ kind: 'result', result }, () => process.exit(0));
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
