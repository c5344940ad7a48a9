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
