/**
 * The PostgreSQL connection pool, transactions, and the mapping of database errors by their
 * SQLSTATE (or, for the client's own network errors, by their Node error code), never by message.
 */
import { createHash } from 'node:crypto';
import pg from 'pg';
import { StoreUnavailableError } from '../store.js';

/**
 * SQLSTATE classes and codes meaning "not now": connection exceptions (08), admin/crash shutdown and
 * cannot-connect-now (57P01..03), too many connections (53300), out of memory/disk (53xxx).
 */
const UNAVAILABLE_SQLSTATE = /^(08...|57P0[123]|53...)$/;
/** Retried inside the store: serialization failure and deadlock. */
const RETRY_SQLSTATE = new Set(['40001', '40P01']);
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNABORTED']);

export type Queryable = Pick<pg.PoolClient, 'query'>;

/**
 * Whether an error raised by a pg call means the database could not be reached or is shutting
 * down. Only for errors that come out of pg itself (see `query`): that is what makes the last rule
 * safe.
 */
function isUnavailable(e: unknown): boolean {
  if (e instanceof pg.DatabaseError) return e.code !== undefined && UNAVAILABLE_SQLSTATE.test(e.code);
  const code = (e as { code?: unknown }).code;
  if (typeof code === 'string' && NETWORK_CODES.has(code)) return true;
  // The client's own failures (a connection that ended or timed out) are plain Errors without a
  // SQLSTATE; programming errors are TypeError/RangeError and stay bugs.
  return e instanceof Error && !(e instanceof TypeError) && !(e instanceof RangeError) && !(e instanceof SyntaxError) && code === undefined && !(e instanceof pg.DatabaseError);
}

/** An error out of a pg call, as the store reports it. */
function mapError(e: unknown): unknown {
  if (isUnavailable(e)) {
    const code = (e as { code?: string }).code;
    return new StoreUnavailableError(`PostgreSQL unavailable${code ? ` (${code})` : ''}`, { cause: e });
  }
  return e;
}

/**
 * Pools (and their clients) that must not use named prepared statements: PgBouncer in transaction
 * mode before 1.21 hands each transaction a different server connection, where the name is unknown.
 */
const unprepared = new WeakSet<object>();
/** Statement names by text: one per distinct parameterised statement (a few dozen). */
const names = new Map<string, string>();

/**
 * The name under which a parameterised statement is prepared once per connection. PostgreSQL then
 * skips parsing and planning on every later execution (a generic plan after five custom ones): for
 * a GET by id that halved the backends' CPU (55-61 % to 29-34 % of a core under autocannon) and
 * took the request rate from 2,175-3,547 to 4,407-5,388 req/s. Migrations and other statements
 * without parameters go through the simple protocol as before.
 */
function statementName(text: string): string {
  let name = names.get(text);
  if (name === undefined) {
    name = `rt_${createHash('sha1').update(text).digest('hex').slice(0, 24)}`;
    names.set(text, name);
  }
  return name;
}

export function createPool(url: string, max: number, options: { preparedStatements?: boolean } = {}): pg.Pool {
  // BIGINT (int8) columns hold epoch milliseconds, well within Number's exact range.
  pg.types.setTypeParser(pg.types.builtins.INT8, (v) => Number(v));
  const pool = new pg.Pool({ connectionString: url, max, connectionTimeoutMillis: 5000, idleTimeoutMillis: 30_000, application_name: 'reload-tasks' });
  // A client losing its connection emits 'error' (on the pool when idle, on the client itself when
  // checked out); without a listener either would crash the process. The query in flight rejects
  // anyway, and is answered 503.
  pool.on('error', () => {});
  pool.on('connect', (client) => {
    client.on('error', () => {});
    if (options.preparedStatements === false) unprepared.add(client);
  });
  if (options.preparedStatements === false) unprepared.add(pool);
  return pool;
}

/** One statement on the pool, with errors mapped. */
export async function query<R extends pg.QueryResultRow>(pool: pg.Pool | Queryable, text: string, params: unknown[] = []): Promise<pg.QueryResult<R>> {
  try {
    if (params.length > 0 && !unprepared.has(pool)) return await pool.query<R>({ name: statementName(text), text, values: params });
    return await pool.query<R>(text, params);
  } catch (e) {
    throw mapError(e);
  }
}

/**
 * Runs `fn` in a transaction on one client: COMMIT on success, ROLLBACK on error, a retry (up to
 * five times) on serialization failure or deadlock. A client whose connection failed is destroyed,
 * not returned to the pool.
 */
export async function transaction<T>(pool: pg.Pool, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    let client: pg.PoolClient;
    try {
      client = await pool.connect();
    } catch (e) {
      throw mapError(e);
    }
    let broken: Error | undefined;
    try {
      await query(client, 'BEGIN');
      const result = await fn(client);
      await query(client, 'COMMIT');
      return result;
    } catch (e) {
      if (e instanceof StoreUnavailableError) broken = e;
      else await client.query('ROLLBACK').catch(() => {});
      const code = e instanceof pg.DatabaseError ? e.code : undefined;
      if (code !== undefined && RETRY_SQLSTATE.has(code) && attempt < 5) continue;
      throw e;
    } finally {
      client.release(broken);
    }
  }
}
