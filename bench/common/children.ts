/** Child processes of a benchmark runner: none outlives it, whatever way it ends. */
import type { ChildProcess } from 'node:child_process';

const live = new Set<ChildProcess>();
let hooked = false;

/**
 * Children still running when this process exits (an error, Ctrl-C) are killed with it; with
 * `exitOnSignal`, SIGINT and SIGTERM also make this process exit (so the exit hook runs).
 */
export function killOnExit(child: ChildProcess, exitOnSignal = false): void {
  live.add(child);
  child.once('exit', () => live.delete(child));
  if (hooked) return;
  hooked = true;
  process.once('exit', () => {
    for (const c of live) c.kill('SIGKILL');
  });
  if (exitOnSignal) for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(130));
}
