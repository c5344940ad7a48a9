/**
 * What one request costs, piece by piece: the service's own functions timed in this process, one
 * call at a time, on the seeded database (before any server opens it). Not HTTP figures; they say
 * where a request's time goes, beside the profiles.
 */
import { readdirSync, readFileSync } from 'node:fs';
import Database from 'better-sqlite3';
import type { Config } from '../../src/config.js';
import { loadOrCreateLocalKey } from '../../src/auth/local-key.js';
import { createVerifier } from '../../src/auth/verifier.js';
import { CursorCodec } from '../../src/http/pagination.js';
import { fromRow, type TaskRow } from '../../src/store/row.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { listTasksSql } from '../../src/store/sqlite/task-sql.js';
import { toJson } from '../../src/tasks/task.js';
import { OWNER, TENANT } from './seed.js';

export interface Cost {
  readonly what: string;
  /** Wall-clock microseconds per call: the median of several batches. */
  readonly us: number;
  /** CPU microseconds per call on the main (JavaScript) thread, and on all threads of the process. */
  readonly mainCpuUs: number;
  readonly allCpuUs: number;
}

/** CPU ticks (1/100 s) of each thread of this process, from /proc/self/task/<tid>/stat. */
function threadTicks(): Map<string, number> {
  const out = new Map<string, number>();
  for (const tid of readdirSync('/proc/self/task')) {
    try {
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out.set(tid, Number(f[11]) + Number(f[12]));
    } catch {
      // The thread ended.
    }
  }
  return out;
}

/**
 * Times `fn` one call after another for about `budgetMs` (after a warm-up): wall time per call as
 * the median of 7 batches, and CPU time per call of the main thread and of all threads (WebCrypto
 * runs signature checks on libuv's thread pool, beside the main thread).
 */
async function time(what: string, fn: () => unknown, budgetMs: number): Promise<Cost> {
  let calls = 0;
  const w0 = performance.now();
  while (performance.now() - w0 < Math.min(200, budgetMs / 5)) {
    await fn();
    calls++;
  }
  const perCallMs = (performance.now() - w0) / calls;
  const batches = 7;
  const per = Math.max(1, Math.round(budgetMs / batches / perCallMs));
  const results: number[] = [];
  const before = threadTicks();
  for (let b = 0; b < batches; b++) {
    const t0 = performance.now();
    for (let i = 0; i < per; i++) await fn();
    results.push(((performance.now() - t0) * 1000) / per);
  }
  const after = threadTicks();
  const n = batches * per;
  const main = String(process.pid);
  let all = 0;
  for (const [tid, t] of after) all += t - (before.get(tid) ?? 0);
  results.sort((a, b) => a - b);
  return { what, us: results[Math.floor(batches / 2)]!, mainCpuUs: (((after.get(main) ?? 0) - (before.get(main) ?? 0)) * 1e4) / n, allCpuUs: (all * 1e4) / n };
}

export async function measureBreakdown(o: { dbPath: string; config: Config; token: string; id: string; deepAfterId: string; budgetMs: number }): Promise<{ get: Cost[]; list: Cost[] }> {
  const verify = createVerifier(o.config.auth, () => loadOrCreateLocalKey(o.config.dataDir));
  const authorization = `Bearer ${o.token}`;
  const store = SqliteStore.open({ path: o.dbPath });
  // The same file without the cache of tasks read by id: what a task not kept (a first read, or one
  // of more tasks than SQLITE_TASK_CACHE holds) costs.
  const uncached = SqliteStore.open({ path: o.dbPath, taskCacheSize: 0 });
  const raw = new Database(o.dbPath, { readonly: true });
  try {
    const href = (id: string): string => `http://127.0.0.1:8080/api/v1/reload-tasks/${id}`;
    const task = (await store.getTask(TENANT, o.id))!;
    const get: Cost[] = [
      await time('verify the bearer token (ES256, the service verifier)', () => verify(authorization), o.budgetMs),
      await time('store.getTask, the task kept in memory (SQLITE_TASK_CACHE)', () => store.getTask(TENANT, o.id), o.budgetMs),
      await time('store.getTask, not kept (SQLite primary-key lookup + fromValues)', () => uncached.getTask(TENANT, o.id), o.budgetMs),
      await time('toJson + JSON.stringify of the task (the service serialises with fast-json-stringify)', () => JSON.stringify(toJson(task, href(task.id))), o.budgetMs),
    ];

    const q = { tenantId: TENANT, userId: OWNER, after: o.deepAfterId, limit: 101 };
    const page = await store.listTasks(q);
    const shape = { owner: true, app: false, partial: false, bound: 'after', inclusive: false } as const;
    const params = { tenant_id: TENANT, user_id: OWNER, bound_id: o.deepAfterId, limit: 101 };
    const objects = raw.prepare(listTasksSql(shape, 'rows'));
    const arrays = raw.prepare(listTasksSql(shape, 'rows')).raw(true);
    const idsOnly = raw.prepare(listTasksSql(shape, 'rows').replace(/^SELECT [\s\S]+? FROM/, 'SELECT id FROM')).pluck(true);
    const rows = objects.all(params) as TaskRow[];
    const cursors = new CursorCodec(Buffer.alloc(32, 7));
    const list: Cost[] = [
      await time('store.listTasks, 101 rows (as the route calls it)', () => store.listTasks(q), o.budgetMs),
      await time('  of which: SQLite rows as objects (better-sqlite3 .all())', () => objects.all(params), o.budgetMs),
      await time('  the same rows as arrays (.raw(true).all())', () => arrays.all(params), o.budgetMs),
      await time('  the same 101 ids only (index, no row fetch)', () => idsOnly.all(params), o.budgetMs),
      await time('  fromRow x 101', () => rows.map(fromRow), o.budgetMs),
      await time('store.anyTask (the prev-page probe)', () => store.anyTask({ tenantId: TENANT, userId: OWNER, before: o.deepAfterId }), o.budgetMs),
      await time('toJson x 100 + JSON.stringify of the page', () => JSON.stringify({ data: page.slice(0, 100).map((t) => toJson(t, href(t.id))) }), o.budgetMs),
      await time('cursor encode + decode (HMAC)', () => cursors.decode(cursors.encode({ direction: 'after', id: o.deepAfterId, inclusive: false })), o.budgetMs),
    ];
    return { get, list };
  } finally {
    raw.close();
    await uncached.close();
    await store.close();
  }
}
