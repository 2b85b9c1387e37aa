/**
 * The SQL plantwire writes itself: latest values, bucketed and raw history, inserts. Only validated identifiers
 * (quoted per dialect), generated aliases and integers plantwire computed go into the text; every value is a
 * parameter.
 */
import type { NarrowTableMapping, WideTableMapping } from "./sql-config.js";
import type { SqlDialect, SqlTimeType } from "./sql-dialect.js";

/** Per-bucket aggregates computed in SQL. */
export type SqlAggregate = "avg" | "min" | "max" | "last" | "count";

/** A statement and its parameters. */
export interface Statement {
  readonly text: string;
  readonly parameters: unknown[];
}

/** Collects parameters in text order and hands out their placeholders. */
export class Parameters {
  readonly values: unknown[] = [];
  constructor(private readonly dialect: SqlDialect) {}
  add(value: unknown): string {
    this.values.push(value);
    return this.dialect.placeholder(this.values.length);
  }
  addNumber(value: number): string {
    this.values.push(value);
    return this.dialect.numberParameter(this.values.length);
  }
}

/** A time range and bucketing, already checked by the caller. */
export interface HistoryRange {
  readonly from: number;
  readonly to: number;
  /** Bucket width in ms; undefined for raw rows. */
  readonly bucketMs: number | undefined;
  readonly aggregate: SqlAggregate;
  /** LIMIT for raw rows. */
  readonly rowLimit: number;
}

/** `column` within [from, to), comparing as the column's time type allows. */
export function timeFilter(
  dialect: SqlDialect,
  column: string,
  timeType: SqlTimeType,
  range: HistoryRange,
  p: Parameters,
) {
  if (dialect.name === "sqlite" && timeType === "timestamp") {
    // SQLite text timestamps only compare right as text when written exactly alike ("00:00:00" sorts before
    // "00:00:00.000"), so compare them as milliseconds; an index on the column cannot serve this form.
    const epoch = dialect.epochMilliseconds(column, timeType);
    return `${epoch} >= ${p.addNumber(range.from)} AND ${epoch} < ${p.addNumber(range.to)}`;
  }
  return `${column} >= ${p.add(dialect.timeParameter(range.from, timeType))} AND ${column} < ${p.add(dialect.timeParameter(range.to, timeType))}`;
}

/** The 0-based bucket of a row, from its epoch-ms expression. Each use adds its own parameters. */
export function bucketExpression(dialect: SqlDialect, epoch: string, range: HistoryRange, p: Parameters): string {
  return dialect.floor(`(${epoch} - ${p.addNumber(range.from)}) / ${p.addNumber(range.bucketMs ?? 1)}`);
}

/** The SQL aggregate of a column. */
export function aggregateOf(aggregate: SqlAggregate, column: string): string {
  return `${aggregate === "count" ? "COUNT" : aggregate.toUpperCase()}(${column})`;
}

/** The latest row of each tag of a narrow table, one indexed lookup per tag joined with UNION ALL. */
export function narrowLatest(
  dialect: SqlDialect,
  mapping: NarrowTableMapping,
  timeType: SqlTimeType,
  tags: readonly (string | number)[],
): Statement {
  const q = dialect.quote;
  const p = new Parameters(dialect);
  const quality = mapping.qualityColumn ? q(mapping.qualityColumn) : "NULL";
  const members = tags.map(
    (tag, index) =>
      `SELECT * FROM (SELECT ${q(mapping.tagColumn)} AS pw_tag, ${dialect.epochMilliseconds(q(mapping.timeColumn), timeType)} AS pw_time, ${q(mapping.valueColumn)} AS pw_value, ${quality} AS pw_quality FROM ${q(mapping.table)} WHERE ${q(mapping.tagColumn)} = ${p.add(tag)} ORDER BY ${q(mapping.timeColumn)} DESC LIMIT 1) AS pw_latest${index}`,
  );
  return { text: members.join(" UNION ALL "), parameters: p.values };
}

/**
 * The latest row of a wide table: pw_time, the row's quality as pw_quality (NULL without a quality column), and each
 * column as pw_0, pw_1, ... with its own quality column, if given, as pw_q0, pw_q1, ...
 */
export function wideLatest(
  dialect: SqlDialect,
  mapping: WideTableMapping,
  timeType: SqlTimeType,
  columns: readonly { readonly column: string; readonly qualityColumn?: string | undefined }[],
): Statement {
  const q = dialect.quote;
  const selected = columns
    .map(
      ({ column, qualityColumn }, index) =>
        `${q(column)} AS pw_${index}${qualityColumn ? `, ${q(qualityColumn)} AS pw_q${index}` : ""}`,
    )
    .join(", ");
  const quality = mapping.qualityColumn ? q(mapping.qualityColumn) : "NULL";
  return {
    text: `SELECT ${dialect.epochMilliseconds(q(mapping.timeColumn), timeType)} AS pw_time, ${quality} AS pw_quality, ${selected} FROM ${q(mapping.table)} ORDER BY ${q(mapping.timeColumn)} DESC LIMIT 1`,
    parameters: [],
  };
}

/**
 * History of some tags of a narrow table. Raw rows come back as pw_tag, pw_time, pw_value, pw_quality. Bucketed, the
 * rows of each (tag, bucket, quality code) are summarised — pw_rows (all rows) and, by aggregate, pw_sum + pw_count
 * (avg), pw_value (min, max, count) or pw_value + pw_time (last) — so the quality rule is applied to each code in JS,
 * buckets with no good row still show, and partitions combine exactly.
 */
export function narrowHistory(
  dialect: SqlDialect,
  mapping: NarrowTableMapping,
  timeType: SqlTimeType,
  tags: readonly (string | number)[],
  range: HistoryRange,
): Statement {
  const q = dialect.quote;
  const p = new Parameters(dialect);
  const tag = q(mapping.tagColumn);
  const time = q(mapping.timeColumn);
  const value = q(mapping.valueColumn);
  const epoch = dialect.epochMilliseconds(time, timeType);
  const quality = mapping.qualityColumn ? q(mapping.qualityColumn) : undefined;
  const where = () => {
    const list = tags.map((name) => p.add(name)).join(", ");
    return `WHERE ${tag} IN (${list}) AND ${timeFilter(dialect, time, timeType, range, p)}`;
  };
  const table = q(mapping.table);
  if (range.bucketMs === undefined) {
    const select = `SELECT ${tag} AS pw_tag, ${epoch} AS pw_time, ${value} AS pw_value, ${quality ?? "NULL"} AS pw_quality FROM ${table}`;
    return { text: `${select} ${where()} ORDER BY ${tag}, ${time} LIMIT ${range.rowLimit}`, parameters: p.values };
  }
  if (range.aggregate === "last") {
    // Each use of the bucket expression adds its own parameters, in text order.
    const bucket = bucketExpression(dialect, epoch, range, p);
    const by = () => `${tag}, ${bucketExpression(dialect, epoch, range, p)}${quality ? `, ${quality}` : ""}`;
    const rows = `COUNT(*) OVER (PARTITION BY ${by()}) AS pw_rows`;
    const rank = `ROW_NUMBER() OVER (PARTITION BY ${by()} ORDER BY ${time} DESC) AS pw_rank`;
    const inner = `SELECT ${tag} AS pw_tag, ${bucket} AS pw_bucket, ${quality ?? "NULL"} AS pw_quality, ${epoch} AS pw_time, ${value} AS pw_value, ${rows}, ${rank} FROM ${table} ${where()}`;
    return {
      text: `SELECT pw_tag, pw_bucket, pw_quality, pw_time, pw_value, pw_rows FROM (${inner}) AS pw_ranked WHERE pw_rank = 1`,
      parameters: p.values,
    };
  }
  const bucket = bucketExpression(dialect, epoch, range, p);
  const summary =
    range.aggregate === "avg"
      ? `SUM(${value}) AS pw_sum, COUNT(${value}) AS pw_count`
      : `${aggregateOf(range.aggregate, value)} AS pw_value`;
  const selectQuality = quality ? `${quality} AS pw_quality` : "NULL AS pw_quality";
  return {
    text: `SELECT ${tag} AS pw_tag, ${bucket} AS pw_bucket, ${selectQuality}, COUNT(*) AS pw_rows, ${summary} FROM ${table} ${where()} GROUP BY 1, 2${quality ? ", 3" : ""}`,
    parameters: p.values,
  };
}

/** Rows per INSERT statement: below every dialect's parameter limit (SQLite 32766, PostgreSQL and MySQL 65535). */
export function rowsPerInsert(columnCount: number): number {
  return Math.max(1, Math.min(1000, Math.floor(30_000 / columnCount)));
}

/** A multi-row INSERT of `rows` (each a list of values in column order). */
export function insertStatement(
  dialect: SqlDialect,
  table: string,
  columns: readonly string[],
  rows: readonly (readonly unknown[])[],
): Statement {
  const q = dialect.quote;
  const p = new Parameters(dialect);
  const values = rows.map((row) => `(${row.map((value) => p.add(value)).join(", ")})`).join(", ");
  return {
    text: `INSERT INTO ${q(table)} (${columns.map((column) => q(column)).join(", ")}) VALUES ${values}`,
    parameters: p.values,
  };
}
