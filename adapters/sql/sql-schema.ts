/**
 * The plantwire historian/events schema, for sites that have none (and for the simulator's historian): a narrow
 * samples table indexed on (tag, time), which serves both the latest-value lookup and window scans, and an events
 * table indexed on time and on (kind, time). Idempotent: running it twice changes nothing.
 */
import { ConfigError } from "../../src/index.js";
import type { NarrowTableMapping, SqlClient } from "./sql-config.js";
import { dialectOf, dialects, openSqlConnection } from "./sql-connect.js";
import { isIdentifier, type SqlDialectName } from "./sql-dialect.js";
import type { InsertTemplate } from "./sql-named-query.js";

/** Options of {@link createPlantwireSchema}. */
export interface PlantwireSchemaOptions {
  /** The database, as for `sql({ url })`. */
  url?: string;
  /** An existing client (with `dialect`) instead of a URL; it is left open. */
  client?: SqlClient;
  dialect?: SqlDialectName;
  /** Table name prefix: tables are `<prefix>_samples` and `<prefix>_events`. @default "plantwire" */
  prefix?: string;
  /** @default 30000 */
  statementTimeoutMs?: number;
}

/** The narrow mapping of the plantwire samples table, for `db.narrow(plantwireHistorian(), "tag")`. */
export function plantwireHistorian(prefix = "plantwire"): NarrowTableMapping {
  return {
    table: `${prefix}_samples`,
    tagColumn: "tag",
    timeColumn: "time",
    valueColumn: "value",
    qualityColumn: "quality",
  };
}

/** The insert template of the plantwire events table (events and model results). */
export function plantwireEventsTemplate(prefix = "plantwire") {
  return {
    table: `${prefix}_events`,
    columns: ["time", "source", "kind", "tag", "message", "data"],
  } as const satisfies InsertTemplate;
}

/** The statements that create the schema in a dialect. */
export function plantwireSchemaStatements(dialectName: SqlDialectName, prefix = "plantwire"): string[] {
  if (!isIdentifier(prefix)) {
    throw new ConfigError([
      { path: "prefix", message: `"${prefix}" is not a plain identifier`, fix: "letters, digits, _" },
    ]);
  }
  const q = dialects[dialectName].quote;
  const samples = q(`${prefix}_samples`);
  const events = q(`${prefix}_events`);
  const index = (name: string) => q(`${prefix}_${name}`);
  const [time, text, label, short, real, quality, id] =
    dialectName === "sqlite"
      ? ["INTEGER", "TEXT", "TEXT", "TEXT", "REAL", "INTEGER", "INTEGER PRIMARY KEY AUTOINCREMENT"]
      : dialectName === "postgres"
        ? [
            "TIMESTAMPTZ",
            "TEXT",
            "VARCHAR(200)",
            "VARCHAR(64)",
            "DOUBLE PRECISION",
            "SMALLINT",
            "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY",
          ]
        : [
            "DATETIME(3)",
            "TEXT",
            "VARCHAR(200)",
            "VARCHAR(64)",
            "DOUBLE",
            "SMALLINT",
            "BIGINT AUTO_INCREMENT PRIMARY KEY",
          ];
  const sampleColumns = `${q("tag")} ${label} NOT NULL, ${q("time")} ${time} NOT NULL, ${q("value")} ${real}, ${q("quality")} ${quality}`;
  const eventColumns = `${q("id")} ${id}, ${q("time")} ${time} NOT NULL, ${q("source")} ${label}, ${q("kind")} ${short} NOT NULL, ${q("tag")} ${label}, ${q("message")} ${text}, ${q("data")} ${text}`;
  if (dialectName === "mysql") {
    // MySQL has no CREATE INDEX IF NOT EXISTS, so indexes are declared with the table.
    return [
      `CREATE TABLE IF NOT EXISTS ${samples} (${sampleColumns}, INDEX ${index("samples_tag_time")} (${q("tag")}, ${q("time")}))`,
      `CREATE TABLE IF NOT EXISTS ${events} (${eventColumns}, INDEX ${index("events_time")} (${q("time")}), INDEX ${index("events_kind_time")} (${q("kind")}, ${q("time")}))`,
    ];
  }
  // On SQLite, WAL lets readers and the writer work at once; set only here, for files plantwire sets up.
  return [
    ...(dialectName === "sqlite" ? ["PRAGMA journal_mode = WAL"] : []),
    `CREATE TABLE IF NOT EXISTS ${samples} (${sampleColumns})`,
    `CREATE INDEX IF NOT EXISTS ${index("samples_tag_time")} ON ${samples} (${q("tag")}, ${q("time")})`,
    `CREATE TABLE IF NOT EXISTS ${events} (${eventColumns})`,
    `CREATE INDEX IF NOT EXISTS ${index("events_time")} ON ${events} (${q("time")})`,
    `CREATE INDEX IF NOT EXISTS ${index("events_kind_time")} ON ${events} (${q("kind")}, ${q("time")})`,
  ];
}

/** Creates the plantwire schema (idempotent). Resolves with the statements run. */
export async function createPlantwireSchema(options: PlantwireSchemaOptions): Promise<string[]> {
  const dialect = dialectOf(options);
  const statements = plantwireSchemaStatements(dialect, options.prefix);
  const connection = await openSqlConnection({
    url: options.url,
    dialect,
    client: options.client,
    poolSize: 1,
    timeoutMs: options.statementTimeoutMs ?? 30_000,
    adapterName: "schema",
  });
  try {
    for (const statement of statements) await connection.run(statement, []);
  } finally {
    await connection.close();
  }
  return statements;
}
