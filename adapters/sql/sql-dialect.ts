/**
 * The one small internal interface every SQL driver module implements (sql-dialect-sqlite.ts, sql-dialect-postgres.ts,
 * sql-dialect-mysql.ts). Everything above it (reads, buckets, sinks, the schema helper) speaks only to this, so a
 * dialect is: how to run a statement with parameters, how to run a transaction, and a few SQL spellings.
 */

/** The SQL dialects plantwire speaks. MariaDB and MySQL share "mysql". */
export type SqlDialectName = "sqlite" | "postgres" | "mysql";

/** How a time column stores instants. */
export type SqlTimeType = "timestamp" | "epochMilliseconds" | "epochSeconds";

/** A row as the driver returns it. */
export type SqlRow = Record<string, unknown>;

/** Runs one statement: SQL text with the dialect's placeholders, and its parameters (never spliced into the text). */
export type SqlExecutor = (sql: string, parameters: readonly unknown[]) => Promise<SqlRow[]>;

/** What a server dialect (PostgreSQL, MariaDB) needs to open its pool, or to wrap a client passed in. */
export interface ServerConnectionOptions<TClient> {
  url?: string;
  client?: TClient;
  poolSize: number;
  timeoutMs: number;
  adapterName: string;
}

/** A live connection (or pool) to one database, behind the dialect's spelling. */
export interface SqlConnection {
  readonly dialect: SqlDialect;
  /** Runs one statement outside a transaction. Rejects with a TimeoutError when the statement timeout cuts it. */
  run: SqlExecutor;
  /** Runs `work` inside one transaction on one connection: committed if it resolves, rolled back if it rejects. */
  transaction<T>(work: (run: SqlExecutor) => Promise<T>): Promise<T>;
  /** Closes what plantwire opened (a client passed in by the caller is left open). */
  close(): Promise<void>;
  /** The raw driver object (a better-sqlite3 Database, a pg Pool, a mysql2 pool). */
  readonly instance: unknown;
}

/** How one dialect spells the parts of SQL that differ. */
export interface SqlDialect {
  readonly name: SqlDialectName;
  /** The placeholder of the parameter at 1-based `position`: `?` or `$1`. */
  placeholder(position: number): string;
  /** Quotes an identifier that already passed {@link assertIdentifier}. */
  quote(identifier: string): string;
  /** An SQL expression giving a time column as epoch milliseconds (a float). */
  epochMilliseconds(column: string, timeType: SqlTimeType): string;
  /** An SQL expression of floor(x) as a number. */
  floor(expression: string): string;
  /** A placeholder cast to a double, so arithmetic with it is typed on every dialect. */
  numberParameter(position: number): string;
  /** Converts epoch milliseconds to the parameter value a column of `timeType` compares with. */
  timeParameter(epochMs: number, timeType: SqlTimeType): unknown;
}

const identifierPattern = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

/**
 * True when `name` is a safe SQL identifier: letters, digits and underscores, not starting with a digit, at most 63
 * characters (PostgreSQL's limit). An optional schema prefix (`schema.table`) is allowed for tables.
 */
export function isIdentifier(name: string, allowSchema = false): boolean {
  const parts = allowSchema ? name.split(".") : [name];
  return parts.length <= 2 && parts.every((part) => identifierPattern.test(part));
}

/** Quotes a validated identifier (with optional schema prefix) with the dialect's quote character. */
export function quoteWith(character: string, name: string): string {
  return name
    .split(".")
    .map((part) => `${character}${part}${character}`)
    .join(".");
}

/** Maps a time to the driver value for a column of `timeType` (Date for timestamps, numbers for epochs). */
export function epochToParameter(epochMs: number, timeType: SqlTimeType): unknown {
  if (timeType === "epochMilliseconds") return epochMs;
  if (timeType === "epochSeconds") return epochMs / 1000;
  return new Date(epochMs);
}
