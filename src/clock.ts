/**
 * The one source of "now", and the timers that go with it. Production uses the system clock;
 * tests drive a ManualClock instead of sleeping, and on PostgreSQL the scheduler corrects the
 * clock against the database's.
 */
export interface Clock {
  /** Epoch milliseconds. */
  now(): number;
  /** Calls `fn` once the clock reaches `atMs`; returns a function that cancels it. */
  setTimer(atMs: number, fn: () => void): () => void;
}

/** Node's clock. Timers are re-armed in steps, so a long sleep follows wall-clock changes. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimer(atMs, fn) {
    let handle: NodeJS.Timeout | undefined;
    let cancelled = false;
    const arm = (): void => {
      const wait = atMs - Date.now();
      if (wait <= 0) {
        handle = undefined;
        fn();
        return;
      }
      // setTimeout drifts with the monotonic clock; re-check at least every minute.
      handle = setTimeout(() => !cancelled && arm(), Math.min(wait, 60_000));
      handle.unref?.();
    };
    arm();
    return () => {
      cancelled = true;
      if (handle) clearTimeout(handle);
    };
  },
};

/** A clock that moves only when told to; due timers fire synchronously, in time order. */
export class ManualClock implements Clock {
  private timers: Array<{ at: number; fn: () => void; seq: number }> = [];
  private seq = 0;

  constructor(private current: number) {}

  now(): number {
    return this.current;
  }

  setTimer(atMs: number, fn: () => void): () => void {
    const timer = { at: atMs, fn, seq: this.seq++ };
    if (atMs <= this.current) {
      queueMicrotask(() => this.timers.includes(timer) && this.fire(timer));
    }
    this.timers.push(timer);
    return () => {
      this.timers = this.timers.filter((t) => t !== timer);
    };
  }

  set(ms: number): void {
    this.current = ms;
    for (;;) {
      const due = this.timers.filter((t) => t.at <= ms).sort((a, b) => a.at - b.at || a.seq - b.seq)[0];
      if (!due) return;
      this.fire(due);
    }
  }

  advance(ms: number): void {
    this.set(this.current + ms);
  }

  /** How many timers are armed (tests check that nothing is left behind). */
  get pendingTimers(): number {
    return this.timers.length;
  }

  private fire(timer: { at: number; fn: () => void; seq: number }): void {
    this.timers = this.timers.filter((t) => t !== timer);
    timer.fn();
  }
}

/** A clock running ahead of (or behind) another by a fixed offset: how a drifting machine looks. */
export class OffsetClock implements Clock {
  constructor(
    private readonly base: Clock,
    private readonly offsetMs: number,
  ) {}
  now(): number {
    return this.base.now() + this.offsetMs;
  }
  setTimer(atMs: number, fn: () => void): () => void {
    return this.base.setTimer(atMs - this.offsetMs, fn);
  }
}

/**
 * This machine's clock corrected against a reference, the database's (as pg-boss does): instances
 * sharing a database agree on "now" even when their own clocks drift, so none fires early.
 */
export class CorrectedClock implements Clock {
  private offset = 0;

  constructor(private readonly base: Clock) {}

  now(): number {
    return this.base.now() + this.offset;
  }

  setTimer(atMs: number, fn: () => void): () => void {
    return this.base.setTimer(atMs - this.offset, fn);
  }

  /** The current correction (reference minus this machine), in ms. */
  get offsetMs(): number {
    return this.offset;
  }

  /**
   * Measures the offset: the reference's time against the midpoint of the round trip. A round trip
   * slower than a second says little about the offset and is ignored.
   */
  async sync(reference: () => Promise<number>): Promise<number> {
    const t0 = this.base.now();
    const ref = await reference();
    const t1 = this.base.now();
    if (t1 - t0 <= 1000) this.offset = Math.round(ref - (t0 + t1) / 2);
    return this.offset;
  }
}
