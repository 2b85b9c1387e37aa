/** The public shape of the SQL adapter: the adapter contract plus source builders, history, queries and sinks. */
import type { z } from "zod";
import type {
  Adapter,
  BoundTag,
  OutputChannel,
  TagDefinitions,
  TagSource,
  Window,
  WriteResult,
} from "../../src/index.js";
import type { NarrowTableMapping, SqlAddress, WideTableMapping } from "./sql-config.js";
import type { SqlDialectName } from "./sql-dialect.js";
import type { HistoryOptions } from "./sql-history.js";
import type { InsertTemplate, NamedQueryDefinition } from "./sql-named-query.js";
import type { SinkRow, SqlSink, SqlSinkOptions } from "./sql-sink.js";
import type { SqlValue } from "./sql-values.js";

/** A query's result row type. */
export type RowOf<TQuery> = TQuery extends NamedQueryDefinition<z.ZodType, infer TColumns> ? z.output<TColumns> : never;
/** A query's parameter type. */
export type ParametersOf<TQuery> =
  TQuery extends NamedQueryDefinition<infer TParameters, z.ZodType> ? z.input<TParameters> : never;
/** A template's column names. */
export type ColumnsOf<TTemplate> = TTemplate extends { readonly columns: readonly (infer TColumn extends string)[] }
  ? TColumn
  : string;

/** A named query as a model may be shown it: name, description and the JSON schema of its parameters. */
export interface QueryDescription {
  name: string;
  description: string | undefined;
  parameters: unknown;
}

/** The SQL adapter: the adapter contract plus source builders, history, named queries and sinks. */
export interface SqlAdapter<
  TQueries extends Record<string, NamedQueryDefinition> = Record<string, NamedQueryDefinition>,
  TTemplates extends Record<string, InsertTemplate> = Record<string, InsertTemplate>,
> extends Adapter<SqlAddress> {
  /** The dialect spoken: "sqlite", "postgres" or "mysql" (MariaDB and MySQL). */
  readonly dialect: SqlDialectName;
  /** Writes a narrow historian tag as a new sample row, once. Other tags answer "failed" (UnsupportedError). */
  write(tag: BoundTag<SqlAddress>, value: unknown): Promise<WriteResult>;
  /** Builds a source from a tag-map entry: `{ narrow: {...}, tag }`, `{ wide: {...}, column }` or `{ query, parameters, column }`. */
  parseSource(raw: Readonly<Record<string, unknown>>): TagSource<SqlAddress>;
  /**
   * A tag in a narrow historian table, e.g. `db.narrow(samples, "pump7.speed")` or by numeric id `db.narrow(samples, 42)`
   * (or by path when the mapping names a `tagTable`). Writes insert a sample row.
   */
  narrow(mapping: NarrowTableMapping, tag: string | number): TagSource<SqlAddress>;
  /**
   * A column of a wide table, e.g. `db.wide({ table: "line1", timeColumn: "ts" }, "speed")`; its quality comes from the
   * mapping's row and per-tag quality columns when it names them, its rows from partitions when given. Read-only.
   */
  wide(mapping: WideTableMapping, column: string): TagSource<SqlAddress>;
  /** A column of the first row of a named query run with fixed parameters. Read-only. */
  fromQuery<K extends keyof TQueries & string>(
    name: K,
    parameters: ParametersOf<TQueries[K]>,
    column: string,
  ): TagSource<SqlAddress>;
  /** A window of these tags between `from` (inclusive) and `to` (exclusive), downsampled in SQL when bucketed. */
  history<TTags extends TagDefinitions>(
    tags: TTags,
    from: number | Date,
    to: number | Date,
    options?: HistoryOptions,
  ): Promise<Window<TTags>>;
  /** Runs a named query with zod-validated parameters; rows are validated by its columns schema. */
  query<K extends keyof TQueries & string>(
    name: K,
    parameters: ParametersOf<TQueries[K]>,
  ): Promise<RowOf<TQueries[K]>[]>;
  /** The named queries, for a model to choose from (names, descriptions, JSON schemas of parameters). */
  describeQueries(): QueryDescription[];
  /**
   * Inserts rows through a template in one transaction: all rows or none. Refuses (ConfigError, nothing written) a
   * template whose table backs a writable tag source of this adapter: such a row is a tag write, for the guard. Only
   * this adapter's tag tables are known; another adapter on the same database is no barrier (database grants are).
   */
  insert<K extends keyof TTemplates & string>(
    template: K,
    rows: readonly SinkRow<ColumnsOf<TTemplates[K]>>[],
  ): Promise<void>;
  /** A batching writer for a template. Refuses a writable tag's table as `insert` does (at creation and per batch). */
  sink<K extends keyof TTemplates & string>(template: K, options?: SqlSinkOptions): SqlSink<ColumnsOf<TTemplates[K]>>;
  /**
   * A row output for the write guard: model-produced rows for this template are inserted only through
   * `guard.send()`, one committed row per send. Throws a ConfigError for a writable tag's table.
   */
  rowOutput<K extends keyof TTemplates & string>(template: K): OutputChannel<Record<string, SqlValue>>;
}
