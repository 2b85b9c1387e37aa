/**
 * The device identity of a SQL tag, for the guard's one-writer-per-device locks: the table a write inserts into, in
 * the database the adapter writes to. Never the user's password.
 */
import { randomUUID } from "node:crypto";
import { realpathSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import type { BoundTag } from "../../src/adapter.js";
import { deviceAuthority } from "../../src/guard/device-locks.js";
import { parseSqlUrl, type SqlAddress, type SqlOptions } from "./sql-config.js";
import type { SqlDialectName } from "./sql-dialect.js";

const defaultPorts: Readonly<Record<SqlDialectName, number>> = { sqlite: 0, postgres: 5432, mysql: 3306 };

/** The file's path with every link resolved, so two spellings of one database file give one identity. */
function resolvedFile(file: string): string {
  const absolute = resolve(file);
  try {
    return realpathSync(absolute);
  } catch {
    // Not created yet (SQLite creates it on connect): resolve its folder instead.
    try {
      return join(realpathSync(dirname(absolute)), basename(absolute));
    } catch {
      return absolute;
    }
  }
}

/** `<host>:<port>`; a Unix socket folder (PostgreSQL's `?host=/var/run/postgresql`) keeps its case. */
function serverAuthority(host: string, port: number): string {
  return host.startsWith("/") ? `${host}:${port}` : deviceAuthority(host, port);
}

function fromUrl(dialect: SqlDialectName, url: string): string {
  const parsed = new URL(url);
  const host = parsed.hostname || parsed.searchParams.get("host") || "localhost";
  const port = parsed.port ? Number(parsed.port) : defaultPorts[dialect];
  // PostgreSQL connects to the database named like the user when the URL names none.
  const database =
    decodeURIComponent(parsed.pathname.replace(/^\//, "")) ||
    (dialect === "postgres" ? decodeURIComponent(parsed.username) : "");
  return `${dialect}://${serverAuthority(host, port)}/${database}`;
}

type Settings = { host?: unknown; port?: unknown; database?: unknown; connectionString?: unknown };

/** Where a client given instead of a URL points, read from the fields pg, mysql2 and better-sqlite3 keep. */
function fromClient(dialect: SqlDialectName, client: object, memory: string): string | undefined {
  if (dialect === "sqlite") {
    const database = client as { name?: unknown; memory?: unknown };
    if (database.memory === true) return memory;
    return typeof database.name === "string" ? `sqlite://${resolvedFile(database.name)}` : undefined;
  }
  const shaped = client as { options?: Settings; pool?: { config?: { connectionConfig?: Settings } } } & Settings;
  for (const settings of [shaped.options, shaped.pool?.config?.connectionConfig, shaped]) {
    if (typeof settings?.connectionString === "string") return fromUrl(dialect, settings.connectionString);
    if (typeof settings?.host === "string" && settings.host.length > 0) {
      const port = Number(settings.port) || defaultPorts[dialect];
      const database = typeof settings.database === "string" ? settings.database : "";
      return `${dialect}://${serverAuthority(settings.host, port)}/${database}`;
    }
  }
  return undefined;
}

/**
 * Builds the adapter's `deviceOf`: `<dialect>://<host>:<port>/<database>/<table>` for PostgreSQL and MariaDB/MySQL,
 * `sqlite://<absolute file>/<table>` for SQLite (an in-memory database is private to its adapter, so it gets a random
 * id). Writes go to `writeUrl`/`writeClient` when given, so the identity is theirs. A client whose target cannot be
 * read is named by the adapter: `<dialect>://client of adapter "<name>"/<table>`. A query-backed tag has no table;
 * its query names it.
 */
export function sqlDeviceOf(
  options: Pick<SqlOptions, "url" | "client" | "writeUrl" | "writeClient">,
  dialect: SqlDialectName,
  adapterName: string,
): (tag: BoundTag<SqlAddress>) => string {
  const memory = `sqlite::memory:#${randomUUID()}`;
  const database = (): string => {
    const client = options.writeClient ?? (options.writeUrl === undefined ? options.client : undefined);
    const url = options.writeUrl ?? options.url;
    const fromGiven = client === undefined ? undefined : fromClient(dialect, client, memory);
    if (fromGiven !== undefined) return fromGiven;
    if (client === undefined && url !== undefined) {
      if (dialect !== "sqlite") return fromUrl(dialect, url);
      const file = parseSqlUrl(url).target;
      return file === ":memory:" ? memory : `sqlite://${resolvedFile(file)}`;
    }
    return `${dialect}://client of adapter "${adapterName}"`;
  };
  return (tag) => {
    const { address } = tag;
    const table = address.kind === "query" ? `query/${address.query}` : address.mapping.table;
    return `${database()}/${table}`;
  };
}
