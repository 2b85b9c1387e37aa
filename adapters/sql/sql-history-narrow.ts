/**
 * History of narrow historian tables: across partitions and retired tag ids, with the mapping's quality rule applied
 * per bucket (see sql-history-buckets.ts for how a bucket is shown).
 */
import { type AnyTag, type Sample, ValidationError } from "../../src/index.js";
import type { NarrowTableMapping } from "./sql-config.js";
import type { SqlConnection, SqlTimeType } from "./sql-dialect.js";
import { type TagResolver, tablesFor, tagIds } from "./sql-historian.js";
import { addToBucket, type BucketParts, pushBuckets } from "./sql-history-buckets.js";
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
  const buckets = new Map<NarrowMember, Map<number, BucketParts>>();
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
      const perBucket = buckets.get(member) ?? new Map<number, BucketParts>();
      buckets.set(member, perBucket);
      const bucket = Number(row.pw_bucket);
      const parts: BucketParts = perBucket.get(bucket) ?? new Map();
      perBucket.set(bucket, parts);
      addToBucket(parts, qualityOf(row.pw_quality), range.aggregate, Number(row.pw_rows), row);
    }
  }
  if (range.bucketMs === undefined) {
    // Partitions and retired ids each come back in time order; together they need one sort.
    for (const member of members) series.get(member.name)?.sort((a, b) => (a.sourceTime ?? 0) - (b.sourceTime ?? 0));
    return rawRows;
  }
  for (const [member, perBucket] of buckets) {
    pushBuckets(member, range, perBucket, series.get(member.name), receivedTime);
  }
  return 0;
}
