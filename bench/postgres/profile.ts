/**
 * A V8 .cpuprofile (from `node --cpu-prof`) summed up: self time per function, the top ones, and
 * the share by where the code lives (the service's src/, the pg driver, other packages, Node
 * itself, idle, GC).
 */
import { readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { readCpuProfile } from '../common/cpuprofile.js';

export interface ProfileSummary {
  readonly file: string;
  readonly totalMs: number;
  readonly top: ReadonlyArray<{ fn: string; where: string; selfMs: number; pct: number }>;
  readonly byArea: ReadonlyArray<{ area: string; ms: number; pct: number }>;
}

function areaOf(url: string, fn: string, root: string): string {
  if (fn === '(idle)') return 'idle (waiting for PostgreSQL or the event loop)';
  if (fn === '(garbage collector)') return 'garbage collector';
  if (fn === '(program)' || fn === '(root)') return 'V8/native (program)';
  if (url.includes('/node_modules/pg') || url.includes('/node_modules/pg-')) return 'pg driver (node_modules/pg*)';
  if (url.includes('/node_modules/')) return 'other packages';
  if (url.startsWith('node:') || url === '') return 'Node.js internals';
  if (url.includes(`${root}/src/`) || url.includes('/src/')) return 'the service (src/)';
  return 'bench and other';
}

export function summarizeProfile(file: string, root: string, topN = 15): ProfileSummary {
  const p = readCpuProfile(file);
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  for (let i = 0; i < p.samples.length; i++) self.set(p.samples[i]!, (self.get(p.samples[i]!) ?? 0) + (p.timeDeltas[i] ?? 0) / 1000);
  const fns = new Map<string, { fn: string; where: string; selfMs: number }>();
  const areas = new Map<string, number>();
  let total = 0;
  for (const [id, ms] of self) {
    const n = byId.get(id)!;
    const url = n.callFrame.url.replace(/^file:\/\//, '');
    // Positions in the TypeScript sources are tsx's output, not the .ts file's lines: name the file only.
    const where = url ? `${relative(root, url)}${url.endsWith('.ts') ? '' : `:${n.callFrame.lineNumber + 1}`}` : '';
    const fn = n.callFrame.functionName || '(anonymous)';
    const key = `${fn}@${where}`;
    const e = fns.get(key) ?? { fn, where, selfMs: 0 };
    e.selfMs += ms;
    fns.set(key, e);
    const area = areaOf(url, fn, root);
    areas.set(area, (areas.get(area) ?? 0) + ms);
    total += ms;
  }
  const top = [...fns.values()].sort((a, b) => b.selfMs - a.selfMs).slice(0, topN).map((e) => ({ ...e, pct: (100 * e.selfMs) / total }));
  const byArea = [...areas].sort((a, b) => b[1] - a[1]).map(([area, ms]) => ({ area, ms, pct: (100 * ms) / total }));
  return { file, totalMs: total, top, byArea };
}

/** The busiest profile in a directory (tsx's loader thread writes one of its own). */
export function mainProfile(dir: string, root: string): ProfileSummary | undefined {
  const files = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile')).map((f) => join(dir, f));
  const all = files.map((f) => summarizeProfile(f, root));
  const busy = (s: ProfileSummary): number => s.totalMs - (s.byArea.find((a) => a.area.startsWith('idle'))?.ms ?? 0);
  return all.sort((a, b) => busy(b) - busy(a))[0];
}
