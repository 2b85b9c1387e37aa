/**
 * The time source of loops and triggers. Loops run on the system clock; a replay of recorded data or an accelerated
 * simulation runs them on a virtual clock instead, so an hour of plant time passes in a moment and every trigger
 * (period, settle window, hold time) still measures plant time, not the computer's.
 */

/** What loops and triggers need of a clock. */
export interface LoopClock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Calls `callback` once after `ms`; returns a function that cancels it. */
  after(ms: number, callback: () => void): () => void;
  /** Calls `callback` every `ms`; returns a function that stops it. */
  repeat(ms: number, callback: () => void): () => void;
}

/** The system clock: `Date.now`, `setTimeout` and `setInterval`. */
export const systemClock: LoopClock = {
  now: () => Date.now(),
  after(ms, callback) {
    const timer = setTimeout(callback, ms);
    return () => clearTimeout(timer);
  },
  repeat(ms, callback) {
    const timer = setInterval(callback, ms);
    return () => clearInterval(timer);
  },
};

/** A clock whose time moves only when told to. */
export interface VirtualClock extends LoopClock {
  /**
   * Moves time forward by `ms`, calling every timer that falls due on the way in time order (timers due at the same
   * moment in the order they were set). After each one, pending promise callbacks run before the next timer, so a
   * loop run started by a timer gets going at that moment; work that waits on real input or output is not waited
   * for (await `loop.idle()` for that).
   */
  advance(ms: number): Promise<void>;
  /** Timers waiting to fire. */
  readonly pending: number;
}

interface VirtualTimer {
  due: number;
  order: number;
  callback: () => void;
  /** Set for repeating timers. */
  period?: number;
}

/** A virtual clock starting at `start` (ms since the epoch). @default start 0 */
export function virtualClock(start = 0): VirtualClock {
  let time = start;
  let order = 0;
  const timers = new Set<VirtualTimer>();
  const add = (timer: Omit<VirtualTimer, "order">) => {
    const entry = { ...timer, order: order++ };
    timers.add(entry);
    return () => void timers.delete(entry);
  };
  const settle = () => new Promise<void>((resolve) => setImmediate(resolve));
  const nextDue = (until: number): VirtualTimer | undefined => {
    let next: VirtualTimer | undefined;
    for (const timer of timers) {
      if (timer.due > until) continue;
      if (!next || timer.due < next.due || (timer.due === next.due && timer.order < next.order)) next = timer;
    }
    return next;
  };
  return {
    now: () => time,
    after: (ms, callback) => add({ due: time + Math.max(0, ms), callback }),
    repeat(ms, callback) {
      const period = Math.max(1, ms);
      return add({ due: time + period, callback, period });
    },
    async advance(ms) {
      const until = time + Math.max(0, ms);
      for (let timer = nextDue(until); timer; timer = nextDue(until)) {
        time = timer.due;
        if (timer.period === undefined) timers.delete(timer);
        else {
          timer.due += timer.period;
          timer.order = order++;
        }
        timer.callback();
        await settle();
      }
      time = until;
    },
    get pending() {
      return timers.size;
    },
  };
}
