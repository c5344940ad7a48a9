/**
 * Task ids: 24 lowercase hex characters, like Qlik's (`5be59decca62aa00097268a4`). The first 8 are
 * the creation second, so ids sort roughly by creation (new rows go to the end of the primary-key
 * index, and list pages follow creation order); the other 16 are random (64 bits), so ids cannot be
 * guessed from one another.
 */
import { randomBytes } from 'node:crypto';

export const TASK_ID = /^[0-9a-f]{24}$/;

/** Random bytes drawn 4 KiB at a time: a randomBytes(8) call per id cost ~12 µs, a slice of the pool well under 1. */
let pool = Buffer.alloc(0);
let poolAt = 0;

export function newTaskId(nowMs: number): string {
  const seconds = Math.floor(nowMs / 1000) >>> 0;
  if (poolAt + 8 > pool.length) {
    pool = randomBytes(4096);
    poolAt = 0;
  }
  poolAt += 8;
  return seconds.toString(16).padStart(8, '0') + pool.toString('hex', poolAt - 8, poolAt);
}
