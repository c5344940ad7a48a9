/**
 * Copies SQLite's write-ahead log back into the database file, every second, on a worker thread
 * with its own connection, so the copy (and its fsync) does not stop the event loop.
 *
 * On the main thread a checkpoint during a herd took about an eighth of the time: 100,000 firings
 * in 8.3 s with it, 7.1–7.7 s without (pinned to one core), and each one stalled every request
 * and timer for the length of the copy. PASSIVE checkpoints never wait for the writer or the
 * readers: the writer goes on appending to the log while older frames are copied, and what cannot
 * be copied now is copied next time. The worker starts at the first tick (short-lived stores, as
 * in tests, never start one); if it cannot start or dies, checkpoints go back to the main thread.
 *
 * A checkpoint that fails (another process holding the database locked, a failing disk) is tried
 * again a second later, but while they fail the log only grows: failures are counted and reported
 * (`onEvent`: the first of a run, then one a minute, and the recovery), and `status()` tells how
 * many of the log's frames are not in the database file yet, which also grows while a long-lived
 * reader keeps a checkpoint from copying them (docs/operations.md: what to watch).
 */
import { once } from 'node:events';
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/** The result of `PRAGMA wal_checkpoint`: frames in the log, and how many are in the database file now. */
export interface CheckpointResult {
  readonly busy: number;
  readonly log: number;
  readonly checkpointed: number;
}

/**
 * The worker, as CommonJS source (`eval`), so that it runs the same from the TypeScript sources and
 * from the compiled build. Messages: 'checkpoint' → {result} or {error}; 'close' → closes and exits.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.path, { fileMustExist: true, timeout: 0 });
db.pragma('synchronous = FULL');
db.pragma('cache_size = -256');
parentPort.on('message', (m) => {
  if (m === 'close') {
    db.close();
    parentPort.close();
    return;
  }
  try {
    parentPort.postMessage({ result: db.pragma('wal_checkpoint(PASSIVE)')[0] });
  } catch (e) {
    parentPort.postMessage({ error: String((e && e.message) || e) });
  }
});
`;

/** What the checkpoints have done so far. */
export interface CheckpointStatus {
  /** Checkpoints that failed since the store opened, and how many in a row up to now. */
  readonly failures: number;
  readonly consecutiveFailures: number;
  readonly lastError: string | undefined;
  /** After the last checkpoint that ran: frames in the log, and of those, not yet in the database file. */
  readonly logFrames: number;
  readonly pendingFrames: number;
}

export type CheckpointEvent =
  | { readonly kind: 'failed'; readonly error: string; readonly consecutive: number }
  | { readonly kind: 'recovered'; readonly failures: number };

/** While checkpoints keep failing, one report per this many failures (one a minute at one a second). */
const REPORT_EVERY = 60;

export class Checkpointer {
  private worker: Worker | undefined;
  /** The worker could not start or died: checkpoint on the main thread from now on. */
  private inlineOnly = false;
  private waiting: Array<(r: CheckpointResult | undefined) => void> = [];
  private readonly timer: NodeJS.Timeout;
  private closed = false;
  /** The log's length as the last checkpoint saw it (0 once catchUp has let it start again). */
  private logFrames = 0;
  /** The log's length when catchUp last gave up (a reader kept it from being copied whole). */
  private gaveUpAt = -Infinity;
  private current: CheckpointStatus = { failures: 0, consecutiveFailures: 0, lastError: undefined, logFrames: 0, pendingFrames: 0 };

  /**
   * @param path the database file (a worker is used only for a file, not ':memory:')
   * @param inline a checkpoint on the main thread's connection (the fallback); throws when it fails
   * @param onEvent told when checkpoints start failing (and every REPORT_EVERY failures after) and when they recover
   */
  constructor(
    private readonly path: string,
    everyMs: number,
    private readonly inline: () => CheckpointResult,
    private readonly onEvent: (event: CheckpointEvent) => void = () => {},
  ) {
    this.inlineOnly = path === ':memory:' || path === '';
    this.timer = setInterval(() => void this.checkpoint(), everyMs);
    this.timer.unref();
  }

  /**
   * One checkpoint; resolves with its result when it ran on the worker (undefined on the main
   * thread, or when the worker failed). A checkpoint still running is not queued behind: the call
   * waits for that one.
   */
  checkpoint(): Promise<CheckpointResult | undefined> {
    if (this.closed) return Promise.resolve(undefined);
    if (this.inlineOnly || !this.start()) {
      try {
        this.record(this.inline());
      } catch (e) {
        this.record(undefined, e instanceof Error ? e.message : String(e));
      }
      return Promise.resolve(undefined);
    }
    return new Promise((resolve) => {
      this.waiting.push(resolve);
      if (this.waiting.length === 1) {
        // Held while a checkpoint is awaited; otherwise the worker never keeps the process alive.
        this.worker!.ref();
        this.worker!.postMessage('checkpoint');
      }
    });
  }

  /**
   * Starts a checkpoint now when the worker is running (a write batch just committed: its frames are
   * copied while the caller goes on), without waiting for it. Without a worker this does nothing:
   * an inline checkpoint would stop the event loop, and the timer's is enough there.
   */
  kick(): void {
    if (this.worker && !this.closed) void this.checkpoint();
  }

  /**
   * When the log has grown to `maxFrames` or more (as the last checkpoint saw it), waits, without
   * stopping the event loop, for checkpoints on the worker until one has copied the whole log.
   *
   * Why: SQLite starts the log again from its beginning only when a write transaction begins on a
   * log that is copied whole. Under a steady stream of writes a checkpoint every second never
   * catches up at that instant, so the log only grows (1.2 GB in 30 s of sustained firing in
   * bench/scheduler), and every frame appended past the file's end costs the file system a block
   * allocation and zeroing: a third of the firing transaction's commit. Called before a large
   * write, this keeps the log within about `maxFrames` plus one batch, on blocks written before.
   */
  async catchUp(maxFrames: number): Promise<void> {
    if (!this.worker || this.closed) return;
    // A reader holding an old snapshot (a `sqlite3` shell in a transaction) keeps the log from being
    // copied whole: after three tries, wait again only once the log has grown by another maxFrames.
    if (this.logFrames < Math.max(maxFrames, this.gaveUpAt + maxFrames)) return;
    for (let tries = 0; tries < 3; tries++) {
      const result = await this.checkpoint();
      // The worker failed: the inline fallback takes over; do not wait on it.
      if (result === undefined) return;
      if (result.checkpointed >= result.log) {
        this.logFrames = 0; // the next write starts the log again
        this.gaveUpAt = -Infinity;
        return;
      }
    }
    this.gaveUpAt = this.logFrames;
  }

  status(): CheckpointStatus {
    return this.current;
  }

  /** Stops the timer and the worker (after a checkpoint in progress ends). */
  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    const worker = this.worker;
    this.worker = undefined;
    if (!worker) return;
    const exited = once(worker, 'exit');
    worker.ref();
    worker.postMessage('close');
    await exited;
    this.settle(undefined);
  }

  private start(): boolean {
    if (this.worker) return true;
    try {
      const worker = new Worker(WORKER_SOURCE, {
        eval: true,
        // The worker needs none of the parent's loaders (tsx under tests): plain CommonJS.
        execArgv: [],
        workerData: { path: this.path, driver: createRequire(import.meta.url).resolve('better-sqlite3') },
      });
      worker.unref();
      worker.on('message', (m: { result?: CheckpointResult; error?: string }) => {
        this.record(m.result, m.error);
        this.settle(m.result);
      });
      // An error thrown in the worker arrives cloned: a SqliteError keeps its code, not always its message.
      worker.on('error', (e: Error & { code?: string }) => this.fail(worker, `the checkpoint worker failed: ${e.message ?? e.code ?? String(e)}`));
      worker.on('exit', (code) => this.fail(worker, `the checkpoint worker exited (code ${code})`));
      this.worker = worker;
      return true;
    } catch {
      this.inlineOnly = true;
      return false;
    }
  }

  private fail(worker: Worker, error: string): void {
    if (this.worker !== worker) return; // closed on purpose, or already reported
    this.worker = undefined;
    this.inlineOnly = true;
    // Reported as a failure, although the next checkpoints run on the main thread: an operator
    // should know that the copy now stops the event loop.
    this.record(undefined, `${error}; checkpoints run on the main thread from now on`);
    this.settle(undefined);
  }

  private record(result: CheckpointResult | undefined, error?: string): void {
    const before = this.current;
    if (error === undefined && result) {
      // -1 frames: the database is not in WAL mode (nothing to copy).
      this.current = { ...before, consecutiveFailures: 0, logFrames: Math.max(0, result.log), pendingFrames: Math.max(0, result.log - result.checkpointed) };
      this.logFrames = this.current.logFrames;
      if (before.consecutiveFailures > 0) this.onEvent({ kind: 'recovered', failures: before.consecutiveFailures });
      return;
    }
    if (error === undefined) return;
    const consecutive = before.consecutiveFailures + 1;
    this.current = { ...before, failures: before.failures + 1, consecutiveFailures: consecutive, lastError: error };
    if (consecutive === 1 || consecutive % REPORT_EVERY === 0) this.onEvent({ kind: 'failed', error, consecutive });
  }

  private settle(result: CheckpointResult | undefined): void {
    this.worker?.unref();
    const waiting = this.waiting;
    this.waiting = [];
    for (const resolve of waiting) resolve(result);
  }
}
