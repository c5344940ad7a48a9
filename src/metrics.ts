/**
 * Prometheus metrics (prom-client), on a registry of their own per service instance. Names and
 * units follow Prometheus conventions (`_seconds`, `_total`); docs/operations.md lists them with
 * what to alert on.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { FastHistogram, type HistogramSeries } from './fast-histogram.js';
import type { FinishedReload } from './scheduler/dispatcher.js';
import type { CheckpointStatus } from './store/sqlite/checkpointer.js';
import type { FiredOccurrence, PruneResult, Store } from './store/store.js';

export class Metrics {
  readonly registry = new Registry();

  /** Observed on every request, so not a prom-client Histogram (fast-histogram.ts). */
  readonly httpDuration = new FastHistogram(
    'reload_tasks_http_request_duration_seconds',
    'HTTP request duration, by route pattern, method and status code.',
    ['method', 'route', 'status_code'],
    [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    this.registry,
  );

  readonly occurrences = new Counter({
    name: 'reload_tasks_occurrences_total',
    help: 'Occurrences recorded by the scheduler, by outcome: fired, missed (after downtime), skipped (overlap).',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  readonly fireSkew = new Histogram({
    name: 'reload_tasks_fire_skew_seconds',
    help: 'When an occurrence was fired minus its nominal time.',
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60],
    registers: [this.registry],
  });

  /**
   * Tokens accepted, counted on every request as plain numbers and handed to the counter when it is
   * scraped: a labelled prom-client inc hashes its labels on every call.
   */
  private readonly accepted = { cache: 0, signature: 0 };
  private readonly acceptedReported = { cache: 0, signature: 0 };

  readonly tokensAccepted = new Counter({
    name: 'reload_tasks_auth_tokens_accepted_total',
    help: 'Bearer tokens accepted, by how: from the cache of verified tokens, or by checking the signature.',
    labelNames: ['check'] as const,
    registers: [this.registry],
    collect: () => {
      for (const how of ['cache', 'signature'] as const) {
        const more = this.accepted[how] - this.acceptedReported[how];
        if (more > 0) this.tokensAccepted.inc({ check: how }, more);
        this.acceptedReported[how] = this.accepted[how];
      }
    },
  });

  /**
   * A SQLite background job's state as scraped: a gauge read as it is, and a count of failures that
   * the job keeps as a running total, handed to a counter by what it grew since the last scrape.
   */
  private sqliteStatus(gauge: readonly [string, string, () => number], failures: readonly [string, string, () => number]): void {
    const [gaugeName, gaugeHelp, read] = gauge;
    new Gauge({
      name: gaugeName,
      help: gaugeHelp,
      registers: [this.registry],
      collect() {
        this.set(read());
      },
    });
    const [counterName, counterHelp, total] = failures;
    let counted = 0;
    new Counter({
      name: counterName,
      help: counterHelp,
      registers: [this.registry],
      collect() {
        const now = total();
        if (now > counted) this.inc(now - counted);
        counted = now;
      },
    });
  }

  tokenAccepted(how: 'cache' | 'signature'): void {
    this.accepted[how] += 1;
  }

  readonly reloadsFinished = new Counter({
    name: 'reload_tasks_reloads_finished_total',
    help: 'Reloads that ended, by final status and executor.',
    labelNames: ['status', 'executor'] as const,
    registers: [this.registry],
  });

  readonly tasksDisabled = new Counter({
    name: 'reload_tasks_tasks_disabled_total',
    help: 'Tasks the service disabled by itself (consecutive failures).',
    labelNames: ['code'] as const,
    registers: [this.registry],
  });

  readonly recordsPruned = new Counter({
    name: 'reload_tasks_records_pruned_total',
    help: 'Records deleted by retention (RELOAD_RETENTION_DAYS), by kind: finished reloads, occurrence records.',
    labelNames: ['record'] as const,
    registers: [this.registry],
  });

  readonly storeDuration = new Histogram({
    name: 'reload_tasks_store_operation_duration_seconds',
    help: 'Duration of store (database) operations, by operation.',
    labelNames: ['operation'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5],
    registers: [this.registry],
  });

  constructor(sources: {
    readonly queueDepth: () => Promise<number>;
    readonly oldestQueuedAge: () => Promise<number>;
    readonly running: () => number;
    /** SQLite only: what the write-ahead log's checkpoints have done. */
    readonly checkpoints?: () => CheckpointStatus;
    /** SQLite only: the reloads' list keys waiting to be moved into their large level, failed moves. */
    readonly listKeys?: () => { readonly freshKeys: number; readonly failures: number };
  }) {
    collectDefaultMetrics({ register: this.registry, prefix: 'reload_tasks_' });
    const checkpoints = sources.checkpoints;
    if (checkpoints) {
      this.sqliteStatus(
        ['reload_tasks_sqlite_wal_pending_frames', 'SQLite: frames of the write-ahead log not yet copied into the database file after the last checkpoint.', () => checkpoints().pendingFrames],
        ['reload_tasks_sqlite_checkpoint_failures_total', 'SQLite: checkpoints of the write-ahead log that failed (the log grows while they fail).', () => checkpoints().failures],
      );
    }
    const listKeys = sources.listKeys;
    if (listKeys) {
      this.sqliteStatus(
        ['reload_tasks_sqlite_list_keys_unsettled', "SQLite: keys of the reloads' lists by app, owner and task still in the small level, not yet moved into the large one.", () => listKeys().freshKeys],
        ['reload_tasks_sqlite_list_key_move_failures_total', 'SQLite: moves of list keys into their large level that failed (tried again at the next tick).', () => listKeys().failures],
      );
    }
    new Gauge({
      name: 'reload_tasks_reload_queue_depth',
      help: 'Reloads waiting for a free slot (all instances).',
      registers: [this.registry],
      async collect() {
        this.set(await sources.queueDepth().catch(() => Number.NaN));
      },
    });
    new Gauge({
      name: 'reload_tasks_reload_queue_oldest_age_seconds',
      help: 'How long the oldest queued reload has waited (0 when none).',
      registers: [this.registry],
      async collect() {
        this.set(await sources.oldestQueuedAge().catch(() => Number.NaN));
      },
    });
    new Gauge({
      name: 'reload_tasks_reloads_running',
      help: 'Reloads this instance is running.',
      registers: [this.registry],
      collect() {
        this.set(sources.running());
      },
    });
  }

  /**
   * The histogram's series by route pattern, method and status, looked up once each. Nested maps:
   * the route and method strings are the same string objects on every request (hashed once), where
   * a key made of the three would be a new string to build and hash per request.
   */
  private readonly httpSeries = new Map<string, Map<string, Map<number, HistogramSeries>>>();

  /** One HTTP request's duration (by route pattern, not URL, so that ids do not make a series per task). */
  observeHttp(method: string, route: string, statusCode: number, seconds: number): void {
    let byMethod = this.httpSeries.get(route);
    if (byMethod === undefined) this.httpSeries.set(route, (byMethod = new Map()));
    let byStatus = byMethod.get(method);
    if (byStatus === undefined) byMethod.set(method, (byStatus = new Map()));
    let series = byStatus.get(statusCode);
    if (series === undefined) byStatus.set(statusCode, (series = this.httpDuration.series({ method, route, status_code: statusCode })));
    series.observe(seconds);
  }

  /** Scheduler events: what was recorded, and how late. */
  recorded(occurrences: readonly FiredOccurrence[], at: number): void {
    for (const o of occurrences) {
      this.occurrences.inc({ outcome: o.outcome });
      if (o.outcome === 'fired') this.fireSkew.observe(Math.max(0, at - o.nominal) / 1000);
    }
  }

  finished(f: FinishedReload): void {
    this.reloadsFinished.inc({ status: f.reload.status, executor: f.reload.executor ?? 'none' });
    if (f.disabledTaskId) this.tasksDisabled.inc({ code: 'CONSECUTIVE-FAILURES' });
  }

  pruned(p: PruneResult): void {
    if (p.reloads > 0) this.recordsPruned.inc({ record: 'reload' }, p.reloads);
    if (p.occurrences > 0) this.recordsPruned.inc({ record: 'occurrence' }, p.occurrences);
  }

  /** The store with every operation timed. */
  timedStore(store: Store): Store {
    const histogram = this.storeDuration;
    // One wrapper and one histogram series per method, made on first use: the API calls the store
    // on every request, and a closure, a label lookup and a `finally` chain per call showed up in
    // the cost of a GET by id.
    const wrappers = new Map<PropertyKey, (...args: unknown[]) => unknown>();
    const wrap = (target: Store, name: string, fn: (...a: unknown[]) => unknown) => {
      const series = histogram.labels({ operation: name });
      return (...args: unknown[]): unknown => {
        const t0 = performance.now();
        const result = fn.apply(target, args);
        if (result instanceof Promise) {
          return result.then(
            (value: unknown) => {
              series.observe((performance.now() - t0) / 1000);
              return value;
            },
            (e: unknown) => {
              series.observe((performance.now() - t0) / 1000);
              throw e;
            },
          );
        }
        series.observe((performance.now() - t0) / 1000);
        return result;
      };
    };
    return new Proxy(store, {
      get(target, name, receiver) {
        const value = Reflect.get(target, name, receiver) as unknown;
        if (typeof value !== 'function' || name === 'subscribe' || name === 'close' || typeof name !== 'string') return value;
        // peekTask is a look-up in memory, not a database operation: it is not timed, and runs on
        // the store itself (with the proxy as `this`, each field it reads would be a trap).
        if (name === 'peekTask') return (value as (...a: unknown[]) => unknown).bind(target);
        let wrapper = wrappers.get(name);
        if (wrapper === undefined) {
          wrapper = wrap(target, name, value as (...a: unknown[]) => unknown);
          wrappers.set(name, wrapper);
        }
        return wrapper;
      },
    });
  }
}
