/**
 * History of narrow historian tables: across partitions and retired tag ids, with the mapping's quality rule applied
 * per bucket. A bucket with rows but none good is a bad sample naming its row count; a bucket with some rows not
 * good is uncertain, saying how many; a bucket with no rows is absent (a gap, never shown as a quiet value).
 */
import { type AnyTag, badSample, type Quality, type Sample, ValidationError } from "../../src/index.js";
import type { NarrowTableMapping } from "./sql-config.js";
import type { SqlConnection, SqlRow, SqlTimeType } from "./sql-dialect.js";
import { type TagResolver, tablesFor, tagIds } from "./sql-historian.js";
import { qualityFunction } from "./sql-quality.js";
import { type HistoryRange, narrowHistory } from "./sql-statements.js";
import { toSample } from "./sql-values.js";

/** A tag of the group being read. */
export interface NarrowMember {
  readonly name: string;
  readonly definition: AnyTag;
  readonly tag: string | number;
}

/** What one narrow group's history needs. */
export interface NarrowHistoryContext {
  readonly connection: SqlConnection;
  readonly resolver: TagResolver;
  readonly timeType: SqlTimeType;
  readonly rowCap: number;
  readonly receivedTime: number;
}

interface Part {
  rows: number;
  count: number;
  sum: number;
  value: unknown;
  time: number;
}

const classes: readonly Quality[] = ["good", "uncertain", "bad"];

function merge(aggregate: HistoryRange["aggregate"], part: Part, row: SqlRow): void {
  part.rows += Number(row.pw_rows);
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

function bucketSample(
  member: NarrowMember,
  aggregate: HistoryRange["aggregate"],
  parts: Map<Quality, Part>,
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
  const part = parts.get(chosen) as Part;
  const raw = aggregate === "avg" ? (part.count > 0 ? part.sum / part.count : null) : part.value;
  // avg, min, max and count are numbers whatever the tag's type; last keeps the tag's own type.
  const definition = aggregate === "last" ? member.definition : ({ ...member.definition, type: "float" } as AnyTag);
  const quality: Quality = chosen === "good" && counts[0] === total ? "good" : "uncertain";
  const sample = toSample({ name: member.name, definition }, raw, sourceTime, quality, receivedTime);
  if (quality === "good" || sample.quality === "bad") return sample;
  const detail = `bucket of ${total} rows: ${counts[0]} good, ${counts[1]} uncertain, ${counts[2]} bad`;
  return { ...sample, reason: "device-error", detail };
}

/** Reads one narrow group into `series`, bucketed or raw (raw rows sorted by time across partitions). */
export async function readNarrowHistory(
  context: NarrowHistoryContext,
  mapping: NarrowTableMapping,
  members: readonly NarrowMember[],
  range: HistoryRange,
  series: Map<string, Sample[]>,
): Promise<number> {
  const { connection, receivedTime } = context;
  const qualityOf = qualityFunction(mapping.quality);
  const ids = await tagIds(
    connection,
    context.resolver,
    mapping,
    members.map((member) => member.tag),
  );
  const byId = new Map<string, NarrowMember>();
  for (const member of members) {
    const found = ids.get(String(member.tag)) ?? [];
    if (found.length === 0 && mapping.tagTable) {
      throw new ValidationError(
        `history: tag "${member.name}": no path ${JSON.stringify(member.tag)} in ${mapping.tagTable.table}. Fix: use the path as the tag table spells it`,
        { field: member.name },
      );
    }
    for (const id of found) byId.set(String(id), member);
  }
  const queried = [...new Set(members.flatMap((member) => ids.get(String(member.tag)) ?? []))];
  const timeType = mapping.timeType ?? context.timeType;
  const buckets = new Map<NarrowMember, Map<number, Map<Quality, Part>>>();
  let rawRows = 0;
  for (const table of await tablesFor(connection, mapping, range.from, range.to)) {
    const statement = narrowHistory(connection.dialect, { ...mapping, table }, timeType, queried, range);
    const rows = await connection.run(statement.text, statement.parameters);
    rawRows += range.bucketMs === undefined ? rows.length : 0;
    if (rawRows > context.rowCap || rows.length > context.rowCap) return rawRows + rows.length;
    for (const row of rows) {
      const member = byId.get(String(row.pw_tag));
      if (!member) continue;
      if (range.bucketMs === undefined) {
        const sample = toSample(member, row.pw_value, Number(row.pw_time), qualityOf(row.pw_quality), receivedTime);
        series.get(member.name)?.push(sample);
        continue;
      }
      const perBucket = buckets.get(member) ?? new Map<number, Map<Quality, Part>>();
      buckets.set(member, perBucket);
      const bucket = Number(row.pw_bucket);
      const parts = perBucket.get(bucket) ?? new Map<Quality, Part>();
      perBucket.set(bucket, parts);
      const quality = qualityOf(row.pw_quality);
      const part = parts.get(quality) ?? { rows: 0, count: 0, sum: 0, value: undefined, time: -Infinity };
      parts.set(quality, part);
      merge(range.aggregate, part, row);
    }
  }
  if (range.bucketMs === undefined) {
    // Partitions and retired ids each come back in time order; together they need one sort.
    for (const member of members) series.get(member.name)?.sort((a, b) => (a.sourceTime ?? 0) - (b.sourceTime ?? 0));
    return rawRows;
  }
  for (const [member, perBucket] of buckets) {
    const samples = series.get(member.name);
    for (const bucket of [...perBucket.keys()].sort((a, b) => a - b)) {
      const sourceTime = range.from + bucket * (range.bucketMs ?? 0);
      samples?.push(
        bucketSample(member, range.aggregate, perBucket.get(bucket) as Map<Quality, Part>, sourceTime, receivedTime),
      );
    }
  }
  return 0;
}
