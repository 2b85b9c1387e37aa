/**
 * Existing clients passed in: a better-sqlite3 Database, a pg Pool and a mysql2/promise Pool type-check against the
 * shapes plantwire needs, work for reads, writes and transactions, and are left open when the adapter closes.
 */
import Database from "better-sqlite3";
import mysql from "mysql2/promise";
import pg from "pg";
import { defineTags, float } from "plantwire";
import { createPlantwireSchema, plantwireEventsTemplate, plantwireHistorian, type SqlClient, sql } from "plantwire/sql";
import { describe, expect, it } from "vitest";
import { execRaw, testDatabases, uniqueSuffix } from "./sql-databases.js";

const databases = await testDatabases();

function openClient(database: (typeof databases)[number]): { client: SqlClient; end(): Promise<void> } {
  if (database.dialect === "sqlite") {
    const client = new Database(database.url.slice("sqlite:".length));
    return { client, end: async () => void client.close() };
  }
  if (database.dialect === "postgres") {
    const client = new pg.Pool({ connectionString: database.url, max: 2 });
    return { client, end: () => client.end() };
  }
  const client = mysql.createPool({ uri: database.url, connectionLimit: 2 });
  return { client, end: () => client.end() };
}

for (const database of databases) {
  describe.skipIf(database.skipReason !== undefined)(`sql with a client passed in on ${database.label}`, () => {
    it("reads, writes and inserts through it, and leaves it open on close", async () => {
      const prefix = `pwk_${uniqueSuffix()}`;
      const historian = plantwireHistorian(prefix);
      const { client, end } = openClient(database);
      try {
        await createPlantwireSchema({ dialect: database.dialect, client, prefix });
        const db = sql({
          dialect: database.dialect,
          client,
          name: "borrowed",
          templates: { samples: { table: historian.table, columns: ["tag", "time", "value"] } },
        });
        await db.connect();
        await db.insert("samples", [{ tag: "flow", time: new Date(Date.now() - 1000), value: 12.5 }]);
        const source = db.narrow(historian, "flow");
        const tags = defineTags({ flow: float({ source, write: { range: [0, 100] } }) });
        const bound = { name: "flow", definition: tags.flow, address: source.address };
        expect((await db.read([bound]))[0]?.value).toBe(12.5);
        expect((await db.write(bound, 13.5)).outcome).toBe("written");
        expect((await db.read([bound]))[0]?.value).toBe(13.5);
        expect(db.getInstance()).toBe(client);
        await db.close();
        const rows = await execRaw(database.dialect, client, `SELECT COUNT(*) AS c FROM ${historian.table}`);
        expect(Number(Object.values(rows[0] as object)[0])).toBe(2);
      } finally {
        for (const table of [historian.table, `${prefix}_events`]) {
          await execRaw(database.dialect, client, `DROP TABLE IF EXISTS ${table}`).catch(() => {});
        }
        await end();
      }
    });

    if (database.dialect === "postgres") {
      it("takes turns on a single pg Client: a write waits for an open transaction instead of joining it", async () => {
        const prefix = `pwk_${uniqueSuffix()}`;
        const historian = plantwireHistorian(prefix);
        const single = new pg.Client({ connectionString: database.url });
        await single.connect();
        try {
          await createPlantwireSchema({ dialect: "postgres", client: { query: single.query.bind(single) }, prefix });
          const db = sql({
            dialect: "postgres",
            client: { query: single.query.bind(single) },
            // Events, not samples: the general insert refuses the table of a writable tag (T20).
            templates: { events: plantwireEventsTemplate(prefix) },
          });
          await db.connect();
          const source = db.narrow(historian, "flow");
          const tags = defineTags({ flow: float({ source, write: { range: [0, 100] } }) });
          const bound = { name: "flow", definition: tags.flow, address: source.address };
          // A batch that fails (NULL kind) and a write issued while it runs: the write must survive the rollback.
          const failing = db.insert("events", [
            { time: new Date(Date.now() - 5000), kind: "note" },
            { time: new Date(), kind: null },
          ]);
          // Let BEGIN go out first, so the write is issued while the transaction is open.
          await new Promise((resolve) => setImmediate(resolve));
          const write = db.write(bound, 42);
          await expect(failing).rejects.toThrow();
          expect((await write).outcome).toBe("written");
          const [sample] = await db.read([bound]);
          expect(sample?.value).toBe(42);
          const rows = await execRaw("postgres", single, `SELECT COUNT(*) AS c FROM ${historian.table}`);
          expect(Number(Object.values(rows[0] as object)[0])).toBe(1);
          const events = await execRaw("postgres", single, `SELECT COUNT(*) AS c FROM ${prefix}_events`);
          expect(Number(Object.values(events[0] as object)[0])).toBe(0);
          await db.close();
        } finally {
          for (const table of [historian.table, `${prefix}_events`]) {
            await execRaw("postgres", single, `DROP TABLE IF EXISTS ${table}`).catch(() => {});
          }
          await single.end();
        }
      });
    }
  });
}
