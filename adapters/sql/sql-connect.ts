/**
 * Opens a {@link SqlConnection} for a URL or a client, picking the dialect module. Each module loads its driver
 * lazily, so importing `plantwire/sql` loads no database driver.
 */
import { ConfigError } from "../../src/index.js";
import { parseSqlUrl, type SqlClient } from "./sql-config.js";
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
