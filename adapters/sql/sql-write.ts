/**
 * What a tag write means in SQL: a narrow historian tag is written by inserting one new sample row (tag, time,
 * value), which the next read returns as the latest value. Wide columns and named-query tags are read-only.
 * Writes are single attempts; the outcome is "unknown" when the statement may have reached the database.
 */
import { type BoundTag, TimeoutError, UnsupportedError, type WriteResult } from "../../src/index.js";
import type { SqlAddress } from "./sql-config.js";
import type { SqlConnection, SqlTimeType } from "./sql-dialect.js";
import { isConnectionFailure } from "./sql-errors.js";
import { insertStatement } from "./sql-statements.js";
import { fromTagValue, type SqlValue } from "./sql-values.js";

/** What a write needs. */
export interface WriteContext {
  connection: SqlConnection;
  adapterName: string;
  /** The adapter's default time type. */
  timeType: SqlTimeType;
  /** The sample's time (ms since the epoch). */
  time: number;
}

/** Inserts one sample row for a narrow historian tag. Never throws: every failure is a WriteResult. */
export async function writeSample(
  context: WriteContext,
  tag: BoundTag<SqlAddress>,
  value: unknown,
): Promise<WriteResult> {
  const address = tag.address;
  if (address.kind !== "narrow") {
    const what = address.kind === "wide" ? "a wide-table column" : "a named-query column";
    const error = new UnsupportedError(
      `sql adapter "${context.adapterName}": tag "${tag.name}" is ${what}; only narrow historian tags are written (as a new sample row)`,
    );
    return { outcome: "failed", error, time: Date.now() };
  }
  if (address.mapping.tagTable || address.mapping.partitions) {
    // The row's table and id would be guesses (which partition, which of a path's ids): a site's historian is read.
    const error = new UnsupportedError(
      `sql adapter "${context.adapterName}": tag "${tag.name}" reads a historian through its tag table or partitions; such tags are read-only. Fix: write through a plain narrow table`,
    );
    return { outcome: "failed", error, time: Date.now() };
  }
  let stored: SqlValue;
  try {
    stored = fromTagValue(tag, value);
  } catch (error) {
    return { outcome: "failed", error: error as Error, time: Date.now() };
  }
  const { connection } = context;
  const { table, tagColumn, timeColumn, valueColumn } = address.mapping;
  const time = connection.dialect.timeParameter(context.time, address.mapping.timeType ?? context.timeType);
  const statement = insertStatement(
    connection.dialect,
    table,
    [tagColumn, timeColumn, valueColumn],
    [[address.tag, time, stored]],
  );
  try {
    await connection.run(statement.text, statement.parameters);
    return { outcome: "written", time: Date.now() };
  } catch (error) {
    const code = (error as { cause?: { code?: string } }).cause?.code;
    const neverSent = code === "ECONNREFUSED" || code === "ENOTFOUND";
    const unknown = TimeoutError.isInstance(error) || (isConnectionFailure(error) && !neverSent);
    return { outcome: unknown ? "unknown" : "failed", error: error as Error, time: Date.now() };
  }
}
