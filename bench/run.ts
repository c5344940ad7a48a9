/**
 * Recurrence-engine benchmark: ours beside rrule-temporal and rrule (rrule.js).
 *
 *   npm run bench                 # full run, rewrites the "Recurrence engine" part of docs/benchmarks.md
 *   npm run bench -- --quick      # smoke test with tiny budgets (docs not written)
 *   npm run bench -- --no-write   # full run, print only
 *   npm run bench -- --budget-ms=2000 --rrule-cap-s=60 --wait-quiet-s=300
 *   npm run bench -- --render=/tmp/reload-tasks-bench-recurrence-last.json   # re-render the last run
 *
 * Each library runs in its own child process (back to back, same machine, TZ=UTC, --expose-gc),
 * so that one library's garbage and JIT state cannot slow another; a fourth child measures memory.
 * This process then cross-checks the answers, prints the tables and writes the Markdown.
 */
import { spawnSync, execSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { LibResult } from './child.js';
import { DEFAULT_OPTIONS, NOW_MS, QUICK_OPTIONS, RING, RING_STEP_S, RING_STRIDE, ZONE, checkNowLocal, type BenchOptions } from './config.js';
import { LIB_NAMES, type LibName } from './libs.js';
import type { MemoryResult } from './memory.js';
import { buildTables, summary, tableToMarkdown, tableToText, type Results } from './report.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const docPath = join(root, 'docs', 'benchmarks.md');

function parseArgs(argv: readonly string[]): { options: BenchOptions; write: boolean; quick: boolean; waitQuietS: number; render: string | undefined } {
  let options: BenchOptions = DEFAULT_OPTIONS;
  let write = true;
  let quick = false;
  let waitQuietS = 60;
  let render: string | undefined;
  for (const a of argv) {
    if (a === '--quick') {
      options = { ...QUICK_OPTIONS };
      quick = true;
      write = false;
    } else if (a === '--no-write') write = false;
    else if (a === '--write') write = true;
    else if (a.startsWith('--budget-ms=')) options = { ...options, budgetMs: Number(a.split('=')[1]), hardCapMs: 4 * Number(a.split('=')[1]) };
    else if (a.startsWith('--rrule-cap-s=')) options = { ...options, rruleCallCapMs: 1000 * Number(a.split('=')[1]) };
    else if (a.startsWith('--memory-n=')) options = { ...options, memoryN: Number(a.split('=')[1]) };
    else if (a.startsWith('--wait-quiet-s=')) waitQuietS = Number(a.split('=')[1]);
    else if (a.startsWith('--render=')) render = a.slice('--render='.length);
    else throw new Error(`unknown argument ${a}`);
  }
  if (quick) waitQuietS = 0;
  return { options, write, quick, waitQuietS, render };
}

/** 1-minute load average below which the machine counts as quiet (one core busy with us, the other mostly free). */
const QUIET_LOAD = 1.0;

/**
 * Waits (up to maxS seconds) until the 1-minute load average drops below QUIET_LOAD, so that a
 * child does not start while other processes fill the machine. Returns the seconds waited.
 */
function waitQuiet(maxS: number): number {
  const t0 = Date.now();
  let said = false;
  while (loadavg()[0]! >= QUIET_LOAD && Date.now() - t0 < maxS * 1000) {
    if (!said) console.error(`[bench] load average ${loadavg()[0]!.toFixed(2)}: waiting up to ${maxS} s for it to drop below ${QUIET_LOAD}`);
    said = true;
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5000);
  }
  return (Date.now() - t0) / 1000;
}

function child(script: string, args: readonly string[]): void {
  const nodeArgs = ['--expose-gc', '--import', 'tsx', join(here, script), ...args];
  const r = spawnSync(process.execPath, nodeArgs, { cwd: root, stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, TZ: 'UTC' } });
  if (r.status !== 0) throw new Error(`${script} ${args[0] ?? ''} failed with status ${r.status}`);
}

function sh(cmd: string): string {
  try {
    return execSync(cmd, { encoding: 'utf8', shell: '/bin/sh' }).trimEnd();
  } catch (e) {
    return `(${cmd} failed: ${(e as Error).message.split('\n')[0]})`;
  }
}

interface Machine {
  readonly nproc: string;
  readonly lscpu: string;
  readonly node: string;
  readonly free: string;
}

/** Everything a report needs, saved after each run so that it can be rendered again (--render). */
interface Saved {
  readonly res: Results;
  readonly started: string;
  readonly totalSeconds: number;
  readonly waitQuietS: number;
  readonly waited: number[];
  readonly machine: Machine;
  readonly quick: boolean;
}

/** Where the last run's raw results are kept (outside the repository). */
const LAST_RUN = join(tmpdir(), 'reload-tasks-bench-recurrence-last.json');

function measureAll(options: BenchOptions, waitQuietS: number, quick: boolean): Saved {
  const started = new Date();
  const machine: Machine = { nproc: sh('nproc'), lscpu: sh('lscpu | head -20'), node: sh('node -v'), free: sh('free -g') };
  const tmp = mkdtempSync(join(tmpdir(), 'reload-tasks-bench-'));
  const t0 = performance.now();
  try {
    const libs = {} as Record<LibName, LibResult>;
    const waited: number[] = [];
    for (const lib of LIB_NAMES) {
      waited.push(waitQuiet(waitQuietS));
      console.error(`[bench] ${lib}...`);
      const out = join(tmp, `${lib}.json`);
      child('child.ts', [lib, JSON.stringify(options), out]);
      libs[lib] = JSON.parse(readFileSync(out, 'utf8')) as LibResult;
      console.error(`[bench] ${lib} done in ${libs[lib].seconds.toFixed(0)} s`);
    }
    waited.push(waitQuiet(waitQuietS));
    console.error('[bench] memory...');
    const memOut = join(tmp, 'memory.json');
    child('memory.ts', [JSON.stringify(options), memOut]);
    const memory = JSON.parse(readFileSync(memOut, 'utf8')) as MemoryResult;
    return { res: { libs, memory, options }, started: started.toISOString(), totalSeconds: (performance.now() - t0) / 1000, waitQuietS, waited, machine, quick };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

function main(): void {
  const { options, write, quick, waitQuietS, render } = parseArgs(process.argv.slice(2));
  checkNowLocal();
  let saved: Saved;
  if (render !== undefined) {
    saved = JSON.parse(readFileSync(render, 'utf8')) as Saved;
  } else {
    saved = measureAll(options, waitQuietS, quick);
    writeFileSync(LAST_RUN, JSON.stringify(saved));
    console.error(`[bench] raw results saved to ${LAST_RUN} (re-render with --render=${LAST_RUN})`);
  }
  const { res } = saved;

  const { tables, goalTable, goalList, disagreements, cross, dstTable } = buildTables(res);
  const text = [goalTable, ...tables, cross, dstTable].map(tableToText).join('\n\n');
  console.log(`\n${text}\n`);
  if (disagreements.length > 0) {
    console.log('Disagreements:');
    for (const d of disagreements) console.log(`  ${d.key} ${d.what}: ${d.detail}`);
  } else console.log('No disagreements.');
  const summaryText = summary(res, goalList, disagreements);
  console.log(`\n${summaryText}\n`);
  console.error(`[bench] measuring took ${saved.totalSeconds.toFixed(0)} s`);

  if (!write || saved.quick) {
    console.error(saved.quick ? '[bench] quick run: docs/benchmarks.md not written' : '[bench] --no-write: docs/benchmarks.md not written');
    return;
  }
  const section = renderSection(res, { tables, goalTable, cross, dstTable, disagreements }, saved.machine, new Date(saved.started), saved.totalSeconds, { waitQuietS: saved.waitQuietS, waited: saved.waited });
  writeDoc(summaryText, section);
  console.error(`[bench] wrote ${relative(process.cwd(), docPath)}`);
}

// ---------------------------------------------------------------------------------------------
// docs/benchmarks.md

const SUMMARY_START = '<!-- bench:summary:start (generated by `npm run bench`; edit outside these markers) -->';
const SUMMARY_END = '<!-- bench:summary:end -->';
const SECTION_START = '<!-- bench:recurrence:start (generated by `npm run bench`; edit outside these markers) -->';
const SECTION_END = '<!-- bench:recurrence:end -->';

function renderSection(
  res: Results,
  built: Pick<ReturnType<typeof buildTables>, 'tables' | 'goalTable' | 'cross' | 'dstTable' | 'disagreements'>,
  machine: Machine,
  started: Date,
  totalSeconds: number,
  quiet: { waitQuietS: number; waited: number[] },
): string {
  const o = res.options;
  const v = (lib: LibName): string => res.libs[lib].version;
  const out: string[] = [];
  out.push(
    `Measured ${started.toISOString().slice(0, 16).replace('T', ' ')} UTC with \`cd /work/main && npm run bench\` (= \`node --import tsx bench/run.ts\`; the whole run took ${Math.round(totalSeconds)} s, ${Math.round(quiet.waited.reduce((a, b) => a + b, 0))} s of it waiting for a quieter machine).`,
    `"Now" is fixed at ${new Date(NOW_MS).toISOString()} (07:00 EST); zone ${ZONE}; DTSTART is now's New York wall time minus 1 day, 1, 5 or 10 years.`,
    '',
    '### Goals',
    '',
    tableToMarkdown(built.goalTable).split('\n').slice(2).join('\n'),
    '',
    '### Method',
    '',
    `- One child process per library, run back to back on the same machine: \`TZ=UTC node --expose-gc --import tsx bench/child.ts <lib> ...\`, then \`bench/memory.ts\` for memory; \`bench/run.ts\` cross-checks, prints and writes this section. Node ${res.libs.ours.node}, process zone ${res.libs.ours.intlZone}.`,
    `- Timing (\`bench/harness.ts\`): a warm-up of ~${o.warmupMs} ms, then timed batches of ~${o.batchMs} ms with \`process.hrtime.bigint()\`; the four DTSTART ages of a rule are timed round-robin, batch by batch. A measurement stops after ${o.budgetMs} ms of timed calls once it has at least ${o.minCalls} calls (hard stop ${o.hardCapMs} ms); a single call longer than ${o.budgetMs} ms is reported as that one call. Reported: median per-call time over batches, and the number of timed calls.`,
    `- next() calls on an already-built object vary the query instant so that no answer can be memoised: ${RING} instants ${RING_STEP_S} s apart over the ~24 h after now, visited in a scattered order (call i asks after now + (i·${RING_STRIDE} mod ${RING})·${RING_STEP_S} s), so that every batch samples the whole day rather than one hour of it. They are precomputed (as numbers for ours, as \`Date\`s for the peers) so building the argument is not timed; the peers' results are read as epoch ms (\`getTime()\`, \`epochMilliseconds\`), which is timed.`,
    `- The machine is shared (other engineers' tests and benchmarks run on the same 2 vCPUs). Before each child the runner waits up to ${quiet.waitQuietS} s for the 1-minute load average to fall below ${QUIET_LOAD} (waited: ${quiet.waited.map((w) => `${w.toFixed(0)} s`).join(', ')}). Each batch also reads the process's CPU time; batches that lost more than 10% of their wall time to other processes are left out of the median when enough clean batches remain, otherwise the figure is marked \`*\`. See "Run conditions".`,
    `- "Build + first call" builds the object from the schedule text on every call (ours: \`compileSchedule\`; peers: the ICS text below) and asks for the next occurrence.`,
    '',
    '### How each library was used',
    '',
    `- **ours** (reload-tasks ${v('ours')}, \`src/recurrence\`): \`compileSchedule({ timeZone: '${ZONE}', startDateTime: '2016-11-29T07:00:00', recurrence: [rule] })\`, then \`next(afterMs)\`, \`first(${o.expandN})\`, \`first(${o.expandN}, now)\`.`,
    `- **rrule-temporal** ${v('rrule-temporal')}: \`new RRuleTemporal({ rruleString: 'DTSTART;TZID=${ZONE}:20161129T070000\\nRRULE:…' })\` as in its README's quick start, default options; \`next(afterDate)\` (strictly after), \`all((_, i) => i < ${o.expandN})\` and \`between(now, bound, false)\` on an object built with \`cache: false\` (otherwise repeated \`all()\` calls are served from its memo). Results are \`Temporal.ZonedDateTime\`, read as \`epochMilliseconds\`. On Node 20 it runs on its bundled temporal-polyfill (it uses native Temporal only from Node 26).`,
    `- **rrule** ${v('rrule')} (rrule.js): as its README's "Timezone Support" section says: the same ICS text through \`new RRule(RRule.parseString(text), true)\`, so DTSTART is a "floating UTC" \`Date\` holding New York wall time and \`tzid = '${ZONE}'\`; rrule.js expands in floating time and converts each occurrence to the process's zone with Intl, so with \`TZ=UTC\` its results are real instants and \`after(date)\` takes a real instant. \`noCache = true\`: its cache would otherwise keep every (argument, result) pair of the timing loop. rrule.js walks from DTSTART on every query, so its cost grows linearly with the age of DTSTART: the 1-day case is timed first, each older one is predicted from the previous, and one predicted to exceed ${o.rruleCallCapMs / 1000} s is first run as a capped probe (the same walk through \`all(iterator)\`, which can stop; \`after()\` cannot be interrupted); if the probe hits the cap the case is reported as "not timed" with the probe's lower bound and a linear extrapolation, and older DTSTARTs of that rule are skipped with the extrapolation. A call longer than the ${o.budgetMs} ms budget is timed once. A side table shows rrule.js without TZID ("floating" mode).`,
    '',
  );
  for (const t of built.tables) out.push(tableToMarkdown(t), '');
  out.push(tableToMarkdown(built.cross), '');
  out.push(tableToMarkdown(built.dstTable), '');
  if (built.disagreements.length > 0) {
    out.push('Disagreements found by this run:', '');
    for (const d of built.disagreements) out.push(`- \`${d.key}\` ${d.what}: ${d.detail}`);
    out.push('');
  } else {
    out.push('No disagreement between the libraries in this run.', '');
  }
  out.push('### Machine', '', '```', `$ nproc`, machine.nproc, `$ lscpu | head -20`, machine.lscpu, `$ node -v`, machine.node, `$ free -g`, machine.free, '```');
  return out.join('\n');
}

function replaceBetween(doc: string, start: string, end: string, body: string): string | undefined {
  const startKey = start.slice(0, start.indexOf(' ('));
  const i = doc.indexOf(startKey);
  const j = doc.indexOf(end);
  if (i < 0 || j < 0 || j < i) return undefined;
  return `${doc.slice(0, i)}${start}\n${body}\n${doc.slice(j)}`;
}

function writeDoc(summaryText: string, section: string): void {
  let doc = existsSync(docPath)
    ? readFileSync(docPath, 'utf8')
    : [
        '# Benchmarks',
        '',
        SUMMARY_START,
        SUMMARY_END,
        '',
        '## Recurrence engine',
        '',
        SECTION_START,
        SECTION_END,
        '',
        '<!-- Other sections (API, scheduler, PostgreSQL) go below, each with its own heading. -->',
        '',
      ].join('\n');
  let next = replaceBetween(doc, SUMMARY_START, SUMMARY_END, summaryText);
  if (next === undefined) {
    const h1 = doc.indexOf('\n', doc.indexOf('# '));
    next = `${doc.slice(0, h1 + 1)}\n${SUMMARY_START}\n${summaryText}\n${SUMMARY_END}\n${doc.slice(h1 + 1)}`;
  }
  doc = next;
  next = replaceBetween(doc, SECTION_START, SECTION_END, section);
  if (next === undefined) next = `${doc.trimEnd()}\n\n## Recurrence engine\n\n${SECTION_START}\n${section}\n${SECTION_END}\n`;
  writeFileSync(docPath, next);
}

main();
