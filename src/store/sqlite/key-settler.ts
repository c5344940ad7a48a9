/**
 * Moves the reloads' list keys (by app, owner and task) from the small level, where firings write them, into
 * the large level, a run of neighbouring keys at a time (migration 000009 says why).
 *
 * A move takes the next `chunk` keys of the small level after a cursor, in key order, inserts them
 * into the large level and deletes them from the small one, in one transaction; the cursor then goes
 * on from the last key moved and starts again from the beginning at the end. The keys of a run are
 * neighbours in the large level too, so a move of 2,000 keys writes a few leaves there where 2,000
 * firings wrote 2,000; the fuller the small level, the closer the run's keys and the fewer leaves.
 *
 * When (`tick`): between bursts of firing (`quietMs` after the last reload was inserted), everything,
 * in slices of `sliceMs` per tick so that requests are served in between. While reloads keep coming,
 * nothing at first, so that a herd is fired first and settled afterwards; once the small level has
 * been above `highWater` keys for `catchUpAfterMs`, what lies above the mark, in slices of
 * `catchUpMs`: longer, because firings that never stop bring keys faster than short slices move
 * them, and the small level would grow without bound.
 */
import type Database from 'better-sqlite3';
import type { Reload } from '../../reloads/reload.js';
import { KEY_LEVELS } from './reload-sql.js';

type Level = (typeof KEY_LEVELS)[keyof typeof KEY_LEVELS];
type Key = readonly [string, string, string];

const START: Key = ['', '', ''];

export interface SettlerOptions {
  /** Keys per move (one transaction). */
  readonly chunk: number;
  /** Keys the small level may hold while reloads keep coming. */
  readonly highWater: number;
  /** No reload inserted for this long: settle everything. */
  readonly quietMs: number;
  /** Time given to moves per tick when quiet. */
  readonly sliceMs: number;
  /** Time given to moves per tick while reloads keep coming and the small level is above highWater. */
  readonly catchUpMs: number;
  /** How long the small level may stay above highWater while reloads keep coming before moves start. */
  readonly catchUpAfterMs: number;
}

/**
 * A move of 2,000 keys takes 8 to 26 ms with two million reloads on record (4 to 13 µs a key on
 * the machines measured); 25 ms of every 200 ms tick between bursts. While catching up, 100 ms:
 * a firing costs about three keys' moves (its three keys), and half the time for moves keeps up
 * with firing at full speed in the other half. 5 s above the mark before catching up: a herd of
 * 100,000 (300,000 keys) is fired in about that long, and while it waits the small level grows by
 * at most what 5 s of firing brings (300,000 keys at 20,000 firings a second).
 */
export const DEFAULT_SETTLER_OPTIONS: SettlerOptions = { chunk: 2000, highWater: 200_000, quietMs: 500, sliceMs: 25, catchUpMs: 100, catchUpAfterMs: 5000 };

interface LevelStatements {
  readonly level: Level;
  readonly endKey: Database.Statement;
  readonly lastKey: Database.Statement;
  readonly move: Database.Statement;
  readonly remove: Database.Statement;
  readonly count: Database.Statement;
  cursor: Key;
}

export interface SettleStatus {
  /** Keys in the small levels (by app, owner and task), as last counted or kept track of. */
  readonly freshKeys: number;
  /** Keys moved since the store opened, and moves made. */
  readonly moved: number;
  readonly moves: number;
}

export class KeySettler {
  private readonly levels: LevelStatements[];
  private moved = 0;
  private moves = 0;
  /**
   * Keys in the small levels: counted once (`countFresh`), then kept up to date from the keys the
   * store says it added (`added`) and the keys moved; counting three tables of 200,000 keys costs
   * milliseconds, which every settle after a firing batch would pay. Deletes (retention) make it
   * high for a while: a settle then moves a little more than needed, and one that finds nothing
   * left knows the count is 0.
   */
  private freshKeys = 0;
  private counted = false;
  /** When a tick, with reloads still coming, first found the small level above highWater. */
  private aboveSince: number | undefined;

  constructor(
    private readonly db: Database.Database,
    readonly options: SettlerOptions = DEFAULT_SETTLER_OPTIONS,
  ) {
    this.levels = Object.values(KEY_LEVELS).map((level) => {
      const key = `(tenant_id, ${level.column}, id)`;
      return {
        level,
        endKey: db.prepare(`SELECT tenant_id, ${level.column}, id FROM ${level.fresh} WHERE ${key} > (?, ?, ?) ORDER BY tenant_id, ${level.column}, id LIMIT 1 OFFSET ?`).raw(),
        lastKey: db.prepare(`SELECT tenant_id, ${level.column}, id FROM ${level.fresh} WHERE ${key} > (?, ?, ?) ORDER BY tenant_id DESC, ${level.column} DESC, id DESC LIMIT 1`).raw(),
        move: db.prepare(`INSERT INTO ${level.settled} (tenant_id, ${level.column}, id)
          SELECT tenant_id, ${level.column}, id FROM ${level.fresh} WHERE ${key} > (?, ?, ?) AND ${key} <= (?, ?, ?) ORDER BY tenant_id, ${level.column}, id`),
        remove: db.prepare(`DELETE FROM ${level.fresh} WHERE ${key} > (?, ?, ?) AND ${key} <= (?, ?, ?)`),
        count: db.prepare(`SELECT count(*) FROM ${level.fresh}`).pluck(),
        cursor: START,
      };
    });
  }

  /** Keys waiting in the small levels, counted now. */
  countFresh(): number {
    this.freshKeys = this.levels.reduce((n, l) => n + (l.count.get() as number), 0);
    this.counted = true;
    return this.freshKeys;
  }

  /**
   * Reloads the store inserted (null: none): migration 000009's trigger wrote a key for each into
   * every level whose column it has (a reload by hand has no task). Returns the keys.
   */
  added(reloads: Iterable<Reload | null>): number {
    let keys = 0;
    for (const r of reloads) if (r) for (const l of this.levels) if (r[l.level.field] !== null) keys += 1;
    this.freshKeys += keys;
    return keys;
  }

  status(): SettleStatus {
    return { freshKeys: this.freshKeys, moved: this.moved, moves: this.moves };
  }

  /**
   * One move per level: the next run of up to `chunk` keys after the cursor (from the beginning
   * when none is left after it). Returns the keys moved.
   */
  moveOnce(): number {
    let total = 0;
    for (const l of this.levels) {
      total += this.db.transaction(() => {
        // The key that ends the run: the chunk's last after the cursor, or the last of all after it.
        let end = (l.endKey.get(...l.cursor, this.options.chunk - 1) ?? l.lastKey.get(...l.cursor)) as Key | undefined;
        if (end === undefined) {
          // Nothing after the cursor: from the beginning.
          if (l.cursor === START) return 0;
          l.cursor = START;
          end = (l.endKey.get(...START, this.options.chunk - 1) ?? l.lastKey.get(...START)) as Key | undefined;
          if (end === undefined) return 0;
        }
        const from = l.cursor;
        l.move.run(...from, ...end);
        const n = l.remove.run(...from, ...end).changes;
        l.cursor = end;
        return n;
      }).immediate();
    }
    if (total > 0) {
      this.moved += total;
      this.moves += 1;
      this.freshKeys = Math.max(0, this.freshKeys - total);
    } else {
      this.freshKeys = 0; // every level was empty
    }
    return total;
  }

  /**
   * One tick of the policy above. `sinceKeysMs`: time since a reload was last inserted; `now`: a
   * monotonic time in ms (performance.now()). Returns the keys moved.
   */
  tick(sinceKeysMs: number, now: number): number {
    const { quietMs, highWater, sliceMs, catchUpMs, catchUpAfterMs } = this.options;
    if (sinceKeysMs >= quietMs) {
      this.aboveSince = undefined;
      return this.settle(0, sliceMs);
    }
    if (!this.counted) this.countFresh();
    if (this.freshKeys <= highWater) {
      this.aboveSince = undefined;
      return 0;
    }
    this.aboveSince ??= now;
    return now - this.aboveSince >= catchUpAfterMs ? this.settle(highWater, catchUpMs) : 0;
  }

  /** Moves until the small levels hold at most `keep` keys or `ms` have passed. Returns the keys moved. */
  settle(keep: number, ms: number): number {
    const until = performance.now() + ms;
    let total = 0;
    if (!this.counted) this.countFresh();
    while (this.freshKeys > keep && performance.now() < until) {
      const n = this.moveOnce();
      if (n === 0) break;
      total += n;
    }
    return total;
  }
}
