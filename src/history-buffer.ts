/** A bounded, time-ordered buffer of samples for one tag: old samples fall off when it is full. */
import type { Sample } from "./sample.js";

export class HistoryBuffer {
  readonly #capacity: number;
  readonly #items: (Sample | undefined)[];
  #start = 0;
  #length = 0;

  constructor(capacity: number) {
    this.#capacity = Math.max(1, Math.floor(capacity));
    this.#items = new Array(this.#capacity);
  }

  /** Number of samples held. */
  get length(): number {
    return this.#length;
  }

  /** Adds a sample, dropping the oldest when full. */
  push(sample: Sample): void {
    const index = (this.#start + this.#length) % this.#capacity;
    this.#items[index] = sample;
    if (this.#length < this.#capacity) this.#length++;
    else this.#start = (this.#start + 1) % this.#capacity;
  }

  /** The newest sample, if any. */
  latest(): Sample | undefined {
    if (this.#length === 0) return undefined;
    return this.#items[(this.#start + this.#length - 1) % this.#capacity];
  }

  /** Samples whose time (source time, else received time) lies in [from, to], oldest first. */
  between(from = Number.NEGATIVE_INFINITY, to = Number.POSITIVE_INFINITY): Sample[] {
    const result: Sample[] = [];
    for (let offset = 0; offset < this.#length; offset++) {
      const sample = this.#items[(this.#start + offset) % this.#capacity];
      if (!sample) continue;
      const time = sample.sourceTime ?? sample.receivedTime;
      if (time >= from && time <= to) result.push(sample);
    }
    return result;
  }
}
