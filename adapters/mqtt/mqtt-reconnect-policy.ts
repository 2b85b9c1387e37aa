/**
 * When to reconnect, and when to give up. Delays double from `minMs` to `maxMs` with "equal jitter" (half the delay
 * fixed, half random) so that many clients do not return in step; the attempt count only resets after a connection
 * that lasted `stableAfterMs`, so a link that drops at once keeps backing off instead of hammering the broker.
 *
 * Two clients with one client id take the session from each other: each connection is closed by the broker soon
 * after it opens, yet every reconnect succeeds at once. That pattern (or MQTT 5's "session taken over", reason 142),
 * `flapLimit` times in a row, stops the connection. A reconnect that fails (broker down) is not that pattern and
 * clears the count.
 */
import type { ReconnectOptions } from "./mqtt-config.js";

/** MQTT 5 DISCONNECT reason code "Session taken over". */
export const SESSION_TAKEN_OVER = 142;

/** The reconnection schedule of one connection. */
export class ReconnectPolicy {
  readonly #options: ReconnectOptions;
  #attempt = 0;
  #flapsInRow = 0;

  constructor(options: ReconnectOptions = {}) {
    this.#options = options;
  }

  /** Flaps in a row so far. */
  get flapsInRow(): number {
    return this.#flapsInRow;
  }

  /** Number of the next attempt (1-based), for status messages. */
  get attempt(): number {
    return this.#attempt;
  }

  /** Records a dropped connection; returns true when it was a flap. */
  dropped(lastedMs: number, reasonCode: number | undefined): boolean {
    const short = lastedMs < (this.#options.stableAfterMs ?? 5000);
    const flap = reasonCode === SESSION_TAKEN_OVER || (short && reasonCode === undefined);
    if (flap) this.#flapsInRow++;
    else this.#flapsInRow = 0;
    if (!short) this.#attempt = 0;
    return flap;
  }

  /** Records a failed reconnect attempt (the broker was unreachable: not a client-id fight). */
  failed(): void {
    this.#flapsInRow = 0;
  }

  /** True when the flaps in a row reached the limit: stop. */
  get exhausted(): boolean {
    return this.#flapsInRow >= (this.#options.flapLimit ?? 5);
  }

  /** The delay before the next attempt, in ms; advances the attempt count. */
  nextDelay(random: () => number = Math.random): number {
    const minMs = this.#options.minMs ?? 500;
    const maxMs = this.#options.maxMs ?? 30_000;
    const base = Math.min(maxMs, minMs * 2 ** Math.min(this.#attempt, 30));
    this.#attempt++;
    return Math.round(base / 2 + (random() * base) / 2);
  }
}
