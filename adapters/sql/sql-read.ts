/**
 * Latest-value reads: tags grouped by table (or by named query and parameters) so each group costs one statement.
 * A group that fails marks only its own tags bad.
 */
import { type BoundTag, badSample, type Sample, TimeoutError } from "../../src/index.js";
import { type NarrowTableMapping, type SqlAddress, tagQualityColumnOf, type WideTableMapping } from "./sql-config.js";
import type { SqlConnection, SqlRow, SqlTimeType } from "./sql-dialect.js";
import { type TagResolver, tablesFor, tagIds } from "./sql-historian.js";
import { wideQuality } from "./sql-history-wide.js";
import { type CompiledQuery, queryParameters, queryText } from "./sql-named-query.js";
import { qualityFunction, qualityRuleKey } from "./sql-quality.js";
import { narrowLatest, wideLatest } from "./sql-statements.js";
import { toSample } from "./sql-values.js";

/** What a latest-value read needs. */
export interface ReadContext {
  connection: SqlConnection;
  timeType: SqlTimeType;
  queries: ReadonlyMap<string, CompiledQuery>;
  resolver: TagResolver;
}

interface Entry {
  index: number;
  tag: BoundTag<SqlAddress>;
}

/** Narrow groups are split so one UNION ALL statement stays small. */
const tagsPerStatement = 100;

function groupKey(address: SqlAddress): string {
  if (address.kind === "query") return `query:${address.query}:${JSON.stringify(address.parameters)}`;
  const rule = qualityRuleKey(address.mapping.quality);
  return `${address.kind}:${JSON.stringify(address.mapping)}:${rule}`;
}

async function readGroup(context: ReadContext, entries: readonly Entry[], samples: Sample[]): Promise<void> {
  const first = (entries[0] as Entry).tag.address;
  const received = Date.now();
  const { connection } = context;
  if (first.kind === "narrow") {
    const mapping: NarrowTableMapping = first.mapping;
    const timeType = mapping.timeType ?? context.timeType;
    const qualityOf = qualityFunction(mapping.quality);
    const ids = await tagIds(
      connection,
      context.resolver,
      mapping,
      entries.map((entry) => (entry.tag.address as { tag: string | number }).tag),
    );
    // Newest partition first: a tag found there is done, one not found is looked for in older ones.
    const tables = (await tablesFor(connection, mapping)).reverse();
    const latest = new Map<string, SqlRow>();
    for (const table of tables) {
      const wanted = [...ids].filter(([key]) => !latest.has(key));
      const queried = [...new Set(wanted.flatMap(([, found]) => found))];
      if (queried.length === 0) break;
      const byId = new Map<string, SqlRow>();
      for (let start = 0; start < queried.length; start += tagsPerStatement) {
        const chunk = queried.slice(start, start + tagsPerStatement);
        const statement = narrowLatest(connection.dialect, { ...mapping, table }, timeType, chunk);
        for (const row of await connection.run(statement.text, statement.parameters)) byId.set(String(row.pw_tag), row);
      }
      for (const [key, found] of wanted) {
        // A path with retired ids: the newest row of any of them.
        const rows = found.map((id) => byId.get(String(id))).filter((row): row is SqlRow => row !== undefined);
        const newest = rows.sort((a, b) => Number(b.pw_time) - Number(a.pw_time))[0];
        if (newest) latest.set(key, newest);
      }
    }
    for (const entry of entries) {
      const tag = (entry.tag.address as { tag: string | number }).tag;
      const row = latest.get(String(tag));
      samples[entry.index] = row
        ? toSample(entry.tag, row.pw_value, Number(row.pw_time), qualityOf(row.pw_quality), received)
        : (ids.get(String(tag)) ?? []).length === 0
          ? badSample(
              "config-error",
              `tag "${entry.tag.name}": no path ${JSON.stringify(tag)} in ${mapping.tagTable?.table}. Fix: use the path as the tag table spells it`,
              received,
            )
          : badSample("not-read-yet", `tag "${entry.tag.name}": no row in ${mapping.table} yet`, received);
    }
    return;
  }
  if (first.kind === "wide") {
    const mapping: WideTableMapping = first.mapping;
    const columns = entries.map((entry) => {
      const column = (entry.tag.address as { column: string }).column;
      return { column, qualityColumn: tagQualityColumnOf(mapping, column) };
    });
    const qualityOf = qualityFunction(mapping.quality);
    const timeType = mapping.timeType ?? context.timeType;
    // The newest partition with a row holds the latest one (a new month's table may still be empty).
    let row: SqlRow | undefined;
    for (const table of (await tablesFor(connection, mapping)).reverse()) {
      const statement = wideLatest(connection.dialect, { ...mapping, table }, timeType, columns);
      [row] = await connection.run(statement.text, statement.parameters);
      if (row) break;
    }
    entries.forEach((entry, position) => {
      const quality = row ? wideQuality(mapping, qualityOf, row.pw_quality, row[`pw_q${position}`]) : "bad";
      samples[entry.index] = row
        ? toSample(entry.tag, row[`pw_${position}`], Number(row.pw_time), quality, received)
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
