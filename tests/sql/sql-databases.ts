/**
 * The databases the SQL tests run on: SQLite always (a temp file), PostgreSQL and MariaDB on loopback when the
 * machine has them (skipped with a printed reason otherwise, failing under PLANTWIRE_REQUIRE_SERVICES=1).
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll } from "vitest";
import { serviceSkipReason, services } from "../support/services.js";

/** One database to run a suite on. */
export interface TestDatabase {
  label: "sqlite" | "postgres" | "mariadb";
  dialect: "sqlite" | "postgres" | "mysql";
  url: string;
  /** Why the suite is skipped, or undefined to run it. */
  skipReason: string | undefined;
  /** The time column type of a plain table in this dialect. */
  timeType: string;
  /** Port of the server, for fault proxies. */
  port: number | undefined;
}

/** A random suffix for table and role names, unique per test file and run. */
export function uniqueSuffix(): string {
  return randomBytes(4).toString("hex");
}

/** The three databases; SQLite's file lives in a temp directory removed after the file's tests. */
export async function testDatabases(): Promise<TestDatabase[]> {
  const directory = mkdtempSync(join(tmpdir(), "plantwire-sql-"));
  afterAll(() => rmSync(directory, { recursive: true, force: true }));
  const postgresReason = await serviceSkipReason("postgres");
  const mariadbReason = await serviceSkipReason("mariadb");
  for (const reason of [postgresReason, mariadbReason]) if (reason) console.warn(reason);
  return [
    {
      label: "sqlite",
      dialect: "sqlite",
      url: `sqlite:${join(directory, "plant.db")}`,
      skipReason: undefined,
      timeType: "INTEGER",
      port: undefined,
    },
    {
      label: "postgres",
      dialect: "postgres",
      url: services.postgres.url,
      skipReason: postgresReason,
      timeType: "TIMESTAMPTZ",
      port: services.postgres.port,
    },
    {
      label: "mariadb",
      dialect: "mysql",
      url: services.mariadb.url,
      skipReason: mariadbReason,
      timeType: "DATETIME(3)",
      port: services.mariadb.port,
    },
  ];
}

/** The same URL pointed at another loopback port (a fault proxy). */
export function viaPort(url: string, port: number): string {
  return url.replace(/127\.0\.0\.1:\d+/, `127.0.0.1:${port}`);
}

/** Runs trusted test DDL on an adapter's raw client (tests only: plantwire itself never runs SQL text it is given). */
export async function execRaw(dialect: TestDatabase["dialect"], instance: unknown, text: string): Promise<unknown[]> {
  if (dialect === "sqlite") {
    const database = instance as { prepare(sql: string): { reader: boolean; all(): unknown[]; run(): unknown } };
    const statement = database.prepare(text);
    if (statement.reader) return statement.all();
    statement.run();
    return [];
  }
  if (dialect === "postgres") {
    return (
      (await (instance as { query(sql: string): Promise<{ rows: unknown[] }> }).query(text)) as { rows: unknown[] }
    ).rows;
  }
  const [rows] = await (instance as { query(sql: string): Promise<[unknown]> }).query(text);
  return Array.isArray(rows) ? rows : [];
}
