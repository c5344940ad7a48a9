/**
 * Task ids: 24 lowercase hex characters, like Qlik's (`5be59decca62aa00097268a4`). The first 8 are
 * the creation second, so ids sort roughly by creation (new rows go to the end of the primary-key
 * index, and list pages follow creation order); the other 16 are random (64 bits), so ids cannot be
 * guessed from one another.
 */
import { randomBytes } from 'node:crypto';

export const TASK_ID = /^[0-9a-f]{24}$/;

/** Random bytes drawn 4 KiB at a time: one call to the system's generator per hundreds of ids, not per id (~12 µs each). */
let pool = Buffer.alloc(0);
let poolAt = 0;

/** `bytes` random bytes as hex, from the pool (crypto-quality, as randomBytes). */
export function randomHex(bytes: number): string {
  if (poolAt + bytes > pool.length) {
    pool = randomBytes(Math.max(4096, bytes));
    poolAt = 0;
  }
  poolAt += bytes;
  return pool.toString('hex', poolAt - bytes, poolAt);
}

export function newTaskId(nowMs: number): string {
  const seconds = Math.floor(nowMs / 1000) >>> 0;
  return seconds.toString(16).padStart(8, '0') + randomHex(8);
}
