/**
 * Opens a {@link SqlConnection} for a URL or a client, picking the dialect module. Each module loads its driver
 * lazily, so importing `plantwire/sql` loads no database driver.
 */
import { ConfigError } from "../../src/index.js";
import { parseSqlUrl, type SqlClient, type SqlOptions } from "./sql-config.js";
import type { SqlConnection, SqlDialect, SqlDialectName } from "./sql-dialect.js";
import { type MysqlClientShape, mysqlDialect, openMysql } from "./sql-dialect-mysql.js";
import { openPostgres, type PostgresClientShape, postgresDialect } from "./sql-dialect-postgres.js";
import { openSqlite, type SqliteDatabaseShape, sqliteDialect } from "./sql-dialect-sqlite.js";

/** What to open. */
export interface ConnectionTarget {
  url?: string | undefined;
  dialect?: SqlDialectName | undefined;
  client?: SqlClient | undefined;
  poolSize: number;
  timeoutMs: number;
  adapterName: string;
}

/** The dialect spelling by name. */
export const dialects: Readonly<Record<SqlDialectName, SqlDialect>> = {
  sqlite: sqliteDialect,
  postgres: postgresDialect,
  mysql: mysqlDialect,
};

/** The dialect a target speaks; throws a ConfigError when neither a URL nor a dialect says. */
export function dialectOf(target: { url?: string | undefined; dialect?: SqlDialectName | undefined }): SqlDialectName {
  if (target.url !== undefined) return parseSqlUrl(target.url).dialect;
  if (target.dialect !== undefined) return target.dialect;
  throw new ConfigError([
    {
      path: "url",
      message: "missing",
      fix: 'give url: "sqlite:./plant.db" (or postgres://, mysql://), or client plus dialect',
    },
  ]);
}

/** Opens a connection (or wraps the client given). Rejects with a typed error. */
export async function openSqlConnection(target: ConnectionTarget): Promise<SqlConnection> {
  const dialect = dialectOf(target);
  const common = { poolSize: target.poolSize, timeoutMs: target.timeoutMs, adapterName: target.adapterName };
  const url = target.client === undefined && target.url !== undefined ? parseSqlUrl(target.url).target : undefined;
  switch (dialect) {
    case "sqlite":
      return openSqlite({
        ...common,
        ...(url === undefined ? {} : { file: url }),
        ...(target.client === undefined ? {} : { client: target.client as SqliteDatabaseShape }),
      });
    case "postgres":
      return openPostgres({
        ...common,
        ...(url === undefined ? {} : { url }),
        ...(target.client === undefined ? {} : { client: target.client as PostgresClientShape }),
      });
    case "mysql":
      return openMysql({
        ...common,
        ...(url === undefined ? {} : { url }),
        ...(target.client === undefined ? {} : { client: target.client as MysqlClientShape }),
      });
  }
}

/**
 * Opens the read connection and, when `writeUrl` or `writeClient` is given, a separate write connection, probing
 * both; closes what it opened when either fails. Without separate write settings both are the same connection.
 */
export async function openReadWrite(
  options: Pick<SqlOptions, "url" | "client" | "writeUrl" | "writeClient">,
  common: Omit<ConnectionTarget, "url" | "client">,
): Promise<{ reader: SqlConnection; writer: SqlConnection }> {
  const opened: SqlConnection[] = [];
  try {
    const reader = await openSqlConnection({ ...common, url: options.url, client: options.client });
    opened.push(reader);
    const separate = options.writeUrl !== undefined || options.writeClient !== undefined;
    const writer = separate
      ? await openSqlConnection({
          ...common,
          url: options.writeUrl ?? options.url,
          client: options.writeClient ?? (options.writeUrl === undefined ? options.client : undefined),
        })
      : reader;
    if (separate) opened.push(writer);
    for (const connection of opened) await connection.run("SELECT 1 AS pw_probe", []);
    return { reader, writer };
  } catch (error) {
    await Promise.allSettled(opened.map((connection) => connection.close()));
    throw error;
  }
}
