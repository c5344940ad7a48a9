/**
 * The scheduler benchmark's scenarios. Each runs in its own child process (child.ts) on its own
 * fresh database under /tmp, and returns a JSON-serialisable result.
 *
 * - sustained (ManualClock): N tasks `FREQ=MINUTELY` whose seconds are spread over the minute; the
 *   clock steps 1 s per pass (tick()). Mode `fire`: what tick() costs when it only fires (select due,
 *   plan, insert the occurrence row and the QUEUED reload row, advance the task, one transaction per
 *   1000 tasks; plus the rest of the pass: expiry check, lease checks): OVERLAP_POLICY=queue, and the
 *   one dispatch slot is taken by a reload that runs all along, so dispatch() returns at once and the
 *   queue grows by every firing. Mode `pipeline`: the real dispatcher too (simulated executor, 0 ms,
 *   limits raised, default overlap policy): each pass is timed until every reload it queued has been
 *   started and finished; time-boxed, because its cost grows pass by pass.
 * - herd (ManualClock): N tasks due in the same second; the clock is set to it and tick() runs once.
 * - herd-sys / sustained-sys: the same shapes on the system clock with scheduler.start().
 *
 * `early` ends the child as soon as a result is complete (the write-up of a herd does not wait for
 * the dispatcher's claim query that follows in the same pass; see the report).
 */
import { copyFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import Database from 'better-sqlite3';
import { ManualClock, systemClock } from '../../src/clock.js';
import { queuedReload } from '../../src/reloads/reload.js';
import { reloadToValues } from '../../src/store/reload-row.js';
import { DEFAULT_SETTLER_OPTIONS, type SettleStatus } from '../../src/store/sqlite/key-settler.js';
import { INSERT_RELOAD, KEY_LEVELS } from '../../src/store/sqlite/reload-sql.js';
import type { FiredOccurrence } from '../../src/store/store.js';
import type { CeilingResult } from './ceiling.js';
import type { TaskCreate } from '../../src/tasks/task.js';
import { openRig, ownerOf, seed, tempDb, utcLocal, type OpTimes, type Rig, type SeedResult, type SeedSpec } from './rig.js';
import { timeStatements, type StatementTimes } from './sql-timing.js';
import { dist, weightedDist, type Dist } from './stats.js';

export type Mix = 'shared' | 'distinct';

/** ManualClock scenarios start here (a Monday). */
export const T0 = Date.parse('2027-01-04T08:00:00Z');
/** The ManualClock herd's second. */
export const HERD_AT = Date.parse('2027-01-04T09:00:00Z');
const ZONES = ['UTC', 'Europe/Zurich', 'America/New_York'] as const;
const pad = (n: number): string => String(n).padStart(2, '0');

// ---------------------------------------------------------------------------------------------
// Task shapes

/**
 * `FREQ=MINUTELY` in three zones; task i fires at second i mod 60 of every minute, so 1/60 of the
 * tasks are due each second. `shared`: 60 distinct schedules (start: the day `startDay`, 00:00:SS
 * local), all in the scheduler's compiled-schedule cache. `distinct`: every task has its own
 * startDateTime (i minutes and i mod 60 seconds after 100,000 minutes before `startDay`), as tasks
 * created one by one would, so there are N distinct schedules: more than the scheduler's cache holds
 * (10,000). `startDay` must be at least a day before `now`.
 */
export function minutelySpec(count: number, mix: Mix, now: number, startDay = Date.parse('2027-01-01T00:00:00Z')): SeedSpec {
  const base = startDay - 100_000 * 60_000;
  return {
    count,
    now,
    make(i) {
      const second = i % 60;
      const startDateTime = mix === 'shared' ? utcLocal(startDay + second * 1000) : utcLocal(base + i * 60_000 + second * 1000);
      const body: TaskCreate = { appId: `app-${i}`, timeZone: ZONES[i % ZONES.length]!, startDateTime, recurrence: ['RRULE:FREQ=MINUTELY'] };
      return { body, owner: ownerOf(i) };
    },
  };
}

/**
 * Daily at the UTC time of day of `at` (`FREQ=DAILY;BYHOUR=…;BYMINUTE=…;BYSECOND=…`), so every task's
 * next execution after `now` is `at`. `shared`: one schedule (start 3 days before). `distinct`: task
 * i starts (i mod 1000 + 1) days and floor(i / 1000) seconds before `at`: N distinct schedules.
 */
export function dailySpec(count: number, mix: Mix, at: number, now: number): SeedSpec {
  const d = new Date(at);
  const rule = `RRULE:FREQ=DAILY;BYHOUR=${d.getUTCHours()};BYMINUTE=${d.getUTCMinutes()};BYSECOND=${d.getUTCSeconds()}`;
  return {
    count,
    now,
    make(i) {
      const start = mix === 'shared' ? at - 3 * 86_400_000 : at - ((i % 1000) + 1) * 86_400_000 - Math.floor(i / 1000) * 1000;
      const body: TaskCreate = { appId: `app-${i}`, timeZone: 'UTC', startDateTime: utcLocal(start), recurrence: [rule] };
      return { body, owner: ownerOf(i) };
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Shared bits

export interface Counts {
  fired: number;
  skipped: number;
  missed: number;
}

function count(into: Counts, occurrences: readonly FiredOccurrence[]): void {
  for (const o of occurrences) into[o.outcome] += 1;
}

export interface RunConditions {
  /** 1-minute load average at the start and end of the timed part. */
  readonly loadStart: number;
  readonly loadEnd: number;
  readonly wallMs: number;
  /** This process's CPU time (user + system, all threads) over the timed part. */
  readonly userMs: number;
  readonly systemMs: number;
  /** user + system over wall. */
  readonly cpuShare: number;
  /**
   * The main thread's time from /proc/self/schedstat: on a CPU, and runnable but waiting for one
   * (other processes had the CPUs); the rest of the wall time it was blocked (I/O, fsync, timers).
   */
  readonly mainOnCpuMs: number | null;
  readonly mainRunnableWaitMs: number | null;
  readonly mainBlockedMs: number | null;
  /** /proc/self/io: bytes this process caused to be read from / written to the storage device. */
  readonly readBytes: number | null;
  readonly writeBytes: number | null;
  /**
   * cpuProbeMs() just before the timed part: the machine's CPU speed of the moment. On the 2-core VM
   * of these runs it read 388–522 ms within minutes (2026-12-07), and herds took up to 1.8× longer
   * in the slow spells, with the same code.
   */
  readonly cpuProbeMs: number | null;
}

/** A fixed loop of 3·10^8 integer steps, timed (ms): what the same CPU work takes right now. */
export function cpuProbeMs(): number {
  const t = performance.now();
  let x = 0;
  for (let i = 0; i < 3e8; i++) x += i % 7;
  if (x < 0) throw new Error('unreachable');
  return performance.now() - t;
}

/** The main thread's total runnable-but-waiting time so far (ms), or 0 where schedstat is missing. */
export function runnableWaitMs(): number {
  return schedstat()?.[1] ?? 0;
}

function schedstat(): [number, number] | null {
  try {
    const [run, wait] = readFileSync('/proc/self/schedstat', 'utf8').trim().split(/\s+/).map(Number);
    return [run! / 1e6, wait! / 1e6];
  } catch {
    return null;
  }
}

function io(): { read: number; write: number } | null {
  try {
    const text = readFileSync('/proc/self/io', 'utf8');
    const get = (k: string): number => Number(new RegExp(`^${k}: (\\d+)$`, 'm').exec(text)?.[1] ?? NaN);
    return { read: get('read_bytes'), write: get('write_bytes') };
  } catch {
    return null;
  }
}

/** @param probe run cpuProbeMs() first (true), or the reading of one taken earlier (where the probe's time would be in the way). */
export function conditions(probe: boolean | number = true): () => RunConditions {
  const cpuProbe = probe === true ? cpuProbeMs() : probe === false ? null : probe;
  const loadStart = loadavg()[0]!;
  const cpu0 = process.cpuUsage();
  const s0 = schedstat();
  const io0 = io();
  const t0 = performance.now();
  return () => {
    const wallMs = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    const s1 = schedstat();
    const io1 = io();
    const onCpu = s0 && s1 ? s1[0] - s0[0] : null;
    const waiting = s0 && s1 ? s1[1] - s0[1] : null;
    return {
      loadStart,
      loadEnd: loadavg()[0]!,
      wallMs,
      userMs: cpu.user / 1000,
      systemMs: cpu.system / 1000,
      cpuShare: (cpu.user + cpu.system) / 1000 / wallMs,
      mainOnCpuMs: onCpu,
      mainRunnableWaitMs: waiting,
      mainBlockedMs: onCpu !== null && waiting !== null ? wallMs - onCpu - waiting : null,
      readBytes: io0 && io1 ? io1.read - io0.read : null,
      writeBytes: io0 && io1 ? io1.write - io0.write : null,
      cpuProbeMs: cpuProbe,
    };
  };
}

function cloneOps(times: OpTimes): OpTimes {
  return JSON.parse(JSON.stringify(times)) as OpTimes;
}

export type Audit = { occurrences: number; reloads: number; duplicates: number; leftDue: number };

/** Checks the database after a run: what was recorded, and that nothing due was left behind. */
function audit(path: string, now: number): Audit {
  const db = new Database(path, { readonly: true });
  try {
    const n = (q: string, p: Record<string, unknown> = {}): number => (db.prepare(q).get(p) as { n: number }).n;
    return {
      // Every occurrence recorded: missed and skipped ones are rows in `occurrences`, fired ones their reloads.
      occurrences: n('SELECT count(*) AS n FROM occurrences') + n(`SELECT count(*) AS n FROM reloads WHERE type = 'chronos'`),
      reloads: n(`SELECT count(*) AS n FROM reloads WHERE type = 'chronos'`),
      // Occurrences recorded twice: two reloads, or a reload and an occurrences row.
      duplicates: n(`SELECT count(*) AS n FROM (
        SELECT task_id, nominal_time FROM (SELECT resource_id AS task_id, scheduled_time AS nominal_time FROM reloads WHERE type = 'chronos'
          UNION ALL SELECT task_id, nominal_time FROM occurrences) GROUP BY 1, 2 HAVING count(*) > 1)`),
      leftDue: n(`SELECT count(*) AS n FROM reload_tasks WHERE state = 'Enabled' AND next_execution_time <= @now`, { now }),
    };
  } finally {
    db.close();
  }
}

/** Writes a finished result and ends the process (used when the rest of a pass is not waited for). */
export type Early = (result: ScenarioResult) => never;
/** Writes a result that is complete so far; a later one replaces it (kept if the child is killed). */
export type Checkpoint = (result: ScenarioResult) => void;

// ---------------------------------------------------------------------------------------------
// Sustained firing (ManualClock)

export interface SustainedOptions {
  readonly tasks: number;
  readonly mix: Mix;
  readonly mode: 'fire' | 'pipeline';
  /** Passes (1 s each) before the timed window. */
  readonly warmupTicks: number;
  /** Timed passes (at most). */
  readonly measureTicks: number;
  /** Stop timing new passes after this much wall time (pipeline), 0 for no limit. */
  readonly budgetS: number;
  /** Use this already-seeded database (seeded with the same shape) instead of a fresh one. */
  readonly db?: string | undefined;
  /** Time every SQL statement (sql-timing.ts). */
  readonly sqlTiming?: boolean | undefined;
  /** A change to the database set-up, tried on the bench's copy only (src/ is not changed). */
  readonly whatIf?: WhatIf | undefined;
  /** The key settler's high-water mark for the moves after each pass (its default when not given). */
  readonly settleHighWater?: number | undefined;
}

/**
 * What-if variants of the store's set-up, applied to the bench's own database to test the report's
 * suggestions: `sync-normal`: PRAGMA synchronous = NORMAL (WAL: no fsync per commit);
 * `cache-256mb`: PRAGMA cache_size = -262144; `fewer-indexes`: without the reloads' lists by owner,
 * app and task (before migration 9 three indexes; since, the trigger that writes their keys);
 * `no-autocheckpoint`: PRAGMA wal_autocheckpoint = 0 (no checkpoint inside COMMIT; the WAL grows);
 * `mmap-4gb`: PRAGMA mmap_size = 4 GiB (pages read through a memory map instead of read calls);
 * `combined`: all four.
 */
export type WhatIf = 'baseline' | 'sync-normal' | 'cache-256mb' | 'fewer-indexes' | 'no-autocheckpoint' | 'mmap-4gb' | 'combined';
export const DROPPED_LISTS = ['DROP INDEX IF EXISTS reloads_by_user', 'DROP INDEX IF EXISTS reloads_by_app', 'DROP INDEX IF EXISTS reloads_by_resource', 'DROP TRIGGER IF EXISTS reloads_keys_insert'] as const;

/** One timed pass. */
export interface Pass {
  readonly fired: number;
  /** tick() (fire), or tick() until every reload it queued finished (pipeline). */
  readonly ms: number;
  /** Store time per operation in this pass. */
  readonly ops: Record<string, number>;
  /** Chronos reloads in the table after the pass. */
  readonly reloads: number;
  /** Of ms, how long the main thread was runnable but waiting for a CPU (other processes). */
  readonly waitMs: number;
  /** Of ms, moving the list keys above the settler's high-water mark into their large level. */
  readonly settleMs: number;
}

export interface SustainedResult {
  readonly kind: 'sustained';
  readonly options: SustainedOptions;
  readonly env: Record<string, string>;
  readonly seed: SeedResult | undefined;
  readonly counts: Counts;
  /** Reloads finished during the timed window (pipeline). */
  readonly finished: number;
  /** Wall time of the timed passes. */
  readonly busyMs: number;
  /** Of which in tick() itself (pipeline: the rest is the dispatched runs finishing). */
  readonly tickMs: number;
  readonly passMs: Dist;
  readonly passes: Pass[];
  readonly ops: OpTimes;
  readonly audit: Audit;
  readonly conditions: RunConditions;
  readonly heapMb: number;
  readonly statements: StatementTimes | undefined;
  /** The list keys at the end: waiting in the small level, and moved during the run. */
  readonly settle: SettleStatus;
}

export function sustainedEnv(mode: SustainedOptions['mode']): Record<string, string> {
  return mode === 'fire'
    ? // Fire every occurrence even though the previous reload is queued; one slot, taken by the first
      // reload for the whole run (it lasts a day), so dispatch() returns at once.
      { OVERLAP_POLICY: 'queue', SIMULATED_DURATION_MS: '86400000', MAX_CONCURRENT_RELOADS: '1', RELOAD_TIMEOUT_MINUTES: '10080' }
    : { SIMULATED_DURATION_MS: '0', MAX_CONCURRENT_RELOADS: '100000', MAX_CONCURRENT_RELOADS_PER_TENANT: '100000' };
}

export async function seedSustained(path: string, o: Pick<SustainedOptions, 'tasks' | 'mix'> & { historyRounds?: number }): Promise<SeedResult & { history?: number }> {
  const seeded = await seed(path, minutelySpec(o.tasks, o.mix, T0 - 1));
  if (!o.historyRounds) return seeded;
  return { ...seeded, history: addHistory(path, o.historyRounds) };
}

/**
 * Reloads on record, as a service that has run for a while has them: per round, one finished
 * scheduled reload of every task (its app, owner and id), rounds a minute apart and all ended an
 * hour before T0, so retention keeps them and the sustained run's firings go into full indexes.
 * Returns how many were added.
 */
function addHistory(path: string, rounds: number): number {
  const db = new Database(path);
  try {
    db.pragma('synchronous = OFF'); // nobody else uses the file while it is seeded
    const tasks = db.prepare('SELECT id, tenant_id, user_id, app_id FROM reload_tasks').all() as Array<{ id: string; tenant_id: string; user_id: string; app_id: string }>;
    const insert = db.prepare(INSERT_RELOAD);
    for (let round = 0; round < rounds; round++) {
      db.transaction(() => {
        for (const [i, t] of tasks.entries()) {
          const at = T0 - 3_600_000 - (rounds - round) * 60_000 + (i % 60) * 1000;
          const r = queuedReload({ tenantId: t.tenant_id, userId: t.user_id, appId: t.app_id, partial: false, type: 'chronos', resourceType: 'reload-tasks', resourceId: t.id, scheduledTime: at }, at);
          insert.run(reloadToValues({ ...r, status: 'SUCCEEDED', startTime: at, endTime: at + 1000, executor: 'simulated' }, 'integer'));
        }
      })();
    }
    // A running service moves the keys of finished reloads into the large level of the lists (the
    // store's key settler) long before their retention ends: history starts there, as it would.
    for (const level of Object.values(KEY_LEVELS)) {
      db.exec(`INSERT INTO ${level.settled} SELECT * FROM ${level.fresh} ORDER BY 1, 2, 3; DELETE FROM ${level.fresh}`);
    }
    db.pragma('wal_checkpoint(TRUNCATE)');
    return rounds * tasks.length;
  } finally {
    db.close();
  }
}

const PASS_OPS = ['fireDue', 'expireQueued', 'nextLeaseExpiry', 'takeExpiredLeases', 'claimQueued', 'finishReload', 'finishReloads'] as const;

export async function sustained(o: SustainedOptions, log: (s: string) => void): Promise<SustainedResult> {
  const tmp = o.db ? undefined : tempDb('sustained');
  const path = o.db ?? tmp!.path;
  try {
    const seeded = o.db ? undefined : await seedSustained(path, o);
    if (seeded) log(`seeded ${seeded.tasks} tasks (${seeded.distinctSchedules} distinct schedules) in ${seeded.seconds.toFixed(1)} s`);
    const env = sustainedEnv(o.mode);
    const sqlTimes = o.sqlTiming ? timeStatements() : undefined;
    const clock = new ManualClock(T0 - 1000);
    const w = o.whatIf;
    const has = (x: WhatIf): boolean => w === x || w === 'combined';
    if (has('fewer-indexes')) {
      const db = new Database(path);
      for (const drop of DROPPED_LISTS) db.exec(drop);
      db.close();
    }
    const rig = openRig(path, clock, env);
    if (w && w !== 'baseline' && w !== 'fewer-indexes') {
      // The store's connection is private; reached here for the what-if only.
      const db = (rig.store as unknown as { db: Database.Database }).db;
      if (has('sync-normal')) db.pragma('synchronous = NORMAL');
      if (has('cache-256mb')) db.pragma('cache_size = -262144');
      if (has('no-autocheckpoint')) db.pragma('wal_autocheckpoint = 0');
      if (w === 'mmap-4gb') db.pragma(`mmap_size = ${4 * 1024 ** 3}`);
    }
    try {
      const counts: Counts = { fired: 0, skipped: 0, missed: 0 };
      let measuring = false;
      let finished = 0;
      let passFired = 0;
      let reloadsInTable = 0; // every firing inserts one (the table starts empty)
      rig.scheduler.on('recorded', (occurrences) => {
        for (const oc of occurrences) if (oc.outcome === 'fired') reloadsInTable += 1;
        if (!measuring) return;
        count(counts, occurrences);
        for (const oc of occurrences) if (oc.outcome === 'fired') passFired += 1;
      });
      rig.scheduler.on('finished', () => measuring && (finished += 1));
      await rig.scheduler.tick(); // nothing due yet: prepares the statements, as a running scheduler has
      let busyMs = 0;
      let tickMs = 0;
      const passes: Pass[] = [];
      let done: (() => RunConditions) | undefined;
      const total = o.warmupTicks + o.measureTicks;
      let measureStart = 0;
      for (let k = 0; k < total; k++) {
        if (k === o.warmupTicks) {
          measuring = true;
          rig.ops.reset();
          sqlTimes?.reset();
          done = conditions();
          measureStart = performance.now();
        }
        if (measuring && o.budgetS > 0 && performance.now() - measureStart > o.budgetS * 1000) {
          log(`${o.mode}: wall-time budget of ${o.budgetS} s used after ${passes.length} timed passes`);
          break;
        }
        const before = measuring ? PASS_OPS.map((op) => rig.ops.times[op]?.ms ?? 0) : [];
        passFired = 0;
        clock.set(T0 + k * 1000);
        const w0 = runnableWaitMs();
        const t0 = performance.now();
        await rig.scheduler.tick();
        const t1 = performance.now();
        if (o.mode === 'pipeline') await rig.scheduler.dispatcher.idle();
        const t2 = performance.now();
        // What the store's key settler does on its timer while firings keep coming (key-settler.ts:
        // keys above the high-water mark are moved): done here after each pass, at the same cost,
        // because back-to-back passes leave its timer no turn. Part of the pass's time.
        rig.store.settleKeys(o.settleHighWater ?? DEFAULT_SETTLER_OPTIONS.highWater);
        const t3 = performance.now();
        const waitMs = runnableWaitMs() - w0;
        if (measuring) {
          busyMs += t3 - t0;
          tickMs += t1 - t0;
          const opsOfPass: Record<string, number> = {};
          PASS_OPS.forEach((op, i) => (opsOfPass[op] = (rig.ops.times[op]?.ms ?? 0) - before[i]!));
          passes.push({ fired: passFired, ms: t3 - t0, ops: opsOfPass, reloads: reloadsInTable, waitMs, settleMs: t3 - t2 });
        }
        if ((k + 1) % 30 === 0 || (o.mode === 'pipeline' && measuring)) {
          log(`${o.mode}: pass ${k + 1}/${total} took ${(t3 - t0).toFixed(0)} ms, ${measuring ? `${counts.fired} fired in ${(busyMs / 1000).toFixed(1)} s` : 'warming up'}`);
        }
      }
      const cond = done ? done() : conditions()();
      const ops = cloneOps(rig.ops.times);
      const heapMb = process.memoryUsage().heapUsed / 1e6;
      const statements = sqlTimes ? (JSON.parse(JSON.stringify(sqlTimes.times)) as StatementTimes) : undefined;
      const lastNow = clock.now();
      const settle = rig.store.settleStatus();
      await rig.close();
      return {
        kind: 'sustained',
        settle,
        options: o,
        env,
        seed: seeded,
        counts,
        finished,
        busyMs,
        tickMs,
        passMs: dist(passes.map((p) => p.ms)),
        passes,
        ops,
        audit: audit(path, lastNow),
        conditions: cond,
        heapMb,
        statements,
      };
    } finally {
      await rig.close();
    }
  } finally {
    tmp?.remove();
  }
}

// ---------------------------------------------------------------------------------------------
// Herd (ManualClock): N tasks due in the same second, one tick()

export interface HerdOptions {
  readonly tasks: number;
  readonly mix: Mix;
  /**
   * Wait for the whole tick() (after firing it expires, renews and starts reloads within the limits)
   * before writing the result; otherwise the child ends as soon as the last batch has committed.
   */
  readonly finishTick: boolean;
  /** Reloads on record before the herd: this many finished reloads of every task (addHistory). */
  readonly historyRounds?: number | undefined;
  /** Settings laid over HERD_ENV (e.g. SQLITE_CACHE_MB). */
  readonly env?: Record<string, string> | undefined;
  /**
   * A seeded database to start from (a copy is used; the file is never written): made by the first
   * run that names it, so that runs one after the other skip the seeding (minutes with history).
   */
  readonly seedDb?: string | undefined;
}

export interface Batch {
  /** Real time from the start of tick() to the moment the batch's transaction had committed. */
  readonly elapsedMs: number;
  readonly occurrences: number;
  /** Clock time the batch used as "now", minus the occurrences' nominal time (0 on a ManualClock). */
  readonly clockLagMs: number;
  /** Of elapsedMs, how long the main thread was runnable but waiting for a CPU (other processes). */
  readonly waitMs: number;
}

export interface HerdResult {
  readonly kind: 'herd';
  readonly options: HerdOptions;
  readonly env: Record<string, string>;
  readonly seed: SeedResult;
  readonly counts: Counts;
  readonly batches: Batch[];
  /** Until the last batch committed. */
  readonly allRecordedMs: number;
  /** The whole tick() (null when not waited for). */
  readonly tickMs: number | null;
  /** Per occurrence: clock lag + real time to its batch's commit. */
  readonly skew: Dist;
  /** The same without the time the main thread waited for a CPU (an estimate for an idle machine). */
  readonly skewNoWait: Dist;
  readonly ops: OpTimes;
  readonly audit: Audit;
  readonly conditions: RunConditions;
  /** The list keys when the result was taken: waiting in the small level, and moved meanwhile. */
  readonly settle: SettleStatus;
}

export const HERD_ENV: Record<string, string> = {}; // the defaults: 50 concurrent reloads, 10 per tenant, 2 s runs

export async function herd(o: HerdOptions, log: (s: string) => void, early: Early, checkpoint: Checkpoint): Promise<HerdResult> {
  const tmp = tempDb('herd');
  try {
    let seeded: SeedResult;
    if (o.seedDb && existsSync(o.seedDb)) {
      copyFileSync(o.seedDb, tmp.path);
      seeded = JSON.parse(readFileSync(`${o.seedDb}.json`, 'utf8')) as SeedResult;
      log(`copied ${o.seedDb}`);
    } else {
      seeded = await seed(tmp.path, dailySpec(o.tasks, o.mix, HERD_AT, T0));
      log(`seeded ${seeded.tasks} tasks (${seeded.distinctSchedules} distinct schedules) in ${seeded.seconds.toFixed(1)} s`);
      if (o.historyRounds) log(`added ${addHistory(tmp.path, o.historyRounds)} finished reloads`);
      if (o.seedDb) {
        copyFileSync(tmp.path, o.seedDb);
        writeFileSync(`${o.seedDb}.json`, JSON.stringify(seeded));
      }
    }
    if (seeded.firstDue !== HERD_AT || seeded.lastDue !== HERD_AT) throw new Error('herd tasks are not all due at the herd second');
    const clock = new ManualClock(HERD_AT - 60_000);
    const env = { ...HERD_ENV, ...o.env };
    const rig = openRig(tmp.path, clock, env);
    try {
      await rig.scheduler.tick(); // nothing due: prepares statements, as a running scheduler has
      rig.ops.reset();
      const counts: Counts = { fired: 0, skipped: 0, missed: 0 };
      const batches: Batch[] = [];
      let t0 = 0;
      let w0 = 0;
      let done: () => RunConditions = conditions(false); // taken again (with the probe) just before the tick
      let firingConditions: RunConditions | undefined;
      const result = (tickMs: number | null, cond: RunConditions): HerdResult => ({
        kind: 'herd',
        options: o,
        env,
        seed: seeded,
        counts,
        batches,
        allRecordedMs: batches.length ? batches[batches.length - 1]!.elapsedMs : NaN,
        tickMs,
        skew: weightedDist(batches.map((b) => [b.clockLagMs + b.elapsedMs, b.occurrences] as const)),
        skewNoWait: weightedDist(batches.map((b) => [b.clockLagMs + b.elapsedMs - b.waitMs, b.occurrences] as const)),
        ops: cloneOps(rig.ops.times),
        audit: audit(tmp.path, HERD_AT),
        conditions: cond,
        settle: rig.store.settleStatus(),
      });
      rig.scheduler.on('recorded', (occurrences, at) => {
        const elapsedMs = performance.now() - t0;
        const waitMs = runnableWaitMs() - w0;
        count(counts, occurrences);
        batches.push({ elapsedMs, occurrences: occurrences.length, clockLagMs: at - occurrences[0]!.nominal, waitMs });
        const recorded = counts.fired + counts.skipped + counts.missed;
        if (recorded >= o.tasks) {
          log(`all ${recorded} recorded after ${elapsedMs.toFixed(0)} ms`);
          firingConditions = done();
          const r = result(null, firingConditions);
          if (!o.finishTick) {
            tmp.remove();
            early(r);
          }
          checkpoint(r); // if the rest of the pass outlasts the child's time limit, this stays
        }
      });
      clock.set(HERD_AT);
      done = conditions();
      w0 = runnableWaitMs();
      t0 = performance.now();
      await rig.scheduler.tick();
      const tickMs = performance.now() - t0;
      const r = result(tickMs, firingConditions ?? done());
      await rig.close();
      return r;
    } finally {
      await rig.close();
    }
  } finally {
    tmp.remove();
  }
}

// ---------------------------------------------------------------------------------------------
// System clock: scheduler.start(), skew from the records and at each commit

export interface SysSkew {
  /** reload creationTime - scheduledTime, from the reloads table (the time stamped on the record). */
  readonly recordStamp: Dist;
  /** occurrences.recorded_at - nominal_time, every outcome. */
  readonly occurrenceStamp: Dist;
  /** Date.now() when the batch's transaction had committed (the `recorded` event) - nominal. */
  readonly commit: Dist;
  /** The same minus the time the main thread waited for a CPU since the run started. */
  readonly commitNoWait: Dist;
}

export interface HerdSysOptions {
  readonly tasks: number;
  readonly mix: Mix;
}

export interface HerdSysResult {
  readonly kind: 'herd-sys';
  readonly options: HerdSysOptions;
  readonly env: Record<string, string>;
  readonly seed: SeedResult;
  readonly dueAt: number;
  /** How long before the due second the scheduler was started. */
  readonly leadMs: number;
  readonly counts: Counts;
  /** First batch's stamped time minus the due second: the loop's wake-up lateness. */
  readonly wakeLateMs: number;
  readonly batches: number;
  /** Each batch: how many occurrences it recorded, and when it had committed (ms after the due second). */
  readonly batchLog: ReadonlyArray<readonly [number, number]>;
  readonly allRecordedMs: number;
  readonly skew: SysSkew;
  readonly audit: Audit;
  readonly conditions: RunConditions;
}

export const SYS_ENV: Record<string, string> = { SHUTDOWN_GRACE_SECONDS: '0' };

function sysSkew(path: string, commits: ReadonlyArray<readonly [number, number, number]>): SysSkew {
  const db = new Database(path, { readonly: true });
  try {
    const recordStamp = dist(db.prepare(`SELECT creation_time - scheduled_time AS d FROM reloads WHERE type = 'chronos'`).pluck().all() as number[]);
    const occurrenceStamp = dist(
      db.prepare(`SELECT recorded_at - nominal_time AS d FROM occurrences UNION ALL SELECT creation_time - scheduled_time FROM reloads WHERE type = 'chronos'`).pluck().all() as number[],
    );
    return {
      recordStamp,
      occurrenceStamp,
      commit: weightedDist(commits.map(([skew, n]) => [skew, n] as const)),
      commitNoWait: weightedDist(commits.map(([skew, n, wait]) => [skew - wait, n] as const)),
    };
  } finally {
    db.close();
  }
}

/**
 * Commit-time skews of one batch, grouped by nominal time (a batch may span due seconds), with the
 * main thread's CPU wait since the nominal time (taken from the wait since `waitSince`, capped).
 */
function commitSkews(occurrences: readonly FiredOccurrence[], now: number, waited: number): Array<readonly [number, number, number]> {
  const byNominal = new Map<number, number>();
  for (const oc of occurrences) byNominal.set(oc.nominal, (byNominal.get(oc.nominal) ?? 0) + 1);
  return [...byNominal].map(([nominal, n]) => [now - nominal, n, Math.min(waited, Math.max(0, now - nominal))] as const);
}

/**
 * The loop wakes at the due second and fires the herd; the child ends when the last batch has
 * committed (the same pass then starts reloads, whose claim query is measured by the herd scenario).
 */
export async function herdSys(o: HerdSysOptions, log: (s: string) => void, early: Early): Promise<HerdSysResult> {
  const tmp = tempDb('herd-sys');
  // Seeding takes a few seconds; the due second is chosen well after it ends.
  const dueAt = Math.ceil((Date.now() + 3000 + o.tasks * 0.06) / 1000) * 1000;
  const seeded = await seed(tmp.path, dailySpec(o.tasks, o.mix, dueAt, Date.now()));
  log(`seeded ${seeded.tasks} tasks (${seeded.distinctSchedules} distinct schedules) in ${seeded.seconds.toFixed(1)} s, due at ${new Date(dueAt).toISOString()}`);
  if (seeded.firstDue !== dueAt || seeded.lastDue !== dueAt) throw new Error('herd tasks are not all due at the herd second (seeding ran past it?)');
  const rig = openRig(tmp.path, systemClock, SYS_ENV);
  const counts: Counts = { fired: 0, skipped: 0, missed: 0 };
  const commits: Array<readonly [number, number, number]> = [];
  let batches = 0;
  const batchLog: Array<readonly [number, number]> = [];
  let waitAtDue: number | undefined;
  const leadMs = dueAt - Date.now();
  if (leadMs < 500) throw new Error(`seeding ended ${-leadMs} ms before the due second: too late to start`);
  // Run conditions from just before the due second (the lead before it is spent asleep).
  const probe = cpuProbeMs(); // before the scheduler starts: in the timer below it would delay the wake-up
  let done = conditions(probe);
  let w0 = runnableWaitMs();
  setTimeout(() => {
    done = conditions(probe);
    w0 = runnableWaitMs();
  }, Math.max(0, leadMs - 50));
  rig.scheduler.on('recorded', (occurrences) => {
    const now = Date.now();
    batches += 1;
    batchLog.push([occurrences.length, now - dueAt]);
    count(counts, occurrences);
    // The main thread's CPU wait from just before the due second (see the timer above).
    waitAtDue ??= w0;
    commits.push(...commitSkews(occurrences, now, runnableWaitMs() - waitAtDue));
    if (counts.fired + counts.skipped + counts.missed < o.tasks) return;
    const cond = done();
    const skew = sysSkew(tmp.path, commits);
    const r: HerdSysResult = {
      kind: 'herd-sys',
      options: o,
      env: SYS_ENV,
      seed: seeded,
      dueAt,
      leadMs,
      counts,
      wakeLateMs: skew.recordStamp.min,
      batches,
      batchLog,
      allRecordedMs: now - dueAt,
      skew,
      audit: audit(tmp.path, dueAt),
      conditions: cond,
    };
    log(`all recorded ${r.allRecordedMs} ms after the due second`);
    tmp.remove();
    early(r);
  });
  rig.scheduler.start();
  await new Promise((r) => setTimeout(r, leadMs + 180_000));
  tmp.remove();
  throw new Error(`only ${counts.fired + counts.skipped + counts.missed} of ${o.tasks} recorded within 180 s of the due second`);
}

export interface SustainedSysOptions {
  readonly tasks: number;
  readonly mix: Mix;
  readonly seconds: number;
}

export interface SustainedSysResult {
  readonly kind: 'sustained-sys';
  readonly options: SustainedSysOptions;
  readonly env: Record<string, string>;
  readonly seed: SeedResult;
  readonly counts: Counts;
  readonly finished: number;
  /** From start() until the loop had stopped (a pass in progress at the deadline is completed). */
  readonly wallMs: number;
  readonly batches: number;
  readonly skew: SysSkew;
  /** Tasks due more than 1 s before the stop that were not yet fired (the scheduler falling behind). */
  readonly behindAtStop: number;
  /** Longest time between two `recorded` events while the run lasted. */
  readonly longestGapMs: number;
  readonly ops: OpTimes;
  readonly audit: Audit;
  readonly conditions: RunConditions;
}

export async function sustainedSys(o: SustainedSysOptions, log: (s: string) => void): Promise<SustainedSysResult> {
  const tmp = tempDb('sustained-sys');
  try {
    const now = Date.now();
    const seeded = await seed(tmp.path, minutelySpec(o.tasks, o.mix, now, Math.floor(now / 86_400_000) * 86_400_000 - 2 * 86_400_000));
    log(`seeded ${seeded.tasks} tasks (${seeded.distinctSchedules} distinct schedules) in ${seeded.seconds.toFixed(1)} s`);
    const env = { ...sustainedEnv('pipeline'), ...SYS_ENV };
    const rig = openRig(tmp.path, systemClock, env);
    try {
      const counts: Counts = { fired: 0, skipped: 0, missed: 0 };
      let finished = 0;
      let batches = 0;
      let last = Date.now();
      let longestGapMs = 0;
      const commits: Array<readonly [number, number, number]> = [];
      // CPU wait of the main thread, sampled each second, to subtract the wait since a nominal time.
      // Approximate (a busy loop starves the sampler, and a missing sample subtracts nothing), so the
      // report does not show commitNoWait for this scenario.
      const waits = new Map<number, number>();
      const sampler = setInterval(() => waits.set(Math.floor(Date.now() / 1000) * 1000, runnableWaitMs()), 1000);
      rig.scheduler.on('recorded', (occurrences) => {
        const now = Date.now();
        batches += 1;
        longestGapMs = Math.max(longestGapMs, now - last);
        last = now;
        count(counts, occurrences);
        const nowWait = runnableWaitMs();
        const byNominal = new Map<number, number>();
        for (const oc of occurrences) byNominal.set(oc.nominal, (byNominal.get(oc.nominal) ?? 0) + 1);
        for (const [nominal, n] of byNominal) {
          const since = waits.get(nominal) ?? waits.get(nominal - 1000) ?? nowWait;
          commits.push([now - nominal, n, Math.min(nowWait - since, now - nominal)]);
        }
      });
      rig.scheduler.on('finished', () => (finished += 1));
      const done = conditions();
      const t0 = Date.now();
      rig.scheduler.start();
      const deadline = t0 + o.seconds * 1000;
      while (Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, Math.min(10_000, deadline - Date.now())));
        log(`sustained-sys: ${((Date.now() - t0) / 1000).toFixed(0)}/${o.seconds} s, ${counts.fired} fired, ${finished} finished`);
      }
      const stopAt = Date.now();
      clearInterval(sampler);
      await rig.scheduler.stop();
      const wallMs = Date.now() - t0;
      const cond = done();
      const ops = cloneOps(rig.ops.times);
      await rig.close();
      const db = new Database(tmp.path, { readonly: true });
      const behindAtStop = db.prepare(`SELECT count(*) FROM reload_tasks WHERE state = 'Enabled' AND next_execution_time <= ?`).pluck().get(stopAt - 1000) as number;
      db.close();
      return {
        kind: 'sustained-sys',
        options: o,
        env,
        seed: seeded,
        counts,
        finished,
        wallMs,
        batches,
        skew: sysSkew(tmp.path, commits),
        behindAtStop,
        longestGapMs,
        ops,
        audit: audit(tmp.path, stopAt - 1000),
        conditions: cond,
      };
    } finally {
      await rig.close();
    }
  } finally {
    tmp.remove();
  }
}

export type ScenarioResult = SustainedResult | HerdResult | HerdSysResult | SustainedSysResult | CeilingResult;
