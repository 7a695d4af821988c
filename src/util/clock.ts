/**
 * The timer seam. Everything a module waits for (URC delays, retransmission timeouts, reconnect
 * back-off, CONNACK limits) goes through a Clock, so a test can run a 20 s retransmission as 20 s
 * of virtual time on a {@link TestClock} instead of shrinking it to wall-clock milliseconds that a
 * loaded machine misses.
 */
export type TimerHandle = ReturnType<typeof setTimeout>;

export interface Clock {
  /** Milliseconds on a monotonic scale (only differences mean anything). */
  now(): number;
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(t: TimerHandle): void;
}

/** The handles realClock made with setImmediate (a 0 ms delay), so clearTimeout knows them. */
const immediates = new WeakSet<object>();

/**
 * The wall clock. A delay of 0 ms (or less) runs on the next turn of the event loop
 * (setImmediate), not on a timer: Node runs a 0 ms setTimeout after at least 1 ms, and on the
 * fast path every URC and acknowledgement paid that millisecond — the AT path was latency-bound
 * with the process idle (issue 12 §3).
 */
export const realClock: Clock = {
  now: () => performance.now(),
  setTimeout: (fn, ms) => {
    if (ms > 0) return setTimeout(fn, ms);
    const handle = setImmediate(fn);
    immediates.add(handle);
    return handle as unknown as TimerHandle;
  },
  clearTimeout: (t) => {
    if (immediates.has(t as object)) clearImmediate(t as unknown as NodeJS.Immediate);
    else clearTimeout(t);
  },
};

/** A sleep on `clock` that an owner can cancel: the timer is kept in `timers` until it fires. */
export function sleepOn(clock: Clock, timers: Set<TimerHandle>, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const t = clock.setTimeout(() => {
      timers.delete(t);
      resolve();
    }, ms);
    timers.add(t);
  });
}

interface Scheduled {
  id: number;
  due: number;
  fn: () => void;
}

/**
 * A clock the test drives. Timers fire only inside {@link TestClock.advance}, in due order; between
 * two timers the event loop gets a few turns so socket I/O (the in-memory broker link, Aedes)
 * settles as it would in real time. Handles are opaque numbers cast to the timer type: only this
 * clock's clearTimeout understands them.
 */
export class TestClock implements Clock {
  private t = 0;
  private nextId = 1;
  private readonly timers = new Map<number, Scheduled>();

  now(): number {
    return this.t;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const id = this.nextId++;
    this.timers.set(id, { id, due: this.t + Math.max(0, ms), fn });
    return id as unknown as TimerHandle;
  }

  clearTimeout(handle: TimerHandle): void {
    this.timers.delete(handle as unknown as number);
  }

  /** Timers not yet fired. */
  get pending(): number {
    return this.timers.size;
  }

  /** Virtual time until the next timer is due, or undefined when none is set. */
  untilNext(): number | undefined {
    const next = this.earliest();
    return next ? Math.max(0, next.due - this.t) : undefined;
  }

  /**
   * Move time forward by `ms`, firing every timer that falls due (including ones scheduled by
   * fired timers), letting I/O settle before and after each.
   */
  async advance(ms: number): Promise<void> {
    const end = this.t + Math.max(0, ms);
    await settleIo();
    for (;;) {
      const next = this.earliest();
      if (!next || next.due > end) break;
      this.timers.delete(next.id);
      this.t = Math.max(this.t, next.due);
      next.fn();
      await settleIo();
    }
    this.t = end;
    await settleIo();
  }

  /** Fire timers until none is left within `limitMs` of virtual time (default one hour). */
  async runAll(limitMs = 3_600_000): Promise<void> {
    const end = this.t + limitMs;
    await settleIo();
    for (;;) {
      const next = this.earliest();
      if (!next || next.due > end) return;
      await this.advance(next.due - this.t);
    }
  }

  private earliest(): Scheduled | undefined {
    let best: Scheduled | undefined;
    for (const s of this.timers.values()) if (!best || s.due < best.due || (s.due === best.due && s.id < best.id)) best = s;
    return best;
  }
}

/** A few macrotask turns: enough for in-memory streams and Aedes to pass a packet both ways. */
export async function settleIo(turns = 8): Promise<void> {
  for (let i = 0; i < turns; i++) await new Promise<void>((r) => setImmediate(r));
}
