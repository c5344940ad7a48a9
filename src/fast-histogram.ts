/**
 * A Prometheus histogram for the hot path: an observation is a few array updates on a series the
 * caller looked up once. prom-client's labelled observe validates and hashes the labels and turns
 * the bucket bound into a property name on every call, which showed in a GET by id's cost
 * (docs/benchmarks-api.md). The registry writes it out exactly as it writes a prom-client
 * Histogram: same lines, same label order.
 */
import type { Metric, Registry } from 'prom-client';

type Labels = Readonly<Record<string, string | number>>;

/** One label set's counts. */
export class HistogramSeries {
  /** Observations per bucket (not cumulative); the last slot is +Inf. */
  readonly counts: Float64Array;
  sum = 0;
  count = 0;

  constructor(
    readonly labels: Labels,
    private readonly bounds: readonly number[],
  ) {
    this.counts = new Float64Array(bounds.length + 1);
  }

  observe(value: number): void {
    if (!Number.isFinite(value)) return; // a duration always is; prom-client would throw
    const bounds = this.bounds;
    let i = 0;
    while (i < bounds.length && value > bounds[i]!) i++;
    this.counts[i]! += 1;
    this.sum += value;
    this.count += 1;
  }
}

interface ValuePair {
  labels: Labels;
  sharedLabels: Labels;
  value: number;
  metricName: string;
  /** Buckets carry one in prom-client (always null here: exemplars are not kept). */
  exemplar?: null;
}

export class FastHistogram {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  private readonly all = new Map<string, HistogramSeries>();

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly labelNames: readonly string[],
    private readonly bounds: readonly number[],
    registry: Registry,
  ) {
    if (bounds.some((b, i) => i > 0 && b <= bounds[i - 1]!)) throw new Error(`${name}: buckets must increase`);
    registry.registerMetric(this as unknown as Metric);
  }

  /** The series of these label values, made on first use: keep it and observe on it. */
  series(labels: Labels): HistogramSeries {
    const key = this.labelNames.map((n) => String(labels[n])).join('\u0000');
    let series = this.all.get(key);
    if (series === undefined) {
      const own: Record<string, string | number> = {};
      for (const n of this.labelNames) own[n] = labels[n]!;
      series = new HistogramSeries(own, this.bounds);
      this.all.set(key, series);
    }
    return series;
  }

  /** What the registry writes: the series' labels shared, `le` as the bucket's own label. */
  getForPromString(): { name: string; help: string; type: string; aggregator: string; values: ValuePair[] } {
    const values: ValuePair[] = [];
    for (const s of this.all.values()) {
      let acc = 0;
      this.bounds.forEach((le, i) => {
        acc += s.counts[i]!;
        values.push({ labels: { le }, sharedLabels: s.labels, value: acc, metricName: `${this.name}_bucket`, exemplar: null });
      });
      values.push({ labels: { le: '+Inf' }, sharedLabels: s.labels, value: s.count, metricName: `${this.name}_bucket`, exemplar: null });
      values.push({ labels: {}, sharedLabels: s.labels, value: s.sum, metricName: `${this.name}_sum` });
      values.push({ labels: {}, sharedLabels: s.labels, value: s.count, metricName: `${this.name}_count` });
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }

  /** The same values with each line's labels in one object (the registry's JSON form). */
  get(): { name: string; help: string; type: string; aggregator: string; values: Array<Omit<ValuePair, 'sharedLabels'>> } {
    const data = this.getForPromString();
    return { ...data, values: data.values.map(({ sharedLabels, ...v }) => ({ ...v, labels: { ...sharedLabels, ...v.labels } })) };
  }

  reset(): void {
    for (const s of this.all.values()) {
      s.counts.fill(0);
      s.sum = 0;
      s.count = 0;
    }
  }
}
