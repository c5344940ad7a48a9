/**
 * Task ids: 24 lowercase hex characters, like Qlik's (`5be59decca62aa00097268a4`). The first 8 are
 * the creation second, so ids sort roughly by creation (new rows go to the end of the primary-key
 * index, and list pages follow creation order); the other 16 are random (64 bits), so ids cannot be
 * guessed from one another.
 */
import { randomBytes } from 'node:crypto';

export const TASK_ID = /^[0-9a-f]{24}$/;

export function newTaskId(nowMs: number): string {
  const seconds = Math.floor(nowMs / 1000) >>> 0;
  return seconds.toString(16).padStart(8, '0') + randomBytes(8).toString('hex');
}
