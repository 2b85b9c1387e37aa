/**
 * History of wide tables (one row per instant, one column per tag): across partition tables, with the row's quality
 * column and each tag's own quality column (the worse wins) read through the mapping's rule, and a NULL cell counted
 * as a bad row. Buckets are kept per quality class as for narrow tables (sql-history-buckets.ts), so a stretch of bad
 * rows shows as a bad bucket with its count, never as a quiet gap.
 */
import type { AnyTag, Quality, Sample } from "../../src/index.js";
import { tagQualityColumnOf, type WideTableMapping } from "./sql-config.js";
import type { SqlConnection, SqlDialect, SqlRow, SqlTimeType } from "./sql-dialect.js";
import { tablesFor } from "./sql-historian.js";
import { addToBucket, type BucketParts, pushBuckets, worstQuality } from "./sql-history-buckets.js";
import { qualityFunction } from "./sql-quality.js";
import {
  aggregateOf,
  bucketExpression,
  type HistoryRange,
  Parameters,
  type Statement,
  timeFilter,
} from "./sql-statements.js";
import { toSample } from "./sql-values.js";

/** A tag of the wide group being read. */
export interface WideMember {
  readonly name: string;
  readonly definition: AnyTag;
  readonly column: string;
}

/** What one wide group's history needs. */
export interface WideHistoryContext {
  readonly connection: SqlConnection;
  readonly timeType: SqlTimeType;
  readonly rowCap: number;
  readonly receivedTime: number;
}

/** The quality of one cell: the worse of the row's and the tag's quality columns (good when there are none). */
export function wideQuality(
  mapping: WideTableMapping,
  qualityOf: (raw: unknown) => Quality,
  rowQuality: unknown,
  tagQuality: unknown,
): Quality {
  const row = mapping.qualityColumn ? qualityOf(rowQuality) : "good";
  return worstQuality(row, mapping.tagQualityColumn ? qualityOf(tagQuality) : "good");
}

interface WideShape {
  dialect: SqlDialect;
  mapping: WideTableMapping;
  table: string;
  timeType: SqlTimeType;
  range: HistoryRange;
}

function rawStatement(shape: WideShape, members: readonly WideMember[]): Statement {
  const { dialect, mapping, range } = shape;
  const q = dialect.quote;
  const p = new Parameters(dialect);
  const time = q(mapping.timeColumn);
  const selected = members.map(({ column }, index) => {
    const own = tagQualityColumnOf(mapping, column);
    return `${q(column)} AS pw_${index}${own ? `, ${q(own)} AS pw_q${index}` : ""}`;
  });
  const quality = mapping.qualityColumn ? q(mapping.qualityColumn) : "NULL";
  const filter = timeFilter(dialect, time, shape.timeType, range, p);
  return {
    text: `SELECT ${dialect.epochMilliseconds(time, shape.timeType)} AS pw_time, ${quality} AS pw_quality, ${selected.join(", ")} FROM ${q(shape.table)} WHERE ${filter} ORDER BY ${time} LIMIT ${range.rowLimit}`,
    parameters: p.values,
  };
}

function summary(aggregate: HistoryRange["aggregate"], value: string, suffix: string): string {
  return aggregate === "avg"
    ? `SUM(${value}) AS pw_sum${suffix}, COUNT(${value}) AS pw_count${suffix}`
    : `${aggregateOf(aggregate, value)} AS pw_value${suffix}`;
}

/**
 * Every column in one scan, summarised per (bucket, row quality code): rows, cells present and the aggregate per
 * column (pw_present_0, pw_sum_0 ...). Serves every aggregate but `last` when tags have no quality column of their own.
 */
function sharedBucketStatement(shape: WideShape, members: readonly WideMember[]): Statement {
  const { dialect, mapping, range } = shape;
  const q = dialect.quote;
  const p = new Parameters(dialect);
  const time = q(mapping.timeColumn);
  const bucket = bucketExpression(dialect, dialect.epochMilliseconds(time, shape.timeType), range, p);
  const quality = mapping.qualityColumn ? q(mapping.qualityColumn) : undefined;
  const columns = members.map(({ column }, index) => {
    const value = q(column);
    return `COUNT(${value}) AS pw_present_${index}, ${summary(range.aggregate, value, `_${index}`)}`;
  });
  const filter = timeFilter(dialect, time, shape.timeType, range, p);
  return {
    text: `SELECT ${bucket} AS pw_bucket, ${quality ?? "NULL"} AS pw_quality, COUNT(*) AS pw_rows, ${columns.join(", ")} FROM ${q(shape.table)} WHERE ${filter} GROUP BY 1${quality ? ", 2" : ""}`,
    parameters: p.values,
  };
}

/**
 * One column summarised per (bucket, row quality code, its own quality code): pw_rows, pw_present and the aggregate;
 * for `last`, the latest row with a value in each group (its type is the column's, so columns are not mixed).
 */
function memberBucketStatement(shape: WideShape, member: WideMember): Statement {
  const { dialect, mapping, range } = shape;
  const q = dialect.quote;
  const p = new Parameters(dialect);
  const time = q(mapping.timeColumn);
  const epoch = dialect.epochMilliseconds(time, shape.timeType);
  const value = q(member.column);
  const rowQuality = mapping.qualityColumn ? q(mapping.qualityColumn) : undefined;
  const own = tagQualityColumnOf(mapping, member.column);
  const tagQuality = own ? q(own) : undefined;
  const table = q(shape.table);
  if (range.aggregate === "last") {
    // Each use of the bucket expression adds its own parameters, in text order.
    const bucket = bucketExpression(dialect, epoch, range, p);
    const by = () =>
      [bucketExpression(dialect, epoch, range, p), rowQuality, tagQuality].filter((part) => part !== undefined);
    const rows = `COUNT(*) OVER (PARTITION BY ${by().join(", ")}) AS pw_rows`;
    const present = `COUNT(${value}) OVER (PARTITION BY ${by().join(", ")}) AS pw_present`;
    const order = `CASE WHEN ${value} IS NULL THEN 1 ELSE 0 END, ${time} DESC`;
    const ranked = `ROW_NUMBER() OVER (PARTITION BY ${by().join(", ")} ORDER BY ${order}) AS pw_rank`;
    const filter = timeFilter(dialect, time, shape.timeType, range, p);
    const inner = `SELECT ${bucket} AS pw_bucket, ${rowQuality ?? "NULL"} AS pw_quality, ${tagQuality ?? "NULL"} AS pw_tag_quality, ${epoch} AS pw_time, ${value} AS pw_value, ${rows}, ${present}, ${ranked} FROM ${table} WHERE ${filter}`;
    return {
      text: `SELECT pw_bucket, pw_quality, pw_tag_quality, pw_time, pw_value, pw_rows, pw_present FROM (${inner}) AS pw_ranked WHERE pw_rank = 1`,
      parameters: p.values,
    };
  }
  const bucket = bucketExpression(dialect, epoch, range, p);
  const filter = timeFilter(dialect, time, shape.timeType, range, p);
  const groups = ["1", rowQuality ? "2" : undefined, tagQuality ? "3" : undefined].filter(Boolean).join(", ");
  return {
    text: `SELECT ${bucket} AS pw_bucket, ${rowQuality ?? "NULL"} AS pw_quality, ${tagQuality ?? "NULL"} AS pw_tag_quality, COUNT(*) AS pw_rows, COUNT(${value}) AS pw_present, ${summary(range.aggregate, value, "")} FROM ${table} WHERE ${filter} GROUP BY ${groups}`,
    parameters: p.values,
  };
}

/** The summary row of column `index` within a shared bucket row, in the shape of a per-column one. */
function columnOf(row: SqlRow, index: number): SqlRow {
  return {
    pw_bucket: row.pw_bucket,
    pw_quality: row.pw_quality,
    pw_tag_quality: null,
    pw_rows: row.pw_rows,
    pw_present: row[`pw_present_${index}`],
    pw_sum: row[`pw_sum_${index}`],
    pw_count: row[`pw_count_${index}`],
    pw_value: row[`pw_value_${index}`],
  };
}

/**
 * Reads one wide group into `series`, bucketed or raw, from every partition the window overlaps. Returns the raw rows
 * read (0 when bucketed), or more than the row cap as soon as it is passed.
 */
export async function readWideHistory(
  context: WideHistoryContext,
  mapping: WideTableMapping,
  members: readonly WideMember[],
  range: HistoryRange,
  series: Map<string, Sample[]>,
): Promise<number> {
  const { connection, receivedTime } = context;
  const qualityOf = qualityFunction(mapping.quality);
  const timeType = mapping.timeType ?? context.timeType;
  const buckets = members.map(() => new Map<number, BucketParts>());
  let rawRows = 0;
  for (const table of await tablesFor(connection, mapping, range.from, range.to)) {
    const shape: WideShape = { dialect: connection.dialect, mapping, table, timeType, range };
    if (range.bucketMs === undefined) {
      const statement = rawStatement(shape, members);
      const rows = await connection.run(statement.text, statement.parameters);
      rawRows += rows.length;
      if (rawRows > context.rowCap) return rawRows;
      for (const row of rows) {
        members.forEach((member, index) => {
          const quality = wideQuality(mapping, qualityOf, row.pw_quality, row[`pw_q${index}`]);
          const sample = toSample(member, row[`pw_${index}`], Number(row.pw_time), quality, receivedTime);
          series.get(member.name)?.push(sample);
        });
      }
      continue;
    }
    const perMember: SqlRow[][] = members.map(() => []);
    if (range.aggregate !== "last" && !mapping.tagQualityColumn) {
      const statement = sharedBucketStatement(shape, members);
      for (const row of await connection.run(statement.text, statement.parameters)) {
        for (const index of members.keys()) perMember[index]?.push(columnOf(row, index));
      }
    } else {
      for (const [index, member] of members.entries()) {
        const statement = memberBucketStatement(shape, member);
        perMember[index] = await connection.run(statement.text, statement.parameters);
      }
    }
    perMember.forEach((rows, index) => {
      const perBucket = buckets[index] as Map<number, BucketParts>;
      for (const row of rows) {
        const bucket = Number(row.pw_bucket);
        const parts: BucketParts = perBucket.get(bucket) ?? new Map();
        perBucket.set(bucket, parts);
        const present = Number(row.pw_present);
        const quality = wideQuality(mapping, qualityOf, row.pw_quality, row.pw_tag_quality);
        addToBucket(parts, quality, range.aggregate, present, row);
        // Rows where this column is NULL: the logger had no value for the tag, so they count as bad rows.
        addToBucket(parts, "bad", range.aggregate, Number(row.pw_rows) - present, row, false);
      }
    });
  }
  if (range.bucketMs === undefined) {
    // Each partition comes back in time order; partitions may overlap in time, so sort once.
    for (const member of members) series.get(member.name)?.sort((a, b) => (a.sourceTime ?? 0) - (b.sourceTime ?? 0));
    return rawRows;
  }
  members.forEach((member, index) => {
    pushBuckets(member, range, buckets[index] as Map<number, BucketParts>, series.get(member.name), receivedTime);
  });
  return 0;
}
