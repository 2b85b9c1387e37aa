/**
 * An audit anchor in a SQL table: one row per published head (file, seq, hash, time), created if missing. The latest
 * head of a log is its row with the highest sequence number, so a rewritten log published later cannot hide an
 * earlier, longer head. Give the guard's database user INSERT and SELECT on the table, not UPDATE or DELETE.
 */
import { type AnchoredHead, type AuditAnchor, ConfigError } from "../../src/index.js";
import type { SqlAdapter } from "./sql-adapter-types.js";
import { openSqlConnection } from "./sql-connect.js";
import { isIdentifier, type SqlConnection } from "./sql-dialect.js";

/** Options of {@link sqlAuditAnchor}. */
export interface SqlAuditAnchorOptions {
  /** The table (optionally schema-qualified). @default "plantwire_audit_anchor" */
  table?: string;
  /**
   * The log whose latest head `latest()` reads, as the log names itself (its absolute path), when it is not the log
   * asking (e.g. a copy verified on another machine). @default the log asking, else the last one published
   */
  file?: string;
}

function createStatement(connection: SqlConnection, table: string): string {
  const q = connection.dialect.quote;
  const [file, hash, time] =
    connection.dialect.name === "mysql" ? ["VARCHAR(500)", "CHAR(64)", "VARCHAR(40)"] : ["TEXT", "CHAR(64)", "TEXT"];
  const columns = `${q("file")} ${file} NOT NULL, ${q("seq")} BIGINT NOT NULL, ${q("hash")} ${hash} NOT NULL, ${q("time")} ${time} NOT NULL`;
  // MySQL has no CREATE INDEX IF NOT EXISTS, so its index is declared with the table.
  return connection.dialect.name === "mysql"
    ? `CREATE TABLE IF NOT EXISTS ${q(table)} (${columns}, INDEX ${q(`${table.replace(/\./g, "_")}_file_seq`)} (${q("file")}, ${q("seq")}))`
    : `CREATE TABLE IF NOT EXISTS ${q(table)} (${columns})`;
}

/**
 * An audit anchor that inserts each published head as a row of `table` through the SQL adapter's connection
 * (SQLite, PostgreSQL or MariaDB/MySQL), creating the table when it is missing. It uses the adapter's main
 * connection (`url`, not `writeUrl`); the adapter is connected on first use and left open on `close()`.
 */
export function sqlAuditAnchor(adapter: SqlAdapter, options: SqlAuditAnchorOptions = {}): AuditAnchor {
  const table = options.table ?? "plantwire_audit_anchor";
  if (!isIdentifier(table, true)) {
    throw new ConfigError([
      {
        path: "table",
        message: `"${table}" is not a plain SQL identifier`,
        fix: "letters, digits and _ (schema.table allowed)",
      },
    ]);
  }
  const label = `${adapter.dialect} table ${table} (SQL adapter "${adapter.name}")`;
  let published: string | undefined;
  let ready: Promise<SqlConnection> | undefined;
  let tableKnown = false;
  const connection = (): Promise<SqlConnection> => {
    ready ??= (async () => {
      await adapter.connect();
      // A wrapper around the adapter's own client: closing it leaves the adapter's connection open.
      return openSqlConnection({
        client: adapter.getInstance?.() as never,
        dialect: adapter.dialect,
        poolSize: 1,
        timeoutMs: 10_000,
        adapterName: adapter.name,
      });
    })().catch((error: unknown) => {
      ready = undefined;
      throw error;
    });
    return ready;
  };
  const tableExists = async (opened: SqlConnection): Promise<boolean> => {
    const q = opened.dialect.quote;
    tableKnown ||= await opened.run(`SELECT ${q("seq")} FROM ${q(table)} WHERE 1 = 0`, []).then(
      () => true,
      () => false,
    );
    return tableKnown;
  };
  return {
    label,
    async publish(head: AnchoredHead) {
      const opened = await connection();
      const q = opened.dialect.quote;
      // Created only when missing, so a user with nothing but INSERT and SELECT on an existing table can anchor.
      if (!(await tableExists(opened))) {
        await opened.run(createStatement(opened, table), []);
        if (opened.dialect.name !== "mysql") {
          const index = q(`${table.split(".").at(-1)}_file_seq`);
          await opened.run(`CREATE INDEX IF NOT EXISTS ${index} ON ${q(table)} (${q("file")}, ${q("seq")})`, []);
        }
        tableKnown = true;
      }
      const p = (position: number) => opened.dialect.placeholder(position);
      await opened.run(
        `INSERT INTO ${q(table)} (${q("file")}, ${q("seq")}, ${q("hash")}, ${q("time")}) VALUES (${p(1)}, ${p(2)}, ${p(3)}, ${p(4)})`,
        [head.file, head.seq, head.hash, head.time],
      );
      published = head.file;
    },
    async latest(asking?: string) {
      const file = options.file ?? asking ?? published;
      if (file === undefined) {
        throw new ConfigError([
          {
            path: "file",
            message: "no log named",
            fix: "give sqlAuditAnchor(adapter, { file }) the log's absolute path",
          },
        ]);
      }
      const opened = await connection();
      // Reading creates nothing: a missing table is an anchor with no heads yet.
      if (!(await tableExists(opened))) return undefined;
      const q = opened.dialect.quote;
      const rows = await opened.run(
        `SELECT ${q("file")}, ${q("seq")}, ${q("hash")}, ${q("time")} FROM ${q(table)} WHERE ${q("file")} = ${opened.dialect.placeholder(1)} ORDER BY ${q("seq")} DESC LIMIT 1`,
        [file],
      );
      const row = rows[0];
      if (!row) return undefined;
      return { file: String(row.file), seq: Number(row.seq), hash: String(row.hash).trim(), time: String(row.time) };
    },
    async close() {
      const opened = ready;
      ready = undefined;
      if (opened) await (await opened.catch(() => undefined))?.close();
    },
  };
}
