/**
 * A circuit breaker per unit: a unit that stops answering costs its own timeout a few times, then is skipped (its
 * tags reported bad) for a back-off period that doubles up to a cap, then tried again with one request. The other
 * units behind the same gateway keep their full poll rate.
 */

/** Breaker settings. */
export interface BreakerSettings {
  /** Timeouts in a row that open the breaker. */
  readonly failures: number;
  /** First back-off, in ms. */
  readonly openMs: number;
  /** Longest back-off, in ms. */
  readonly maxOpenMs: number;
}

/** One unit's breaker. */
export class UnitBreaker {
  readonly #settings: BreakerSettings;
  #failures = 0;
  #openUntil = 0;
  #backoffMs: number;
  #lastError = "";

  constructor(settings: BreakerSettings) {
    this.#settings = settings;
    this.#backoffMs = settings.openMs;
  }

  /** True when requests may go to the unit now (closed, or the back-off has passed: one trial). */
  allows(now = Date.now()): boolean {
    return this.#failures < this.#settings.failures || now >= this.#openUntil;
  }

  /** True while the unit is backed off. */
  isOpen(now = Date.now()): boolean {
    return !this.allows(now);
  }

  /** True when the unit has failed at least once since it last answered. */
  get failing(): boolean {
    return this.#failures > 0;
  }

  /** When the next trial may go out (ms since the epoch). */
  get retryAt(): number {
    return this.#openUntil;
  }

  /** The last failure, in words. */
  get lastError(): string {
    return this.#lastError;
  }

  /** The unit answered (even with an exception: it is alive). */
  succeeded(): void {
    this.#failures = 0;
    this.#backoffMs = this.#settings.openMs;
  }

  /** The unit did not answer. */
  failed(reason: string, now = Date.now()): void {
    this.#failures++;
    this.#lastError = reason;
    if (this.#failures >= this.#settings.failures) {
      this.#openUntil = now + this.#backoffMs;
      this.#backoffMs = Math.min(this.#settings.maxOpenMs, this.#backoffMs * 2);
    }
  }
}
