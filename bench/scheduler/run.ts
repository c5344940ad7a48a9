/**
 * Scheduler benchmark on SQLite: sustained firing rate, herds due in the same second, the same on
 * the system clock, a CPU profile of the firing path, and the query plans behind the figures.
 *
 *   node --import tsx bench/scheduler/run.ts            # full run (~12 min; --no-what-if saves ~3), writes docs/benchmarks-scheduler.md
 *   node --import tsx bench/scheduler/run.ts --quick    # small sizes, prints only
 *
 * Flags (sizes): --tasks=N (sustained, 100000)  --warmup-ticks=N (30)  --measure-ticks=N (300)
 *   --distinct-ticks=N (60; 0 skips the distinct-schedules run)  --pipeline-s=S (60; 0 skips)
 *   --herd=N (100000)  --herd-small=N (10000)  --herd-tick-s=S (300: limit for the 100k herd's whole pass)  --sys-s=S (60; sustained on the system clock, 0 skips)
 *   --no-sys (skip system-clock runs)  --no-profile  --profile-ticks=N (40)
 *   --ceiling-rounds=N (2; 0 skips: the scheduler against the store's own statements, ceiling.ts)
 *   --no-what-if  --what-if-ticks=N (30: timed passes of each what-if run of the database set-up)
 *   --quiet-wait=S (60: total seconds to wait for a quiet machine)  --quiet-load=L (1.5)
 *   --write / --no-write  --out=FILE (docs/benchmarks-scheduler.md)
 *   --render-only=FILE  write the doc from the results a previous run saved (its path is printed
 *                       at the end of a run), without running anything
 *
 * Each scenario runs in its own child (child.ts) on a fresh database under /tmp.
 */
import { execSync, spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import * as schedulerSql from '../../src/store/sqlite/scheduler-sql.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import type { Job } from './child.js';
import { summarize } from './profile.js';
import { render, type JobOutcome, type Meta, type Plan, type ProfileOutcome, type Schema } from './report.js';
import type { ScenarioResult, SustainedResult, WhatIf } from './scenarios.js';

const WHAT_IFS: readonly WhatIf[] = ['baseline', 'sync-normal', 'cache-256mb', 'fewer-indexes', 'no-autocheckpoint', 'combined'];

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');

interface Options {
  tasks: number;
  warmupTicks: number;
  measureTicks: number;
  distinctTicks: number;
  ceilingRounds: number;
  pipelineS: number;
  herd: number;
  herdSmall: number;
  /** Time limit of the 100k herd child, whose whole pass (dispatch included) is waited for. */
  herdTickS: number;
  sys: boolean;
  sysS: number;
  profile: boolean;
  profileTicks: number;
  whatIf: boolean;
  whatIfTicks: number;
  quietWaitS: number;
  quietLoad: number;
  write: boolean;
  out: string;
  /** Re-render the doc from a saved results file instead of running. */
  renderOnly: string | undefined;
}

function parseArgs(argv: readonly string[]): Options {
  const o: Options = {
    tasks: 100_000,
    warmupTicks: 30,
    measureTicks: 300,
    distinctTicks: 60,
    ceilingRounds: 2,
    pipelineS: 60,
    herd: 100_000,
    herdSmall: 10_000,
    herdTickS: 300,
    sys: true,
    sysS: 60,
    profile: true,
    profileTicks: 40,
    whatIf: true,
    whatIfTicks: 30,
    quietWaitS: 60,
    quietLoad: 1.5,
    write: true,
    out: join(root, 'docs', 'benchmarks-scheduler.md'),
    renderOnly: undefined,
  };
  let writeSet = false;
  for (const a of argv) {
    const [k, v] = a.split('=') as [string, string | undefined];
    const num = (): number => {
      const n = Number(v);
      if (v === undefined || !Number.isFinite(n) || n < 0) throw new Error(`${k}: expected a number, got ${v}`);
      return n;
    };
    switch (k) {
      case '--quick':
        Object.assign(o, { tasks: 10_000, warmupTicks: 5, measureTicks: 60, distinctTicks: 30, pipelineS: 10, herd: 10_000, herdSmall: 2_000, sysS: 15, profileTicks: 30, whatIfTicks: 20, quietWaitS: 0 });
        if (!writeSet) o.write = false;
        break;
      case '--tasks': o.tasks = num(); break;
      case '--warmup-ticks': o.warmupTicks = num(); break;
      case '--measure-ticks': o.measureTicks = num(); break;
      case '--distinct-ticks': o.distinctTicks = num(); break;
      case '--pipeline-s': o.pipelineS = num(); break;
      case '--herd': o.herd = num(); break;
      case '--herd-small': o.herdSmall = num(); break;
      case '--herd-tick-s': o.herdTickS = num(); break;
      case '--sys-s': o.sysS = num(); break;
      case '--no-sys': o.sys = false; break;
      case '--ceiling-rounds': o.ceilingRounds = num(); break;
      case '--no-profile': o.profile = false; break;
      case '--profile-ticks': o.profileTicks = num(); break;
      case '--no-what-if': o.whatIf = false; break;
      case '--what-if-ticks': o.whatIfTicks = num(); break;
      case '--quiet-wait': o.quietWaitS = num(); break;
      case '--quiet-load': o.quietLoad = num(); break;
      case '--write': o.write = true; writeSet = true; break;
      case '--no-write': o.write = false; writeSet = true; break;
      case '--out': o.out = v ?? o.out; break;
      case '--render-only': o.renderOnly = v; break;
      default: throw new Error(`unknown argument ${a}`);
    }
  }
  return o;
}

const log = (s: string): void => void process.stderr.write(`[bench:scheduler] ${s}\n`);

function sh(cmd: string): string {
  try {
    return execSync(cmd, { encoding: 'utf8', shell: '/bin/sh', cwd: root }).trimEnd();
  } catch (e) {
    return `(${cmd} failed: ${(e as Error).message.split('\n')[0]})`;
  }
}

/** Waits while the 1-minute load average is at or above the threshold, within what is left of the budget. */
function quietWait(state: { leftS: number }, threshold: number): number {
  const t0 = Date.now();
  let said = false;
  while (loadavg()[0]! >= threshold && (Date.now() - t0) / 1000 < state.leftS) {
    if (!said) log(`load average ${loadavg()[0]!.toFixed(2)}: waiting (up to ${state.leftS.toFixed(0)} s left) for it to fall below ${threshold}`);
    said = true;
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5000);
  }
  const waited = (Date.now() - t0) / 1000;
  state.leftS = Math.max(0, state.leftS - waited);
  return waited;
}

function runChild(job: Job, timeoutS: number, nodeArgs: string[] = []): { result: unknown; failure: string | undefined; seconds: number } {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [...nodeArgs, '--import', 'tsx', join(here, 'child.ts'), JSON.stringify(job)], {
    cwd: root,
    stdio: ['ignore', 'inherit', 'inherit'],
    timeout: timeoutS * 1000,
    killSignal: 'SIGKILL',
  });
  const seconds = (performance.now() - t0) / 1000;
  let result: unknown;
  try {
    result = JSON.parse(readFileSync(job.out, 'utf8'));
  } catch {
    result = undefined;
  }
  let failure: string | undefined;
  if (r.signal) failure = `killed after ${timeoutS} s (${r.signal})`;
  else if (r.status !== 0) failure = `exit status ${r.status}`;
  if (result === undefined && !failure) failure = 'no result written';
  return { result, failure, seconds };
}

/** EXPLAIN QUERY PLAN on a freshly migrated database (no ANALYZE, as the store runs it). */
function explain(dir: string, extra: ReadonlyArray<{ name: string; sql: string }>): { plans: Plan[]; schema: Schema } {
  const path = join(dir, 'explain.db');
  const store = SqliteStore.open({ path });
  void store.close();
  const db = new Database(path, { readonly: true });
  try {
    const wanted = ['DUE_TASKS', 'NEXT_DUE', 'OLD_QUEUED', 'OLDEST_QUEUED', 'EXPIRED_LEASES', 'RUNNING_BY_TENANT', 'QUEUED_TENANTS', 'TENANT_QUEUED_WEIGHTED', 'TENANT_QUEUED', 'ACTIVE_WALK'] as const;
    const list = [...wanted.map((n) => ({ name: n, sql: (schedulerSql as Record<string, unknown>)[n] as string })), ...extra];
    const indexes = db.prepare(`SELECT tbl_name AS "table", name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL ORDER BY tbl_name, name`).all() as Schema['indexes'];
    const plans: Plan[] = [];
    for (const { name, sql } of list) {
      if (typeof sql !== 'string') continue;
      const params: Record<string, unknown> = {};
      for (const m of sql.matchAll(/@(\w+)/g)) params[m[1]!] = 0;
      try {
        const rows = db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(params) as Array<{ detail: string }>;
        plans.push({ name, sql, plan: rows.map((r) => r.detail) });
      } catch (e) {
        plans.push({ name, sql, plan: [`(could not explain: ${(e as Error).message})`] });
      }
    }
    const cache = /SCHEDULE_CACHE\s*=\s*([\d_]+)/.exec(readFileSync(join(root, 'src', 'scheduler', 'scheduler.ts'), 'utf8'))?.[1];
    return { plans, schema: { indexes, scheduleCache: cache ? Number(cache.replace(/_/g, '')) : null } };
  } finally {
    db.close();
  }
}

interface Saved {
  jobs: JobOutcome[];
  profile: ProfileOutcome | undefined;
  plans: Plan[];
  schema: Schema;
  meta: Omit<Meta, 'started'> & { started: string };
  write: boolean;
}

function output(saved: Saved, o: Options): void {
  const { markdown, headline } = render(saved.jobs, saved.profile, saved.plans, saved.schema, { ...saved.meta, started: new Date(saved.meta.started) });
  console.log(headline.join('\n'));
  if (o.write) {
    writeFileSync(o.out, `# Benchmarks: scheduler\n\nThe full report behind the summary in docs/benchmarks.md. Generated by \`node --import tsx bench/scheduler/run.ts\`.\n\n${markdown}\n`);
    log(`wrote ${relative(process.cwd(), o.out)}`);
  } else {
    writeFileSync(join(tmpdir(), 'benchmarks-scheduler.preview.md'), markdown);
    log(`not written (--quick / --no-write); preview in ${join(tmpdir(), 'benchmarks-scheduler.preview.md')}`);
  }
}

function main(): void {
  const o = parseArgs(process.argv.slice(2));
  if (o.renderOnly) {
    const saved = JSON.parse(readFileSync(o.renderOnly, 'utf8')) as Saved;
    output(saved, o);
    return;
  }
  const started = new Date();
  const t0 = performance.now();
  const tmp = mkdtempSync(join(tmpdir(), 'reload-tasks-bench-sched-run-'));
  const quiet = { leftS: o.quietWaitS };
  const jobs: JobOutcome[] = [];
  const run = (label: string, title: string, make: (out: string) => Job, timeoutS: number): void => {
    const waitedS = quietWait(quiet, o.quietLoad);
    const loadAtStart = loadavg()[0]!;
    log(`${title}...`);
    const job = make(join(tmp, `${label}.json`));
    const { result, failure, seconds } = runChild(job, timeoutS);
    if (failure) log(`${title}: ${failure}`);
    else log(`${title}: done in ${seconds.toFixed(0)} s`);
    jobs.push({ label, title, seconds, waitedS, loadAtStart, result: result as ScenarioResult | undefined, failure });
  };

  try {
    run('sustained-fire', `sustained firing, ${o.tasks} tasks, shared schedules`, (out) => ({
      kind: 'sustained', label: 'sustained-fire', out,
      options: { tasks: o.tasks, mix: 'shared', mode: 'fire', warmupTicks: o.warmupTicks, measureTicks: o.measureTicks, budgetS: 0, sqlTiming: true },
    }), 1800);
    if (o.distinctTicks > 0) {
      run('sustained-fire-distinct', `sustained firing, ${o.tasks} tasks, distinct schedules`, (out) => ({
        kind: 'sustained', label: 'sustained-fire-distinct', out,
        options: { tasks: o.tasks, mix: 'distinct', mode: 'fire', warmupTicks: o.warmupTicks, measureTicks: o.distinctTicks, budgetS: 0 },
      }), 900);
    }
    if (o.ceilingRounds > 0) {
      // The scheduler and the store's own statements without it (ceiling.ts), each on a copy of one
      // seeded database, alternating, so that the machine's speed of the moment weighs on each alike.
      const seeded = join(tmp, 'ceiling-seed.db');
      const seedJob: Job = { kind: 'seed-sustained', label: 'ceiling-seed', out: join(tmp, 'ceiling-seed.json'), options: { tasks: o.tasks, mix: 'shared', mode: 'fire', warmupTicks: 0, measureTicks: 0, budgetS: 0, db: seeded } };
      const s = runChild(seedJob, 600);
      if (s.failure) log(`ceiling: seeding failed: ${s.failure}`);
      else {
        const ticks = { warmupTicks: 30, measureTicks: 60 };
        for (let round = 1; round <= o.ceilingRounds; round++) {
          for (const v of ['scheduler', 'as-shipped', 'row-and-advance'] as const) {
            const db = join(tmp, `ceiling-${v}-${round}.db`);
            copyFileSync(seeded, db);
            const label = `ceiling-${v}-${round}`;
            run(label, `ceiling round ${round}: ${v === 'scheduler' ? 'the scheduler' : `the store's statements alone, ${v}`}`, (out) =>
              v === 'scheduler'
                ? { kind: 'sustained', label, out, options: { tasks: o.tasks, mix: 'shared', mode: 'fire', ...ticks, budgetS: 0, db } }
                : { kind: 'ceiling', label, out, options: { variant: v, db, ...ticks } },
            600);
            for (const f of readdirSync(tmp)) if (f.startsWith(`ceiling-${v}-${round}.db`)) rmSync(join(tmp, f), { force: true });
          }
        }
      }
    }
    if (o.pipelineS > 0) {
      run('sustained-pipeline', `firing + dispatch, ${o.tasks} tasks, ${o.pipelineS} s`, (out) => ({
        kind: 'sustained', label: 'sustained-pipeline', out,
        options: { tasks: o.tasks, mix: 'shared', mode: 'pipeline', warmupTicks: 1, measureTicks: 100_000, budgetS: o.pipelineS },
      }), o.pipelineS + 600);
    }
    run('herd-100k', `herd of ${o.herd}, shared schedule, whole tick (at most ${o.herdTickS} s)`, (out) => ({ kind: 'herd', label: 'herd-100k', out, options: { tasks: o.herd, mix: 'shared', finishTick: true } }), o.herdTickS);
    run('herd-100k-distinct', `herd of ${o.herd}, distinct schedules`, (out) => ({ kind: 'herd', label: 'herd-100k-distinct', out, options: { tasks: o.herd, mix: 'distinct', finishTick: false } }), 900);
    run('herd-10k', `herd of ${o.herdSmall}, shared schedule, whole tick`, (out) => ({ kind: 'herd', label: 'herd-10k', out, options: { tasks: o.herdSmall, mix: 'shared', finishTick: true } }), 900);
    run('herd-10k-distinct', `herd of ${o.herdSmall}, distinct schedules`, (out) => ({ kind: 'herd', label: 'herd-10k-distinct', out, options: { tasks: o.herdSmall, mix: 'distinct', finishTick: false } }), 600);
    if (o.sys) {
      run('herd-sys-100k', `system clock: herd of ${o.herd}`, (out) => ({ kind: 'herd-sys', label: 'herd-sys-100k', out, options: { tasks: o.herd, mix: 'shared' } }), 900);
      run('herd-sys-10k', `system clock: herd of ${o.herdSmall}`, (out) => ({ kind: 'herd-sys', label: 'herd-sys-10k', out, options: { tasks: o.herdSmall, mix: 'shared' } }), 600);
      if (o.sysS > 0) {
        run('sustained-sys', `system clock: ${o.tasks} minutely tasks with dispatch, ${o.sysS} s`, (out) => ({
          kind: 'sustained-sys', label: 'sustained-sys', out, options: { tasks: o.tasks, mix: 'shared', seconds: o.sysS },
        }), o.sysS + 900);
      }
    }

    // What-if runs: the fire scenario on the bench's database with one set-up change each.
    if (o.whatIf) {
      for (const w of WHAT_IFS) {
        run(`whatif-${w}`, `what-if ${w}, ${o.tasks} tasks`, (out) => ({
          kind: 'sustained', label: `whatif-${w}`, out,
          options: { tasks: o.tasks, mix: 'shared', mode: 'fire', warmupTicks: o.warmupTicks, measureTicks: o.whatIfTicks, budgetS: 0, sqlTiming: true, whatIf: w },
        }), 900);
      }
    }

    // The profile: seed in one child, then profile only the passes in another.
    let profile: ProfileOutcome | undefined;
    if (o.profile) {
      quietWait(quiet, o.quietLoad);
      const db = join(tmp, 'profile', 'sched.db');
      const profDir = join(tmp, 'profile');
      const options = { tasks: o.tasks, mix: 'shared' as const, mode: 'fire' as const, warmupTicks: o.warmupTicks, measureTicks: o.profileTicks, budgetS: 0, db };
      log('profile: seeding...');
      const seeded = runChild({ kind: 'seed-sustained', label: 'profile-seed', out: join(tmp, 'profile-seed.json'), options }, 600);
      const command = `node --cpu-prof --cpu-prof-dir=<tmp> --import tsx bench/scheduler/child.ts '{"kind":"sustained","options":{"tasks":${o.tasks},"mix":"shared","mode":"fire","warmupTicks":${o.warmupTicks},"measureTicks":${o.profileTicks},"budgetS":0,"db":"<seeded>"}}'`;
      if (seeded.failure) profile = { command, summary: undefined, result: undefined, failure: `seeding: ${seeded.failure}` };
      else {
        log('profile: running under --cpu-prof...');
        const r = runChild({ kind: 'sustained', label: 'profile', out: join(tmp, 'profile.json'), options }, 1200, ['--cpu-prof', `--cpu-prof-dir=${profDir}`]);
        // One file per thread (tsx's loader has its own); the busiest one is the main thread.
        const files = readdirSync(profDir).filter((f) => f.endsWith('.cpuprofile')).map((f) => join(profDir, f));
        const summaries = files.map((f) => ({ f, s: summarize(f, root, 25, ['fireDue', 'sqliteTransaction', 'planFirings', 'scheduleOf', 'compileSchedule', 'fromRow', 'reloadToRow', 'newReloadId', 'randomBytes', 'expireQueued', 'nextLeaseExpiry', 'takeExpiredLeases']) }));
        const busy = (s: ReturnType<typeof summarize>): number => s.totalMs - s.top.filter((t) => t.fn === '(idle)').reduce((a, t) => a + t.selfMs, 0);
        const best = summaries.sort((a, b) => busy(b.s) - busy(a.s))[0];
        const main = best?.s;
        if (best) {
          const kept = join(tmpdir(), 'reload-tasks-bench-scheduler.cpuprofile');
          copyFileSync(best.f, kept);
          log(`profile kept in ${kept}`);
        }
        profile = { command, summary: main, result: r.result as SustainedResult | undefined, failure: r.failure ?? (main ? undefined : 'no .cpuprofile written') };
        if (main) {
          log('profile: top self time');
          for (const t of main.top.slice(0, 15)) log(`  ${t.selfMs.toFixed(0).padStart(7)} ms ${t.selfPct.toFixed(1).padStart(5)} %  ${t.fn}`);
        }
      }
    }

    const fireRun = jobs.find((j) => j.label === 'sustained-fire')?.result as SustainedResult | undefined;
    const extra = Object.entries(fireRun?.statements ?? {})
      .filter(([name, e]) => !/\((scheduler|reload|task)-sql\)$/.test(name) && /reloads/.test(e.sql) && /^SELECT/i.test(e.sql.trim()))
      .map(([, e]) => ({ name: e.sql.replace(/\s+/g, ' ').slice(0, 80), sql: e.sql }));
    const { plans, schema } = explain(tmp, extra);
    const totalSeconds = (performance.now() - t0) / 1000;
    const command = `cd ${root} && node --import tsx bench/scheduler/run.ts${process.argv.slice(2).length ? ' ' + process.argv.slice(2).join(' ') : ''}`;
    const dirtySrc = sh('git status --porcelain -- src migrations package.json').split('\n').filter(Boolean).map((l) => l.slice(3)).join(', ');
    const saved: Saved = {
      jobs,
      profile,
      plans,
      schema,
      meta: {
        started: started.toISOString(),
        totalSeconds,
        command,
        machine: { nproc: sh('nproc'), lscpu: sh('lscpu | head -20'), node: sh('node -v'), free: sh('free -g') },
        source: { commit: sh('git rev-parse --short HEAD'), dirty: dirtySrc },
        quietWait: { thresholdLoad: o.quietLoad, budgetS: o.quietWaitS },
      },
      write: o.write,
    };
    const savedPath = join(tmpdir(), 'reload-tasks-bench-scheduler.results.json');
    writeFileSync(savedPath, JSON.stringify(saved));
    log(`total ${totalSeconds.toFixed(0)} s; results saved in ${savedPath}`);
    output(saved, o);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

main();
