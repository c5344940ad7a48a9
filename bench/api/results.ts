/** The benchmark's results as tables, goal verdicts and the Markdown of docs/benchmarks-api.md. */
import type { Cost } from './breakdown.js';
import type { LoadResult, Percentiles } from './load.js';
import type { CpuShares, RssPhase } from './proc.js';
import type { ProfileSummary } from './profile.js';
import { fmt, tableToMarkdown, type Table } from './report.js';
import { OWNER, TENANT, type SeedInfo } from './seed.js';

export interface Options {
  tasks: number;
  dataRoot: string;
  duration: number;
  warmup: number;
  connections: number[];
  rounds: number;
  ids: number;
  depthRequests: number;
  server: 'build' | 'tsx';
  profile: boolean;
  write: boolean;
  out: string;
  quick: boolean;
  quietWait: number;
  quietPct: number;
  /** Where the raw results are saved (JSON). */
  save: string;
  /** Report from these saved raw results instead of measuring. */
  report: string | undefined;
}

export type Scenario = 'hello' | 'get' | 'deep';

export interface Round {
  readonly round: number;
  readonly scenario: Scenario;
  readonly result: LoadResult;
}

export interface DepthResult {
  readonly depth: number;
  readonly caller: string;
  readonly latency: Percentiles;
  readonly bytes: number;
  readonly cpu: CpuShares;
}

export interface WalkResult {
  readonly pages: number;
  readonly rows: number;
  readonly seconds: number;
  readonly latency: Percentiles;
  readonly cpu: CpuShares;
}

export interface ApiRun {
  readonly rounds: Round[];
  readonly walk: WalkResult;
  readonly depths: DepthResult[];
  readonly deepDepth: number;
  readonly deepPath: string;
  readonly rss: RssPhase[];
  readonly hwm: number;
  readonly getBytes: number;
}

export interface Wait {
  readonly before: string;
  readonly waitedS: number;
  readonly otherPct: number;
}

export interface Profiled {
  readonly label: string;
  readonly summary: ProfileSummary;
}

export interface Verdict {
  readonly goal: string;
  readonly verdict: string;
}

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

/** A round counts as quiet at a connection count when other processes used under this much of a core in each of its runs. */
export const QUIET_OTHER_PCT = 25;

const quietRun = (r: LoadResult): boolean => r.otherCpu < QUIET_OTHER_PCT;

function runOf(run: ApiRun, round: number, scenario: Scenario, connections: number): LoadResult | undefined {
  return run.rounds.find((r) => r.round === round && r.scenario === scenario && r.result.connections === connections)?.result;
}

/**
 * The rounds the summary uses for a scenario at a connection count: those in which its run (and,
 * for the service's scenarios, the same round's hello world run) was quiet, when there are any;
 * else all rounds.
 */
function used(run: ApiRun, scenario: Scenario, connections: number): { rounds: number[]; quiet: boolean } {
  const all = [...new Set(run.rounds.filter((r) => r.scenario === scenario && r.result.connections === connections).map((r) => r.round))];
  const quiet = all.filter((round) => {
    const own = runOf(run, round, scenario, connections);
    const hello = runOf(run, round, 'hello', connections);
    return own !== undefined && quietRun(own) && hello !== undefined && quietRun(hello);
  });
  return quiet.length > 0 ? { rounds: quiet, quiet: true } : { rounds: all, quiet: false };
}

function runsOf(run: ApiRun, scenario: Scenario, connections: number): LoadResult[] {
  return used(run, scenario, connections)
    .rounds.map((round) => runOf(run, round, scenario, connections))
    .filter((r): r is LoadResult => r !== undefined);
}

/** Server CPU (all its threads) per completed request, µs. */
const cpuPerRequestUs = (r: LoadResult): number => (1e4 * r.serverCpu) / r.rps;
/** req/s per fully used server core: what the run's CPU per request allows. */
const perCoreRps = (r: LoadResult): number => (100 * r.rps) / r.serverCpu;

/** Per round, the scenario's req/s (or another figure) over the hello world's of the same round and connection count. */
function ratios(run: ApiRun, scenario: Scenario, connections: number, of: (r: LoadResult) => number = (r) => r.rps): number[] {
  const out: number[] = [];
  for (const round of used(run, scenario, connections).rounds) {
    const own = runOf(run, round, scenario, connections);
    const hello = runOf(run, round, 'hello', connections);
    if (own && hello) out.push(of(own) / of(hello));
  }
  return out;
}

const NAMES: Record<Scenario, (o: Options, run: ApiRun) => string> = {
  hello: () => 'hello world (bare Fastify)',
  get: (o) => `GET /reload-tasks/{id} (${fmt.int(o.ids)} ids)`,
  deep: (_o, run) => `GET /reload-tasks?limit=100, depth ${fmt.int(run.deepDepth)}`,
};

export function buildTables(a: { o: Options; seed: SeedInfo; run: ApiRun; profiles: Profiled[]; breakdown: { get: Cost[]; list: Cost[] } }): Table[] {
  const { o, seed, run, profiles, breakdown } = a;
  const throughputRows: string[][] = [];
  for (const scenario of ['hello', 'get', 'deep'] as const) {
    for (const c of o.connections) {
      const rs = runsOf(run, scenario, c);
      if (rs.length === 0) continue;
      const rps = rs.map((r) => r.rps);
      const ratio = scenario === 'hello' ? '100 %' : fmt.pct(100 * median(ratios(run, scenario, c)));
      const perCore = median(rs.map(perCoreRps));
      const ratioCpu = scenario === 'hello' ? '100 %' : fmt.pct(100 * median(ratios(run, scenario, c, perCoreRps)));
      const u = used(run, scenario, c);
      throughputRows.push([
        NAMES[scenario](o, run),
        String(c),
        u.quiet ? `${u.rounds.join(', ')} (quiet)` : `${u.rounds.join(', ')} (none quiet)`,
        fmt.int(median(rps)),
        rs.length > 1 ? `${fmt.int(Math.min(...rps))}–${fmt.int(Math.max(...rps))}` : '',
        ratio,
        fmt.ms(median(rs.map((r) => r.latency.p50))),
        fmt.ms(median(rs.map((r) => r.latency.p99))),
        fmt.int(median(rs.map((r) => r.bytesPerResponse))),
        fmt.pct(median(rs.map((r) => r.serverCpu))),
        fmt.pct(median(rs.map((r) => r.loaderCpu))),
        fmt.pct(median(rs.map((r) => r.otherCpu))),
        fmt.int(median(rs.map(cpuPerRequestUs))),
        fmt.int(perCore),
        ratioCpu,
      ]);
    }
  }
  const throughput: Table = {
    title: `Throughput (autocannon, ${o.duration} s per run, pipelining 1, loopback; medians over the quiet rounds — other processes under ${QUIET_OTHER_PCT} % of a core during the run and during the same round's hello world run — or over all ${o.rounds} rounds when none was quiet; "vs hello" is the median of each round's ratio to its own hello world run; latency of each response, ms)`,
    head: ['scenario', 'conns', 'rounds', 'req/s', 'range', 'vs hello', 'p50', 'p99', 'bytes/resp', 'server CPU', 'loader CPU', 'other CPU', 'server CPU µs/req', 'req/s per server core', 'vs hello, per core'],
    right: [1, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14],
    rows: throughputRows,
  };
  const roundRows: string[][] = [];
  for (let round = 1; round <= o.rounds; round++) {
    for (const c of o.connections) {
      const get = (s: Scenario): LoadResult | undefined => run.rounds.find((r) => r.round === round && r.scenario === s && r.result.connections === c)?.result;
      const h = get('hello');
      const g = get('get');
      const d = get('deep');
      if (!h || !g || !d) continue;
      roundRows.push([
        String(round),
        String(c),
        fmt.int(h.rps),
        fmt.int(g.rps),
        fmt.pct((100 * g.rps) / h.rps),
        fmt.int(d.rps),
        `${fmt.pct(h.otherCpu)} / ${fmt.pct(g.otherCpu)} / ${fmt.pct(d.otherCpu)}`,
        (['hello', 'get', 'deep'] as const).map((x) => (quietRun(get(x)!) ? 'yes' : 'no')).join(' / '),
      ]);
    }
  }
  const roundsTable: Table = {
    title: 'Each round (req/s; other processes\' CPU during, and whether quiet: the hello / GET / list runs)',
    head: ['round', 'conns', 'hello world', 'GET by id', 'GET / hello', 'deep list page', 'other CPU', 'quiet'],
    right: [0, 1, 2, 3, 4, 5, 6],
    rows: roundRows,
  };
  const depths: Table = {
    title: `List page latency by depth (${fmt.int(seed.tasks)} tasks, limit=100, one request at a time, ${fmt.int(o.depthRequests)} requests each after 50 warm-up; ms)`,
    head: ['rows before the page', 'caller', 'p50', 'p90', 'p99', 'max', 'mean', 'KiB/page', 'server CPU', 'other CPU'],
    right: [0, 2, 3, 4, 5, 6, 7, 8, 9],
    rows: run.depths.map((d) => [
      fmt.int(d.depth),
      d.caller,
      fmt.ms(d.latency.p50),
      fmt.ms(d.latency.p90),
      fmt.ms(d.latency.p99),
      fmt.ms(d.latency.max),
      fmt.ms(d.latency.mean),
      fmt.kb(d.bytes),
      fmt.pct(d.cpu.server),
      fmt.pct(d.cpu.other),
    ]),
  };
  const w = run.walk;
  const walk: Table = {
    title: 'Walk of every page from the first, following links.next.href (owner, one request at a time; ms)',
    head: ['pages', 'rows', 'seconds', 'p50', 'p90', 'p99', 'max', 'server CPU', 'other CPU'],
    right: [0, 1, 2, 3, 4, 5, 6, 7, 8],
    rows: [[fmt.int(w.pages), fmt.int(w.rows), w.seconds.toFixed(1), fmt.ms(w.latency.p50), fmt.ms(w.latency.p90), fmt.ms(w.latency.p99), fmt.ms(w.latency.max), fmt.pct(w.cpu.server), fmt.pct(w.cpu.other)]],
  };
  const rss: Table = {
    title: `Server memory (VmRSS from /proc/<pid>/status, sampled every 250 ms; ${fmt.int(seed.tasks)} tasks stored, database file ${fmt.mb(seed.dbBytes)} MiB)`,
    head: ['phase', 'samples', 'max MiB', 'last MiB'],
    right: [1, 2, 3],
    rows: [...run.rss.map((p) => [p.phase, String(p.samples), fmt.mb(p.maxRss), fmt.mb(p.lastRss)]), ['peak over the whole run (VmHWM)', '', fmt.mb(run.hwm), '']],
  };
  const c0 = o.connections[0]!;
  const helloCpuUs = median(runsOf(run, 'hello', c0).map(cpuPerRequestUs));
  const costs: Table = {
    title: `Where a request's time goes: the service's functions timed in the runner's process, one call after another (wall time: median of 7 batches; CPU time from /proc per thread, 10 ms ticks). For scale: the hello world used ${fmt.int(helloCpuUs)} µs of server CPU per request at ${c0} connections; 50 % of its rate per core leaves ${fmt.int(2 * helloCpuUs)} µs per GET by id`,
    head: ['request', 'step', 'wall µs', 'CPU µs, main thread', 'CPU µs, all threads'],
    right: [2, 3, 4],
    rows: [
      ...breakdown.get.map((c) => ['GET by id', c.what, c.us.toFixed(1), c.mainCpuUs.toFixed(0), c.allCpuUs.toFixed(0)]),
      ...breakdown.list.map((c) => [`list page at ${fmt.int(run.deepDepth)}`, c.what, c.us.toFixed(1), c.mainCpuUs.toFixed(0), c.allCpuUs.toFixed(0)]),
    ],
  };
  const tables = [throughput, roundsTable, depths, walk, rss, costs];
  for (const p of profiles) {
    tables.push({
      title: `CPU profile, ${p.label} (${c0} connections, ${o.duration} s): the top functions by self time (% of the ${fmt.int(p.summary.busyMs)} ms the server was busy)`,
      head: ['function', 'where', 'ms', '%'],
      right: [2, 3],
      rows: p.summary.selfTop.map((l) => [l.name, l.where, fmt.int(l.ms), l.pct.toFixed(1)]),
    });
    tables.push({
      title: `CPU profile, ${p.label}: self time by package or source directory; inclusive time (anywhere on the stack) by package and of chosen functions`,
      head: ['package, directory or function', 'kind', 'ms', '%'],
      right: [2, 3],
      rows: [
        ...p.summary.byArea.map((l) => [l.name, 'self', fmt.int(l.ms), l.pct.toFixed(1)]),
        ...p.summary.areasInclusive.map((l) => [l.name, 'inclusive', fmt.int(l.ms), l.pct.toFixed(1)]),
        ...p.summary.inclusive.map((l) => [`${l.name}()`, 'inclusive', fmt.int(l.ms), l.pct.toFixed(1)]),
      ],
    });
  }
  return tables;
}

export function goals(o: Options, run: ApiRun): Verdict[] {
  const out: Verdict[] = [];
  for (const c of o.connections) {
    const rs = ratios(run, 'get', c);
    if (rs.length === 0) continue;
    const ratio = median(rs);
    const perCore = median(ratios(run, 'get', c, perCoreRps));
    const get = median(runsOf(run, 'get', c).map((r) => r.rps));
    const hello = median(runsOf(run, 'hello', c).map((r) => r.rps));
    const u = used(run, 'get', c);
    const spread = ` (${u.quiet ? `quiet round${u.rounds.length > 1 ? 's' : ''} ${u.rounds.join(', ')}` : 'all rounds, none quiet'}${rs.length > 1 ? `: ${rs.map((r) => `${(100 * r).toFixed(0)} %`).join(', ')}` : ''})`;
    const both = (ratio >= 0.5) === (perCore >= 0.5);
    const verdict = ratio >= 0.5 ? 'met' : 'not met';
    out.push({
      goal: `GET by id ≥ 50 % of the hello world's req/s, ${c} connections`,
      verdict:
        `**${verdict}${both ? '' : ' as measured, but not per server core'}**: ${(100 * ratio).toFixed(1)} % of the hello world's req/s${spread}, ` +
        (ratio >= 0.5 ? `${(100 * ratio - 50).toFixed(1)} points above` : `${(50 - 100 * ratio).toFixed(1)} points short, ×${(0.5 / ratio).toFixed(1)} needed`) +
        ` (${fmt.int(get)} vs ${fmt.int(hello)} req/s); per server core (req/s over the server's CPU, which other processes' load distorts less) ${(100 * perCore).toFixed(1)} %, ` +
        (perCore >= 0.5 ? `${(100 * perCore - 50).toFixed(1)} points above` : `${(50 - 100 * perCore).toFixed(1)} points short, ×${(0.5 / perCore).toFixed(1)} needed`),
    });
  }
  const worst = run.depths.reduce((a, b) => (b.latency.p99 > a.latency.p99 ? b : a));
  const met = worst.latency.p99 < 20;
  out.push({
    goal: 'List page (limit=100) p99 < 20 ms at any depth, one request at a time',
    verdict: `**${met ? 'met' : 'not met'}**: worst p99 ${fmt.ms(worst.latency.p99)} ms (${fmt.int(worst.depth)} rows deep, ${worst.caller}), ${met ? `${fmt.ms(20 - worst.latency.p99)} ms under the limit` : `${fmt.ms(worst.latency.p99 - 20)} ms over`}`,
  });
  const peak = Math.max(...run.rss.map((p) => p.maxRss), run.hwm);
  const mb = peak / 1e6;
  out.push({
    goal: `Server RSS < 200 MB with ${fmt.int(o.tasks)} tasks stored`,
    verdict: `**${mb < 200 ? 'met' : 'not met'}**: peak ${mb.toFixed(0)} MB (${fmt.mb(peak)} MiB, VmHWM over the whole run), ${mb < 200 ? `${(200 - mb).toFixed(0)} MB under` : `${(mb - 200).toFixed(0)} MB over`}`,
  });
  return out;
}

function quietNote(w: readonly Wait[], o: Options): string {
  if (o.quietWait <= 0) return 'This run did not wait for a quiet machine.';
  const total = w.reduce((a, x) => a + x.waitedS, 0);
  const busy = w.filter((x) => x.otherPct >= o.quietPct);
  let note = `Before each round and each latency series it waited up to ${o.quietWait} s for other processes to use less than ${o.quietPct} % of a core (${w.length} waits, ${total.toFixed(0)} s in all)`;
  note += busy.length === 0 ? '; the machine was quiet each time.' : `; the machine was still busy before ${busy.map((x) => `${x.before} (${x.otherPct.toFixed(0)} %)`).join(', ')}, and those were measured anyway.`;
  return note;
}

export function markdown(a: {
  o: Options;
  command: string;
  started: Date;
  finished: Date;
  machine: { nproc: string; lscpu: string; node: string; free: string; git: string };
  seed: SeedInfo;
  tables: Table[];
  verdicts: Verdict[];
  plans: Record<string, string[]>;
  profiles: Profiled[];
  run: ApiRun;
  waits: readonly Wait[];
  autocannon: string;
}): string {
  const { o, seed } = a;
  const section = (t: Table): string => `**${t.title}**\n\n${tableToMarkdown(t)}`;
  const [throughput, rounds, depths, walk, rss, costs, ...profileTables] = a.tables;
  const iso = (d: Date): string => d.toISOString().replace(/\.\d+Z$/, 'Z');
  return `<!-- Written by bench/api/run.ts; rerun it rather than editing the figures by hand. -->
## HTTP API (SQLite)

Throughput and latency of the service's two read endpoints over HTTP, on its embedded SQLite
store holding ${fmt.int(seed.tasks)} tasks in one tenant, against a bare Fastify 5 "hello world" on the
same machine as the ceiling; and the server's memory while it serves them.

- **Date:** ${iso(a.started)} to ${iso(a.finished)} (code at ${a.machine.git})
- **Command:** \`${a.command}\` (from the project root)
- **Set-up:** each server in its own Node process (${o.server === 'build' ? "compiled by tsc with the project's tsconfig into a temporary directory and run on plain `node`, as `npm start` runs `dist/`" : 'run from the TypeScript sources with `node --import tsx`'});
  the service started as \`reload-task serve\` starts it (\`loadConfig\` + \`startServer\`) with
  \`RATE_LIMIT_ENABLED=false HTTP_MAX_REQUESTS_PER_SOCKET=0 LOG_LEVEL=silent HOST=127.0.0.1\` and
  otherwise the defaults (so its scheduler runs too; no task falls due during the run). The
  per-connection cap is lifted like the rate limits: past its default of 1000 requests on one
  keep-alive connection Node answers 503 with \`Connection: close\`, and autocannon keeps sending
  on the connection instead of reconnecting. autocannon ${a.autocannon} runs in the
  runner's process on loopback, pipelining 1. Bearer tokens (ES256) are minted with the data
  directory's local key, as \`reload-task token\` does; requests are made as the tasks' owner (a
  non-admin caller) unless marked admin. GET by id cycles through ${fmt.int(o.ids)} ids sampled at random from
  the whole table; the service keeps up to \`SQLITE_TASK_CACHE\` (default 10,000) tasks read by id in
  memory, so with as many ids or fewer nearly every request is answered from it. The bench's
  environment reaches the service: \`SQLITE_TASK_CACHE=0\` measures reads from SQLite instead (many
  more ids, such as \`--ids=100000\`, overload autocannon, which then times requests out itself).
- **Data:** ${fmt.int(seed.tasks)} tasks of tenant \`${TENANT}\`, owner \`${OWNER}\` (daily, weekly, hourly and
  monthly schedules in ten zones, some auto-reload only, a tenth partial, UUID-like app ids),
  ${seed.reused ? `seeded by an earlier run (${seed.seededAt}, ${seed.seconds.toFixed(0)} s)` : `seeded by this run in ${seed.seconds.toFixed(0)} s`} straight into the SQLite file with the store's
  \`INSERT_TASK\` and \`toRow\` in transactions of 50,000 rows; the file (${fmt.mb(seed.dbBytes)} MiB) is kept at
  \`${seed.dbPath}\` and reused while the schema is unchanged. No task is due during the run.
- **Latency** is measured per response at full precision (autocannon's own histogram rounds to
  whole milliseconds). Under load it includes queueing behind the other connections; "one request
  at a time" is a single keep-alive connection, timed to the last byte of the body.

### Machine

\`\`\`
$ nproc
${a.machine.nproc}
$ lscpu | head -20
${a.machine.lscpu}
$ node -v
${a.machine.node}
$ free -g
${a.machine.free}
\`\`\`

With ${a.machine.nproc} vCPUs, the server under test and the load generator get about one each, so these
are one-core figures. The CPU columns (% of one core, from \`/proc\`) show who used the machine
during each run: the server ("server CPU" near 100 % means the server was the limit), the load
generator ("loader CPU"), and every other process ("other CPU": the machine is shared with other
work, which takes CPU from both). ${quietNote(a.waits, o)} Throughput is therefore measured in
rounds that run the hello world and the service back to back, the ratio that the goal is about
is taken within each round, and the summary uses the rounds in which other processes stayed
under ${QUIET_OTHER_PCT} % of a core during both runs compared (all rounds, marked so, when there was none). "req/s per server core"
divides a run's rate by the server's CPU use (all its threads), which other load distorts less.

### Goals

| goal | verdict |
| --- | --- |
${a.verdicts.map((v) => `| ${v.goal} | ${v.verdict} |`).join('\n')}

### Throughput

${section(throughput!)}

${section(rounds!)}

### List pages by depth

${section(depths!)}

${section(walk!)}

SQLite's plans for the statements behind these requests (\`EXPLAIN QUERY PLAN\` on the seeded
file; neither the service nor the seed runs \`ANALYZE\`):

\`\`\`
${Object.entries(a.plans)
  .map(([name, lines]) => `${name}:\n${lines.map((l) => `  ${l}`).join('\n')}`)
  .join('\n')}
\`\`\`

### Memory

${section(rss!)}

### Where the server's time goes

${section(costs!)}
${
  profileTables.length > 0
    ? `
CPU profiles of the server (V8's sampling profiler, started and stopped through \`node:inspector\`
around the load only, positions mapped back to the TypeScript sources) in extra runs after the
measured ones; profiling slows the server, so those runs' figures are not reported. "native"
rows are C++ (OpenSSL through WebCrypto, better-sqlite3, the socket writes) named by their caller.

${profileTables.map(section).join('\n\n')}
`
    : ''
}`;
}
