/**
 * One firing measurement: N instance processes on one copy of the seeded backlog, started together,
 * and the checks afterwards (every due occurrence recorded once, one reload each, nothing due left;
 * with dispatching, every reload SUCCEEDED after one attempt).
 */
import Database from 'better-sqlite3';
import { admin, createDatabase, dropDatabase, nowOf, type Backlog } from './db.js';
import type { InstanceJob, InstanceResult, OpTime, StoreSpec } from './instance.js';
import { backendCpu, conditions, cpuSecondsOf, exited, spawnChild, type Conditions, type Quiet } from './proc.js';
import type { Trace } from './sql-trace.js';

export interface Audit {
  readonly occurrences: number;
  readonly reloads: number;
  /** Reload rows beyond the first for the same (task, nominal time): double firings. */
  readonly duplicateReloads: number;
  /** Occurrences reported by more than one instance (sum of the instances' counts − rows). */
  readonly reportedTwice: number;
  readonly dueLeft: number;
  /** dispatch mode: reloads not SUCCEEDED, and reloads started more than once. */
  readonly notSucceeded: number;
  readonly restarted: number;
}

export interface SchedRun {
  readonly label: string;
  /** Which round of the same configuration (run.ts sets it). */
  readonly round?: number;
  readonly store: 'postgres' | 'sqlite';
  readonly instances: number;
  readonly mode: 'fire' | 'dispatch';
  readonly expected: number;
  readonly recorded: number;
  readonly fired: number;
  /** From the first instance's go to the last `recorded` event (commit of the last batch). */
  readonly fireSeconds: number;
  readonly firingsPerSecond: number;
  /** dispatch: from the first go to the last reload recorded SUCCEEDED. */
  readonly finishSeconds: number | null;
  readonly finishedPerSecond: number | null;
  readonly perInstance: ReadonlyArray<{ name: string; failures: ReadonlyArray<{ at: number; error: string }>; recorded: number; batches: number; emptyFireDue: number; cpuS: number; pidCpuS: number; wallS: number; ops: Record<string, OpTime> }>;
  /** CPU seconds: all instances, and the PostgreSQL backends of the run's database (a lower bound). */
  readonly instancesCpuS: number;
  readonly backendsCpuS: number | null;
  readonly conditions: Conditions;
  readonly audit: Audit;
  readonly traces: Trace[];
  readonly profileDir?: string;
}

export interface SchedOptions {
  readonly label: string;
  readonly backlog: Backlog;
  readonly instances: number;
  readonly mode: 'fire' | 'dispatch';
  /** PostgreSQL: the seeded template database and the run database's name; SQLite: the file to run on (a fresh copy). */
  readonly postgres?: { readonly template: string; readonly database: string; readonly url: string; readonly poolSize: number };
  readonly sqlite?: { readonly path: string };
  readonly trace?: Record<string, readonly number[]>;
  /** Run the instances under --cpu-prof, into this directory. */
  readonly profileDir?: string;
  readonly timeoutS: number;
  readonly log: (s: string) => void;
  /** Called once the instances are ready, before they start: waits for a quiet machine. */
  readonly quiet?: () => Promise<Quiet>;
}

/** The scheduler's configuration per mode (the environment the service would get). */
export function envOf(mode: 'fire' | 'dispatch', b: Backlog): Record<string, string> {
  const env: Record<string, string> = { SIMULATED_DURATION_MS: '0', SIMULATED_FAILURE_RATE: '0' };
  // The service's own setting, passed through so a run can compare batches one at a time (1) with the default.
  if (process.env.DATABASE_FIRE_CONCURRENCY) env.DATABASE_FIRE_CONCURRENCY = process.env.DATABASE_FIRE_CONCURRENCY;
  if (b.perTask > 1) Object.assign(env, { MISFIRE_POLICY: 'all', MISFIRE_GRACE_SECONDS: '86400', OVERLAP_POLICY: 'queue' });
  if (mode === 'dispatch') Object.assign(env, { MAX_CONCURRENT_RELOADS: '100000', MAX_CONCURRENT_RELOADS_PER_TENANT: '100000' });
  return env;
}

export async function runScheduler(o: SchedOptions): Promise<SchedRun> {
  const expected = o.backlog.tasks * o.backlog.perTask;
  let store: StoreSpec;
  if (o.postgres) {
    await createDatabase(o.postgres.database, o.postgres.template);
    store = { kind: 'postgres', url: o.postgres.url, poolSize: o.postgres.poolSize };
  } else if (o.sqlite) {
    store = { kind: 'sqlite', path: o.sqlite.path };
  } else throw new Error('no store');
  try {
    const children = Array.from({ length: o.instances }, (_, i) => {
      const job: InstanceJob = { name: `i${i + 1}`, store, backlog: o.backlog, mode: o.mode, env: envOf(o.mode, o.backlog), ...(o.trace && { trace: o.trace }) };
      return spawnChild<InstanceResult>('instance.ts', job, { timeoutS: o.timeoutS, ...(o.profileDir && { nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${o.profileDir}`] }) });
    });
    await Promise.all(children.map((c) => c.ready));
    const quiet = o.quiet ? await o.quiet() : undefined;
    const cpu0 = children.map((c) => cpuSecondsOf(c.pid));
    const backends = o.postgres ? backendCpu(o.postgres.database) : undefined;
    if (backends) await new Promise((r) => setTimeout(r, 300)); // its first sample: the baseline
    const window = conditions(quiet);
    for (const c of children) c.send({ kind: 'go' });
    const results = await Promise.all(children.map((c) => c.result));
    const cond = window();
    const cpu1 = children.map((c) => cpuSecondsOf(c.pid));
    const backendsCpuS = backends ? await backends.stop() : null;
    await Promise.all(children.map((c) => exited(c)));

    const go = Math.min(...results.map((r) => r.goAt));
    const lastRecord = Math.max(...results.map((r) => r.lastRecordAt ?? r.doneAt));
    const finishedAt = o.mode === 'dispatch' ? Math.max(...results.map((r) => r.lastFinishedAt ?? 0)) : null;
    const recorded = results.reduce((a, r) => a + r.recorded.fired + r.recorded.skipped + r.recorded.missed, 0);
    const fired = results.reduce((a, r) => a + r.recorded.fired, 0);
    const fireSeconds = (lastRecord - go) / 1000;
    const finishSeconds = finishedAt === null ? null : (finishedAt - go) / 1000;
    const finished = results.reduce((a, r) => a + r.finished, 0);
    const audit = o.postgres ? await auditPostgres(o.postgres.url, o.backlog, o.mode, recorded) : auditSqlite(o.sqlite!.path, o.backlog, o.mode, recorded);
    const run: SchedRun = {
      label: o.label,
      store: o.postgres ? 'postgres' : 'sqlite',
      instances: o.instances,
      mode: o.mode,
      expected,
      recorded,
      fired,
      fireSeconds,
      firingsPerSecond: fired / fireSeconds,
      finishSeconds,
      finishedPerSecond: finishSeconds === null ? null : finished / finishSeconds,
      perInstance: results.map((r, i) => ({
        name: r.name,
        failures: r.failures,
        recorded: r.recorded.fired + r.recorded.skipped + r.recorded.missed,
        batches: r.batches,
        emptyFireDue: r.ops.fireDue?.empty ?? 0,
        cpuS: (r.cpuMs.user + r.cpuMs.system) / 1000,
        wallS: (r.doneAt - r.goAt) / 1000,
        ops: r.ops,
        pidCpuS: cpu1[i]! - cpu0[i]!,
      })),
      instancesCpuS: results.reduce((a, r) => a + (r.cpuMs.user + r.cpuMs.system) / 1000, 0),
      backendsCpuS,
      conditions: cond,
      audit,
      traces: results.flatMap((r) => (r.trace ? [r.trace] : [])),
      ...(o.profileDir && { profileDir: o.profileDir }),
    };
    o.log(
      `${o.label}: ${fired.toLocaleString('en-US')} fired in ${fireSeconds.toFixed(2)} s = ${Math.round(run.firingsPerSecond).toLocaleString('en-US')}/s` +
        (finishSeconds === null ? '' : `; ${finished.toLocaleString('en-US')} reloads finished in ${finishSeconds.toFixed(2)} s = ${Math.round(run.finishedPerSecond!).toLocaleString('en-US')}/s`) +
        `; audit ${JSON.stringify(audit)}; failed passes ${results.reduce((a, r) => a + r.failures.length, 0)}; load ${cond.loadBefore.toFixed(2)}`,
    );
    return run;
  } finally {
    if (o.postgres) await dropDatabase(o.postgres.database);
  }
}

const AUDIT_SQL = {
  // Every occurrence on record: misses and skips in occurrences, fired ones as their scheduled
  // reloads (since migration 7; \`fired\` rows of occurrences come from older builds).
  occurrences: `SELECT ((SELECT count(*) FROM occurrences WHERE outcome <> 'fired') + (SELECT count(*) FROM reloads WHERE type = 'chronos'))::int AS n`,
  reloads: 'SELECT count(*)::int AS n FROM reloads',
  duplicateReloads: `SELECT coalesce(sum(c - 1), 0)::int AS n FROM (SELECT count(*) AS c FROM reloads WHERE type = 'chronos' GROUP BY resource_id, scheduled_time HAVING count(*) > 1) d`,
  dueLeft: `SELECT count(*)::int AS n FROM reload_tasks WHERE state = 'Enabled' AND next_execution_time <= $1`,
  notSucceeded: `SELECT count(*)::int AS n FROM reloads WHERE status <> 'SUCCEEDED'`,
  restarted: 'SELECT count(*)::int AS n FROM reloads WHERE attempts > 1',
};

async function auditPostgres(url: string, b: Backlog, mode: 'fire' | 'dispatch', reported: number): Promise<Audit> {
  const n = async (q: string, params: unknown[] = []): Promise<number> => (await admin<{ n: number }>(q, params, url))[0]!.n;
  const occurrences = await n(AUDIT_SQL.occurrences);
  return {
    occurrences,
    reloads: await n(AUDIT_SQL.reloads),
    duplicateReloads: await n(AUDIT_SQL.duplicateReloads),
    reportedTwice: reported - occurrences,
    dueLeft: await n(AUDIT_SQL.dueLeft, [nowOf(b)]),
    notSucceeded: mode === 'dispatch' ? await n(AUDIT_SQL.notSucceeded) : 0,
    restarted: mode === 'dispatch' ? await n(AUDIT_SQL.restarted) : 0,
  };
}

function auditSqlite(path: string, b: Backlog, mode: 'fire' | 'dispatch', reported: number): Audit {
  const db = new Database(path, { readonly: true });
  try {
    const n = (q: string, params: unknown[] = []): number => (db.prepare(q.replace('$1', '?').replace(/::int/g, '')).get(...params) as { n: number }).n;
    const occurrences = n(AUDIT_SQL.occurrences);
    return {
      occurrences,
      reloads: n(AUDIT_SQL.reloads),
      duplicateReloads: n(AUDIT_SQL.duplicateReloads),
      reportedTwice: reported - occurrences,
      dueLeft: n(AUDIT_SQL.dueLeft, [nowOf(b)]),
      notSucceeded: mode === 'dispatch' ? n(AUDIT_SQL.notSucceeded) : 0,
      restarted: mode === 'dispatch' ? n(AUDIT_SQL.restarted) : 0,
    };
  } finally {
    db.close();
  }
}

/** An audit passes when every due occurrence is on record once, with one reload, and nothing is left. */
export function auditOk(a: Audit, expected: number): boolean {
  return a.occurrences === expected && a.reloads === expected && a.duplicateReloads === 0 && a.reportedTwice === 0 && a.dueLeft === 0 && a.notSucceeded === 0 && a.restarted === 0;
}
