/**
 * Reading a historian as it stands: tag paths resolved to ids through its tag table, and rows (narrow or wide) split
 * across partition tables (monthly tables by name, or a partition index table) found per read, so a new month's table is seen.
 */
import { ValidationError } from "../../src/index.js";
import type { NarrowTableMapping, PartitionMapping, TagTableMapping } from "./sql-config.js";
import { isIdentifier, type SqlConnection } from "./sql-dialect.js";

/** One table holding part of a narrow table's rows, and the span it covers (unknown spans cover everything). */
export interface PartitionTable {
  readonly table: string;
  readonly start: number;
  readonly end: number;
}

/** Resolves tag paths to ids through tag tables, remembering what it found until the adapter reconnects. */
export class TagResolver {
  readonly #ids = new Map<string, readonly (string | number)[]>();

  #key(tagTable: TagTableMapping, path: string | number): string {
    return `${tagTable.table}\u0000${tagTable.pathColumn}\u0000${tagTable.idColumn}\u0000${String(path)}`;
  }

  /** Forgets every resolution (on reconnect, when tags may have been edited). */
  clear(): void {
    this.#ids.clear();
  }

  /** Looks up the paths not yet resolved, in one statement per tag table. Paths with no row resolve to no ids. */
  async resolve(
    connection: SqlConnection,
    tagTable: TagTableMapping,
    paths: readonly (string | number)[],
  ): Promise<void> {
    const missing = [...new Set(paths.map(String))].filter((path) => !this.#ids.has(this.#key(tagTable, path)));
    if (missing.length === 0) return;
    const q = connection.dialect.quote;
    const found = new Map<string, (string | number)[]>(missing.map((path) => [path, []]));
    for (let start = 0; start < missing.length; start += 500) {
      const chunk = missing.slice(start, start + 500);
      const list = chunk.map((_, index) => connection.dialect.placeholder(index + 1)).join(", ");
      const rows = await connection.run(
        `SELECT ${q(tagTable.pathColumn)} AS pw_path, ${q(tagTable.idColumn)} AS pw_id FROM ${q(tagTable.table)} WHERE ${q(tagTable.pathColumn)} IN (${list})`,
        chunk,
      );
      for (const row of rows) {
        const id = typeof row.pw_id === "bigint" ? Number(row.pw_id) : (row.pw_id as string | number);
        found.get(String(row.pw_path))?.push(id);
      }
    }
    for (const [path, ids] of found) this.#ids.set(this.#key(tagTable, path), Object.freeze(ids));
  }

  /** The ids of a path (every id it has had), or undefined when not resolved yet. */
  idsOf(tagTable: TagTableMapping, path: string | number): readonly (string | number)[] | undefined {
    return this.#ids.get(this.#key(tagTable, path));
  }
}

/**
 * The ids to query for each tag of a mapping: the tag itself without a tag table, else the resolved ids (resolving
 * what is missing first). Keys are the tags as given, as text.
 */
export async function tagIds(
  connection: SqlConnection,
  resolver: TagResolver,
  mapping: NarrowTableMapping,
  tags: readonly (string | number)[],
): Promise<Map<string, readonly (string | number)[]>> {
  const { tagTable } = mapping;
  if (!tagTable) return new Map(tags.map((tag) => [String(tag), [tag]]));
  await resolver.resolve(connection, tagTable, tags);
  return new Map(tags.map((tag) => [String(tag), resolver.idsOf(tagTable, tag) ?? []]));
}

function monthlyPattern(pattern: string): RegExp {
  const escaped = pattern.replace(/[.]/g, "\\.");
  return new RegExp(`^${escaped.replace("{yyyy}", "(\\d{4})").replace("{mm}", "(\\d{2})")}$`, "i");
}

async function listTables(connection: SqlConnection, schema: string | undefined): Promise<string[]> {
  const dialect = connection.dialect.name;
  const rows =
    dialect === "sqlite"
      ? await connection.run("SELECT name AS pw_name FROM sqlite_master WHERE type = 'table'", [])
      : dialect === "postgres"
        ? await connection.run(
            `SELECT table_name AS pw_name FROM information_schema.tables WHERE table_schema = ${schema ? "$1" : "current_schema()"}`,
            schema ? [schema] : [],
          )
        : await connection.run(
            `SELECT table_name AS pw_name FROM information_schema.tables WHERE table_schema = ${schema ? "?" : "DATABASE()"}`,
            schema ? [schema] : [],
          );
  return rows.map((row) => String(row.pw_name ?? (row as Record<string, unknown>).PW_NAME));
}

/**
 * The partition tables of a mapping, oldest first: the monthly tables that exist, or the index table's rows. A name
 * from the index table that is not a plain identifier is refused (it would be spliced into SQL as a table name).
 */
export async function partitionTables(
  connection: SqlConnection,
  partitions: PartitionMapping,
): Promise<PartitionTable[]> {
  if ("tables" in partitions) {
    const [schema, name] = partitions.tables.includes(".")
      ? (partitions.tables.split(".") as [string, string])
      : [undefined, partitions.tables];
    const pattern = monthlyPattern(name);
    const found: PartitionTable[] = [];
    for (const table of await listTables(connection, schema)) {
      const match = pattern.exec(table);
      if (!match) continue;
      const year = Number(match[1]);
      const month = Number(match[2]);
      if (month < 1 || month > 12) continue;
      const qualified = schema ? `${schema}.${table}` : table;
      found.push({ table: qualified, start: Date.UTC(year, month - 1, 1), end: Date.UTC(year, month, 1) });
    }
    return found.sort((a, b) => a.start - b.start);
  }
  const q = connection.dialect.quote;
  const timeType = partitions.timeType ?? "epochMilliseconds";
  const epoch = (column: string) => connection.dialect.epochMilliseconds(q(column), timeType);
  const rows = await connection.run(
    `SELECT ${q(partitions.nameColumn)} AS pw_name, ${epoch(partitions.startColumn)} AS pw_start, ${epoch(partitions.endColumn)} AS pw_end FROM ${q(partitions.indexTable)}`,
    [],
  );
  return rows
    .map((row) => {
      const table = String(row.pw_name);
      if (!isIdentifier(table, true)) {
        throw new ValidationError(
          `partition index ${partitions.indexTable} names "${table.slice(0, 80)}", not a plain table name. Fix: correct the index row`,
          { field: "partitions" },
        );
      }
      const start = row.pw_start === null ? Number.NEGATIVE_INFINITY : Number(row.pw_start);
      const end = row.pw_end === null ? Number.POSITIVE_INFINITY : Number(row.pw_end);
      return { table, start, end };
    })
    .sort((a, b) => a.start - b.start);
}

/** The tables to read for [from, to): the partitions overlapping it, or the mapping's own table (narrow or wide). */
export async function tablesFor(
  connection: SqlConnection,
  mapping: { readonly table: string; readonly partitions?: PartitionMapping | undefined },
  from = Number.NEGATIVE_INFINITY,
  to = Number.POSITIVE_INFINITY,
): Promise<string[]> {
  if (!mapping.partitions) return [mapping.table];
  const all = await partitionTables(connection, mapping.partitions);
  return all.filter((partition) => partition.start < to && partition.end > from).map((partition) => partition.table);
}
