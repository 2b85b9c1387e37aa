/**
 * Settings of the SQL adapter and the addresses of SQL tags. Tables are mapped by table and column names, never by
 * SQL text; every name is checked against a strict identifier pattern and quoted per dialect.
 */
import type { z } from "zod";
import { ConfigError, type ConfigIssue } from "../../src/index.js";
import { lazyZod } from "../../src/lazy-zod.js";
import type { Logger } from "../../src/logger.js";
import { isIdentifier, type SqlDialectName, type SqlTimeType } from "./sql-dialect.js";
import type { MysqlClientShape } from "./sql-dialect-mysql.js";
import type { PostgresClientShape } from "./sql-dialect-postgres.js";
import type { SqliteDatabaseShape } from "./sql-dialect-sqlite.js";
import type { InsertTemplate, NamedQueryDefinition } from "./sql-named-query.js";
import type { QualityRule } from "./sql-quality.js";

/** A client plantwire can use: a better-sqlite3 Database, a pg Pool/Client or a mysql2/promise Pool. */
export type SqlClient = SqliteDatabaseShape | PostgresClientShape | MysqlClientShape;

/** Options of {@link sql}. */
export interface SqlOptions<
  TQueries extends Record<string, NamedQueryDefinition> = Record<string, NamedQueryDefinition>,
  TTemplates extends Record<string, InsertTemplate> = Record<string, InsertTemplate>,
> {
  /**
   * Where the database is: `sqlite:./plant.db`, `sqlite::memory:`, `postgres://user@host/db`, `mysql://user@host/db`
   * (also `postgresql://`, `mariadb://`). Omit it when passing `client`.
   */
  url?: string;
  /** The dialect of `client` (taken from `url` otherwise). */
  dialect?: SqlDialectName;
  /** An existing client or pool to use instead of opening one; plantwire never closes it. */
  client?: SqlClient;
  /** Separate credentials for writes (tag writes and sinks), e.g. a role that may only INSERT. @default url */
  writeUrl?: string;
  /** An existing client or pool for writes. @default client */
  writeClient?: SqlClient;
  /** Adapter name, used in errors, status and tag-map files. @default "sql" */
  name?: string;
  /** Connections per pool (PostgreSQL, MariaDB). @default 4 */
  poolSize?: number;
  /**
   * Longest run of one statement, enforced by the server where plantwire opens the pool (PostgreSQL
   * `statement_timeout`, MariaDB `max_statement_time`, MySQL `max_execution_time`), plus a client-side deadline.
   * On SQLite it is the busy timeout. Always set. @default 10000
   */
  statementTimeoutMs?: number;
  /** Most rows one query may return; a query that would return more fails with a ValidationError. @default 100000 */
  rowCap?: number;
  /** How time columns store instants, unless a mapping says otherwise. @default "epochMilliseconds" on SQLite, else "timestamp" */
  timeType?: SqlTimeType;
  /** Named, parameterised queries: the only SQL text plantwire runs that it did not write itself. */
  queries?: TQueries;
  /** Named insert templates for sinks: a table and its columns. */
  templates?: TTemplates;
  /**
   * Where this adapter logs: connections at debug, failed background sink flushes at error. Any object with
   * debug/info/warn/error (console, pino, winston). @default the plant's logger, else PLANTWIRE_LOG on stderr
   */
  logger?: Logger;
}

/** A narrow historian table: one row per sample, with the tag's name in a column. */
export interface NarrowTableMapping {
  readonly table: string;
  readonly tagColumn: string;
  readonly timeColumn: string;
  readonly valueColumn: string;
  /** A quality column, read through `quality` (by default as an OPC DA quality byte; NULL counts as good). */
  readonly qualityColumn?: string;
  /**
   * How the quality column's values map to good / uncertain / bad: `{ good: [192] }` (everything else bad), ranges
   * `{ good: [{ from: 192, to: 219 }], uncertain: [{ from: 64, to: 127 }] }`, words, or a function.
   * @default OPC DA quality bytes: 192–255 good, 64–127 uncertain, anything else (codes above 255 too) bad
   */
  readonly quality?: QualityRule;
  /**
   * The historian's tag table: tags are then given by path (`db.narrow(mapping, "site/pump7/speed")`) and resolved
   * to every id that path has had (retired ids included) at connect; `tagColumn` holds those ids.
   */
  readonly tagTable?: TagTableMapping;
  /** Data split across tables: monthly tables by name pattern, or a partition index table. */
  readonly partitions?: PartitionMapping;
  /** @default the adapter's timeType */
  readonly timeType?: SqlTimeType;
}

/** A historian's tag table: one row per (path, id), old ids of an edited tag kept as retired rows. */
export interface TagTableMapping {
  readonly table: string;
  readonly idColumn: string;
  readonly pathColumn: string;
}

/**
 * Where the rows of a partitioned narrow table live. `tables` names monthly tables with `{yyyy}` and `{mm}` (UTC),
 * e.g. `"hist_{yyyy}_{mm}"`; only the tables that exist are read. `indexTable` names a table listing partitions with
 * their table name and time span (like Ignition's sqlth_partitions); its times use `timeType`.
 */
export type PartitionMapping =
  | { readonly tables: string }
  | {
      readonly indexTable: string;
      readonly nameColumn: string;
      readonly startColumn: string;
      readonly endColumn: string;
      /** @default "epochMilliseconds" */
      readonly timeType?: SqlTimeType;
    };

/**
 * A wide table: one row per instant, one column per tag (a transaction group, a logger's table). Its quality, when it
 * keeps one, is a column for the whole row (`qualityColumn`, e.g. a group's `quality_code`), a column per tag named
 * from the tag's column (`tagQualityColumn: "{column}_q"` reads `speed`'s quality from `speed_q`), or both (the worse
 * one wins). A NULL cell is a bad sample.
 */
export interface WideTableMapping {
  readonly table: string;
  readonly timeColumn: string;
  /** One quality column for the whole row, read through `quality`. */
  readonly qualityColumn?: string;
  /** A quality column per tag: a name with `{column}`, e.g. `"{column}_q"` or `"q_{column}"`. */
  readonly tagQualityColumn?: string;
  /** How quality codes map to good / uncertain / bad, as for narrow tables. @default OPC DA quality bytes */
  readonly quality?: QualityRule;
  /** Rows split across tables: monthly tables by name pattern, or a partition index table. */
  readonly partitions?: PartitionMapping;
  /** @default the adapter's timeType */
  readonly timeType?: SqlTimeType;
}

/** The name of a wide tag's own quality column, or undefined when the mapping has none. */
export function tagQualityColumnOf(mapping: WideTableMapping, column: string): string | undefined {
  return mapping.tagQualityColumn?.replace("{column}", column);
}

/** Where a SQL tag's value lives. */
export type SqlAddress =
  | { readonly kind: "narrow"; readonly mapping: NarrowTableMapping; readonly tag: string | number }
  | { readonly kind: "wide"; readonly mapping: WideTableMapping; readonly column: string }
  | {
      readonly kind: "query";
      readonly query: string;
      readonly parameters: Readonly<Record<string, unknown>>;
      readonly column: string;
    };

function buildSchemas() {
  const z = lazyZod().z;
  const identifier = (allowSchema = false) =>
    z.string().refine((name) => isIdentifier(name, allowSchema), {
      message: "not a plain SQL identifier",
      params: { fix: "use letters, digits and underscores only (an optional schema prefix for tables), at most 63" },
    });
  const timeType = z.enum(["timestamp", "epochMilliseconds", "epochSeconds"]);
  const quality = z.enum(["good", "uncertain", "bad"]);
  const match = z.union([z.number(), z.string(), z.strictObject({ from: z.number(), to: z.number() })]);
  const qualityRule = z.union([
    z.custom<(raw: unknown) => "good" | "uncertain" | "bad">((value) => typeof value === "function", {
      message: "not a quality rule",
    }),
    z.strictObject({
      good: z.array(match).optional(),
      uncertain: z.array(match).optional(),
      otherwise: quality.optional(),
      null: quality.optional(),
    }),
  ]);
  const partitions = z.union([
    z.strictObject({
      tables: z
        .string()
        .refine(
          (text) =>
            /\{yyyy\}/.test(text) && /\{mm\}/.test(text) && isIdentifier(text.replace(/\{(yyyy|mm)\}/g, "0"), true),
          {
            message: "not a monthly table pattern",
            params: { fix: 'write a table name with {yyyy} and {mm}, e.g. "hist_{yyyy}_{mm}"' },
          },
        ),
    }),
    z.strictObject({
      indexTable: identifier(true),
      nameColumn: identifier(),
      startColumn: identifier(),
      endColumn: identifier(),
      timeType: timeType.optional(),
    }),
  ]);
  const narrow = z.strictObject({
    table: identifier(true),
    tagColumn: identifier(),
    timeColumn: identifier(),
    valueColumn: identifier(),
    qualityColumn: identifier().optional(),
    quality: qualityRule.optional(),
    tagTable: z.strictObject({ table: identifier(true), idColumn: identifier(), pathColumn: identifier() }).optional(),
    partitions: partitions.optional(),
    timeType: timeType.optional(),
  });
  const wide = z.strictObject({
    table: identifier(true),
    timeColumn: identifier(),
    qualityColumn: identifier().optional(),
    tagQualityColumn: z
      .string()
      .refine((text) => text.includes("{column}") && isIdentifier(text.replace("{column}", "c")), {
        message: "not a quality column pattern",
        params: { fix: 'write a column name with {column} in it, e.g. "{column}_q"' },
      })
      .optional(),
    quality: qualityRule.optional(),
    partitions: partitions.optional(),
    timeType: timeType.optional(),
  });
  const source = z.union([
    // A historian's tag ids are often numbers; YAML gives them as numbers, accepted as written.
    z.strictObject({ narrow, tag: z.union([z.string().min(1).max(200), z.number().int().safe()]) }),
    z.strictObject({ wide, column: identifier() }),
    z.strictObject({
      query: z.string().min(1),
      parameters: z.record(z.string(), z.unknown()).optional(),
      column: z.string().min(1),
    }),
  ]);
  return { narrow, wide, source };
}

let schemas: ReturnType<typeof buildSchemas> | undefined;

/**
 * The zod schemas of mappings and of a `source:` entry in a tag-map file (minus `adapter`). Built on first use, so
 * importing `plantwire/sql` does not load zod.
 */
export function sqlSchemas(): ReturnType<typeof buildSchemas> {
  schemas ??= buildSchemas();
  return schemas;
}

function issuesOf(error: z.ZodError, prefix = ""): ConfigIssue[] {
  return error.issues.map((issue) => {
    const path = [prefix, ...issue.path.map(String)].filter(Boolean).join(".");
    const fix = (issue as { params?: { fix?: string } }).params?.fix;
    return {
      path,
      message: issue.message,
      fix:
        fix ??
        "write { narrow: { table, tagColumn, timeColumn, valueColumn }, tag }, { wide: { table, timeColumn }, column } or { query, parameters, column }",
    };
  });
}

/** Validates a value against a schema, throwing a ConfigError whose paths start at `prefix`. */
export function parseOrThrow<T>(schema: z.ZodType<T>, value: unknown, prefix = ""): T {
  const result = schema.safeParse(value);
  if (!result.success) throw new ConfigError(issuesOf(result.error, prefix));
  return result.data;
}

/** What a URL says: the dialect and what to open. */
export interface ParsedSqlUrl {
  dialect: SqlDialectName;
  /** The file for SQLite, the URL itself otherwise. */
  target: string;
}

/** Reads the dialect from a URL; throws a ConfigError naming the accepted forms. */
export function parseSqlUrl(url: string, field = "url"): ParsedSqlUrl {
  const scheme = /^([a-z0-9+]+):/i.exec(url)?.[1]?.toLowerCase();
  if (scheme === "sqlite" || scheme === "file") {
    const file = url.slice(scheme.length + 1).replace(/^\/\//, "");
    return { dialect: "sqlite", target: file.length > 0 ? file : ":memory:" };
  }
  if (scheme === "postgres" || scheme === "postgresql") return { dialect: "postgres", target: url };
  if (scheme === "mysql" || scheme === "mariadb") {
    return { dialect: "mysql", target: scheme === "mariadb" ? `mysql${url.slice("mariadb".length)}` : url };
  }
  throw new ConfigError([
    {
      path: field,
      message: `unsupported database URL scheme "${scheme ?? url}"`,
      fix: "use sqlite:./plant.db, sqlite::memory:, postgres://user@host:5432/db or mysql://user@host:3306/db",
    },
  ]);
}
