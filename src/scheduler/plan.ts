/**
 * What to do with a due task: which of its due occurrences fire, which are recorded as missed or
 * skipped, and where its next execution moves. Pure: the store calls it inside the transaction
 * that records the outcome, so a decision and its record are never apart.
 *
 * An occurrence is on time when the scheduler reaches it within the grace period (normal latency);
 * later than that it was missed (the service was down or stalled), and the misfire policy decides:
 * - `once` (default): when nothing is on time, fire the most recent missed occurrence once and record
 *   the older ones as missed; when something is on time, the missed ones are only recorded;
 * - `skip`: record every missed occurrence as missed;
 * - `all`: fire every missed occurrence within the window, in order; older ones are missed.
 * When the task's previous reload is still active, a firing is recorded as skipped (overlap policy
 * `skip`, default) or queued behind it (`queue`); what fires is active for the occurrences after it
 * in the same pass. Except with `all`, which asks for every occurrence: its firings queue one behind
 * the other (with `skip` it would fire only the oldest missed one, less than `once` does), and only
 * a reload active before the pass skips them.
 */
import type { Schedule } from '../recurrence/index.js';

export type MisfirePolicy = 'once' | 'skip' | 'all';
export type OverlapPolicy = 'skip' | 'queue';

export interface PlanPolicy {
  readonly misfire: MisfirePolicy;
  /** Lateness (ms) up to which an occurrence counts as on time. */
  readonly graceMs: number;
  /** For `all`: how far back (ms) missed occurrences are still fired. */
  readonly catchUpWindowMs: number;
  readonly overlap: OverlapPolicy;
  /** At most this many occurrences are handled per task per pass; the rest follow in the next. */
  readonly maxPerPass: number;
}

export type Outcome = 'fired' | 'missed' | 'skipped';

export interface FiringPlan {
  /** Every occurrence handled, in time order, with what happened to it. */
  readonly occurrences: ReadonlyArray<{ readonly nominal: number; readonly outcome: Outcome }>;
  /** The task's next execution (epoch ms), or null when the schedule has no occurrence left. */
  readonly next: number | null;
}

/**
 * @param nominal the task's nextExecutionTime (due: <= now)
 * @param activeReload whether a reload of the task is queued or running
 */
export function planFirings(nominal: number, schedule: Schedule, now: number, activeReload: boolean, policy: PlanPolicy): FiringPlan {
  // The due occurrences, from the stored next execution up to now, at most maxPerPass of them.
  const due = [nominal, ...schedule.between(nominal, now, policy.maxPerPass - 1)];
  const last = due[due.length - 1]!;
  // The occurrence after the last one handled: due too (the backlog goes on in the next pass), or
  // the task's next execution. Not "fewer than maxPerPass were due": a backlog of exactly that many
  // would count as unfinished, and `once` would never fire its last occurrence.
  const next = schedule.next(last);
  const complete = next === null || next > now;

  const onTime = (t: number): boolean => now - t <= policy.graceMs;
  const fire = new Set<number>();
  for (const t of due) {
    if (onTime(t)) fire.add(t);
    else if (policy.misfire === 'all' && now - t <= policy.catchUpWindowMs) fire.add(t);
  }
  // `once`: nothing on time, so the most recent missed occurrence fires (once the backlog is all seen).
  if (policy.misfire === 'once' && fire.size === 0 && complete) fire.add(last);

  let active = activeReload;
  const occurrences = due.map((t) => {
    if (!fire.has(t)) return { nominal: t, outcome: 'missed' as const };
    if (active && policy.overlap === 'skip') return { nominal: t, outcome: 'skipped' as const };
    if (policy.misfire !== 'all') active = true;
    return { nominal: t, outcome: 'fired' as const };
  });
  return { occurrences, next };
}
