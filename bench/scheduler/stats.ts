/** Percentiles and number formatting for the scheduler benchmark. */

export interface Dist {
  readonly n: number;
  readonly min: number;
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly max: number;
  readonly mean: number;
}

/** Nearest-rank percentile of an ascending array (p in 0..100). */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!;
}

export function dist(values: ArrayLike<number>): Dist {
  const sorted = Float64Array.from(values as ArrayLike<number>).sort();
  let sum = 0;
  for (let i = 0; i < sorted.length; i++) sum += sorted[i]!;
  return {
    n: sorted.length,
    min: sorted.length ? sorted[0]! : NaN,
    p50: percentile(sorted, 50),
    p90: percentile(sorted, 90),
    p99: percentile(sorted, 99),
    max: sorted.length ? sorted[sorted.length - 1]! : NaN,
    mean: sorted.length ? sum / sorted.length : NaN,
  };
}

/**
 * A distribution of values that come in groups sharing one value (all occurrences of one batch are
 * recorded by one commit): `groups` of [value, count], expanded per occurrence.
 */
export function weightedDist(groups: ReadonlyArray<readonly [value: number, count: number]>): Dist {
  const total = groups.reduce((s, [, c]) => s + c, 0);
  const values = new Float64Array(total);
  let k = 0;
  for (const [v, c] of groups) for (let i = 0; i < c; i++) values[k++] = v;
  return dist(values);
}

/** 12,345 / 1.23 / 0.0123: three significant digits below 100, grouped integers above. */
export function fmt(n: number, digits = 3): string {
  if (!Number.isFinite(n)) return String(n);
  const a = Math.abs(n);
  if (a >= 100) return Math.round(n).toLocaleString('en-US');
  if (a === 0) return '0';
  return Number(n.toPrecision(digits)).toString();
}

/** Milliseconds as "850 ms" or "2.31 s". */
export function ms(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  return Math.abs(n) >= 1000 ? `${fmt(n / 1000)} s` : `${fmt(n)} ms`;
}
