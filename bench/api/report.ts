/** Tables as aligned text (the console) and as Markdown (docs/benchmarks-api.md). */

export interface Table {
  readonly title: string;
  readonly head: readonly string[];
  readonly rows: ReadonlyArray<readonly string[]>;
  /** Columns aligned right (numbers); the rest are aligned left. */
  readonly right?: readonly number[];
}

export function tableToText(t: Table): string {
  const widths = t.head.map((h, i) => Math.max(h.length, ...t.rows.map((r) => (r[i] ?? '').length)));
  const cell = (s: string, i: number): string => ((t.right ?? []).includes(i) ? s.padStart(widths[i]!) : s.padEnd(widths[i]!));
  const line = (r: readonly string[]): string => r.map((s, i) => cell(s, i)).join('  ').trimEnd();
  return [t.title, line(t.head), widths.map((w) => '-'.repeat(w)).join('  '), ...t.rows.map(line)].join('\n');
}

export function tableToMarkdown(t: Table): string {
  const esc = (s: string): string => s.replace(/\|/g, '\\|');
  const align = t.head.map((_, i) => ((t.right ?? []).includes(i) ? '---:' : '---'));
  return [`| ${t.head.map(esc).join(' | ')} |`, `| ${align.join(' | ')} |`, ...t.rows.map((r) => `| ${r.map(esc).join(' | ')} |`)].join('\n');
}

export const fmt = {
  int: (n: number): string => Math.round(n).toLocaleString('en-US'),
  ms: (n: number): string => (Number.isNaN(n) ? '–' : n < 10 ? n.toFixed(2) : n.toFixed(1)),
  pct: (n: number): string => `${n.toFixed(0)} %`,
  mb: (bytes: number): string => `${(bytes / (1024 * 1024)).toFixed(1)}`,
  kb: (bytes: number): string => `${(bytes / 1024).toFixed(1)}`,
};
