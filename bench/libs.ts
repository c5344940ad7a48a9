/**
 * The three recurrence implementations behind one small interface, each used the way its own
 * documentation describes for a schedule in a named IANA zone.
 */
import { readFileSync } from 'node:fs';
import rrulePkg from 'rrule';
import { RRuleTemporal } from 'rrule-temporal';
import { compileSchedule, type Schedule } from '../src/recurrence/index.js';
import { AFTER_MS, RING, ZONE, type Case } from './config.js';

const { RRule } = rrulePkg;
type RRuleObj = InstanceType<typeof RRule>;

export type LibName = 'ours' | 'rrule-temporal' | 'rrule';
export const LIB_NAMES: readonly LibName[] = ['ours', 'rrule-temporal', 'rrule'];

const MASK = RING - 1;
/** The same `after` instants as AFTER_MS, as Date objects for the peers (built once, untimed). */
const AFTER_DATES: readonly Date[] = Array.from(AFTER_MS, (ms) => new Date(ms));

export interface Adapter<H> {
  readonly name: LibName;
  readonly version: string;
  /** Builds the rule object from the case's text (what a scheduler does per task, or per firing). */
  build(c: Case): H;
  /** Timed: first occurrence strictly after the i-th `after` instant, as epoch ms (0 for none). */
  nextRing(h: H, i: number): number;
  /** Untimed: first occurrence strictly after `afterMs`, or null. */
  next(h: H, afterMs: number): number | null;
  /** Builds an object for expansion (peers: without memoisation of all()). */
  buildForExpansion(c: Case): H;
  /** The first n occurrences from DTSTART, as epoch ms. */
  expand(h: H, n: number): number[];
  /** Occurrences t with afterMs < t < beforeMs (the peers' between), as epoch ms. */
  between(h: H, afterMs: number, beforeMs: number): number[];
}

/** The installed version, read from node_modules/<pkg>/package.json (rrule-temporal's exports hide it). */
function versionOf(pkg: string): string {
  try {
    const url = new URL(`../node_modules/${pkg}/package.json`, import.meta.url);
    return (JSON.parse(readFileSync(url, 'utf8')) as { version: string }).version;
  } catch {
    return '?';
  }
}

export const ours: Adapter<Schedule> = {
  name: 'ours',
  version: (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version,
  build: (c) => compileSchedule({ timeZone: ZONE, startDateTime: c.startLocal, recurrence: [c.rule.rrule] }),
  nextRing: (s, i) => s.next(AFTER_MS[i & MASK]!) ?? 0,
  next: (s, afterMs) => s.next(afterMs),
  buildForExpansion: (c) => ours.build(c),
  expand: (s, n) => s.first(n),
  between: (s, a, b) => s.between(a, b - 1),
};

/**
 * rrule-temporal: the ICS text with `DTSTART;TZID=America/New_York:...` as in its README ("Quick
 * start"); next(after: Date) / all(iterator) / between(after, before, false); results are
 * Temporal.ZonedDateTime, read as epochMilliseconds. On Node 20 it runs on its bundled
 * temporal-polyfill (native Temporal only from Node 26).
 */
export const rruleTemporal: Adapter<RRuleTemporal> = {
  name: 'rrule-temporal',
  version: versionOf('rrule-temporal'),
  build: (c) => new RRuleTemporal({ rruleString: c.ics }),
  nextRing: (r, i) => r.next(AFTER_DATES[i & MASK]!)?.epochMilliseconds ?? 0,
  next: (r, afterMs) => r.next(new Date(afterMs))?.epochMilliseconds ?? null,
  // cache: false so that repeated all() calls in the timing loop are really computed.
  buildForExpansion: (c) => new RRuleTemporal({ rruleString: c.ics, cache: false }),
  expand: (r, n) => r.all((_, i) => i < n).map((z) => z.epochMilliseconds),
  between: (r, a, b) => r.between(new Date(a), new Date(b), false).map((z) => z.epochMilliseconds),
};

/**
 * rrule (rrule.js): the README's "Timezone Support" way: DTSTART carries TZID (parsed from the same
 * ICS text with RRule.parseString, so DTSTART is a "floating UTC" Date holding New York wall time
 * and tzid = 'America/New_York'); rrule.js expands in floating time and converts each occurrence
 * with Intl to the process's zone, which the bench pins to UTC (TZ=UTC), so returned Dates are real
 * instants and `after(Date)` takes a real instant. Built with noCache = true: its cache would
 * otherwise keep every (after, result) pair of the timing loop.
 */
export const rrule: Adapter<RRuleObj> = {
  name: 'rrule',
  version: versionOf('rrule'),
  build: (c) => new RRule(RRule.parseString(c.ics), true),
  nextRing: (r, i) => r.after(AFTER_DATES[i & MASK]!)?.getTime() ?? 0,
  next: (r, afterMs) => r.after(new Date(afterMs))?.getTime() ?? null,
  buildForExpansion: (c) => rrule.build(c),
  expand: (r, n) => r.all((_, len) => len < n).map((d) => d.getTime()),
  between: (r, a, b) => r.between(new Date(a), new Date(b), false).map((d) => d.getTime()),
};

export interface GuardResult {
  /** The first occurrence after `afterMs` (epoch ms), null when none, undefined when stopped. */
  readonly answer: number | null | undefined;
  readonly ms: number;
  /** When stopped at the cap: the last occurrence reached, to extrapolate the full cost. */
  readonly reachedMs?: number;
}

/**
 * rrule.js walks from DTSTART on every query and converts every occurrence it passes with Intl,
 * so a single after() on an old DTSTART can take minutes and cannot be interrupted. This probe
 * does the same walk through all(iterator), which can stop, and gives up at `capMs`.
 */
export function rruleGuard(r: RRuleObj, afterMs: number, capMs: number): GuardResult {
  const t0 = performance.now();
  const deadline = t0 + capMs;
  let answer: number | null | undefined = null;
  let reachedMs: number | undefined;
  r.all((d, len) => {
    const t = d.getTime();
    if (t > afterMs) {
      answer = t;
      return false;
    }
    if ((len & 255) === 0 && performance.now() > deadline) {
      answer = undefined;
      reachedMs = t;
      return false;
    }
    return true;
  });
  const ms = performance.now() - t0;
  return reachedMs === undefined ? { answer, ms } : { answer, ms, reachedMs };
}

/**
 * rrule.js without TZID ("floating" use, the README's default mode): the rule runs in wall-clock
 * time written as UTC, and the caller converts the query instant to New York wall time and the
 * answer back. Used only as a side measurement, to separate rrule.js's walk from DTSTART from the
 * cost of its per-occurrence Intl conversion. The conversions use one cached Intl formatter.
 */
export function rruleFloating(c: Case): { rule: RRuleObj; nextRing: (i: number) => number; next: (afterMs: number) => number | null } {
  const opts = RRule.parseString(c.ics);
  delete opts.tzid;
  opts.dtstart = new Date(c.floatingStartMs);
  const rule = new RRule(opts, true);
  const fmt = new Intl.DateTimeFormat('en-US', { timeZone: ZONE, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' });
  const offsetMs = (ms: number): number => {
    const p = fmt.formatToParts(ms);
    const v = (t: string): number => Number(p.find((x) => x.type === t)!.value);
    return Date.UTC(v('year'), v('month') - 1, v('day'), v('hour'), v('minute'), v('second')) - Math.floor(ms / 1000) * 1000;
  };
  const next = (afterMs: number): number | null => {
    const wall = rule.after(new Date(afterMs + offsetMs(afterMs)));
    if (!wall) return null;
    // Wall time -> instant: the offset at (wall - offset guess); fine away from DST changes.
    const w = wall.getTime();
    const guess = w - offsetMs(w);
    return w - offsetMs(guess);
  };
  const floatingAfter = Array.from(AFTER_MS, (ms) => new Date(ms + offsetMs(ms)));
  return {
    rule,
    nextRing: (i) => rule.after(floatingAfter[i & MASK]!)?.getTime() ?? 0,
    next,
  };
}

export const ADAPTERS = { ours, 'rrule-temporal': rruleTemporal, rrule } as const;
