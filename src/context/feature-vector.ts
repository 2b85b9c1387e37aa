/**
 * Snapshots as numeric feature vectors for non-LLM models: a fixed tag order, a Float32Array, values scaled from
 * each tag's engineering range, and an explicit policy for samples that are missing, bad or stale. The names come
 * alongside and stay the same from run to run (they depend only on the tag map and the options).
 */
import { ConfigError, DataQualityError } from "../errors.js";
import { isUsable, type Snapshot } from "../sample.js";
import type { AnyTag, TagDefinitions, TagName } from "../tags.js";

/** What to put where a sample is missing, bad or stale. No default: the choice changes what a model learns. */
export type MissingPolicy = "nan" | "throw" | { readonly fill: number };

/** Settings of {@link featureVector}. */
export interface FeatureVectorOptions<TTags extends TagDefinitions> {
  /**
   * The tags, in vector order. Text and datetime tags cannot be features.
   * @default every tag that is neither text nor datetime, in definition order
   */
  readonly tags?: readonly TagName<TTags>[];
  /** "range": (value − low) / (high − low) for numeric tags with a range (others unscaled); "none": raw values. @default "range" */
  readonly scale?: "range" | "none";
  /** The missing/bad/stale policy: NaN, a fill value, or a DataQualityError. */
  readonly missing: MissingPolicy;
  /**
   * An uncertain sample (a value the device doubts, e.g. its last usable one): "use" its value, or treat it as
   * "missing" (the missing policy applies, and its usable flag is 0). @default "use"
   */
  readonly uncertain?: "use" | "missing";
  /** Add one `<tag>:usable` feature (1 or 0) per tag, after the values. @default false */
  readonly usableFlags?: boolean;
}

/** A fixed vector layout over a tag map. */
export interface FeatureVector<TTags extends TagDefinitions> {
  /** The name of each position: a tag name, `<enum tag>=<STATE>` for one-hot states, `<tag>:usable` for flags. */
  readonly names: readonly string[];
  /** The vector of a snapshot. */
  encode(snapshot: Snapshot<TTags>): Float32Array;
}

/**
 * Why a tag cannot be a feature, or undefined when it can. Text has no number. A date-time is left out too: a
 * Float32Array holds epoch seconds (about 1.7e9) only to the nearest 128 s, and an absolute instant is rarely what a
 * model should learn from; the duration that matters (time since a batch start) is the integrator's feature to make.
 */
function notFeature(tag: AnyTag | undefined): string | undefined {
  if (tag?.type === "text") return "text tags cannot be features";
  if (tag?.type === "datetime") return "datetime tags cannot be features (float32 holds epoch seconds only to ±64 s)";
  return undefined;
}

/** Builds the layout once; `encode` then maps snapshots to Float32Arrays of `names.length`. Enum tags are one-hot. */
export function featureVector<TTags extends TagDefinitions>(
  tags: TTags,
  options: FeatureVectorOptions<TTags>,
): FeatureVector<TTags> {
  const all = tags as TagDefinitions;
  const chosen = (options.tags ?? Object.keys(all).filter((name) => !notFeature(all[name]))) as string[];
  const issues = chosen
    .filter((name) => !(name in all) || notFeature(all[name]))
    .map((name) => ({
      path: `features.${name}`,
      message: name in all ? (notFeature(all[name]) as string) : "not a tag of this tag map",
      fix:
        all[name]?.type === "datetime"
          ? "leave it out of options.tags; compute a duration from it (e.g. seconds since the batch start) as your own feature"
          : "leave it out of options.tags",
    }));
  if (issues.length > 0) throw new ConfigError(issues);
  const names: string[] = [];
  for (const name of chosen) {
    const tag = all[name] as AnyTag;
    if (tag.type === "enum") for (const state of Object.keys(tag.states)) names.push(`${name}=${state}`);
    else names.push(name);
  }
  if (options.usableFlags) for (const name of chosen) names.push(`${name}:usable`);
  const scale = options.scale ?? "range";
  const usableSample = (sample: ReturnType<Snapshot<TTags>["sample"]>) =>
    isUsable(sample) && !(options.uncertain === "missing" && sample.quality === "uncertain");

  function missingValue(name: string, why: string): number {
    if (options.missing === "nan") return Number.NaN;
    if (options.missing === "throw")
      throw new DataQualityError(
        name,
        `Feature "${name}" has no usable value (${why}). Fix: choose missing: "nan" or { fill } to accept gaps`,
      );
    return options.missing.fill;
  }

  return {
    names: Object.freeze(names),
    encode(snapshot) {
      const vector = new Float32Array(names.length);
      let position = 0;
      for (const name of chosen) {
        const tag = all[name] as AnyTag;
        const sample = snapshot.sample(name as TagName<TTags>);
        const usable = usableSample(sample);
        const why = sample.stale ? "stale" : `quality ${sample.quality}${sample.reason ? `, ${sample.reason}` : ""}`;
        if (tag.type === "enum") {
          const states = Object.keys(tag.states);
          for (const state of states)
            vector[position++] = usable ? (sample.value === state ? 1 : 0) : missingValue(name, why);
          continue;
        }
        if (!usable) {
          vector[position++] = missingValue(name, why);
          continue;
        }
        if (tag.type === "boolean") vector[position++] = sample.value ? 1 : 0;
        else {
          const value = sample.value as number;
          const range = tag.type === "float" || tag.type === "integer" ? tag.range : undefined;
          vector[position++] =
            scale === "range" && range && range[1] !== range[0] ? (value - range[0]) / (range[1] - range[0]) : value;
        }
      }
      if (options.usableFlags)
        for (const name of chosen) vector[position++] = usableSample(snapshot.sample(name as TagName<TTags>)) ? 1 : 0;
      return vector;
    },
  };
}
