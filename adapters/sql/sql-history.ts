/**
 * `history(tags, from, to, { bucket, aggregate })`: windows read from historian tables with the downsampling done in
 * SQL, so a year of history never travels raw. Without a bucket it returns raw rows, up to the row cap.
 */
import {
  type Adapter,
  type Sample,
  type TagDefinitions,
  UnsupportedError,
  ValidationError,
  Window,
} from "../../src/index.js";
import type { NarrowTableMapping, SqlAddress, WideTableMapping } from "./sql-config.js";
import type { SqlConnection, SqlTimeType } from "./sql-dialect.js";
import type { TagResolver } from "./sql-historian.js";
import { readNarrowHistory } from "./sql-history-narrow.js";
import { readWideHistory } from "./sql-history-wide.js";
import { qualityRuleKey } from "./sql-quality.js";
import type { SqlAggregate } from "./sql-statements.js";

/** Options of `history()`. */
export interface HistoryOptions {
  /** Bucket width: milliseconds or text like "30s", "5m", "1h", "1d". Omit for raw rows (up to the row cap). */
  bucket?: number | string;
  /** What each bucket holds. @default "avg" for numeric tags */
  aggregate?: SqlAggregate;
}

/** What history needs from the adapter. */
export interface HistoryContext {
  adapter: Adapter<SqlAddress>;
  connection: SqlConnection;
  rowCap: number;
  timeType: SqlTimeType;
  resolver: TagResolver;
}

const units: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const aggregates: readonly SqlAggregate[] = ["avg", "min", "max", "last", "count"];

/** A bucket width in milliseconds from a number or text like "5m". */
export function bucketMilliseconds(bucket: number | string): number {
  const match = typeof bucket === "string" ? /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)$/.exec(bucket.trim()) : undefined;
  const value = typeof bucket === "number" ? bucket : match ? Number(match[1]) * (units[match[2] as string] ?? 0) : 0;
  if (!Number.isFinite(value) || value < 1) {
    throw new ValidationError(
      `history: bucket ${JSON.stringify(bucket)} is not a width. Fix: give ms or "30s", "5m", "1h"`,
      {
        field: "bucket",
      },
    );
  }
  return Math.round(value);
}

function toEpoch(time: number | Date, field: string): number {
  const value = typeof time === "number" ? time : time.getTime();
  if (!Number.isFinite(value)) throw new ValidationError(`history: ${field} is not a time`, { field });
  return value;
}

interface Member {
  name: string;
  definition: TagDefinitions[string];
  address: SqlAddress;
}

/** Reads a window of the given tags of this adapter between `from` (inclusive) and `to` (exclusive). */
export async function readHistory<TTags extends TagDefinitions>(
  context: HistoryContext,
  tags: TTags,
  fromTime: number | Date,
  toTime: number | Date,
  options: HistoryOptions = {},
): Promise<Window<TTags>> {
  const from = toEpoch(fromTime, "from");
  const to = toEpoch(toTime, "to");
  if (!(from < to)) throw new ValidationError("history: from must be before to", { field: "from" });
  const aggregate = options.aggregate ?? "avg";
  if (!aggregates.includes(aggregate)) {
    throw new ValidationError(`history: aggregate must be one of ${aggregates.join(", ")}`, { field: "aggregate" });
  }
  const bucketMs = options.bucket === undefined ? undefined : bucketMilliseconds(options.bucket);
  const members: Member[] = Object.entries(tags).map(([name, tag]) => {
    if (tag.source.adapter !== context.adapter) {
      throw new ValidationError(`history: tag "${name}" belongs to adapter "${tag.source.adapter.name}"`, {
        field: name,
      });
    }
    const address = tag.source.address as SqlAddress;
    if (address.kind === "query") {
      throw new UnsupportedError(`history: tag "${name}" comes from a named query; only table tags have history`);
    }
    const numeric = tag.type === "float" || tag.type === "integer";
    if (bucketMs !== undefined && !numeric && aggregate !== "last" && aggregate !== "count") {
      throw new ValidationError(`history: "${aggregate}" needs a numeric tag, "${name}" is ${tag.type}`, {
        field: name,
      });
    }
    return { name, definition: tag, address };
  });
  if (bucketMs !== undefined && Math.ceil((to - from) / bucketMs) * members.length > context.rowCap) {
    throw new ValidationError(
      `history: ${Math.ceil((to - from) / bucketMs)} buckets × ${members.length} tags exceed the row cap of ${context.rowCap}. Fix: a larger bucket or a shorter window`,
      { field: "bucket" },
    );
  }
  const range = { from, to, bucketMs, aggregate, rowLimit: context.rowCap + 1 };
  const series = new Map<string, Sample[]>(members.map((member) => [member.name, []]));
  const receivedTime = Date.now();
  const groups = new Map<string, Member[]>();
  for (const member of members) {
    const mapping = (member.address as { mapping: { quality?: never } }).mapping;
    const key = `${member.address.kind}:${JSON.stringify(mapping)}:${qualityRuleKey(mapping.quality)}`;
    groups.set(key, [...(groups.get(key) ?? []), member]);
  }
  const checkCap = (rows: { length: number }) => {
    if (rows.length > context.rowCap) {
      throw new ValidationError(
        `history: more than ${context.rowCap} raw rows in the window. Fix: give a bucket so SQL downsamples, or a shorter window`,
        { field: "bucket" },
      );
    }
  };
  for (const group of groups.values()) {
    const first = group[0] as Member;
    if (first.address.kind === "narrow") {
      const mapping = first.address.mapping as NarrowTableMapping;
      const narrowMembers = group.map((member) => ({
        ...member,
        tag: (member.address as { tag: string | number }).tag,
      }));
      const narrowContext = { ...context, receivedTime };
      checkCap({ length: await readNarrowHistory(narrowContext, mapping, narrowMembers, range, series) });
    } else {
      const mapping = (first.address as { mapping: WideTableMapping }).mapping;
      const wideMembers = group.map((member) => ({
        ...member,
        column: (member.address as { column: string }).column,
      }));
      const wideContext = { ...context, receivedTime };
      checkCap({ length: await readWideHistory(wideContext, mapping, wideMembers, range, series) });
    }
  }
  return new Window(tags, series, from, to);
}
