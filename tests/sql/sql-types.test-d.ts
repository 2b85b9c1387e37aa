/** Type tests: named queries type their parameters and rows; templates type their columns; clients type-check by shape. */
import Database from "better-sqlite3";
import mysql from "mysql2/promise";
import pg from "pg";
import { sql } from "plantwire/sql";
import { describe, expectTypeOf, it } from "vitest";
import { z } from "zod";

const db = sql({
  url: "sqlite::memory:",
  queries: {
    latestLab: {
      sql: "SELECT ph, taken_at FROM lab WHERE line = :line",
      parameters: z.object({ line: z.number().int() }),
      columns: z.object({ ph: z.number(), taken_at: z.coerce.date() }),
    },
  },
  templates: { events: { table: "events", columns: ["time", "kind", "message"] } },
});

describe("sql adapter types", () => {
  it("types named-query parameters and rows", () => {
    expectTypeOf(db.query("latestLab", { line: 3 })).resolves.toEqualTypeOf<{ ph: number; taken_at: Date }[]>();
    // @ts-expect-error a misspelt query name does not compile
    void db.query("latestLabs", { line: 3 });
    // @ts-expect-error a parameter of the wrong type does not compile
    void db.query("latestLab", { line: "3" });
  });

  it("types template columns", () => {
    void db.insert("events", [{ time: new Date(), kind: "alarm", message: "high" }]);
    // @ts-expect-error an unknown column does not compile
    void db.insert("events", [{ time: new Date(), severity: 3 }]);
    // @ts-expect-error an unknown template does not compile
    void db.sink("alarms");
  });

  it("accepts the drivers' own clients by shape", () => {
    void sql({ dialect: "sqlite", client: new Database(":memory:") });
    void sql({ dialect: "postgres", client: new pg.Pool() });
    void sql({ dialect: "mysql", client: mysql.createPool({ uri: "mysql://root@127.0.0.1/test" }) });
  });
});
