/**
 * Buckets kept per quality class, for narrow and wide history alike: SQL summarises the rows of each (tag, bucket,
 * quality code), the quality rule sorts each summary into good / uncertain / bad, and a bucket is shown from its good
 * rows. A bucket with rows but none good is a bad sample naming its row count; a bucket with some rows not good is
 * uncertain, saying how many; a bucket with no rows is absent (a gap, never shown as a quiet value).
 */
import { type AnyTag, badSample, type Quality, type Sample } from "../../src/index.js";
import type { SqlRow } from "./sql-dialect.js";
import type { HistoryRange } from "./sql-statements.js";
import { toSample } from "./sql-values.js";

/** What one quality class of one bucket holds so far (rows from several codes, partitions or retired ids). */
export interface BucketPart {
  rows: number;
  count: number;
  sum: number;
  value: unknown;
  time: number;
}

/** The parts of one bucket, by quality class. */
export type BucketParts = Map<Quality, BucketPart>;

const classes: readonly Quality[] = ["good", "uncertain", "bad"];
const rank: Record<Quality, number> = { good: 0, uncertain: 1, bad: 2 };

/** The worst of some qualities (bad over uncertain over good). */
export function worstQuality(...qualities: Quality[]): Quality {
  return qualities.reduce<Quality>((worst, quality) => (rank[quality] > rank[worst] ? quality : worst), "good");
}

/**
 * Adds one summary row to a bucket's class: `rows` rows, and by aggregate pw_sum + pw_count (avg), pw_value (min, max,
 * count) or pw_value + pw_time (last). Rows without a value (`withValue` false) only count.
 */
export function addToBucket(
  parts: BucketParts,
  quality: Quality,
  aggregate: HistoryRange["aggregate"],
  rows: number,
  row: SqlRow,
  withValue = true,
): void {
  if (rows <= 0) return;
  const part = parts.get(quality) ?? { rows: 0, count: 0, sum: 0, value: undefined, time: Number.NEGATIVE_INFINITY };
  parts.set(quality, part);
  part.rows += rows;
  if (!withValue) return;
  const value = row.pw_value;
  if (aggregate === "avg") {
    part.count += Number(row.pw_count);
    if (row.pw_sum !== null && row.pw_sum !== undefined) part.sum += Number(row.pw_sum);
  } else if (aggregate === "count") {
    part.value = Number(part.value ?? 0) + Number(value);
  } else if (aggregate === "last") {
    const time = Number(row.pw_time);
    if (time >= part.time) {
      part.time = time;
      part.value = value;
    }
  } else if (value !== null && value !== undefined) {
    const number = Number(value);
    const current = part.value === undefined || part.value === null ? undefined : Number(part.value);
    if (current === undefined || (aggregate === "min" ? number < current : number > current)) part.value = number;
  }
}

/** The sample of one bucket: from its good rows (else its uncertain ones), marked by what else it held. */
export function bucketSample(
  member: { readonly name: string; readonly definition: AnyTag },
  aggregate: HistoryRange["aggregate"],
  parts: BucketParts,
  sourceTime: number,
  receivedTime: number,
): Sample {
  const total = [...parts.values()].reduce((sum, part) => sum + part.rows, 0);
  const counts = classes.map((quality) => parts.get(quality)?.rows ?? 0) as [number, number, number];
  const chosen: Quality | undefined = counts[0] > 0 ? "good" : counts[1] > 0 ? "uncertain" : undefined;
  if (!chosen) {
    return {
      ...badSample("device-error", `bucket of ${total} rows, none good (historian quality)`, receivedTime),
      sourceTime,
    };
  }
  const part = parts.get(chosen) as BucketPart;
  const raw = aggregate === "avg" ? (part.count > 0 ? part.sum / part.count : null) : part.value;
  // avg, min, max and count are numbers whatever the tag's type; last keeps the tag's own type.
  const definition = aggregate === "last" ? member.definition : ({ ...member.definition, type: "float" } as AnyTag);
  const quality: Quality = chosen === "good" && counts[0] === total ? "good" : "uncertain";
  const sample = toSample({ name: member.name, definition }, raw, sourceTime, quality, receivedTime);
  if (quality === "good" || sample.quality === "bad") return sample;
  const detail = `bucket of ${total} rows: ${counts[0]} good, ${counts[1]} uncertain, ${counts[2]} bad`;
  return { ...sample, reason: "device-error", detail };
}

/** Pushes one sample per bucket, oldest first, into `samples`. */
export function pushBuckets(
  member: { readonly name: string; readonly definition: AnyTag },
  range: HistoryRange,
  perBucket: ReadonlyMap<number, BucketParts>,
  samples: Sample[] | undefined,
  receivedTime: number,
): void {
  for (const bucket of [...perBucket.keys()].sort((a, b) => a - b)) {
    const sourceTime = range.from + bucket * (range.bucketMs ?? 0);
    samples?.push(
      bucketSample(member, range.aggregate, perBucket.get(bucket) as BucketParts, sourceTime, receivedTime),
    );
  }
}
