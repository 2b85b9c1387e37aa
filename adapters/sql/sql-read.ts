/**
 * Latest-value reads: tags grouped by table (or by named query and parameters) so each group costs one statement.
 * A group that fails marks only its own tags bad.
 */
import { type BoundTag, badSample, type Sample, TimeoutError } from "../../src/index.js";
import type { NarrowTableMapping, SqlAddress, WideTableMapping } from "./sql-config.js";
import type { SqlConnection, SqlRow, SqlTimeType } from "./sql-dialect.js";
import { type CompiledQuery, queryParameters, queryText } from "./sql-named-query.js";
import { narrowLatest, wideLatest } from "./sql-statements.js";
import { toQuality, toSample } from "./sql-values.js";

/** What a latest-value read needs. */
export interface ReadContext {
  connection: SqlConnection;
  timeType: SqlTimeType;
  queries: ReadonlyMap<string, CompiledQuery>;
}

interface Entry {
  index: number;
  tag: BoundTag<SqlAddress>;
}

/** Narrow groups are split so one UNION ALL statement stays small. */
const tagsPerStatement = 100;

function groupKey(address: SqlAddress): string {
  if (address.kind === "query") return `query:${address.query}:${JSON.stringify(address.parameters)}`;
  return `${address.kind}:${JSON.stringify(address.mapping)}`;
}

async function readGroup(context: ReadContext, entries: readonly Entry[], samples: Sample[]): Promise<void> {
  const first = (entries[0] as Entry).tag.address;
  const received = Date.now();
  const { connection } = context;
  if (first.kind === "narrow") {
    const mapping: NarrowTableMapping = first.mapping;
    const timeType = mapping.timeType ?? context.timeType;
    for (let start = 0; start < entries.length; start += tagsPerStatement) {
      const chunk = entries.slice(start, start + tagsPerStatement);
      const names = [...new Set(chunk.map((entry) => (entry.tag.address as { tag: string }).tag))];
      const statement = narrowLatest(connection.dialect, mapping, timeType, names);
      const rows = await connection.run(statement.text, statement.parameters);
      const byTag = new Map(rows.map((row) => [String(row.pw_tag), row]));
      for (const entry of chunk) {
        const row = byTag.get((entry.tag.address as { tag: string }).tag);
        samples[entry.index] = row
          ? toSample(entry.tag, row.pw_value, Number(row.pw_time), toQuality(row.pw_quality), received)
          : badSample("not-read-yet", `tag "${entry.tag.name}": no row in ${mapping.table} yet`, received);
      }
    }
    return;
  }
  if (first.kind === "wide") {
    const mapping: WideTableMapping = first.mapping;
    const columns = entries.map((entry) => (entry.tag.address as { column: string }).column);
    const statement = wideLatest(connection.dialect, mapping, mapping.timeType ?? context.timeType, columns);
    const [row] = await connection.run(statement.text, statement.parameters);
    entries.forEach((entry, position) => {
      samples[entry.index] = row
        ? toSample(entry.tag, row[`pw_${position}`], Number(row.pw_time), "good", received)
        : badSample("not-read-yet", `tag "${entry.tag.name}": ${mapping.table} has no rows yet`, received);
    });
    return;
  }
  const compiled = context.queries.get(first.query);
  if (!compiled) {
    for (const entry of entries) {
      samples[entry.index] = badSample("config-error", `named query "${first.query}" is not declared`, received);
    }
    return;
  }
  const text = queryText(compiled, connection.dialect, 1);
  const rows: SqlRow[] = await connection.run(text, queryParameters(compiled, first.parameters));
  const row = rows[0];
  for (const entry of entries) {
    const column = (entry.tag.address as { column: string }).column;
    samples[entry.index] =
      row && column in row
        ? toSample(entry.tag, row[column], undefined, "good", received)
        : badSample(
            "not-read-yet",
            `named query "${first.query}" returned no ${row ? `column ${column}` : "row"}`,
            received,
          );
  }
}

/**
 * Reads the latest sample of every tag, in order. Rejects only when every group failed (nothing could be read);
 * `onGroupError` hears each failure.
 */
export async function readLatest(
  context: ReadContext,
  tags: readonly BoundTag<SqlAddress>[],
  onGroupError: (error: unknown) => void,
): Promise<Sample[]> {
  const groups = new Map<string, Entry[]>();
  tags.forEach((tag, index) => {
    const key = groupKey(tag.address);
    groups.set(key, [...(groups.get(key) ?? []), { index, tag }]);
  });
  const samples: Sample[] = new Array(tags.length);
  const errors: unknown[] = [];
  await Promise.all(
    [...groups.values()].map(async (entries) => {
      try {
        await readGroup(context, entries, samples);
      } catch (error) {
        errors.push(error);
        onGroupError(error);
        const reason = TimeoutError.isInstance(error) ? "timeout" : "comm-failure";
        const detail = error instanceof Error ? error.message : String(error);
        for (const entry of entries) samples[entry.index] = badSample(reason, detail);
      }
    }),
  );
  if (errors.length > 0 && errors.length === groups.size) throw errors[0];
  return samples;
}
