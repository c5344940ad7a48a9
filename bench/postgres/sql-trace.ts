/**
 * Evidence from inside an instance, without touching src/: every statement the pg driver sends is
 * timed (client-side: from the call to its result, so round trip included), named after the
 * store's own statement (the exported constants of src/store/postgres/sql.ts), and chosen calls of
 * the hot statements are first run under EXPLAIN (ANALYZE, BUFFERS) inside a savepoint that is
 * rolled back, with the same parameters, in the same transaction, so the plan is the one the store
 * got at that moment. Only the evidence run installs this; the measured runs do not.
 */
import pg from 'pg';
import * as sql from '../../src/store/postgres/sql.js';

export interface StatementTime {
  calls: number;
  ms: number;
  rows: number;
}

export interface Explained {
  readonly statement: string;
  /** Which call of that statement (1 = first). */
  readonly call: number;
  readonly plan: string;
}

export interface Trace {
  readonly statements: Record<string, StatementTime>;
  readonly explained: Explained[];
}

const NAMES = new Map<string, string>();
for (const [name, value] of Object.entries(sql)) if (typeof value === 'string') NAMES.set(value, name);

function nameOf(text: string): string {
  const known = NAMES.get(text);
  if (known) return known;
  const t = text.trim().replace(/\s+/g, ' ');
  if (/^(BEGIN|COMMIT|ROLLBACK)$/i.test(t)) return t.toUpperCase();
  if (t.startsWith('SELECT pg_notify')) return 'pg_notify';
  return t.length > 60 ? `${t.slice(0, 57)}...` : t;
}

type QueryFn = (...args: unknown[]) => unknown;

/**
 * Installs the tracer on pg.Client.prototype.query. `explainAt` maps a statement name (e.g.
 * 'DUE_TASKS') to the call numbers to explain.
 */
export function installTrace(explainAt: Record<string, readonly number[]>): Trace {
  const statements: Record<string, StatementTime> = {};
  const explained: Explained[] = [];
  const seen = new Map<string, number>();
  const proto = pg.Client.prototype as unknown as { query: QueryFn };
  const original = proto.query;
  const record = (name: string, t0: number, rows: number): void => {
    const s = (statements[name] ??= { calls: 0, ms: 0, rows: 0 });
    s.calls += 1;
    s.ms += performance.now() - t0;
    s.rows += rows;
  };
  const rowsOf = (r: unknown): number => (r && typeof r === 'object' && 'rowCount' in r ? Number((r as { rowCount: number | null }).rowCount ?? 0) : 0);

  proto.query = function (this: pg.Client, ...args: unknown[]): unknown {
    const first = args[0];
    const text = typeof first === 'string' ? first : first && typeof first === 'object' && 'text' in first ? String((first as { text: unknown }).text) : undefined;
    if (text === undefined) return original.apply(this, args);
    const name = nameOf(text);
    const n = (seen.get(name) ?? 0) + 1;
    seen.set(name, n);
    const last = args[args.length - 1];
    const t0 = performance.now();
    if (typeof last === 'function') {
      // Callback style (pg.Pool.query): time until the callback.
      const cb = last as (err: unknown, res: unknown) => void;
      args[args.length - 1] = (err: unknown, res: unknown) => {
        record(name, t0, err ? 0 : rowsOf(res));
        cb(err, res);
      };
      return original.apply(this, args);
    }
    const wanted = explainAt[name]?.includes(n) ?? false;
    if (!wanted) {
      const p = original.apply(this, args) as Promise<unknown>;
      return p.then(
        (res) => {
          record(name, t0, rowsOf(res));
          return res;
        },
        (e: unknown) => {
          record(name, t0, 0);
          throw e;
        },
      );
    }
    return (async () => {
      // query(text, values) or query({ name, text, values }) (the store's named prepared statements).
      const values = typeof first === 'string' ? args[1] : (first as { values?: unknown }).values;
      await (original.call(this, 'SAVEPOINT rt_bench_explain') as Promise<unknown>);
      const res = (await original.call(this, `EXPLAIN (ANALYZE, BUFFERS) ${text}`, values)) as { rows: Array<{ 'QUERY PLAN': string }> };
      await (original.call(this, 'ROLLBACK TO SAVEPOINT rt_bench_explain') as Promise<unknown>);
      await (original.call(this, 'RELEASE SAVEPOINT rt_bench_explain') as Promise<unknown>);
      explained.push({ statement: name, call: n, plan: res.rows.map((r) => r['QUERY PLAN']).join('\n') });
      const t1 = performance.now();
      const out = await (original.apply(this, args) as Promise<unknown>);
      record(name, t1, rowsOf(out));
      return out;
    })();
  };
  return { statements, explained };
}
