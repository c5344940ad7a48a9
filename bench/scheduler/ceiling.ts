/**
 * The ceiling of the sustained fire scenario: the store's own firing statements on the same seeded
 * database, with no scheduler around them. Each pass runs, in one `BEGIN IMMEDIATE` transaction,
 * `DUE_TASKS`, then per due task `INSERT_SCHEDULED_RELOAD` and `ADVANCE_TASK`, with the least
 * JavaScript that can bind them (the next time is the nominal one plus a minute: the seeded tasks
 * are all `FREQ=MINUTELY`). The connection is the store's (`SqliteStore.open`: WAL,
 * synchronous=FULL, its page cache), and its checkpointer copies the log on its worker as in
 * production. What the scheduler does on top (planning, the guard against a second firing, events)
 * is left out, so no scheduler on this schema and machine fires faster than this.
 *
 * Variants:
 * - `as-shipped`: the schema as migrated.
 * - `row-and-advance`: every secondary index of `reloads` dropped first, so a firing writes the
 *   reload's row and its id's key, and the task's row and its due-time entry: the least a firing
 *   that records its reload and advances its task can write on SQLite. The API's lists, the
 *   overlap policy and the dispatcher need the dropped indexes; this variant only says what a
 *   schema without them could reach.
 *
 * `fsyncPerPage` times the disk alone: fsync of a file after writing N pages of 4 KiB to it.
 */
import { closeSync, fsyncSync, openSync, rmSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { newReloadId } from '../../src/reloads/reload.js';
import { TASK_FIELDS } from '../../src/store/row.js';
import * as sql from '../../src/store/sqlite/scheduler-sql.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import type Database from 'better-sqlite3';
import { conditions, T0, type RunConditions } from './scenarios.js';

export type CeilingVariant = 'as-shipped' | 'row-and-advance';

export interface CeilingOptions {
  readonly variant: CeilingVariant;
  /** A database seeded by `seed-sustained` (a copy: the run changes it). */
  readonly db: string;
  readonly warmupTicks: number;
  readonly measureTicks: number;
}

export interface CeilingResult {
  readonly kind: 'ceiling';
  readonly options: CeilingOptions;
  readonly droppedIndexes: readonly string[];
  readonly fired: number;
  /** Time inside the timed passes' transactions. */
  readonly busyMs: number;
  readonly conditions: RunConditions;
  /** The disk: ms per fsync after writing N pages, N = 1, 100, 1000. */
  readonly fsync: ReadonlyArray<{ pages: number; ms: number }>;
}

const I = (f: string): number => TASK_FIELDS.indexOf(f as (typeof TASK_FIELDS)[number]);
const ID = I('id'), TENANT = I('tenant_id'), USER = I('user_id'), APP = I('app_id'), PARTIAL = I('partial');
const STATE = I('state'), NEXT = I('next_execution_time'), VERSION = I('version');
/** DUE_TASKS reads the rowid after the task's fields. */
const ROWID = TASK_FIELDS.length;

export async function ceiling(o: CeilingOptions): Promise<CeilingResult> {
  const fsync = fsyncPerPage(dirname(o.db));
  const store = SqliteStore.open({ path: o.db });
  // The store's connection is private; reached here for the bench only.
  const db = (store as unknown as { db: Database.Database }).db;
  const droppedIndexes: string[] = [];
  if (o.variant === 'row-and-advance') {
    const names = db.prepare(`SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'reloads' AND sql IS NOT NULL`).pluck().all() as string[];
    for (const name of names) db.exec(`DROP INDEX ${name}`);
    droppedIndexes.push(...names);
  }
  try {
    const due = db.prepare(sql.DUE_TASKS).raw();
    const insert = db.prepare(sql.INSERT_SCHEDULED_RELOAD);
    const advance = db.prepare(sql.ADVANCE_TASK);
    const pass = db.transaction((now: number): number => {
      const rows = due.all({ now, limit: 16_000 }) as unknown[][];
      for (const row of rows) {
        const nominal = row[NEXT] as number;
        insert.run(newReloadId(now), row[TENANT], row[USER], row[APP], row[PARTIAL], row[ID], nominal, now);
        const changed = advance.run(nominal + 60_000, nominal, row[STATE], 0, null, now, row[ROWID], row[ID], row[VERSION]).changes;
        if (changed !== 1) throw new Error(`task ${String(row[ID])} was not advanced`);
      }
      return rows.length;
    });
    let fired = 0;
    let busyMs = 0;
    let done: (() => RunConditions) | undefined;
    for (let k = 0; k < o.warmupTicks + o.measureTicks; k++) {
      if (k === o.warmupTicks) done = conditions();
      const t0 = performance.now();
      const n = pass.immediate(T0 + k * 1000);
      const ms = performance.now() - t0;
      store.checkpointer.kick();
      if (k >= o.warmupTicks) {
        fired += n;
        busyMs += ms;
      }
    }
    return { kind: 'ceiling', options: o, droppedIndexes, fired, busyMs, conditions: (done ?? conditions(false))(), fsync };
  } finally {
    await store.close();
  }
}

/** Milliseconds per fsync of a file after writing `pages` pages of 4 KiB to it (median of 15). */
export function fsyncPerPage(dir: string): Array<{ pages: number; ms: number }> {
  const path = join(dir, 'fsync-probe.bin');
  const page = Buffer.alloc(4096, 7);
  const fd = openSync(path, 'w');
  try {
    return [1, 100, 1000].map((pages) => {
      const times: number[] = [];
      for (let i = 0; i < 15; i++) {
        for (let p = 0; p < pages; p++) writeSync(fd, page, 0, page.length, p * page.length);
        const t0 = performance.now();
        fsyncSync(fd);
        times.push(performance.now() - t0);
      }
      times.sort((a, b) => a - b);
      return { pages, ms: times[7]! };
    });
  } finally {
    closeSync(fd);
    rmSync(path, { force: true });
  }
}
