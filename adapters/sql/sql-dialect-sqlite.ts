/**
 * SQLite through better-sqlite3 (loaded on use). better-sqlite3 is synchronous and has no way to interrupt a running
 * statement, so `statementTimeoutMs` becomes SQLite's busy timeout (how long a statement waits for a lock) and long
 * reads are bounded by the row cap and by bucketing instead.
 */
import { loadOptionalDependency } from "../../src/index.js";
import {
  epochToParameter,
  quoteWith,
  type SqlConnection,
  type SqlDialect,
  type SqlExecutor,
  type SqlRow,
  type SqlTimeType,
} from "./sql-dialect.js";
import { toPlantwireError } from "./sql-errors.js";

/** The part of a better-sqlite3 statement plantwire uses. */
export interface SqliteStatementShape {
  readonly reader: boolean;
  all(...parameters: unknown[]): unknown[];
  run(...parameters: unknown[]): unknown;
}

/** The part of a better-sqlite3 `Database` plantwire uses; pass your own as `client`. */
export interface SqliteDatabaseShape {
  prepare(sql: string): SqliteStatementShape;
  exec(sql: string): unknown;
  close(): unknown;
}

type SqliteConstructor = new (file: string, options?: { timeout?: number; readonly?: boolean }) => SqliteDatabaseShape;

/** The SQLite spelling. */
export const sqliteDialect: SqlDialect = {
  name: "sqlite",
  placeholder: () => "?",
  quote: (identifier) => quoteWith('"', identifier),
  epochMilliseconds(column, timeType: SqlTimeType) {
    if (timeType === "epochMilliseconds") return column;
    if (timeType === "epochSeconds") return `(${column} * 1000.0)`;
    // julianday() is a double with ~0.02 ms error at today's dates: round to whole milliseconds.
    return `round((julianday(${column}) - 2440587.5) * 86400000.0)`;
  },
  floor: (expression) => `floor(${expression})`,
  numberParameter: () => "CAST(? AS REAL)",
  timeParameter(epochMs, timeType) {
    // SQLite has no timestamp type: text timestamps compare as text, so match datetime()'s own format.
    if (timeType === "timestamp") return new Date(epochMs).toISOString().replace("T", " ").replace("Z", "");
    return epochToParameter(epochMs, timeType);
  },
};

/** better-sqlite3 binds only numbers, strings, bigints, buffers and null. */
function bindable(value: unknown): unknown {
  if (value === undefined) return null;
  if (typeof value === "boolean") return value ? 1 : 0;
  if (value instanceof Date) return value.getTime();
  return value;
}

/** Opens a SQLite database from a file path (or `:memory:`), or wraps a better-sqlite3 Database passed in. */
export async function openSqlite(options: {
  file?: string;
  client?: SqliteDatabaseShape;
  timeoutMs: number;
  readonly?: boolean;
  adapterName: string;
}): Promise<SqlConnection> {
  let database = options.client;
  const owned = database === undefined;
  if (!database) {
    const Database = await loadOptionalDependency<SqliteConstructor>("better-sqlite3", "The SQL adapter (SQLite)");
    try {
      database = new Database(options.file ?? ":memory:", {
        timeout: options.timeoutMs,
        readonly: options.readonly ?? false,
      });
    } catch (error) {
      throw toPlantwireError(error, options.adapterName, options.timeoutMs);
    }
  }
  const db = database;
  const statements = new Map<string, SqliteStatementShape>();
  const execute = (sql: string, parameters: readonly unknown[]): SqlRow[] => {
    try {
      let statement = statements.get(sql);
      if (!statement) {
        statement = db.prepare(sql);
        if (statements.size > 200) statements.clear();
        statements.set(sql, statement);
      }
      const values = parameters.map(bindable);
      if (statement.reader) return statement.all(...values) as SqlRow[];
      statement.run(...values);
      return [];
    } catch (error) {
      throw toPlantwireError(error, options.adapterName, options.timeoutMs);
    }
  };
  // One connection: while a transaction is open, other statements wait, so none slips into it.
  let lock: Promise<unknown> = Promise.resolve();
  const run: SqlExecutor = async (sql, parameters) => {
    await lock;
    return execute(sql, parameters);
  };
  return {
    dialect: sqliteDialect,
    run,
    async transaction(work) {
      const previous = lock;
      let release!: () => void;
      lock = new Promise<void>((resolve) => {
        release = resolve;
      });
      await previous;
      try {
        execute("BEGIN IMMEDIATE", []);
        try {
          const result = await work(async (sql, parameters) => execute(sql, parameters));
          execute("COMMIT", []);
          return result;
        } catch (error) {
          execute("ROLLBACK", []);
          throw error;
        }
      } finally {
        release();
      }
    },
    async close() {
      if (owned) db.close();
    },
    instance: db,
  };
}
