/**
 * PostgreSQL through pg (loaded on use). A pool plantwire opens sets `statement_timeout` on every connection, so the
 * server cancels a slow statement (SQLSTATE 57014) and the connection stays usable.
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

/** Something that runs a parameterised statement the pg way: a pg Pool, PoolClient or Client. */
export interface PostgresQueryableShape {
  query(config: { text: string; values: unknown[]; queryMode: "extended" }): Promise<{ rows: SqlRow[] }>;
  query(text: string): Promise<unknown>;
}

/**
 * The part of a pg `Pool` plantwire uses; pass your own as `client`. A single pg `Client` fits as
 * `{ query: client.query.bind(client) }`: without `connect()`, statements and transactions take turns on it.
 */
export interface PostgresClientShape extends PostgresQueryableShape {
  /** A pool's checkout, so a transaction has a connection of its own. */
  connect?(): Promise<PostgresQueryableShape & { release(destroy?: boolean | Error): void }>;
  end?(): Promise<void>;
}

type PoolConstructor = new (
  config: Record<string, unknown>,
) => PostgresClientShape & {
  connect(): Promise<PostgresQueryableShape & { release(destroy?: boolean | Error): void }>;
  end(): Promise<void>;
  on(event: "error", listener: (error: Error) => void): unknown;
};

/** The PostgreSQL spelling. */
export const postgresDialect: SqlDialect = {
  name: "postgres",
  placeholder: (position) => `$${position}`,
  quote: (identifier) => quoteWith('"', identifier),
  epochMilliseconds(column, timeType) {
    if (timeType === "epochMilliseconds") return `(${column})::float8`;
    if (timeType === "epochSeconds") return `((${column})::float8 * 1000)`;
    // extract() is exact numeric: scale before converting so whole milliseconds stay whole.
    return `(extract(epoch from ${column}) * 1000)::float8`;
  },
  floor: (expression) => `floor(${expression})`,
  numberParameter: (position) => `$${position}::float8`,
  timeParameter: epochToParameter,
};

/** Clears pg's connection-scoped settings a pool checkout could carry, used after a failed transaction. */
async function rollbackQuietly(client: PostgresQueryableShape): Promise<void> {
  try {
    await client.query("ROLLBACK");
  } catch {
    // The connection may already be gone; the pool drops it on release(error).
  }
}

/** Opens a pg pool from a URL, or wraps a pool/client passed in. */
export async function openPostgres(options: ServerConnectionOptions<PostgresClientShape>): Promise<SqlConnection> {
  let client = options.client;
  const owned = client === undefined;
  if (!client) {
    const pg = await loadOptionalDependency<{ Pool: PoolConstructor }>("pg", "The SQL adapter (PostgreSQL)");
    const pool = new pg.Pool({
      connectionString: options.url,
      max: options.poolSize,
      statement_timeout: options.timeoutMs,
      connectionTimeoutMillis: options.timeoutMs,
      idleTimeoutMillis: 10_000,
      allowExitOnIdle: true,
    });
    // An idle connection dropped by the server emits here; without a listener it would crash the process.
    pool.on("error", () => {});
    client = pool;
  }
  const target = client;
  // The server-side timeout fires first; the client-side deadline is the backstop for a hung link.
  const deadlineMs = options.timeoutMs + 1000;
  const on =
    (queryable: PostgresQueryableShape): SqlExecutor =>
    async (sql, parameters) => {
      try {
        // Always the extended protocol (even without parameters): one statement per call, never a stacked string.
        const query = queryable.query({ text: sql, values: [...parameters], queryMode: "extended" });
        const result = await withDeadline(query, deadlineMs, options.adapterName);
        return result.rows;
      } catch (error) {
        throw toPlantwireError(error, options.adapterName, options.timeoutMs);
      }
    };
  // A single Client (no connect()) runs everything on one session: while a transaction is open, other statements
  // wait, so a concurrent write never slips into (and is rolled back with) a failing batch.
  let lock: Promise<unknown> = Promise.resolve();
  const run: SqlExecutor = target.connect
    ? on(target)
    : async (sql, parameters) => {
        await lock;
        return on(target)(sql, parameters);
      };
  return {
    dialect: postgresDialect,
    run,
    async transaction(work) {
      if (!target.connect) {
        const attempt = lock.then(async () => {
          await on(target)("BEGIN", []);
          try {
            const result = await work(on(target));
            await on(target)("COMMIT", []);
            return result;
          } catch (error) {
            await rollbackQuietly(target);
            throw error;
          }
        });
        lock = attempt.catch(() => {});
        return attempt;
      }
      let checkedOut: Awaited<ReturnType<NonNullable<PostgresClientShape["connect"]>>>;
      try {
        checkedOut = await withDeadline(target.connect(), deadlineMs, options.adapterName);
      } catch (error) {
        throw toPlantwireError(error, options.adapterName, options.timeoutMs);
      }
      const execute = on(checkedOut);
      try {
        await execute("BEGIN", []);
        const result = await work(execute);
        await execute("COMMIT", []);
        checkedOut.release();
        return result;
      } catch (error) {
        await rollbackQuietly(checkedOut);
        checkedOut.release(error instanceof Error ? error : true);
        throw error;
      }
    },
    async close() {
      if (owned) await target.end?.();
    },
    instance: target,
  };
}
