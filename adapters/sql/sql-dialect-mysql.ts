/**
 * MariaDB and MySQL through mysql2 (loaded on use). Statements go out with `execute`, i.e. as server-side prepared
 * statements, so values travel as parameters and never as SQL text. A pool plantwire opens sets, on every new
 * connection, the session time zone to UTC and the server-side statement limit (MariaDB `max_statement_time`,
 * MySQL `max_execution_time`; each server ignores the other's).
 */
import { loadOptionalDependency } from "../../src/index.js";
import {
  epochToParameter,
  quoteWith,
  type ServerConnectionOptions,
  type SqlConnection,
  type SqlDialect,
  type SqlExecutor,
  type SqlRow,
} from "./sql-dialect.js";
import { toPlantwireError, withDeadline } from "./sql-errors.js";

/** Something that runs a prepared statement the mysql2/promise way: a Pool, PoolConnection or Connection. */
export interface MysqlQueryableShape {
  // `never[]` so that mysql2's own narrower parameter types are accepted; plantwire binds primitives and Dates only.
  execute(options: { sql: string; timeout?: number }, values?: never[]): Promise<[unknown, unknown]>;
}

/** A connection checked out of a mysql2/promise pool. */
export interface MysqlPoolConnectionShape extends MysqlQueryableShape {
  beginTransaction(): Promise<void>;
  commit(): Promise<void>;
  rollback(): Promise<void>;
  release(): void;
}

/** The part of a mysql2/promise `Pool` plantwire uses; pass your own as `client`. */
export interface MysqlClientShape extends MysqlQueryableShape {
  getConnection(): Promise<MysqlPoolConnectionShape>;
  end?(): Promise<void>;
}

interface RawConnection {
  query(sql: string, callback: (error: unknown) => void): void;
}

type CreatePool = (config: Record<string, unknown>) => {
  on(event: "connection", listener: (connection: RawConnection) => void): unknown;
  promise(): MysqlClientShape;
};

/** The MariaDB/MySQL spelling. */
export const mysqlDialect: SqlDialect = {
  name: "mysql",
  placeholder: () => "?",
  quote: (identifier) => quoteWith("`", identifier),
  epochMilliseconds(column, timeType) {
    if (timeType === "epochMilliseconds") return `(${column} + 0e0)`;
    if (timeType === "epochSeconds") return `(${column} * 1000e0)`;
    // UNIX_TIMESTAMP reads DATETIME in the session time zone, which plantwire's pool sets to UTC.
    // Exact decimal milliseconds first, then a double, so whole milliseconds stay whole.
    return `(UNIX_TIMESTAMP(${column}) * 1000 + 0e0)`;
  },
  floor: (expression) => `FLOOR(${expression})`,
  numberParameter: () => "(? + 0e0)",
  timeParameter: epochToParameter,
};

function bindable(value: unknown): unknown {
  return value === undefined ? null : value;
}

/** Opens a mysql2 pool from a URL, or wraps a pool passed in. */
export async function openMysql(options: ServerConnectionOptions<MysqlClientShape>): Promise<SqlConnection> {
  let client = options.client;
  const owned = client === undefined;
  if (!client) {
    const mysql = await loadOptionalDependency<{ createPool: CreatePool }>("mysql2", "The SQL adapter (MySQL)");
    const pool = mysql.createPool({
      uri: options.url,
      connectionLimit: options.poolSize,
      connectTimeout: options.timeoutMs,
      timezone: "Z",
      decimalNumbers: true,
      dateStrings: false,
      multipleStatements: false,
      // Each distinct statement text is a server-side prepared statement; keep few per connection, well below the
      // server's global max_prepared_stmt_count (16382 by default), since batch sizes vary.
      maxPreparedStatements: 64,
    });
    const seconds = options.timeoutMs / 1000;
    pool.on("connection", (connection) => {
      // Queued before any statement of ours on this connection; errors from the other server's variable are expected.
      connection.query("SET SESSION time_zone = '+00:00'", () => {});
      connection.query(`SET SESSION max_statement_time = ${seconds}`, () => {});
      connection.query(`SET SESSION max_execution_time = ${Math.round(options.timeoutMs)}`, () => {});
    });
    client = pool.promise();
  }
  const target = client;
  const deadlineMs = options.timeoutMs + 1000;
  const on =
    (queryable: MysqlQueryableShape): SqlExecutor =>
    async (sql, parameters) => {
      try {
        const [rows] = await withDeadline(
          queryable.execute({ sql, timeout: deadlineMs }, parameters.map(bindable) as never[]),
          deadlineMs + 500,
          options.adapterName,
        );
        return Array.isArray(rows) ? (rows as SqlRow[]) : [];
      } catch (error) {
        throw toPlantwireError(error, options.adapterName, options.timeoutMs);
      }
    };
  return {
    dialect: mysqlDialect,
    run: on(target),
    async transaction(work) {
      let connection: MysqlPoolConnectionShape;
      try {
        connection = await withDeadline(target.getConnection(), deadlineMs, options.adapterName);
      } catch (error) {
        throw toPlantwireError(error, options.adapterName, options.timeoutMs);
      }
      try {
        await connection.beginTransaction();
        const result = await work(on(connection));
        await connection.commit();
        return result;
      } catch (error) {
        await connection.rollback().catch(() => {});
        throw toPlantwireError(error, options.adapterName, options.timeoutMs);
      } finally {
        connection.release();
      }
    },
    async close() {
      if (owned) await target.end?.();
    },
    instance: target,
  };
}
