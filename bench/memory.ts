/**
 * Heap used by N compiled schedules (a mix of the six typical rules), measured with global.gc
 * before and after: `node --expose-gc --import tsx bench/memory.ts <options-json> <out-file>`.
 * Peers' rule objects are measured the same way, for comparison.
 */
import { writeFileSync } from 'node:fs';
import { NOW_MS, RULES, ZONE, type BenchOptions, type Case } from './config.js';
import { ours, rrule, rruleTemporal, type Adapter } from './libs.js';

export interface MemoryRow {
  readonly lib: string;
  readonly n: number;
  /** Bytes per object after construction: heapUsed delta / n. */
  readonly heapPerObject: number;
  /** Same, counting `external` memory too (off-heap typed-array backing stores). */
  readonly totalPerObject: number;
  /** Bytes per object after one next(now) call on each (lazily built state included). */
  readonly heapPerObjectAfterQuery?: number;
  readonly totalPerObjectAfterQuery?: number;
  readonly buildSeconds: number;
}

export interface MemoryResult {
  readonly rows: MemoryRow[];
}

const gc = (globalThis as { gc?: () => void }).gc;

function collect(): { heap: number; total: number } {
  for (let k = 0; k < 4; k++) gc!();
  const m = process.memoryUsage();
  return { heap: m.heapUsed, total: m.heapUsed + m.external };
}

/** The i-th schedule of the mix: rule i mod 6, DTSTART spread over ten years and the hour. */
function caseFor(i: number): Case {
  const rule = RULES[i % RULES.length]!;
  const d = new Date(Date.UTC(2016, 0, 1, 7, i % 60, 0) + ((i * 7919) % 3650) * 86_400_000);
  const p = (n: number, w = 2): string => String(n).padStart(w, '0');
  const startLocal = `${d.getUTCFullYear()}-${p(d.getUTCMonth() + 1)}-${p(d.getUTCDate())}T${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:00`;
  return {
    rule,
    age: { id: 'mix', label: 'mix', days: 0, years: 0 },
    startLocal,
    ics: `DTSTART;TZID=${ZONE}:${startLocal.replace(/[-:]/g, '')}\n${rule.rrule}`,
    floatingStartMs: d.getTime(),
  };
}

function measureLib<H>(adapter: Adapter<H>, n: number, query: boolean): MemoryRow {
  // Warm-up: module state and the zone's per-year offset tables (shared by all schedules) exist
  // before the baseline, so that the delta is the per-schedule cost only.
  for (let i = 0; i < 600; i++) {
    const h = adapter.build(caseFor(i * 17));
    if (query && adapter.name !== 'rrule') adapter.next(h, NOW_MS);
  }
  const keep: H[] = new Array<H>(n);
  const before = collect();
  const t0 = performance.now();
  for (let i = 0; i < n; i++) keep[i] = adapter.build(caseFor(i));
  const buildSeconds = (performance.now() - t0) / 1000;
  const after = collect();
  const row: MemoryRow = {
    lib: adapter.name,
    n,
    heapPerObject: (after.heap - before.heap) / n,
    totalPerObject: (after.total - before.total) / n,
    buildSeconds,
  };
  if (!query) return row;
  for (let i = 0; i < n; i++) adapter.next(keep[i]!, NOW_MS);
  const queried = collect();
  if (keep.length !== n) throw new Error('unreachable');
  return { ...row, heapPerObjectAfterQuery: (queried.heap - before.heap) / n, totalPerObjectAfterQuery: (queried.total - before.total) / n };
}

const [optsArg, outArg] = process.argv.slice(2);
if (!optsArg || !outArg) throw new Error('usage: memory.ts <options-json> <out-file>');
if (!gc) throw new Error('run with node --expose-gc');
const o = JSON.parse(optsArg) as BenchOptions;
const rows: MemoryRow[] = [];
rows.push(measureLib(ours, o.memoryN, true));
process.stderr.write(`  memory ours: ${rows[0]!.heapPerObject.toFixed(0)} B/schedule\n`);
rows.push(measureLib(rruleTemporal, o.memoryN, true));
process.stderr.write(`  memory rrule-temporal: ${rows[1]!.heapPerObject.toFixed(0)} B/object\n`);
// rrule.js: construction only (a query from a years-old DTSTART takes seconds).
rows.push(measureLib(rrule, o.memoryN, false));
process.stderr.write(`  memory rrule: ${rows[2]!.heapPerObject.toFixed(0)} B/object\n`);
writeFileSync(outArg, JSON.stringify({ rows } satisfies MemoryResult));
