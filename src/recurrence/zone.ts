/**
 * IANA time zones on Node's ICU data, made fast enough for the expansion loop.
 *
 * Asking Intl for an offset costs about 2 µs, far too much for a scheduler that computes a next
 * occurrence per firing. So a zone learns its offset transitions once per UTC year (sampling the
 * offset every day and bisecting each change down to the second, ~0.7 ms per zone-year, lazily) and
 * answers every later question from that table. The one assumption, that a zone's offset never
 * changes twice within 24 hours, holds for every zone in the tz database since 1970.
 *
 * Mapping a local wall time back to instants follows RFC 5545 §3.3.5 and Temporal's "compatible"
 * disambiguation: a time in a spring-forward gap is read with the offset from before the gap
 * (02:30 → 03:30 EDT), and a time in a fall-back overlap has two instants, of which the earlier
 * comes first.
 */
import { SECONDS_PER_DAY, daysFromCivil, yearOfDay } from './calendar.js';

interface YearTable {
  /** Offset (seconds east of UTC) in force at the start of the year. */
  readonly startOffset: number;
  /** Instants (UTC seconds) of the transitions within the year, ascending. */
  readonly at: readonly number[];
  /** Offset in force from `at[i]` on. */
  readonly after: readonly number[];
}

/** The span around an instant in which local time maps to UTC with one constant offset. */
export interface OffsetWindow {
  readonly offset: number;
  /** First UTC second from which a query may use `offset` alone (past the previous transition's gap or overlap). */
  readonly validFrom: number;
  /** Local seconds from which `offset` alone is no longer the answer (the next gap or overlap). */
  readonly localUntil: number;
  /** UTC range [from, to) for which this window object is the answer of `windowAt`. */
  readonly from: number;
  readonly to: number;
}

const ZONE_NAME = /^[A-Za-z][A-Za-z0-9_+\-]*(\/[A-Za-z0-9_+\-]+)*$/;
/** Zones by their canonical name (Intl's: `Europe/Zurich` for `europe/zurich`, `America/New_York` for `US/Eastern`). */
const zones = new Map<string, TimeZone>();

/**
 * From this year on, a zone's year is the year 400 years before, shifted by the Gregorian cycle's
 * 146,097 days: ICU follows each zone's last rule (calendar terms, such as "last Sunday of March")
 * for ever after the tz database's listed transitions, which end well before 2100, and weekdays and
 * dates repeat every 400 years. Such years are derived, not sampled, and not kept, so a schedule that
 * runs to the year 9999 (every candidate excluded, say) costs a zone at most the years up to here.
 */
const CYCLE_FROM = 2500;
const CYCLE_SECONDS = 146_097 * SECONDS_PER_DAY;

export class TimeZone {
  readonly name: string;
  private readonly format: Intl.DateTimeFormat;
  private readonly years = new Map<number, YearTable>();
  private readonly bounds = new Map<number, { min: number; max: number }>();
  private lastYear = Number.NaN;
  private lastTable: YearTable | undefined;
  private window: OffsetWindow | undefined;
  /** Second instant of the last `resolve` call when the local time was ambiguous, else NaN. */
  secondInstant = Number.NaN;

  private constructor(name: string, format: Intl.DateTimeFormat) {
    this.name = name;
    this.format = format;
  }

  /**
   * The zone of that name, or `undefined` when Intl does not know it as an IANA zone. Names Intl
   * takes for the same zone (another case, a link) share one zone and its tables, so a client cannot
   * make the service learn a zone again and again by spelling it anew.
   */
  static get(name: string): TimeZone | undefined {
    const cached = zones.get(name);
    if (cached) return cached;
    if (!ZONE_NAME.test(name)) return undefined;
    let format: Intl.DateTimeFormat;
    try {
      format = new Intl.DateTimeFormat('en-US', {
        timeZone: name,
        hourCycle: 'h23',
        year: 'numeric',
        month: 'numeric',
        day: 'numeric',
        hour: 'numeric',
        minute: 'numeric',
        second: 'numeric',
      });
    } catch {
      return undefined;
    }
    const canonical = format.resolvedOptions().timeZone;
    const known = zones.get(canonical);
    if (known) return known;
    const zone = new TimeZone(canonical, format);
    zones.set(canonical, zone);
    return zone;
  }

  /** Offset in seconds east of UTC at a UTC instant (seconds). */
  offsetAt(utc: number): number {
    const table = this.tableFor(utc);
    const { at, after } = table;
    let offset = table.startOffset;
    for (let i = 0; i < at.length && at[i]! <= utc; i++) offset = after[i]!;
    return offset;
  }

  /** Local wall-clock seconds at a UTC instant. */
  toLocal(utc: number): number {
    return utc + this.offsetAt(utc);
  }

  /**
   * The first instant of a local wall time: the only one, the earlier of two in an overlap, or the
   * gap-shifted one. When the time is ambiguous, `secondInstant` holds the later instant afterwards
   * (NaN otherwise); callers that want both read it right after the call.
   */
  resolve(local: number): number {
    const before = this.offsetAt(local - SECONDS_PER_DAY);
    const after = this.offsetAt(local + SECONDS_PER_DAY);
    this.secondInstant = Number.NaN;
    if (before === after) {
      const utc = local - before;
      if (this.offsetAt(utc) === before) return utc;
      // Two transitions within two days: not in the tz data since 1970; answer something sane.
      return local - this.offsetAt(utc);
    }
    const u1 = local - before;
    const u2 = local - after;
    const ok1 = this.offsetAt(u1) === before;
    const ok2 = this.offsetAt(u2) === after;
    if (ok1 && ok2) {
      const first = Math.min(u1, u2);
      this.secondInstant = Math.max(u1, u2);
      return first;
    }
    if (ok1) return u1;
    if (ok2) return u2;
    // In a gap: read with the offset from before the transition (shift forward by the gap).
    return u1;
  }

  /** Smallest and largest offsets in force during the UTC years around an instant. */
  offsetBounds(utc: number): { min: number; max: number } {
    const year = yearOfDay(Math.floor(utc / SECONDS_PER_DAY));
    let bounds = this.bounds.get(year);
    if (!bounds) {
      bounds = this.computeBounds(year);
      this.bounds.set(year, bounds);
    }
    return bounds;
  }

  private computeBounds(year: number): { min: number; max: number } {
    let min = Infinity;
    let max = -Infinity;
    for (let y = year - 1; y <= year + 1; y++) {
      const t = this.table(y);
      min = Math.min(min, t.startOffset);
      max = Math.max(max, t.startOffset);
      for (const o of t.after) {
        min = Math.min(min, o);
        max = Math.max(max, o);
      }
    }
    return { min, max };
  }

  /**
   * The window of constant offset around a UTC instant (see OffsetWindow), looking up to a year
   * either side for the neighbouring transitions. Cached, because consecutive queries mostly fall
   * in the same window.
   */
  windowAt(utc: number): OffsetWindow {
    const w = this.window;
    if (w && utc >= w.from && utc < w.to) return w;
    const year = yearOfDay(Math.floor(utc / SECONDS_PER_DAY));
    const offset = this.offsetAt(utc);

    let prevAt = daysFromCivil(year - 1, 1, 1) * SECONDS_PER_DAY;
    let prevGap = 0;
    let prevBefore = offset;
    let found = false;
    for (let y = year; y >= year - 1 && !found; y--) {
      const t = this.table(y);
      for (let i = t.at.length - 1; i >= 0; i--) {
        if (t.at[i]! <= utc) {
          prevAt = t.at[i]!;
          prevBefore = i > 0 ? t.after[i - 1]! : t.startOffset;
          prevGap = Math.abs(offset - prevBefore);
          found = true;
          break;
        }
      }
    }
    let nextAt = daysFromCivil(year + 2, 1, 1) * SECONDS_PER_DAY;
    let nextAfter = offset;
    found = false;
    for (let y = year; y <= year + 1 && !found; y++) {
      const t = this.table(y);
      for (let i = 0; i < t.at.length; i++) {
        if (t.at[i]! > utc) {
          nextAt = t.at[i]!;
          nextAfter = t.after[i]!;
          found = true;
          break;
        }
      }
    }
    const window: OffsetWindow = {
      offset,
      validFrom: prevAt + prevGap,
      localUntil: nextAt + Math.min(offset, nextAfter),
      from: prevAt,
      to: nextAt,
    };
    this.window = window;
    return window;
  }

  private tableFor(utc: number): YearTable {
    const year = yearOfDay(Math.floor(utc / SECONDS_PER_DAY));
    if (year === this.lastYear) return this.lastTable!;
    const t = this.table(year);
    this.lastYear = year;
    this.lastTable = t;
    return t;
  }

  private table(year: number): YearTable {
    if (year >= CYCLE_FROM) {
      const base = this.table(year - 400);
      return { startOffset: base.startOffset, at: base.at.map((x) => x + CYCLE_SECONDS), after: base.after };
    }
    let t = this.years.get(year);
    if (!t) {
      t = this.buildTable(year);
      this.years.set(year, t);
    }
    return t;
  }

  /** Samples one UTC year daily (from a day before it, so a change exactly at 00:00 is seen). */
  private buildTable(year: number): YearTable {
    const start = daysFromCivil(year, 1, 1) * SECONDS_PER_DAY;
    const end = daysFromCivil(year + 1, 1, 1) * SECONDS_PER_DAY;
    const startOffset = this.intlOffset(start);
    const at: number[] = [];
    const after: number[] = [];
    let prevT = start - SECONDS_PER_DAY;
    let prevO = this.intlOffset(prevT);
    for (let t = start; ; t += SECONDS_PER_DAY) {
      const s = Math.min(t, end);
      const o = this.intlOffset(s);
      if (o !== prevO) {
        // Bisect to the first second with the new offset.
        let lo = prevT;
        let hi = s;
        while (hi - lo > 1) {
          const mid = Math.floor((lo + hi) / 2);
          if (this.intlOffset(mid) === prevO) lo = mid;
          else hi = mid;
        }
        if (hi >= start && hi < end) {
          at.push(hi);
          after.push(o);
        }
      }
      prevT = s;
      prevO = o;
      if (s >= end) break;
    }
    return { startOffset, at, after };
  }

  private intlOffset(utc: number): number {
    const text = this.format.format(utc * 1000);
    // en-US with hourCycle h23: "12/31/1970, 23:15:30"
    const m = /^(\d+)\/(\d+)\/(\d+),? (\d+):(\d+):(\d+)$/.exec(text);
    if (!m) throw new Error(`unexpected Intl output for ${this.name}: ${text}`);
    const local =
      daysFromCivil(Number(m[3]), Number(m[1]), Number(m[2])) * SECONDS_PER_DAY +
      Number(m[4]) * 3600 +
      Number(m[5]) * 60 +
      Number(m[6]);
    return local - utc;
  }
}
