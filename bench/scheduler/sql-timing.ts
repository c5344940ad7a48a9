/**
 * Wall time per SQL statement: wraps better-sqlite3's Statement#run/#get/#all (on the prototype, in
 * this process only) and adds up the time per statement, named after the src/ constant that holds
 * its text. COMMIT and BEGIN are statements too (better-sqlite3's transaction() runs them), so the
 * cost of making a transaction durable shows up as `COMMIT`. Used by the profiling run only; the
 * headline runs are not wrapped.
 */
import Database from 'better-sqlite3';
import * as reloadSql from '../../src/store/sqlite/reload-sql.js';
import * as schedulerSql from '../../src/store/sqlite/scheduler-sql.js';
import * as taskSql from '../../src/store/sqlite/task-sql.js';

export interface StatementTimes {
  [name: string]: { calls: number; ms: number; sql: string };
}

function names(): Map<string, string> {
  const m = new Map<string, string>();
  for (const [mod, exports] of [
    ['scheduler-sql', schedulerSql],
    ['reload-sql', reloadSql],
    ['task-sql', taskSql],
  ] as const) {
    for (const [k, v] of Object.entries(exports)) if (typeof v === 'string') m.set(v, `${k} (${mod})`);
  }
  return m;
}

/** Starts timing every statement of every connection in this process; returns the running totals. */
export function timeStatements(): { times: StatementTimes; reset(): void } {
  const known = names();
  const probe = new Database(':memory:');
  const proto = Object.getPrototypeOf(probe.prepare('SELECT 1')) as Record<string, (...a: unknown[]) => unknown>;
  probe.close();
  let times: StatementTimes = {};
  const name = (source: string): string => known.get(source) ?? source.replace(/\s+/g, ' ').slice(0, 60);
  for (const method of ['run', 'get', 'all'] as const) {
    const original = proto[method]!;
    proto[method] = function (this: { source: string }, ...args: unknown[]) {
      const t0 = performance.now();
      try {
        return original.apply(this, args);
      } finally {
        const key = name(this.source);
        const e = (times[key] ??= { calls: 0, ms: 0, sql: this.source });
        e.calls += 1;
        e.ms += performance.now() - t0;
      }
    };
  }
  return {
    get times() {
      return times;
    },
    reset() {
      times = {};
    },
  };
}
