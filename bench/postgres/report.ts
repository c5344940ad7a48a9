/**
 * The results as docs/benchmarks-postgres.md (a "## PostgreSQL and several instances" section,
 * to be merged into docs/benchmarks.md) and as a short summary for the terminal.
 */
import type { ApiResult, ApiRun } from './api.js';
import type { Backlog } from './db.js';
import type { ProfileSummary } from './profile.js';
import type { Explained, Trace } from './sql-trace.js';
import type { Conditions } from './proc.js';
import type { Options, PeerRun } from './run.js';
import { auditOk, type SchedRun } from './sched.js';

export interface Results {
  readonly started: string;
  readonly totalSeconds: number;
  readonly command: string;
  readonly options: Options;
  readonly backlog: Backlog;
  readonly seed: { readonly postgresS: number; readonly sqliteS: number };
  readonly machine: {
    readonly nproc: string;
    readonly lscpu: string;
    readonly node: string;
    readonly free: string;
    readonly psql: string;
    readonly settings: Record<string, string>;
    readonly commit: string;
    readonly dirty: string;
    readonly versions: Record<string, string>;
  };
  readonly schema: ReadonlyArray<{ readonly table: string; readonly indexes: readonly string[] }>;
  readonly sched: readonly SchedRun[];
  readonly peers: readonly PeerRun[];
  readonly peerJobs: number;
  readonly api: ApiResult | undefined;
  /** Measurements that failed (the run went on without them). */
  readonly errors?: readonly string[];
  readonly evidence:
    | { readonly fire: SchedRun; readonly dispatch: SchedRun; readonly profile: ProfileSummary | undefined; readonly explainedCalls: { readonly batches: number; readonly mid: number } }
    | undefined;
}

const int = (n: number): string => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '–');
const num = (n: number, d = 1): string => (Number.isFinite(n) ? n.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d }) : '–');
const rate = (n: number): string => (n < 10 ? num(n, 1) : int(n));
const s2 = (n: number): string => `${num(n, 2)} s`;
const table = (head: readonly string[], rows: ReadonlyArray<readonly string[]>, align?: string): string =>
  [`| ${head.join(' | ')} |`, `|${align ?? head.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

/** The conditions of a measurement in one cell: load average, the machine's CPU use just before, the wait for it. */
function condCell(c: Conditions): string {
  const parts = [`load ${num(c.loadBefore, 2)}`];
  if (c.othersCores !== undefined && Number.isFinite(c.othersCores)) parts.push(`${num(c.othersCores, 2)} cores busy before`);
  if (c.waitedS !== undefined && c.waitedS >= 1) parts.push(`waited ${int(c.waitedS)} s`);
  return parts.join(', ');
}

const PEER_NAMES: Record<PeerRun['kind'], string> = {
  'graphile-default': 'graphile-worker, defaults',
  'graphile-batched': 'graphile-worker, batched',
  'graphile-batch-jobs': 'graphile-worker, batched + batch jobs',
  'pgboss-default': 'pg-boss, defaults',
  'pgboss-batched': 'pg-boss, batched',
};

function modeName(m: 'fire' | 'dispatch'): string {
  return m === 'fire' ? 'no' : 'yes';
}

function verdict(ours: number, target: number, unit = '/s'): string {
  if (ours >= target) return `**met**: ${int(ours)}${unit} ≥ ${int(target)}${unit}`;
  return `**not met**: ${int(ours)}${unit} is ${num((100 * ours) / target)} % of ${int(target)}${unit} (×${num(target / ours, 1)} needed)`;
}

/** "Execution Time: X ms" of an EXPLAIN ANALYZE text. */
function execMs(plan: string): number {
  const m = /Execution Time: ([\d.]+) ms/.exec(plan);
  return m ? Number(m[1]) : NaN;
}

/** The actual rows of the first plan node whose line matches `re`. */
function actualRows(plan: string, re: RegExp): number | undefined {
  for (const line of plan.split('\n')) {
    if (!re.test(line)) continue;
    const m = /actual time=[\d.]+\.\.[\d.]+ rows=(\d+) loops=(\d+)/.exec(line);
    if (m) return Number(m[1]) * Number(m[2]);
  }
  return undefined;
}

function schedTable(runs: readonly SchedRun[]): string {
  return table(
    ['Store', 'Instances', 'Dispatching', 'Round', 'Firings', 'Go → last firing committed', 'Firings/s', 'Go → last reload SUCCEEDED', 'Reloads run/s', 'CPU per firing: instances / PG backends', 'Empty claims (fireDue found nothing)', 'Failed passes', 'Before the run', 'Machine busy during it (cores of 2)', 'Audit'],
    runs.map((r) => [
      r.store === 'postgres' ? 'PostgreSQL' : 'SQLite',
      String(r.instances),
      modeName(r.mode),
      String(r.round ?? 1),
      int(r.fired),
      s2(r.fireSeconds),
      `**${int(r.firingsPerSecond)}**`,
      r.finishSeconds === null ? '–' : s2(r.finishSeconds),
      r.finishedPerSecond === null ? '–' : `**${int(r.finishedPerSecond)}**`,
      `${int((1e6 * r.instancesCpuS) / r.fired)} µs / ${r.backendsCpuS === null ? '(in process)' : `${int((1e6 * r.backendsCpuS) / r.fired)} µs`}`,
      r.perInstance.map((p) => int(p.emptyFireDue)).join(' / '),
      String(r.perInstance.reduce((a, p) => a + p.failures.length, 0)),
      condCell(r.conditions),
      num(r.conditions.machineCores, 2),
      auditOk(r.audit, r.expected) ? `ok: ${int(r.audit.occurrences)} occurrences, ${int(r.audit.reloads)} reloads, 0 twice` : `**FAILED** ${JSON.stringify(r.audit)}`,
    ]),
    '---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---',
  );
}

function perInstanceTable(runs: readonly SchedRun[]): string {
  const rows: string[][] = [];
  for (const r of runs) {
    for (const p of r.perInstance) {
      const op = (name: string): string => {
        const e = p.ops[name];
        return e && e.calls > 0 ? `${num(e.ms / 1000, 2)} s (${int(e.calls)}×)` : '–';
      };
      rows.push([
        `${r.store === 'postgres' ? 'PostgreSQL' : 'SQLite'} ×${r.instances}, ${r.mode}`,
        p.name,
        int(p.recorded),
        int(p.batches),
        s2(p.wallS),
        s2(p.cpuS),
        op('fireDue'),
        op('nextDueTime'),
        op('expireQueued'),
        op('claimQueued'),
        p.ops.finishReloads && p.ops.finishReloads.calls > 0 ? `${op('finishReloads')}; ≤ ${p.ops.finishReloads.maxInFlight} at once, longest ${num(p.ops.finishReloads.maxMs / 1000, 1)} s` : '–',
      ]);
    }
  }
  return table(['Run', 'Instance', 'Recorded', 'Batches', 'Wall', 'CPU', 'fireDue', 'nextDueTime', 'expireQueued', 'claimQueued', 'finishReloads'], rows, '---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:');
}

function peersTable(peers: readonly PeerRun[]): string {
  return table(
    ['Library, configuration', 'Round', 'Backlog', 'Insert (untimed for the rate)', 'Start of workers → all completed in the database', 'Completed', 'Jobs/s', 'CPU per job: worker process / PG backends', 'Before the run', 'Machine busy during it (cores of 2)'],
    peers.map((p) => [
      PEER_NAMES[p.kind],
      String(p.round ?? 1),
      p.unit === 'items' ? `${int(p.units)} items in ${int(p.rows)} jobs` : `${int(p.units)} jobs`,
      `${s2(p.insertSeconds)}${p.single ? ` (one per call: ${int(p.single.jobs / p.single.seconds)} jobs/s)` : ` (${int(p.rows / p.insertSeconds)} rows/s)`}`,
      `${s2(p.processSeconds)}${p.finished ? '' : ' (stopped at the cap)'}`,
      int(p.completed),
      `**${rate(p.perSecond)}**${p.unit === 'items' ? ' items/s' : ''}`,
      p.finished && p.processSeconds >= 1 ? `${int((1e6 * p.cpuS) / p.completed)} µs / ${int((1e6 * p.backendsCpuS) / p.completed)} µs` : '– (too short or capped)',
      condCell(p.conditions),
      num(p.conditions.machineCores, 2),
    ]),
    '---|---:|---:|---|---:|---:|---:|---:|---:|---:',
  );
}

function apiTables(api: ApiResult): { rounds: string; summary: string; medians: Map<string, number> } {
  const rounds = table(
    ['Round', 'Connections', 'Store', 'req/s (2xx)', 'Non-2xx / errors', 'p50', 'p99', 'Server CPU', 'PG backends CPU', 'Before the run', 'Machine busy during it (cores of 2)'],
    api.runs.map((r: ApiRun) => [
      String(r.round),
      String(r.connections),
      r.store === 'postgres' ? 'PostgreSQL' : 'SQLite',
      int(r.rps),
      `${int(r.non2xx)} / ${int(r.errors)}`,
      `${r.p50} ms`,
      `${r.p99} ms`,
      `${int(r.serverCpu)} %`,
      r.backendCpu === null ? '–' : `${int(r.backendCpu)} %`,
      condCell(r.conditions),
      num(r.conditions.machineCores, 2),
    ]),
    '---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:',
  );
  const medians = new Map<string, number>();
  const conns = [...new Set(api.runs.map((r) => r.connections))];
  const rows = conns.map((c) => {
    const pg = median(api.runs.filter((r) => r.connections === c && r.store === 'postgres').map((r) => r.rps));
    const lite = median(api.runs.filter((r) => r.connections === c && r.store === 'sqlite').map((r) => r.rps));
    const pgP50 = median(api.runs.filter((r) => r.connections === c && r.store === 'postgres').map((r) => r.p50));
    const litP50 = median(api.runs.filter((r) => r.connections === c && r.store === 'sqlite').map((r) => r.p50));
    medians.set(`postgres-${c}`, pg);
    medians.set(`sqlite-${c}`, lite);
    return [String(c), `**${int(pg)}** (p50 ${num(pgP50, 0)} ms)`, `**${int(lite)}** (p50 ${num(litP50, 0)} ms)`, `${num((100 * pg) / lite, 0)} %`];
  });
  return { rounds, summary: table(['Connections', 'PostgreSQL req/s (median of rounds)', 'SQLite req/s (median of rounds)', 'PostgreSQL / SQLite'], rows, '---:|---:|---:|---:'), medians };
}

function statementsTable(run: SchedRun): string {
  const t = run.traces[0];
  if (!t) return '(no trace)';
  const fired = run.fired;
  const total = Object.values(t.statements).reduce((a, s) => a + s.ms, 0);
  const rows = Object.entries(t.statements)
    .filter(([, s]) => s.ms >= 1)
    .sort((a, b) => b[1].ms - a[1].ms)
    .slice(0, 16)
    .map(([name, s]) => [`\`${name}\``, int(s.calls), int(s.rows), s2(s.ms / 1000), `${num(s.ms / s.calls, 2)} ms`, `${num((1000 * s.ms) / fired, 1)} µs`, `${num((100 * s.ms) / total, 1)} %`]);
  return table(['Statement (src/store/postgres/sql.ts)', 'Calls', 'Rows', 'Total (client-side, round trip included)', 'Per call', 'Per firing', 'Share'], rows, '---|---:|---:|---:|---:|---:|---:');
}

/** Several rounds of one configuration of ours, taken together. */
interface OursAgg {
  readonly store: 'postgres' | 'sqlite';
  readonly instances: number;
  readonly mode: 'fire' | 'dispatch';
  readonly runs: readonly SchedRun[];
  /** Median, lowest and highest firings/s over the rounds. */
  readonly median: number;
  readonly min: number;
  readonly max: number;
  readonly finishMedian: number | null;
  /** CPU per firing over all rounds (s): the instances, and the backends (null on SQLite). */
  readonly instPer: number;
  readonly backendPer: number | null;
}

function aggOurs(runs: readonly SchedRun[]): OursAgg[] {
  const groups = new Map<string, SchedRun[]>();
  for (const x of runs) {
    const k = `${x.store}|${x.instances}|${x.mode}`;
    groups.set(k, [...(groups.get(k) ?? []), x]);
  }
  return [...groups.values()].map((g) => {
    const fired = g.reduce((a, x) => a + x.fired, 0);
    const rates = g.map((x) => x.firingsPerSecond);
    const finishes = g.map((x) => x.finishedPerSecond).filter((x): x is number => x !== null);
    return {
      store: g[0]!.store,
      instances: g[0]!.instances,
      mode: g[0]!.mode,
      runs: g,
      median: median(rates),
      min: Math.min(...rates),
      max: Math.max(...rates),
      finishMedian: finishes.length ? median(finishes) : null,
      instPer: g.reduce((a, x) => a + x.instancesCpuS, 0) / fired,
      backendPer: g[0]!.backendsCpuS === null ? null : g.reduce((a, x) => a + (x.backendsCpuS ?? 0), 0) / fired,
    };
  });
}

/** Several rounds of one peer configuration. */
interface PeerAgg {
  readonly kind: PeerRun['kind'];
  readonly unit: 'jobs' | 'items';
  readonly runs: readonly PeerRun[];
  readonly median: number;
  readonly min: number;
  readonly max: number;
  readonly allFinished: boolean;
  readonly workerPer: number;
  readonly backendPer: number;
}

function aggPeers(peers: readonly PeerRun[]): PeerAgg[] {
  const groups = new Map<string, PeerRun[]>();
  for (const p of peers) groups.set(p.kind, [...(groups.get(p.kind) ?? []), p]);
  const order = Object.keys(PEER_NAMES);
  return [...groups.values()].sort((a, b) => order.indexOf(a[0]!.kind) - order.indexOf(b[0]!.kind)).map((g) => {
    const completed = g.reduce((a, p) => a + p.completed, 0);
    const rates = g.map((p) => p.perSecond);
    return {
      kind: g[0]!.kind,
      unit: g[0]!.unit,
      runs: g,
      median: median(rates),
      min: Math.min(...rates),
      max: Math.max(...rates),
      allFinished: g.every((p) => p.finished),
      workerPer: g.reduce((a, p) => a + p.cpuS, 0) / Math.max(1, completed),
      backendPer: g.reduce((a, p) => a + p.backendsCpuS, 0) / Math.max(1, completed),
    };
  });
}

const spread = (a: { median: number; min: number; max: number; runs: readonly unknown[] }): string =>
  a.runs.length > 1 ? `median of ${a.runs.length} rounds; ${int(a.min)}–${int(a.max)}` : 'one round';

function oursSummary(aggs: readonly OursAgg[]): string {
  return table(
    ['Store', 'Instances', 'Dispatching', 'Firings/s', 'Rounds (lowest–highest)', 'Reloads run/s', 'CPU per firing: instances / PG backends'],
    aggs.map((a) => [
      a.store === 'postgres' ? 'PostgreSQL' : 'SQLite',
      String(a.instances),
      modeName(a.mode),
      `**${int(a.median)}**`,
      spread(a),
      a.finishMedian === null ? '–' : `**${int(a.finishMedian)}**`,
      `${int(1e6 * a.instPer)} µs / ${a.backendPer === null ? '(in process)' : `${int(1e6 * a.backendPer)} µs`}`,
    ]),
    '---|---:|---|---:|---|---:|---:',
  );
}

function peersSummary(aggs: readonly PeerAgg[]): string {
  return table(
    ['Library, configuration', 'Jobs/s', 'Rounds (lowest–highest)', 'Finished', 'CPU per job: worker / PG backends'],
    aggs.map((a) => [
      PEER_NAMES[a.kind],
      `**${rate(a.median)}**${a.unit === 'items' ? ' items/s' : ''}`,
      spread(a),
      a.allFinished ? 'yes' : 'stopped at the cap',
      a.allFinished && a.runs.every((p) => p.processSeconds >= 1) ? `${int(1e6 * a.workerPer)} µs / ${int(1e6 * a.backendPer)} µs` : '–',
    ]),
    '---|---:|---|---|---:',
  );
}

export function render(r: Results): { markdown: string; summary: string } {
  const ours = aggOurs(r.sched);
  const pgFire = ours.filter((a) => a.store === 'postgres' && a.mode === 'fire');
  const pgDispatch = ours.filter((a) => a.store === 'postgres' && a.mode === 'dispatch');
  const liteFire = ours.find((a) => a.store === 'sqlite' && a.mode === 'fire');
  const liteDispatch = ours.find((a) => a.store === 'sqlite' && a.mode === 'dispatch');
  const peerAggs = aggPeers(r.peers);
  const bestPeer = peerAggs.filter((a) => a.unit === 'jobs' && a.allFinished).sort((a, b) => b.median - a.median)[0];
  const bestOurs = [...pgFire].sort((a, b) => b.median - a.median)[0];
  const allAuditsOk = r.sched.every((s) => auditOk(s.audit, s.expected)) && (!r.evidence || (auditOk(r.evidence.fire.audit, r.evidence.fire.expected) && auditOk(r.evidence.dispatch.audit, r.evidence.dispatch.expected)));
  const expected = r.backlog.tasks * r.backlog.perTask;
  const api = r.api ? apiTables(r.api) : undefined;
  const date = new Date(r.started);
  const when = `${date.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
  const out: string[] = [];

  out.push('# Benchmarks: PostgreSQL and several instances', '');
  out.push('The full report behind the summary in docs/benchmarks.md. Generated by `node --import tsx bench/postgres/run.ts` (helpers in bench/postgres/).', '');
  out.push('## PostgreSQL and several instances', '');
  out.push(
    `Measured ${when} with \`${r.command}\` (the whole run took ${int(r.totalSeconds)} s). Source: commit \`${r.machine.commit}\`${r.machine.dirty ? `, with uncommitted changes in ${r.machine.dirty} (other engineers' work in progress, measured as it was)` : ''}. ` +
      `Peers: graphile-worker ${r.machine.versions['graphile-worker']}, pg-boss ${r.machine.versions['pg-boss']}; driver pg ${r.machine.versions.pg}; autocannon ${r.machine.versions.autocannon}.`,
    '',
  );
  out.push(
    `The machine has 2 cores and is shared: other sessions\' tests and benchmarks ran on it, and on the same PostgreSQL server, during this run. Before each measurement the runner waited for the machine to be quiet (less than ${r.options.quietCores} of its 2 cores busy over 2 s; at most ${r.options.quietWaitS} s of waiting in the whole run, then it measures anyway), and every measurement records the 1-minute load average and the cores in use just before it, and how busy the whole machine was meanwhile (our processes included); read the figures as this machine under that load, not as an idle server.`,
    '',
  );

  if (r.errors && r.errors.length > 0) out.push(`**Measurements that failed in this run** (left out below): ${r.errors.map((e) => `\`${e}\``).join('; ')}.`, '');

  // Goals.
  out.push('### Goals', '');
  const goals: string[][] = [];
  if (bestPeer) {
    for (const a of pgFire) {
      goals.push([
        `Our firings/s on PostgreSQL, ${a.instances} instance${a.instances > 1 ? 's' : ''}, at least the best peer (${PEER_NAMES[bestPeer.kind]})`,
        `≥ ${int(bestPeer.median)}/s (${spread(bestPeer)}; the issue: about 28,000 jobs/s for batched graphile-worker)`,
        `${int(a.median)} firings/s (${spread(a)})`,
        verdict(a.median, bestPeer.median),
      ]);
    }
    const one = pgFire.find((x) => x.instances === 1);
    if (one && pgFire.length > 1) {
      const others = pgFire.filter((x) => x.instances > 1);
      goals.push([
        'Several instances (separate processes) on one database, against one',
        '(figures)',
        others.map((x) => `${x.instances}: ${int(x.median)}/s`).join(', ') + ` (1: ${int(one.median)}/s)`,
        others.map((x) => `${x.instances} instances = ×${num(x.median / one.median, 2)}`).join(', ') + ' of one, on 2 cores shared with PostgreSQL (see "What limits our figure")',
      ]);
    }
    const bestDispatch = [...pgDispatch].sort((a, b) => (b.finishMedian ?? 0) - (a.finishMedian ?? 0))[0];
    if (bestDispatch && bestDispatch.finishMedian !== null) {
      goals.push([
        `End to end with dispatching (fired, started, run, SUCCEEDED), best of 1–${Math.max(...pgDispatch.map((d) => d.instances))} instances (${bestDispatch.instances}), against the same peer (its job is inserted, fetched, run and completed)`,
        `(≥ ${int(bestPeer.median)}/s)`,
        `${int(bestDispatch.finishMedian)} reloads/s (one round)`,
        verdict(bestDispatch.finishMedian, bestPeer.median),
      ]);
    }
  }
  goals.push([
    'No occurrence fired twice, none left due (every run, every instance count)',
    '0 twice, 0 left',
    allAuditsOk ? `${r.sched.length + (r.evidence ? 2 : 0)} runs audited: every due occurrence recorded once, one reload each` : 'see the audit column',
    allAuditsOk ? '**met**' : '**not met**',
  ]);
  if (liteFire && bestOurs) {
    const one = pgFire.find((a) => a.instances === 1);
    goals.push([
      'Side by side with SQLite (one instance; SQLite cannot be shared by several)',
      '(figures)',
      `PostgreSQL: 1 instance ${int(one?.median ?? NaN)}/s, best ${int(bestOurs.median)}/s (${bestOurs.instances} instance${bestOurs.instances > 1 ? 's' : ''}); SQLite ${int(liteFire.median)}/s (${spread(liteFire)})`,
      `PostgreSQL 1 instance = ${num((100 * (one?.median ?? NaN)) / liteFire.median, 0)} % of SQLite; best = ${num((100 * bestOurs.median) / liteFire.median, 0)} %`,
    ]);
  }
  if (api) {
    for (const c of r.options.apiConnections) {
      const pg = api.medians.get(`postgres-${c}`) ?? NaN;
      const lite = api.medians.get(`sqlite-${c}`) ?? NaN;
      goals.push([`GET /api/v1/reload-tasks/{id}, ${c} connections, PostgreSQL beside SQLite`, '(figures)', `${int(pg)} vs ${int(lite)} req/s`, `PostgreSQL = ${num((100 * pg) / lite, 0)} % of SQLite`]);
    }
  }
  out.push(table(['Goal', 'Target', 'Measured', 'Verdict'], goals), '');

  // Machine.
  out.push('### Machine and run', '');
  out.push('```', `$ nproc`, r.machine.nproc, `$ lscpu | head -20`, r.machine.lscpu, `$ node -v`, r.machine.node, `$ free -g`, r.machine.free, `$ psql --version`, r.machine.psql);
  out.push(`$ psql -c 'SHOW …'   # the server's settings (${Object.keys(r.machine.settings).join(', ')})`);
  for (const [k, v] of Object.entries(r.machine.settings)) out.push(`${k} = ${v}`);
  out.push('```', '');
  out.push(
    `- Command: \`${r.command}\`. Every instance, server and worker runs in its own process (\`node --import tsx\`), so they run in parallel on the two cores; the runner only starts them, waits and reads /proc.`,
    `- Databases: the runner creates its own (\`rt_bench_pg_<pid>_*\`) on the local server and drops them at the end. The backlog is seeded once into a template database (${s2(r.seed.postgresS)}: the store's migrations via \`PostgresStore.open\`, then unnest inserts of 10,000 rows in one transaction, then \`VACUUM (ANALYZE)\`, as autovacuum would have done on a database in service) and every run gets a fresh copy (\`CREATE DATABASE … TEMPLATE\`); SQLite gets the same tasks in one better-sqlite3 transaction (${s2(r.seed.sqliteS)}), a fresh copy per run.`,
    `- The backlog: ${int(r.backlog.tasks)} tasks over 100 tenants × 10 users, one app each, built by \`createTask\` (${r.backlog.perTask === 1 ? '`RRULE:FREQ=DAILY;BYHOUR=9;BYMINUTE=0;BYSECOND=0` in UTC, every task due at 2027-01-04T09:00:00Z: a herd due in the same second' : `\`RRULE:FREQ=MINUTELY\`, each due ${r.backlog.perTask} times`}), i.e. ${int(expected)} due occurrences. Each instance runs the real \`Scheduler\` with the real store, \`loadConfig(env)\` and the \`SimulatedExecutor\` (failure rate 0), on a \`ManualClock\` fixed at the ${r.backlog.perTask === 1 ? 'due second' : 'last due occurrence'}; it first runs one pass with nothing due (pool connected, statements prepared, schedule compiled), then waits; the runner starts all instances at once, and each calls \`tick()\` until nothing is due (and, with dispatching, nothing is queued and its own reloads are recorded).`,
    `- Pool per instance: ${r.options.pool} connections (the service's default \`DATABASE_POOL_SIZE\`).`,
    '',
  );

  // Firings.
  const idxCount = (table: string): string => String(r.schema.find((x) => x.table === table)?.indexes.length ?? '?');
  out.push('### What a firing is', '');
  out.push(
    `One due occurrence handled by \`fireDue\` (src/store/postgres/scheduling.ts), in one transaction per batch (1000 due tasks first, growing while batches take under 250 ms; two batches in flight per instance, the second claiming from where the first one's claim ended: \`DATABASE_FIRE_CONCURRENCY\`): \`DUE_TASKS\` / \`DUE_TASKS_AFTER\` (the tasks' \`task_due\` rows, then their own rows, each \`FOR UPDATE SKIP LOCKED\`, with whether a reload of each task is active), the plan in JS (\`planFirings\`), then per batch one \`INSERT_RELOADS\` (a QUEUED reload row per fired occurrence, which is the occurrence's record: \`ON CONFLICT DO NOTHING RETURNING\` on the unique index \`reloads_occurrence\` (task, nominal time), the once-only guarantee; misses and skips, when a batch has any, are rows of \`occurrences\` written first by \`INSERT_OCCURRENCES\`) and one \`ADVANCE_TASKS\` (the task's next execution, version + 1), then COMMIT. So a firing writes two rows in two tables (with ${idxCount('reloads')} and ${idxCount('reload_tasks')} indexes; see below)${r.schema.some((x) => x.table === 'task_due' && x.indexes.length > 0) ? `, and its task's due time in \`task_due\` (${idxCount('task_due')} indexes, through a trigger)` : ''} where a peer's job inserts one row and later updates or deletes it. The firing rate counts from the moment the runner starts the instances to the commit of the last batch (the \`recorded\` event, which the scheduler emits after the commit).`,
    '',
    `- **Dispatching: no** — the dispatcher\'s \`dispatch()\` is replaced by a no-op on each instance, so every firing stays QUEUED; the pass still runs its other steps (\`expireQueued\`, lease checks, \`nextDueTime\`).`,
    `- **Dispatching: yes** — \`SIMULATED_DURATION_MS=0\`, \`MAX_CONCURRENT_RELOADS=100000\`, \`MAX_CONCURRENT_RELOADS_PER_TENANT=100000\`: each pass also starts queued reloads (\`claimQueued\`: advisory lock, \`STARTABLE\`, \`START_RELOADS\`: RELOADING under a lease) and records each outcome (\`finishReloads\`: SUCCEEDED, the task\'s failure count reset). "Reloads run/s" counts from the start to the last reload recorded SUCCEEDED: the analogue of a peer\'s job being completed.`,
    '',
  );
  out.push('### Firings per second', '');
  out.push(oursSummary(ours), '');
  out.push('Every run:', '');
  out.push(schedTable(r.sched), '');
  out.push(
    'CPU per firing: the instances\' own CPU (process.cpuUsage) and that of the PostgreSQL backends serving the run\'s database (their pids from pg_stat_activity every 200 ms, their CPU from /proc; a lower bound), divided by the firings. Empty claims: `fireDue` calls that found every due task locked by another instance (the pass then asks `nextDueTime` and tries again at once). Failed passes: `tick()` calls that threw; the instance then does what the scheduler\'s own loop (`Scheduler.run`) does: back off 1 s, 2 s, … and try again.',
    '',
  );
  out.push(
    '<details><summary>Per instance: where each instance\'s wall time went (store calls, wall time summed over the run)</summary>',
    '',
    'On PostgreSQL an instance runs two firing batches at once (`DATABASE_FIRE_CONCURRENCY`), so the `fireDue` column sums calls that overlap and can exceed the wall time.',
    '',
    perInstanceTable(r.sched),
    '',
    '</details>',
    '',
  );

  // Peers.
  out.push('### graphile-worker and pg-boss on the same server', '');
  out.push(
    `Each configuration in its own process and its own database on the same server, ${int(r.peerJobs)} no-op jobs (as many as our firings). The backlog is inserted first (not part of the rate); then the workers start, and the time runs from their start to the moment the database shows every job completed (graphile-worker deletes a completed job; pg-boss sets it \`completed\`; the runner polls every 10 ms once the handlers have seen every job). The same measure as ours: a backlog present beforehand, from start to the last commit. A configuration that has not finished by its cap (${r.options.peerCapS} s for the defaults, ${r.options.peerBatchedCapS} s for the batched ones) stops there, and its rate is what it completed over the cap.`,
    '',
  );
  out.push(peersSummary(peerAggs), '');
  out.push('Every run:', '');
  out.push(peersTable(r.peers), '');
  out.push('How they were configured:', '');
  for (const p of r.peers) out.push(`- **${PEER_NAMES[p.kind]}**: ${p.config}. Insert: ${p.insertMethod}.`);
  out.push(
    `- graphile-worker's batching options (0.17, from its type declarations in node_modules and its performance page): \`localQueue.size\` (the pool fetches and locks a batch of jobs and hands them to its workers without a round trip each), \`completeJobBatchDelay\`/\`failJobBatchDelay\` (completions written together), \`addJobs\` (bulk insert); batch jobs (a job whose payload is an array; with \`job_key\` further items are merged into it) make one job row carry many items: that row counts items, not jobs, and is not comparable with a firing, which is one occurrence.`,
    `- pg-boss 10: \`teamSize\`/\`teamConcurrency\` no longer exist (removed in v10; its types and src/ have neither); the batching options are \`batchSize\` (jobs per fetch, handed to the handler as an array, completed in one statement), \`pollingIntervalSeconds\` (at least 0.5) and several \`work()\` calls for concurrency, with \`insert()\` for bulk inserts. A worker that finished its batch in less than the polling interval waits for the rest of it, so the default (batchSize 1, 2 s) completes about one job per 2 s per \`work()\` call, and throughput needs large batches.`,
    '',
  );

  // API.
  if (api && r.api) {
    out.push('### GET /api/v1/reload-tasks/{id}', '');
    out.push(
      `bench/api\'s method on both stores in this run: the service in its own process (\`loadConfig(env)\` + \`startServer\`, run through tsx; \`RATE_LIMIT_ENABLED=false\`, \`LOG_LEVEL=silent\`, \`HTTP_MAX_REQUESTS_PER_SOCKET=0\` (by default the service closes a keep-alive connection after 1000 requests; autocannon keeps sending on it and gets 503s), the scheduler on and idle: nothing is due before 2027), a token minted with the data directory\'s local key (\`mintToken\`, as \`reload-task token\` does) for the non-admin owner ${r.api.owner}, whose ${int(r.api.ids)} task ids autocannon cycles through; the same ${int(r.backlog.tasks)} tasks in both stores; PostgreSQL with \`DATABASE_URL\` (pool 10). ${r.options.apiWarmup} s of warm-up per server, then ${r.options.apiRounds} round(s) of ${r.options.apiSeconds} s per connection count, PostgreSQL and SQLite back to back.`,
      '',
    );
    out.push(api.summary, '', '<details><summary>Every run</summary>', '', api.rounds, '', '</details>', '');
  }

  // Limits.
  if (r.evidence) out.push(...limits(r, bestPeer, pgFire, liteFire, liteDispatch, pgDispatch));

  const summary = ['', oursSummary(ours), '', peersSummary(peerAggs), '', ...(api ? [api.summary, ''] : []), goals.map((g) => `${g[0]}: ${g[3]}`).join('\n')].join('\n');
  return { markdown: `${out.join('\n')}\n`, summary };
}

/** finishReloads: what its two statements per reload cost in the server and at the client. */
function roundTrips(run: SchedRun): string {
  const t = run.traces[0];
  const server = (name: string): number => {
    const p = t?.explained.find((e) => e.statement === name);
    return p ? execMs(p.plan) : NaN;
  };
  const client = (name: string): number => {
    const st = t?.statements[name];
    return st ? st.ms / st.calls : NaN;
  };
  return (
    '`finishReloads` records a burst of outcomes in one transaction, but runs `FINISH_RELOAD` and `RESET_FAILURES` once per reload: two statements and two round trips per reload. ' +
    `In the server they take ${num(server('FINISH_RELOAD'), 2)} ms and ${num(server('RESET_FAILURES'), 2)} ms (their plans below, under EXPLAIN ANALYZE); at the client ${num(client('FINISH_RELOAD'), 2)} ms and ${num(client('RESET_FAILURES'), 2)} ms per call. \`RESET_FAILURES\` changes no row here (every count is already 0) and is almost all round trip; both are sent one after the other on one connection, two per reload, while the burst\'s transaction holds that connection.`
  );
}

/** The passes that failed in the measured runs, and what the dispatcher was doing meanwhile. */
function failedPasses(r: Results): string[] {
  const runs = r.sched.filter((x) => x.perInstance.some((p) => p.failures.length > 0));
  if (runs.length === 0) return [];
  const errors = new Map<string, number>();
  for (const x of runs) for (const p of x.perInstance) for (const f of p.failures) errors.set(f.error, (errors.get(f.error) ?? 0) + 1);
  const fin = runs.flatMap((x) => x.perInstance.map((p) => p.ops.finishReloads).filter((o) => o && o.calls > 0));
  const maxInFlight = Math.max(0, ...fin.map((o) => o!.maxInFlight));
  const maxMs = Math.max(0, ...fin.map((o) => o!.maxMs));
  return [
    `**Failed passes.** ${runs.map((x) => `${x.store === 'postgres' ? 'PostgreSQL' : 'SQLite'} ×${x.instances} with dispatching: ${x.perInstance.reduce((a, p) => a + p.failures.length, 0)}`).join('; ')}. ` +
      `The errors: ${[...errors].map(([e, n]) => `\`${e}\` (${n}×)`).join(', ')}. ` +
      `Meanwhile up to ${maxInFlight} \`finishReloads\` transactions of one instance were in flight at once, the longest ${num(maxMs / 1000, 1)} s: when a claim starts thousands of reloads that finish at once, each burst of outcomes is one transaction that holds a pool connection for two statements per reload, the next burst opens another, and with the pool of ${r.options.pool} taken, the pass's own statements wait for a connection past the pool's 5 s \`connectionTimeoutMillis\` and fail as "PostgreSQL unavailable". The instance then does what \`Scheduler.run\` does (back off 1 s, 2 s, …, try again), and the figures above include those waits. Suggestion 3 below (a few statements per burst) removes the cause; bounding the dispatcher's concurrent flushes to one at a time would keep the pool free for the pass.`,
    '',
  ];
}

/** Buffers (hit + read) on the first "Buffers:" line after the first line matching `re`. */
function buffersAfter(plan: string, re: RegExp): number | undefined {
  const lines = plan.split('\n');
  const at = lines.findIndex((l) => re.test(l));
  if (at < 0) return undefined;
  for (const l of lines.slice(at + 1)) {
    const m = /Buffers: shared hit=(\d+)(?: read=(\d+))?/.exec(l);
    if (m) return Number(m[1]) + Number(m[2] ?? 0);
  }
  return undefined;
}

/** A plan as shown: long literal arrays (the ids of a batch) cut down to their size. */
function shortPlan(plan: string): string {
  return plan.replace(/'\{([^}]{120,})\}'/g, (_m, inner: string) => `'{${inner.slice(0, 60)}… ${int(inner.split(',').length)} elements}'`);
}

function planBlock(t: Trace | undefined, note: (p: Explained) => string): string[] {
  if (!t) return [];
  const out: string[] = [];
  for (const p of t.explained) out.push(`\`${p.statement}\`, call ${p.call}${note(p)}:`, '', '```', shortPlan(p.plan), '```', '');
  return out;
}

/** The time to the first row of the first plan node matching `re` ("actual time=FIRST..LAST"). */
function firstRowMs(plan: string, re: RegExp): number | undefined {
  const line = plan.split('\n').find((l) => re.test(l));
  const m = line && /actual time=([\d.]+)\.\.([\d.]+)/.exec(line);
  return m ? Number(m[1]) : undefined;
}

function limits(r: Results, bestPeer: PeerAgg | undefined, pgFire: readonly OursAgg[], liteFire: OursAgg | undefined, liteDispatch: OursAgg | undefined, pgDispatch: readonly OursAgg[]): string[] {
  const ev = r.evidence!;
  const fire = ev.fire;
  const dispatch = ev.dispatch;
  const t = fire.traces[0];
  const td = dispatch.traces[0];
  const out: string[] = [];
  out.push('### What limits our figure', '');
  const one = pgFire.find((s) => s.instances === 1);
  const instPer = one ? one.instPer : NaN;
  const backendPer = one?.backendPer ?? NaN;
  const cpuPerFiring = instPer + backendPer;
  const peerBackend = bestPeer ? bestPeer.backendPer : NaN;
  const peerWorker = bestPeer ? bestPeer.workerPer : NaN;
  out.push(
    `**1. The work per firing, most of it inside PostgreSQL.** In the measured runs with one instance, a firing cost ${int(1e6 * instPer)} µs of the instance's CPU and at least ${int(1e6 * backendPer)} µs of PostgreSQL backend CPU, ${int(1e6 * cpuPerFiring)} µs in all: two cores could do at most ${int(2 / cpuPerFiring)} firings per second with nothing else running, and this machine was not idle. ` +
      (bestPeer ? `The best peer (${PEER_NAMES[bestPeer.kind]}) used ${int(1e6 * peerBackend)} µs of backend CPU and ${int(1e6 * peerWorker)} µs of its worker's per job, ${int(1e6 * (peerBackend + peerWorker))} µs in all: a firing costs ${num((instPer + backendPer) / (peerBackend + peerWorker), 1)}× a job. The instance itself is mostly waiting (the profile below: idle most of the time). ` : '') +
      'More instances add Node CPU but not database CPU: the backends\' share stays per firing, so on two cores a second and a third instance compete with PostgreSQL (and with each other\'s empty claims) for the same cores instead of adding capacity.',
    '',
  );
  out.push(
    `**2. Where the time goes.** The evidence run: one instance firing the whole backlog (${int(fire.fired)} firings) with every statement the pg driver sent timed client-side (round trip included), the hot ones explained, under the profiler — so its own rate (${int(fire.firingsPerSecond)}/s) is below the measured runs'. The store's calls are a few statements per batch of 1000:`,
    '',
    statementsTable(fire),
    '',
  );
  if (t) {
    const due = t.explained.filter((p) => p.statement === 'DUE_TASKS').sort((a, b) => a.call - b.call);
    const first = (name: string): Explained | undefined => t.explained.filter((p) => p.statement === name).sort((a, b) => a.call - b.call)[0];
    const last = (name: string): Explained | undefined => t.explained.filter((p) => p.statement === name).sort((a, b) => b.call - a.call)[0];
    const dueLine = due
      .map((p) => {
        const active = actualRows(p.plan, /Bitmap Heap Scan on reloads|Seq Scan on reloads/);
        const all = buffersAfter(p.plan, /Index Scan using (task_due_by_time|reload_tasks_due)/);
        const sub = buffersAfter(p.plan, /Bitmap Heap Scan on reloads|Seq Scan on reloads/);
        const own = all !== undefined ? all - (sub ?? 0) : undefined;
        const firstRow = firstRowMs(p.plan, /Index Scan using (task_due_by_time|reload_tasks_due)/);
        return `batch ${p.call - 1}: ${num(execMs(p.plan), 1)} ms${active !== undefined ? `, its EXISTS read ${int(active)} active reloads` : ''}${firstRow !== undefined ? `, first row after ${num(firstRow, 1)} ms` : ''}${own !== undefined ? `, the index scan itself ${int(own)} buffers` : ''}`;
      })
      .join('; ');
    const hashed = due.some((p) => /SubPlan 2|hashed SubPlan/.test(p.plan) && /Bitmap Heap Scan on reloads|Seq Scan on reloads/.test(p.plan));
    const adv0 = first('ADVANCE_TASKS');
    const adv1 = last('ADVANCE_TASKS');
    const rel0 = first('INSERT_RELOADS');
    const occ0 = first('INSERT_OCCURRENCES');
    const idx = (table: string): string => String(r.schema.find((x) => x.table === table)?.indexes.length ?? '?');
    const dueTable = r.schema.some((x) => x.table === 'task_due' && x.indexes.length > 0);
    out.push(
      `**3. The plans** (\`EXPLAIN (ANALYZE, BUFFERS)\` with the store's own parameters, inside its transaction, in a savepoint rolled back before the real statement). \`DUE_TASKS\`: ${dueLine}. ` +
        (hashed
          ? 'Once reloads exist, the planner evaluates `EXISTS (SELECT 1 FROM reloads r WHERE r.resource_id = t.id AND r.status IN (…))` as a hashed subplan: a bitmap scan of `reloads_by_status_id` that reads **every** active reload and hashes it, once per batch. It is built before the first row comes out (the "first row after" above), and during a herd every firing adds a QUEUED reload, so each batch reads and hashes 1000 more than the one before: the herd costs O(n²) in all, while the index scan of `reload_tasks_due` itself stays at a few dozen buffers (the entries of tasks already advanced cost little). '
          : '') +
        `${adv0 ? `\`ADVANCE_TASKS\` (1000 tasks): ${num(execMs(adv0.plan), 1)} ms in the first batch${adv1 && adv1 !== adv0 ? `, ${num(execMs(adv1.plan), 1)} ms in the last` : ''}${dueTable ? `; no index of reload_tasks covers a column it changes (the due queue is \`task_due\`, kept by a statement-level trigger since migration 5), so the task's update can be HOT, and the trigger's one UPDATE of task_due (${idx('task_due')} indexes) is part of this figure. ` : `; the update changes the indexed \`next_execution_time\`, so it is never HOT and writes a new entry into each of reload_tasks' ${idx('reload_tasks')} indexes. `}` : ''}` +
        `${rel0 ? `\`INSERT_RELOADS\` (1000 rows, ${idx('reloads')} indexes): ${num(execMs(rel0.plan), 1)} ms. ` : ''}` +
        `${occ0 ? `\`INSERT_OCCURRENCES\` (1000 rows, ${idx('occurrences')} indexes): ${num(execMs(occ0.plan), 1)} ms.` : ''}`,
      '',
    );
    out.push('<details><summary>The plans (firing)</summary>', '', ...planBlock(t, (p) => (p.statement === 'DUE_TASKS' ? ` (batch ${p.call - 1}; call 1 was the pass with nothing due)` : '')), '</details>', '');
  }
  out.push('**Indexes a firing writes into** (the template database, `pg_indexes`):', '');
  out.push(table(['Table', 'Indexes'], r.schema.map((x) => [x.table, `${x.indexes.length}: ${x.indexes.map((i) => `\`${i}\``).join(', ')}`])), '');
  if (ev.profile) {
    const p = ev.profile;
    out.push(
      `**4. The instance's CPU profile** (\`node --cpu-prof\`, the firing evidence run; ${s2(p.totalMs / 1000)} of samples). By area:`,
      '',
      table(['Area', 'Self time', 'Share'], p.byArea.map((a) => [a.area, s2(a.ms / 1000), `${num(a.pct, 1)} %`]), '---|---:|---:'),
      '',
      'Top functions by self time:',
      '',
      table(['Function', 'Where', 'Self time', 'Share'], p.top.map((f) => [`\`${f.fn}\``, f.where ? `\`${f.where}\`` : '', s2(f.selfMs / 1000), `${num(f.pct, 1)} %`]), '---|---|---:|---:'),
      '',
    );
  }
  const pgD1 = pgDispatch.find((x) => x.instances === 1);
  out.push(
    `**5. Dispatching: one transaction per burst, but two statements per reload.** With dispatching, the reloads run at ${pgD1?.finishMedian ? `${int(pgD1.finishMedian)}/s with one instance` : 'a lower rate'}${liteDispatch?.finishMedian ? ` (SQLite: ${int(liteDispatch.finishMedian)}/s)` : ''}. The traced run with dispatching (${int(dispatch.fired)} tasks, one instance; ${int(dispatch.finishedPerSecond ?? NaN)} reloads/s under tracing):`,
    '',
    statementsTable(dispatch),
    '',
    roundTrips(dispatch),
    '',
    ...failedPasses(r),
    '<details><summary>The plans (dispatching)</summary>',
    '',
    ...planBlock(td, () => ''),
    '</details>',
    '',
  );
  if (liteFire) {
    out.push(
      `**6. SQLite** does the same work in process, with no round trips and no second process: ${int(liteFire.median)} firings/s with one instance, against ${int(one?.median ?? NaN)}/s on PostgreSQL with one instance (medians).`,
      '',
    );
  }
  out.push('### What has been done, and what is left', '');
  out.push(
    'Done (in src/, each measured in docs/benchmarks.md): "is a reload of this task active?" is a `LATERAL` probe per claimed task; the due queue is its own narrow table (`task_due`), so the task\'s advance is a HOT update; a fired occurrence is recorded by its reload alone (migration 7); `claimQueued` and `finishReloads` are a few statements per batch; a firing batch ships only the columns that differ between scheduled reloads; one instance runs two firing batches at once (`DATABASE_FIRE_CONCURRENCY`, default 2), the second claiming from where the first one\'s claim ended; and a claim takes the `task_due` row before the task\'s, so a task another instance holds costs an index entry and a lock test.',
    '',
    'Left:',
    '',
    '1. **Fewer indexes on the reload a firing writes.** `INSERT_RELOADS` is still the largest statement: one row and ten indexes, where a job is one row with a few. Some overlap: `reloads_by_status (tenant_id, status, id)` and `reloads_by_status_id (status, id)`; `reloads_by_resource (tenant_id, resource_id, id)`, `reloads_active_by_task` and `reloads_occurrence` all lead with the task. Each one dropped is one B-tree insertion fewer per firing, but each serves a list filter or the dispatcher.',
    '2. **Fewer round trips per firing batch**: the statements and the COMMIT could be one statement with data-modifying CTEs. With two batches in flight the round trips overlap, so this is latency more than throughput.',
    '3. **Several instances help when the database has cores of its own.** Here PostgreSQL and up to three instances share two cores, and one instance with two batches in flight already keeps both busy, so a second and third instance mostly move work around. An instance that finds every due task locked by others (the empty claims above) asks again at once; a short back-off would leave the CPU to the instances that hold work.',
    '',
  );
  return out;
}
