/**
 * One scenario in its own process (so one scenario's garbage, JIT state and page cache do not
 * carry into the next): `node --import tsx bench/scheduler/child.ts '<job JSON>'`. Writes the result
 * as JSON to job.out; progress goes to stderr.
 */
import { writeFileSync } from 'node:fs';
import { ceiling, type CeilingOptions } from './ceiling.js';
import {
  herd,
  herdSys,
  seedSustained,
  sustained,
  sustainedSys,
  type Checkpoint,
  type Early,
  type HerdOptions,
  type HerdSysOptions,
  type SustainedOptions,
  type SustainedSysOptions,
} from './scenarios.js';

export type Job =
  | { readonly kind: 'sustained'; readonly label: string; readonly out: string; readonly options: SustainedOptions }
  | { readonly kind: 'seed-sustained'; readonly label: string; readonly out: string; readonly options: SustainedOptions & { db: string; historyRounds?: number } }
  | { readonly kind: 'herd'; readonly label: string; readonly out: string; readonly options: HerdOptions }
  | { readonly kind: 'herd-sys'; readonly label: string; readonly out: string; readonly options: HerdSysOptions }
  | { readonly kind: 'sustained-sys'; readonly label: string; readonly out: string; readonly options: SustainedSysOptions }
  | { readonly kind: 'ceiling'; readonly label: string; readonly out: string; readonly options: CeilingOptions };

async function main(): Promise<void> {
  const job = JSON.parse(process.argv[2] ?? '') as Job;
  const log = (s: string): void => void process.stderr.write(`[bench:scheduler] ${job.label}: ${s}\n`);
  const early: Early = (result) => {
    writeFileSync(job.out, JSON.stringify(result));
    process.exit(0);
  };
  const checkpoint: Checkpoint = (result) => writeFileSync(job.out, JSON.stringify(result));
  let result: unknown;
  switch (job.kind) {
    case 'sustained':
      result = await sustained(job.options, log);
      break;
    case 'seed-sustained':
      result = await seedSustained(job.options.db, job.options);
      break;
    case 'herd':
      result = await herd(job.options, log, early, checkpoint);
      break;
    case 'herd-sys':
      result = await herdSys(job.options, log, early);
      break;
    case 'sustained-sys':
      result = await sustainedSys(job.options, log);
      break;
    case 'ceiling':
      result = await ceiling(job.options);
      break;
  }
  writeFileSync(job.out, JSON.stringify(result));
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
