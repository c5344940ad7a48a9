/**
 * Trace ids. A W3C `traceparent` header (`00-<32 hex trace id>-<16 hex parent>-<2 hex flags>`)
 * gives the request its trace id, so our logs join the caller's trace; otherwise a new random one.
 * It is every error's `traceId` and every log line's.
 */
import { randomBytes } from 'node:crypto';

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;

export function traceIdOf(traceparent: string | string[] | undefined): string {
  if (typeof traceparent === 'string') {
    const m = TRACEPARENT.exec(traceparent.trim());
    // Version ff is invalid, and an all-zero trace or parent id is invalid (W3C Trace Context §3.2).
    if (m && m[1] !== 'ff' && !/^0+$/.test(m[2]!) && !/^0+$/.test(m[3]!) && (m[1] !== '00' || m[5] === undefined)) return m[2]!;
  }
  return randomTraceId();
}

/** Random bytes drawn in bulk: one call to the system's generator per 256 trace ids, not per request. */
let pool = Buffer.alloc(0);
let poolAt = 0;

function randomTraceId(): string {
  if (poolAt + 16 > pool.length) {
    pool = randomBytes(4096);
    poolAt = 0;
  }
  poolAt += 16;
  return pool.toString('hex', poolAt - 16, poolAt);
}
