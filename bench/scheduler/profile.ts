/**
 * Reads a V8 CPU profile (`node --cpu-prof`) and lists the functions with the most self time, and
 * the inclusive time of chosen functions. Native better-sqlite3 calls (Statement#run/#get/#all and
 * Database#exec, which run SQLite itself) appear under their JavaScript names with no script URL.
 *
 *   node --import tsx bench/scheduler/profile.ts <file.cpuprofile> [top]
 */
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readCpuProfile, type CallFrame, type ProfileNode } from '../common/cpuprofile.js';

export interface FunctionCost {
  /** `name (file:line)`, file relative to the project, or `(native)` when V8 has no script for it. */
  readonly fn: string;
  readonly selfMs: number;
  readonly selfPct: number;
}

export interface ProfileSummary {
  readonly totalMs: number;
  readonly top: FunctionCost[];
  /** Inclusive time (self + callees) of named functions, summed over their frames. */
  readonly inclusive: Array<{ fn: string; ms: number; pct: number }>;
}

function label(frame: CallFrame, root: string): string {
  const name = frame.functionName || '(anonymous)';
  if (!frame.url) return name.startsWith('(') ? name : `${name} (native)`;
  let file = frame.url;
  try {
    file = relative(root, fileURLToPath(frame.url));
  } catch {
    // node:internal URLs and the like stay as they are
  }
  return `${name} (${file}:${frame.lineNumber + 1})`;
}

/**
 * @param inclusiveOf function names whose inclusive time is wanted (matched on the bare name, or on
 *        `name@file-fragment` to tell same-named functions apart).
 */
export function summarize(path: string, root: string, topN = 25, inclusiveOf: readonly string[] = []): ProfileSummary {
  const p = readCpuProfile(path);
  const byId = new Map<number, ProfileNode>();
  const parent = new Map<number, number>();
  for (const n of p.nodes) byId.set(n.id, n);
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const self = new Map<string, number>();
  const incl = new Map<string, number>();
  const wanted = inclusiveOf.map((w) => {
    const [name, file] = w.split('@');
    return { key: w, name: name!, file };
  });
  let total = 0;
  for (let i = 0; i < p.samples.length; i++) {
    // timeDeltas[i] is the time since the previous sample; attribute it to this sample's frame.
    const dt = (p.timeDeltas[i] ?? 0) / 1000;
    const node = byId.get(p.samples[i]!)!;
    total += dt;
    const l = label(node.callFrame, root);
    self.set(l, (self.get(l) ?? 0) + dt);
    if (wanted.length === 0) continue;
    const seen = new Set<string>();
    for (let id: number | undefined = node.id; id !== undefined; id = parent.get(id)) {
      const f = byId.get(id)!.callFrame;
      for (const w of wanted) {
        if (seen.has(w.key)) continue;
        if (f.functionName === w.name && (w.file === undefined || f.url.includes(w.file))) seen.add(w.key);
      }
    }
    for (const k of seen) incl.set(k, (incl.get(k) ?? 0) + dt);
  }
  const top = [...self.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, topN)
    .map(([fn, selfMs]) => ({ fn, selfMs, selfPct: (100 * selfMs) / total }));
  const inclusive = wanted.map((w) => ({ fn: w.key, ms: incl.get(w.key) ?? 0, pct: (100 * (incl.get(w.key) ?? 0)) / total }));
  return { totalMs: total, top, inclusive };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const file = process.argv[2];
  if (!file) throw new Error('usage: profile.ts <file.cpuprofile> [top]');
  const s = summarize(file, process.cwd(), Number(process.argv[3] ?? 30), ['fireDue', 'planFirings', 'scheduleOf', 'fromRow', 'newReloadId', 'claimQueued', 'expireQueued', 'takeExpiredLeases']);
  console.log(`total sampled ${(s.totalMs / 1000).toFixed(2)} s`);
  for (const t of s.top) console.log(`${t.selfMs.toFixed(0).padStart(8)} ms ${t.selfPct.toFixed(1).padStart(5)} %  ${t.fn}`);
  console.log('inclusive:');
  for (const t of s.inclusive) console.log(`${t.ms.toFixed(0).padStart(8)} ms ${t.pct.toFixed(1).padStart(5)} %  ${t.fn}`);
}
