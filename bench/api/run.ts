/**
 * HTTP API benchmark of the service on SQLite, against a bare Fastify "hello world" as the ceiling.
 *
 *   node --import tsx bench/api/run.ts               # full run (1,000,000 tasks); writes docs/benchmarks-api.md
 *   node --import tsx bench/api/run.ts --quick       # smoke test: 20,000 tasks, 2 s runs, nothing written
 *
 * Flags (all optional):
 *   --tasks=N            tasks seeded in the one tenant (default 1000000)
 *   --data-root=DIR      where the seeded data directory lives (default /tmp); it is
 *                        DIR/reload-tasks-bench-api-N and is reused by later runs
 *   --duration=S         seconds of each measured autocannon run (default 10)
 *   --warmup=S           seconds of the unmeasured autocannon run of each scenario first (default 3)
 *   --connections=A,B    autocannon connection counts (default 100,10); pipelining is always 1
 *   --rounds=N           rounds of autocannon runs (default 3); each round runs hello world,
 *                        GET-by-id and the deep list page back to back at each connection count,
 *                        so that the ratios compare runs made under the same conditions
 *   --ids=N              distinct task ids GET-by-id cycles through (default 1000, a random sample)
 *   --depth-requests=N   sequential requests per list depth and caller (default 1000)
 *   --server=build|tsx   how the two servers run: compiled by tsc into a temporary directory and run on
 *                        plain node, as `npm start` runs dist/ (default), or as TypeScript through tsx
 *   --no-profile         skip the CPU-profiled passes (V8 profiler via node:inspector) at the end
 *   --quiet-wait=S       before each round and each latency series, wait up to S seconds (default 30;
 *   --quiet-threshold=P  0: never) until other processes use less than P % of one core (default 15);
 *                        the CPU they used during each run is reported beside it either way
 *   --no-write           print only; do not write docs/benchmarks-api.md
 *   --write              write even with --quick
 *   --out=FILE           write the results there instead (relative to the project root)
 *   --save=FILE          where the raw results are saved as JSON (default /tmp/reload-tasks-bench-api-results.json)
 *   --report[=FILE]      measure nothing: print the tables and write the Markdown again from saved
 *                        raw results (default: the --save file); --no-write and --out apply
 *
 * Each server runs in its own process, so autocannon's load generation has an event loop to
 * itself; this process only generates load and reads /proc. The seeded database is kept in
 * /tmp and reused while the schema (migrations, INSERT_TASK, row shape) stays the same.
 */
import { execSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../../src/config.js';
import { loadOrCreateLocalKey } from '../../src/auth/local-key.js';
import { mintToken } from '../../src/auth/mint.js';
import { GET_TASK, listTasksSql } from '../../src/store/sqlite/task-sql.js';
import { measureBreakdown, type Cost } from './breakdown.js';
import { buildServers, type Build } from './build.js';
import { load, percentiles, SequentialClient, type LoadResult } from './load.js';
import { cpuWindow, RssSampler, spawnServer, waitForQuiet, type ServerProcess } from './proc.js';
import { summarizeProfile } from './profile.js';
import { fmt, tableToText } from './report.js';
import { ensureSeeded, idAtPosition, OWNER, queryPlans, sampleIds, seedDataDir, TENANT, type SeedInfo } from './seed.js';
import { buildTables, goals, markdown, type ApiRun, type DepthResult, type Options, type Profiled, type Round, type Scenario, type Wait, type WalkResult } from './results.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const TASKS_PATH = '/api/v1/reload-tasks';
const PAGE = 100;
/** Functions whose inclusive time (anywhere on the stack) the profile tables show. */
const INCLUSIVE = ['jwtVerify', 'getTask', 'listTasks', 'anyTask', 'fromRow', 'toJson', 'pageLink', 'encode', 'serialize', 'child', 'preHandlerCallback'];

function parseArgs(argv: readonly string[]): Options {
  const o: Options = {
    tasks: 1_000_000,
    dataRoot: '/tmp',
    duration: 10,
    warmup: 3,
    connections: [100, 10],
    rounds: 3,
    ids: 1000,
    depthRequests: 1000,
    server: 'build',
    profile: true,
    write: true,
    out: 'docs/benchmarks-api.md',
    quick: false,
    quietWait: 30,
    quietPct: 15,
    save: join(tmpdir(), 'reload-tasks-bench-api-results.json'),
    report: undefined,
  };
  const positive = (flag: string, v: string | undefined): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n <= 0) throw new Error(`${flag}: '${v}' is not a positive integer`);
    return n;
  };
  for (const a of argv) {
    const [flag, value] = a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    switch (flag) {
      case '--quick':
        Object.assign(o, { quick: true, tasks: 20_000, duration: 2, warmup: 1, rounds: 1, depthRequests: 100, ids: 200, write: false });
        break;
      case '--tasks':
        o.tasks = positive(flag, value);
        break;
      case '--data-root':
        o.dataRoot = value ?? o.dataRoot;
        break;
      case '--duration':
        o.duration = positive(flag, value);
        break;
      case '--warmup':
        o.warmup = Number(value);
        break;
      case '--connections':
        o.connections = (value ?? '').split(',').map((v) => positive(flag, v));
        break;
      case '--rounds':
        o.rounds = positive(flag, value);
        break;
      case '--ids':
        o.ids = positive(flag, value);
        break;
      case '--depth-requests':
        o.depthRequests = positive(flag, value);
        break;
      case '--server':
        if (value !== 'build' && value !== 'tsx') throw new Error(`--server: '${value}' is not build or tsx`);
        o.server = value;
        break;
      case '--no-profile':
        o.profile = false;
        break;
      case '--quiet-wait':
        o.quietWait = Number(value);
        break;
      case '--quiet-threshold':
        o.quietPct = positive(flag, value);
        break;
      case '--no-write':
        o.write = false;
        break;
      case '--write':
        o.write = true;
        break;
      case '--out':
        o.out = value ?? o.out;
        break;
      case '--save':
        o.save = resolve(value ?? o.save);
        break;
      case '--report':
        o.report = resolve(value ?? o.save);
        break;
      default:
        throw new Error(`unknown flag ${a} (see the comment at the top of bench/api/run.ts)`);
    }
  }
  if (o.tasks < 2 * PAGE) throw new Error('--tasks: at least 200');
  return o;
}

const log = (line: string): void => console.error(`[bench:api] ${line}`);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const sh = (cmd: string): string => {
  try {
    return execSync(cmd, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trimEnd();
  } catch {
    return `(${cmd} failed)`;
  }
};

const waits: Wait[] = [];
/** Waits (up to --quiet-wait) for the machine to be free of other work before measuring. */
async function quiet(o: Options, serverPid: number | undefined, before: string): Promise<void> {
  if (o.quietWait <= 0) return;
  const w = await waitForQuiet(serverPid, o.quietPct, o.quietWait, log);
  waits.push({ before, ...w });
}

/** Depths (rows skipped before the page) measured: first page, 1k, 10 %, 50 %, N−1000, N−100. */
function depthsFor(tasks: number): number[] {
  const raw = [0, 1000, Math.floor(tasks / 10 / PAGE) * PAGE, Math.floor(tasks / 2 / PAGE) * PAGE, tasks - 1000, tasks - PAGE];
  return [...new Set(raw.filter((d) => d >= 0 && d <= tasks - PAGE))].sort((a, b) => a - b);
}

function pathOf(href: string): string {
  const u = new URL(href);
  return `${u.pathname}${u.search}`;
}

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  if (o.report !== undefined) {
    // Tables and Markdown again from a saved run, without measuring (e.g. after changing results.ts).
    const saved = JSON.parse(readFileSync(o.report, 'utf8')) as Saved;
    log(`report from ${o.report} (run ${saved.started} to ${saved.finished}: ${saved.command})`);
    return report(saved, o);
  }
  const command = ['node --import tsx bench/api/run.ts', ...process.argv.slice(2)].join(' ');
  const started = new Date();
  const git = (args: string): string => sh(`git -C ${JSON.stringify(root)} ${args}`);
  const machine = {
    nproc: sh('nproc'),
    lscpu: sh('lscpu | head -20'),
    node: process.version,
    free: sh('free -g'),
    git: `${git('rev-parse --short HEAD')}${git('status --porcelain -- src migrations') === '' ? '' : ' + uncommitted changes in src/ or migrations/'}`,
  };
  log(command);

  // --- The data: N tasks of one tenant and owner, seeded once and reused. ----------------------
  const seed = ensureSeeded(seedDataDir(o.dataRoot, o.tasks), o.tasks, log);
  const plans = queryPlans(seed.dbPath, {
    'GET by id': { sql: GET_TASK, params: { tenant_id: TENANT, id: '0' } },
    'list page, owner': {
      sql: listTasksSql({ owner: true, app: false, partial: false, bound: 'after', inclusive: false }, 'rows'),
      params: { tenant_id: TENANT, user_id: OWNER, bound_id: '0', limit: PAGE + 1 },
    },
    'list page, admin': {
      sql: listTasksSql({ owner: false, app: false, partial: false, bound: 'after', inclusive: false }, 'rows'),
      params: { tenant_id: TENANT, bound_id: '0', limit: PAGE + 1 },
    },
    'prev-page probe, owner': {
      sql: listTasksSql({ owner: true, app: false, partial: false, bound: 'before', inclusive: false }, 'exists'),
      params: { tenant_id: TENANT, user_id: OWNER, bound_id: '0' },
    },
  });
  const ids = sampleIds(seed.dbPath, o.ids);
  const depths = depthsFor(o.tasks);
  const deepDepth = depths.includes(o.tasks - 1000) ? o.tasks - 1000 : depths[depths.length - 1]!;

  // The service's protective limits are lifted for a throughput measurement: the rate limits, and
  // the cap of 1000 requests per keep-alive connection (past it Node answers 503 and asks the
  // client to reconnect, which autocannon does not do). Tokens are signed with the data
  // directory's local key, as `reload-task token` does.
  const env = { DATA_DIR: seed.dataDir, HOST: '127.0.0.1', PORT: '0', RATE_LIMIT_ENABLED: 'false', HTTP_MAX_REQUESTS_PER_SOCKET: '0', LOG_LEVEL: 'silent' };
  const config = loadConfig(env);
  const localKey = () => loadOrCreateLocalKey(config.dataDir);
  const now = Date.now();
  const ownerToken = await mintToken(config.auth, localKey, { tenantId: TENANT, userId: OWNER, admin: false, expiresInSeconds: 6 * 3600, now });
  const adminToken = await mintToken(config.auth, localKey, { tenantId: TENANT, userId: 'bench-admin', admin: true, expiresInSeconds: 6 * 3600, now });
  const ownerHeaders = { authorization: `Bearer ${ownerToken}` };
  const adminHeaders = { authorization: `Bearer ${adminToken}` };

  // --- What a request costs piece by piece, in this process, before any server opens the file.
  await quiet(o, undefined, 'the in-process cost breakdown');
  const breakdown = await measureBreakdown({
    dbPath: seed.dbPath,
    config,
    token: ownerToken,
    id: ids[0]!,
    deepAfterId: idAtPosition(seed.dbPath, deepDepth),
    budgetMs: o.quick ? 300 : 2000,
  });
  for (const c of [...breakdown.get, ...breakdown.list]) log(`cost: ${c.what}: ${c.us.toFixed(1)} µs (CPU: main thread ${c.mainCpuUs.toFixed(0)} µs, all threads ${c.allCpuUs.toFixed(0)} µs)`);

  // --- The servers: compiled once into a temporary directory (default), or run through tsx. ----
  let build: Build | undefined;
  if (o.server === 'build') {
    log('building the servers (tsc, private output directory)');
    build = buildServers(root, mkdtempSync(join(tmpdir(), 'reload-tasks-bench-api-build-')));
    const dir = build.dir;
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
    if (build.diagnostics) log(`tsc reported (the build is used anyway):\n${build.diagnostics}`);
  }
  const tsx = build === undefined;
  const hello = await spawnServer({ script: build?.helloServer ?? join(here, 'hello-server.ts'), cwd: root, tsx });
  log(`service: starting on ${seed.dbPath}`);
  const api = await spawnServer({
    script: build?.apiServer ?? join(here, 'api-server.ts'),
    cwd: root,
    env: { ...env, BENCH_SOURCE_ROOT: root, ...(build && { BENCH_BUILD_ROOT: build.dir }) },
    tsx,
  });

  let run: ApiRun;
  const profiles: Profiled[] = [];
  try {
    run = await measure(o, hello, api, ids, depths, deepDepth, ownerHeaders, adminHeaders);

    // --- Where the time goes: CPU profiles of the same server after the measured runs (the
    // profiler slows it, so these runs' figures are not reported).
    if (o.profile) {
      for (const [label, paths] of [
        ['GET /api/v1/reload-tasks/{id}', ids.map((id) => `${TASKS_PATH}/${id}`)],
        [`GET /api/v1/reload-tasks?limit=100 at depth ${fmt.int(deepDepth)}`, [run.deepPath]],
      ] as const) {
        const dir = mkdtempSync(join(tmpdir(), 'reload-tasks-bench-prof-'));
        const file = join(dir, 'server.cpuprofile');
        try {
          await api.ask({ cmd: 'profile-start' });
          await load({ label, url: `http://127.0.0.1:${api.port}${paths[0]}`, paths, connections: o.connections[0]!, seconds: o.duration, serverPid: api.pid, headers: ownerHeaders });
          await api.ask({ cmd: 'profile-stop', file });
          profiles.push({ label, summary: summarizeProfile(file, root, INCLUSIVE) });
          log(`profiled ${label}`);
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      }
    }
  } finally {
    await api.stop();
    await hello.stop();
  }

  const saved: Saved = { o, command, started: started.toISOString(), finished: new Date().toISOString(), machine, seed, plans, run, profiles, breakdown, waits, autocannon: autocannonVersion() };
  writeFileSync(o.save, JSON.stringify(saved));
  log(`raw results saved to ${o.save} (--report=${o.save} rewrites the tables from them)`);
  report(saved, o);
}

/** Everything a report is made from, as saved after a run. */
interface Saved {
  o: Options;
  command: string;
  started: string;
  finished: string;
  machine: { nproc: string; lscpu: string; node: string; free: string; git: string };
  seed: SeedInfo;
  plans: Record<string, string[]>;
  run: ApiRun;
  profiles: Profiled[];
  breakdown: { get: Cost[]; list: Cost[] };
  waits: Wait[];
  autocannon: string;
}

/** Prints the tables and verdicts and, unless --no-write, writes the Markdown. */
function report(saved: Saved, flags: Options): void {
  const { o, run, profiles, breakdown, seed } = saved;
  const tables = buildTables({ o, seed, run, profiles, breakdown });
  console.log(`\n${tables.map(tableToText).join('\n\n')}\n`);
  const verdicts = goals(o, run);
  console.log(verdicts.map((v) => `${v.goal}: ${v.verdict}`).join('\n'));
  if (flags.write) {
    const md = markdown({ ...saved, started: new Date(saved.started), finished: new Date(saved.finished), tables, verdicts });
    const outPath = resolve(root, flags.out);
    writeFileSync(outPath, md);
    log(`wrote ${relative(root, outPath)}`);
  }
}

async function measure(
  o: Options,
  hello: ServerProcess,
  api: ServerProcess,
  ids: readonly string[],
  depths: readonly number[],
  deepDepth: number,
  ownerHeaders: Record<string, string>,
  adminHeaders: Record<string, string>,
): Promise<ApiRun> {
  const rss = new RssSampler(api.pid);
  rss.start('idle, after start');
  await sleep(1000);

  const owner = new SequentialClient(api.port, ownerHeaders);
  const admin = new SequentialClient(api.port, adminHeaders);
  try {
    // Sanity: the token works and the ids exist.
    const one = await owner.get(`${TASKS_PATH}/${ids[0]}`);
    if (one.status !== 200 || (JSON.parse(one.body) as { id: string }).id !== ids[0]) throw new Error(`GET by id: ${one.status} ${one.body.slice(0, 200)}`);

    // --- Walk every page from the first, keeping the cursors of the depths measured. ---------
    rss.phase('list: walk of all pages (one at a time)');
    const want = new Set(depths);
    const cursorAt = new Map<number, { path: string; firstId: string }>();
    const walkMs: number[] = [];
    let path: string | undefined = `${TASKS_PATH}?limit=${PAGE}`;
    let rows = 0;
    let lastId = '';
    await quiet(o, api.pid, 'the list walk');
    const walkCpu = cpuWindow(api.pid);
    const walkStart = performance.now();
    while (path !== undefined) {
      const res = await owner.get(path);
      if (res.status !== 200) throw new Error(`list walk at row ${rows}: ${res.status} ${res.body.slice(0, 200)}`);
      walkMs.push(res.ms);
      const page = JSON.parse(res.body) as { data: Array<{ id: string }>; links: { next?: { href: string } } };
      const first = page.data[0];
      if (!first || first.id <= lastId) throw new Error(`list walk at row ${rows}: page is empty or out of order`);
      if (want.has(rows)) cursorAt.set(rows, { path, firstId: first.id });
      rows += page.data.length;
      lastId = page.data[page.data.length - 1]!.id;
      if ((rows / PAGE) % 1000 === 0) log(`list walk: ${fmt.int(rows)} rows`);
      path = page.links.next ? pathOf(page.links.next.href) : undefined;
    }
    const walk: WalkResult = { pages: walkMs.length, rows, seconds: (performance.now() - walkStart) / 1000, latency: percentiles(walkMs), cpu: walkCpu() };
    if (rows !== o.tasks) throw new Error(`list walk: ${rows} rows, expected ${o.tasks}`);
    log(`list walk: ${fmt.int(walk.pages)} pages, ${fmt.int(rows)} rows in ${walk.seconds.toFixed(1)} s; p50 ${fmt.ms(walk.latency.p50)} ms, p99 ${fmt.ms(walk.latency.p99)} ms`);

    // --- Unloaded latency per depth: one request at a time, owner (non-admin) and admin. ------
    rss.phase('list: latency by depth (one at a time)');
    await quiet(o, api.pid, 'the list latency series');
    const depthResults: DepthResult[] = [];
    for (const depth of depths) {
      const at = cursorAt.get(depth)!;
      for (const [caller, client] of [
        ['owner', owner],
        ['admin', admin],
      ] as const) {
        const ms: number[] = [];
        let bytes = 0;
        const warm = Math.min(50, o.depthRequests);
        const cpu = cpuWindow(api.pid);
        for (let i = 0; i < warm + o.depthRequests; i++) {
          const res = await client.get(at.path);
          if (res.status !== 200) throw new Error(`depth ${depth} as ${caller}: ${res.status} ${res.body.slice(0, 200)}`);
          if (i === 0) {
            const page = JSON.parse(res.body) as { data: Array<{ id: string }> };
            if (page.data.length !== PAGE || page.data[0]!.id !== at.firstId) throw new Error(`depth ${depth} as ${caller}: wrong page`);
          }
          if (i >= warm) {
            ms.push(res.ms);
            bytes = Buffer.byteLength(res.body);
          }
        }
        const latency = percentiles(ms);
        depthResults.push({ depth, caller, latency, bytes, cpu: cpu() });
        log(`list at depth ${fmt.int(depth)} as ${caller}: p50 ${fmt.ms(latency.p50)} ms, p99 ${fmt.ms(latency.p99)} ms, max ${fmt.ms(latency.max)} ms`);
      }
    }

    // --- Throughput: rounds of hello world, GET by id and one deep page, back to back. --------
    const deepPath = cursorAt.get(deepDepth)!.path;
    const scenarios: Array<{ scenario: Scenario; server: ServerProcess; paths: readonly string[]; headers?: Record<string, string> }> = [
      { scenario: 'hello', server: hello, paths: ['/'] },
      { scenario: 'get', server: api, paths: ids.map((id) => `${TASKS_PATH}/${id}`), headers: ownerHeaders },
      { scenario: 'deep', server: api, paths: [deepPath], headers: ownerHeaders },
    ];
    const phaseOf: Record<Scenario, string> = { hello: 'autocannon on hello world (service idle)', get: 'autocannon: GET by id', deep: 'autocannon: deep list page' };
    const run1 = (s: (typeof scenarios)[number], c: number, seconds: number, label: string): Promise<LoadResult> =>
      load({
        label,
        url: `http://127.0.0.1:${s.server.port}${s.paths[0]}`,
        ...(s.paths.length > 1 && { paths: s.paths }),
        ...(s.headers && { headers: s.headers }),
        connections: c,
        seconds,
        serverPid: s.server.pid,
      });
    if (o.warmup > 0) {
      for (const s of scenarios) {
        rss.phase(phaseOf[s.scenario]);
        await run1(s, o.connections[0]!, o.warmup, 'warm-up');
      }
    }
    const rounds: Round[] = [];
    for (let round = 1; round <= o.rounds; round++) {
      await quiet(o, api.pid, `autocannon round ${round}`);
      for (const c of o.connections) {
        for (const s of scenarios) {
          rss.phase(phaseOf[s.scenario]);
          const r = await run1(s, c, o.duration, s.scenario);
          if (r.non2xx > 0 || r.errors > 0) {
            const probe = new SequentialClient(s.server.port, s.headers ?? {});
            const sample = await probe.get(s.paths[0]!).then(
              (x) => `${x.status} ${x.body.slice(0, 300)}`,
              (e: unknown) => String(e),
            );
            probe.close();
            throw new Error(`${s.scenario}, ${c} connections: ${r.non2xx} non-2xx answers (${JSON.stringify(r.statuses)}), ${r.errors} errors; a request now: ${sample}`);
          }
          rounds.push({ round, scenario: s.scenario, result: r });
          log(
            `round ${round}, ${s.scenario}, ${c} connections: ${fmt.int(r.rps)} req/s, p50 ${fmt.ms(r.latency.p50)} ms, p99 ${fmt.ms(r.latency.p99)} ms (server ${fmt.pct(r.serverCpu)}, loader ${fmt.pct(r.loaderCpu)}, other ${fmt.pct(r.otherCpu)})`,
          );
        }
      }
    }

    rss.phase('idle, 5 s after the runs');
    await sleep(5000);
    const phases = rss.stop();
    return { rounds, walk, depths: depthResults, deepDepth, deepPath, rss: phases, hwm: rss.hwm, getBytes: Buffer.byteLength(one.body) };
  } finally {
    owner.close();
    admin.close();
    rss.stop();
  }
}

function autocannonVersion(): string {
  try {
    return (JSON.parse(execSync('npm ls autocannon --json --depth=0', { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })) as { dependencies?: { autocannon?: { version?: string } } }).dependencies?.autocannon?.version ?? '8';
  } catch {
    return '8';
  }
}

await main();
