/**
 * Just enough of source maps (v3, VLQ "mappings") to turn a position in generated code back into a
 * line of the TypeScript source. tsx compiles each module to one long line, so without this every
 * function in a CPU profile of src/ would sit at line 1.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const DIGIT = new Map([...B64].map((c, i) => [c, i]));

/** Per generated line, its segments as [generatedColumn, sourceLine, sourceColumn], ascending. */
export type LineMap = Array<Array<[number, number, number]>>;

export function decodeMappings(mappings: string): LineMap {
  const lines: LineMap = [];
  let srcIdx = 0;
  let srcLine = 0;
  let srcCol = 0;
  let name = 0;
  for (const line of mappings.split(';')) {
    const out: Array<[number, number, number]> = [];
    let genCol = 0;
    for (const seg of line.split(',')) {
      if (seg === '') continue;
      const v: number[] = [];
      let value = 0;
      let shift = 0;
      for (const ch of seg) {
        const d = DIGIT.get(ch);
        if (d === undefined) throw new Error(`bad VLQ character '${ch}'`);
        value += (d & 31) << shift;
        if (d & 32) shift += 5;
        else {
          v.push(value & 1 ? -(value >>> 1) : value >>> 1);
          value = 0;
          shift = 0;
        }
      }
      genCol += v[0] ?? 0;
      if (v.length >= 4) {
        srcIdx += v[1]!;
        srcLine += v[2]!;
        srcCol += v[3]!;
        if (v.length >= 5) name += v[4]!;
        out.push([genCol, srcLine, srcCol]);
      }
    }
    lines.push(out);
  }
  void srcIdx;
  void name;
  return lines;
}

/** The source [line, column] (0-based) of a generated position, or undefined when unmapped. */
export function originalPosition(map: LineMap, line: number, column: number): [number, number] | undefined {
  const segs = map[line];
  if (!segs || segs.length === 0) return undefined;
  let lo = 0;
  let hi = segs.length - 1;
  if (segs[0]![0] > column) return [segs[0]![1], segs[0]![2]];
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (segs[mid]![0] <= column) lo = mid;
    else hi = mid - 1;
  }
  return [segs[lo]![1], segs[lo]![2]];
}

/**
 * The source map of a script: inline (`data:application/json;base64,...`, as tsx writes them) or a
 * file next to it (`x.js.map`, as tsc writes them). Undefined when there is none or it is unreadable.
 */
export function loadSourceMap(scriptUrl: string, sourceMapUrl: string): LineMap | undefined {
  try {
    let text: string;
    const inline = /^data:application\/json;(?:charset=[^;,]+;)?base64,(.*)$/.exec(sourceMapUrl);
    if (inline) text = Buffer.from(inline[1]!, 'base64').toString('utf8');
    else {
      const url = new URL(sourceMapUrl, scriptUrl);
      if (url.protocol !== 'file:') return undefined;
      text = readFileSync(fileURLToPath(url), 'utf8');
    }
    const json = JSON.parse(text) as { mappings?: string };
    return typeof json.mappings === 'string' ? decodeMappings(json.mappings) : undefined;
  } catch {
    return undefined;
  }
}
