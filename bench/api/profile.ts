/**
 * Reading a V8 .cpuprofile (node --cpu-prof) into where the server's time goes: self time per
 * function, self time per package or source directory, and inclusive time of chosen functions
 * (time with the function anywhere on the stack).
 */
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readCpuProfile, type CallFrame, type ProfileNode } from '../common/cpuprofile.js';

export interface ProfileLine {
  readonly name: string;
  readonly where: string;
  readonly ms: number;
  /** Share of the busy (non-idle) time. */
  readonly pct: number;
}

export interface ProfileSummary {
  readonly totalMs: number;
  readonly busyMs: number;
  readonly selfTop: ProfileLine[];
  readonly byArea: ProfileLine[];
  readonly inclusive: ProfileLine[];
  /** Time with a package or source directory anywhere on the stack (node core left out). */
  readonly areasInclusive: ProfileLine[];
}

export function summarizeProfile(path: string, root: string, inclusiveOf: readonly string[], top = 12): ProfileSummary {
  const p = readCpuProfile(path);
  const byId = new Map<number, ProfileNode>();
  const parent = new Map<number, number>();
  for (const n of p.nodes) {
    byId.set(n.id, n);
    for (const c of n.children ?? []) parent.set(c, n.id);
  }
  const where = (f: CallFrame): string => {
    if (!f.url) return '';
    let file = f.url;
    if (file.startsWith('file://')) file = relative(root, fileURLToPath(file));
    return `${file}:${f.lineNumber + 1}`;
  };
  const area = (f: CallFrame): string => {
    if (!f.url) return f.functionName; // (program), (garbage collector), (idle)
    if (f.url.startsWith('node:')) return 'node: core';
    const file = f.url.startsWith('file://') ? relative(root, fileURLToPath(f.url)) : f.url;
    const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(file);
    if (m) return m[1]!;
    const dir = file.split('/').slice(0, -1).join('/');
    return dir || file;
  };

  const self = new Map<string, { name: string; where: string; ms: number }>();
  const areas = new Map<string, number>();
  const inclusive = new Map<string, number>();
  const areasInclusive = new Map<string, number>();
  let total = 0;
  let idle = 0;
  for (let i = 0; i < p.samples.length; i++) {
    const ms = (p.timeDeltas[i] ?? 0) / 1000;
    total += ms;
    const node = byId.get(p.samples[i]!);
    if (!node) continue;
    const f = node.callFrame;
    if (f.functionName === '(idle)') {
      idle += ms;
      continue;
    }
    // The profiler's own work (stopping it, through node:inspector) is not the server's.
    let profiler = false;
    for (let id: number | undefined = node.id; id !== undefined && !profiler; id = parent.get(id)) profiler = byId.get(id)!.callFrame.url === 'node:inspector';
    if (profiler) {
      total -= ms;
      continue;
    }
    // A native or built-in frame has no source: name it by its nearest caller that has one.
    let at = where(f);
    let areaName = area(f);
    if (!f.url && parent.has(node.id)) {
      for (let id = parent.get(node.id); id !== undefined; id = parent.get(id)) {
        const c = byId.get(id)!.callFrame;
        if (c.url) {
          at = `native, called by ${c.functionName || '(anonymous)'} ${where(c)}`;
          areaName = `native code called from ${area(c)}`;
          break;
        }
      }
    }
    const key = `${f.functionName}@${at}`;
    const s = self.get(key) ?? { name: f.functionName || '(anonymous)', where: at, ms: 0 };
    s.ms += ms;
    self.set(key, s);
    areas.set(areaName, (areas.get(areaName) ?? 0) + ms);
    const seen = new Set<string>();
    const seenAreas = new Set<string>();
    for (let id: number | undefined = node.id; id !== undefined; id = parent.get(id)) {
      const frame = byId.get(id)!.callFrame;
      if (frame.url && !frame.url.startsWith('node:')) {
        const a = area(frame);
        if (!seenAreas.has(a)) {
          seenAreas.add(a);
          areasInclusive.set(a, (areasInclusive.get(a) ?? 0) + ms);
        }
      }
      const name = frame.functionName;
      if (inclusiveOf.includes(name) && !seen.has(name)) {
        seen.add(name);
        inclusive.set(name, (inclusive.get(name) ?? 0) + ms);
      }
    }
  }
  const busy = total - idle;
  const pct = (ms: number): number => (busy > 0 ? (100 * ms) / busy : 0);
  return {
    totalMs: total,
    busyMs: busy,
    selfTop: [...self.values()]
      .sort((a, b) => b.ms - a.ms)
      .slice(0, top)
      .map((s) => ({ ...s, pct: pct(s.ms) })),
    byArea: [...areas.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, ms]) => ({ name, where: '', ms, pct: pct(ms) })),
    areasInclusive: [...areasInclusive.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, ms]) => ({ name, where: '', ms, pct: pct(ms) })),
    inclusive: inclusiveOf.filter((n) => inclusive.has(n)).map((name) => ({ name, where: '', ms: inclusive.get(name)!, pct: pct(inclusive.get(name)!) })),
  };
}
