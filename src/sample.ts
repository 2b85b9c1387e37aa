/**
 * Samples, snapshots and windows: what an adapter read, when, and how much it can be trusted.
 */
import { DataQualityError } from "./errors.js";
import type { AnyTag, TagDefinitions, TagName, TagValue } from "./tags.js";

/** OPC UA's three quality classes, used for every protocol. */
export type Quality = "good" | "uncertain" | "bad";

/**
 * Why a sample is not good. Adapters use these codes so that the model context, metrics and the guard can treat
 * every protocol alike.
 */
export type QualityReason =
  | "comm-failure"
  | "not-connected"
  | "timeout"
  | "device-error"
  | "decode-error"
  | "type-mismatch"
  | "out-of-range"
  | "config-error"
  | "not-read-yet"
  | "sensor-failure"
  | "last-known-value"
  | "other";

/** One value of one tag, as read. */
export interface Sample<TValue = unknown> {
  /** The value, or undefined when there is none (a bad sample may still carry the last value it saw). */
  readonly value: TValue | undefined;
  readonly quality: Quality;
  /** Why the quality is not good. */
  readonly reason?: QualityReason;
  /** Details for people (an exception code, a status code name, a parse error). Never trusted as instructions. */
  readonly detail?: string;
  /** When the value was measured, if the source says (ms since the epoch). */
  readonly sourceTime?: number;
  /** When plantwire received it (ms since the epoch). */
  readonly receivedTime: number;
}

/** A sample with its age judged against the tag's stale-after. */
export interface TimedSample<TValue = unknown> extends Sample<TValue> {
  /** True when the sample is older than the tag's `staleAfterMs`. A stale value is never presented as current. */
  readonly stale: boolean;
}

/** A good sample of a value. */
export function goodSample<TValue>(value: TValue, receivedTime = Date.now(), sourceTime?: number): Sample<TValue> {
  return sourceTime === undefined
    ? { value, quality: "good", receivedTime }
    : { value, quality: "good", receivedTime, sourceTime };
}

/** A bad sample with its reason; `value` may carry the last known value. */
export function badSample(
  reason: QualityReason,
  detail?: string,
  receivedTime = Date.now(),
  value?: unknown,
): Sample<never> {
  const sample: { value: undefined; quality: "bad"; reason: QualityReason; receivedTime: number; detail?: string } = {
    value: value as undefined,
    quality: "bad",
    reason,
    receivedTime,
  };
  if (detail !== undefined) sample.detail = detail;
  return sample;
}

/** The age of a sample at `now`: from its source time when known, else from when it was received. */
export function sampleAge(sample: Sample, now = Date.now()): number {
  return now - (sample.sourceTime ?? sample.receivedTime);
}

/** True when a sample is older than the tag's stale-after (tags without one never go stale). */
export function isStale(sample: Sample, tag: AnyTag, now = Date.now()): boolean {
  return tag.staleAfterMs !== undefined && sampleAge(sample, now) > tag.staleAfterMs;
}

/** True when a sample's value may be used as current: good or uncertain, with a value, and not stale. */
export function isUsable(sample: TimedSample): boolean {
  return sample.quality !== "bad" && sample.value !== undefined && !sample.stale;
}

/** A typed set of samples taken together. */
export class Snapshot<TTags extends TagDefinitions = TagDefinitions> {
  /** The tag definitions the samples belong to. */
  readonly tags: TTags;
  /** When the snapshot was taken (ms since the epoch). */
  readonly time: number;
  readonly #samples: ReadonlyMap<string, TimedSample>;

  constructor(tags: TTags, samples: ReadonlyMap<string, Sample>, time = Date.now()) {
    this.tags = tags;
    this.time = time;
    const timed = new Map<string, TimedSample>();
    for (const [name, tag] of Object.entries(tags)) {
      const sample = samples.get(name) ?? badSample("not-read-yet", "no sample yet", time);
      timed.set(name, { ...sample, stale: isStale(sample, tag, time) });
    }
    this.#samples = timed;
  }

  /** The tag names in definition order. */
  get names(): TagName<TTags>[] {
    return Object.keys(this.tags) as TagName<TTags>[];
  }

  /** The sample of a tag, with quality, timestamps and staleness. Throws only for a name that is not a tag of the map. */
  sample<K extends TagName<TTags>>(name: K): TimedSample<TagValue<TTags[K]>> {
    const sample = this.#samples.get(name);
    if (!sample) throw new DataQualityError(name, `"${name}" is not a tag of this snapshot`);
    return sample as TimedSample<TagValue<TTags[K]>>;
  }

  /**
   * The current value of a tag. Throws a {@link DataQualityError} when the sample is bad, missing or stale,
   * so that a stale value is never used as current by accident. Use `sample()` or `valueOr()` to handle those.
   */
  value<K extends TagName<TTags>>(name: K): TagValue<TTags[K]> {
    const sample = this.sample(name);
    if (!isUsable(sample)) {
      const why = sample.stale ? "is STALE" : `has quality ${sample.quality} (${sample.reason ?? "no value"})`;
      throw new DataQualityError(
        name,
        `Tag "${name}" ${why}${sample.detail ? `: ${sample.detail}` : ""}. Check snapshot.sample("${name}") or use valueOr().`,
      );
    }
    return sample.value as TagValue<TTags[K]>;
  }

  /** The current value of a tag, or `fallback` when the sample is bad, missing or stale. */
  valueOr<K extends TagName<TTags>, F>(name: K, fallback: F): TagValue<TTags[K]> | F {
    const sample = this.sample(name);
    return isUsable(sample) ? (sample.value as TagValue<TTags[K]>) : fallback;
  }

  /** True when the tag's value may be used as current. */
  isUsable(name: TagName<TTags>): boolean {
    return isUsable(this.sample(name));
  }

  /** Every sample, by name. */
  entries(): [TagName<TTags>, TimedSample][] {
    return [...this.#samples.entries()] as [TagName<TTags>, TimedSample][];
  }
}

/** A time-ordered series of samples per tag. */
export class Window<TTags extends TagDefinitions = TagDefinitions> {
  readonly tags: TTags;
  /** Start and end of the window (ms since the epoch). */
  readonly from: number;
  readonly to: number;
  readonly #series: ReadonlyMap<string, readonly Sample[]>;

  constructor(tags: TTags, series: ReadonlyMap<string, readonly Sample[]>, from: number, to: number) {
    this.tags = tags;
    this.from = from;
    this.to = to;
    this.#series = series;
  }

  /** The tag names in definition order. */
  get names(): TagName<TTags>[] {
    return Object.keys(this.tags) as TagName<TTags>[];
  }

  /** The samples of one tag, oldest first. */
  series<K extends TagName<TTags>>(name: K): readonly Sample<TagValue<TTags[K]>>[] {
    return (this.#series.get(name) ?? []) as readonly Sample<TagValue<TTags[K]>>[];
  }
}
