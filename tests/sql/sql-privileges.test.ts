/**
 * T13, continued: a slow statement is cut by the statement timeout with a TimeoutError (and the pool stays usable);
 * a read-only role (a read-only connection on SQLite) reads but cannot write; writes go through separate write
 * credentials when given.
 */
import Database from "better-sqlite3";
import { type BoundTag, defineTags, float, TimeoutError } from "plantwire";
import { createPlantwireSchema, plantwireHistorian, type SqlAddress, sql } from "plantwire/sql";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { execRaw, testDatabases, uniqueSuffix } from "./sql-databases.js";

const databases = await testDatabases();

for (const database of databases) {
  describe.skipIf(database.skipReason !== undefined)(`T13 sql timeouts and roles on ${database.label}`, () => {
    const suffix = uniqueSuffix();
    const prefix = `pwp_${suffix}`;
    const role = `pw_reader_${suffix}`;
    const historian = plantwireHistorian(prefix);
    const admin = sql({ url: database.url, name: "admin" });
    const raw = (text: string) => execRaw(database.dialect, admin.getInstance(), text);
    const readOnlyUrl =
      database.dialect === "postgres"
        ? database.url.replace("postgres@", `${role}@`)
        : database.url.replace("root@", `${role}@`);
    const file = database.url.slice("sqlite:".length);

    beforeAll(async () => {
      await createPlantwireSchema({ url: database.url, prefix });
      await admin.connect();
      if (database.dialect === "postgres") {
        // The read-only role of docs/sql.md: log in, see the schema, SELECT the historian, nothing else.
        await raw(`CREATE ROLE ${role} LOGIN`);
        await raw(`GRANT CONNECT ON DATABASE test TO ${role}`);
        await raw(`GRANT USAGE ON SCHEMA public TO ${role}`);
        await raw(`GRANT SELECT ON ${historian.table} TO ${role}`);
      } else if (database.dialect === "mysql") {
        await raw(`CREATE USER '${role}'@'127.0.0.1'`);
        await raw(`GRANT SELECT ON test.${historian.table} TO '${role}'@'127.0.0.1'`);
      }
    });
    afterAll(async () => {
      if (database.dialect === "postgres") {
        await raw(`DROP OWNED BY ${role}`).catch(() => {});
        await raw(`DROP ROLE IF EXISTS ${role}`);
      } else if (database.dialect === "mysql") {
        await raw(`DROP USER IF EXISTS '${role}'@'127.0.0.1'`);
      }
      await raw(`DROP TABLE IF EXISTS ${historian.table}`);
      await raw(`DROP TABLE IF EXISTS ${prefix}_events`);
      await admin.close();
    });

    const clients: Database.Database[] = [];
    afterAll(() => {
      for (const client of clients) client.close();
    });
    function readOnlyAdapter(writeUrl?: string) {
      const options = writeUrl === undefined ? {} : { writeUrl };
      if (database.dialect === "sqlite") {
        const client = new Database(file, { readonly: true });
        clients.push(client);
        return sql({ dialect: "sqlite", client, name: "reader", ...options });
      }
      return sql({ url: readOnlyUrl, name: "reader", ...options });
    }
    function speedTag(db: ReturnType<typeof sql>): BoundTag<SqlAddress> {
      const source = db.narrow(historian, "speed");
      const tags = defineTags({ speed: float({ source, write: { range: [0, 2000] } }) });
      return { name: "speed", definition: tags.speed, address: source.address };
    }

    it("the read-only role reads but cannot write", async () => {
      const db = readOnlyAdapter();
      await db.connect();
      const result = await db.write(speedTag(db), 100);
      expect(result.outcome).toBe("failed");
      expect(result.error?.message).toMatch(/denied|readonly|read-only|command denied/i);
      const [sample] = await db.read([speedTag(db)]);
      expect(sample?.reason).toBe("not-read-yet");
      await db.close();
      expect(Number(Object.values((await raw(`SELECT COUNT(*) AS c FROM ${historian.table}`))[0] as object)[0])).toBe(
        0,
      );
    });

    it("writes through separate write credentials while reading with the read-only role", async () => {
      const db = readOnlyAdapter(database.url);
      await db.connect();
      expect((await db.write(speedTag(db), 321.5)).outcome).toBe("written");
      const [sample] = await db.read([speedTag(db)]);
      expect(sample?.value).toBe(321.5);
      expect(sample?.quality).toBe("good");
      await db.close();
    });

    it("cuts a slow statement at the statement timeout with a TimeoutError, and stays usable", async (context) => {
      if (database.dialect === "sqlite") {
        // better-sqlite3 cannot interrupt a running statement; its statement timeout is the busy timeout: a writer
        // waiting for a lock held elsewhere gives up with a TimeoutError.
        const holder = new Database(file);
        holder.exec("BEGIN IMMEDIATE");
        const db = sql({
          url: database.url,
          name: "busy",
          statementTimeoutMs: 200,
          templates: { samples: { table: historian.table, columns: ["tag", "time", "value"] } },
        });
        await db.connect();
        await expect(db.insert("samples", [{ tag: "x", time: Date.now(), value: 1 }])).rejects.toSatisfy(
          TimeoutError.isInstance,
        );
        holder.exec("ROLLBACK");
        holder.close();
        await db.insert("samples", [{ tag: "x", time: Date.now(), value: 1 }]);
        await db.close();
        context.annotate("SQLite: busy timeout (a running statement cannot be interrupted by better-sqlite3)");
        return;
      }
      const slowSql =
        database.dialect === "postgres"
          ? "SELECT 1 AS done FROM (SELECT pg_sleep(:seconds)) AS slow"
          : "SELECT SLEEP(:seconds) AS done";
      const db = sql({
        url: database.url,
        name: "slow",
        statementTimeoutMs: 300,
        poolSize: 1,
        queries: {
          slow: {
            sql: slowSql,
            parameters: z.object({ seconds: z.number().max(10) }),
            columns: z.object({ done: z.number() }),
          },
        },
      });
      await db.connect();
      const error = await db.query("slow", { seconds: 5 }).catch((caught: unknown) => caught);
      expect(TimeoutError.isInstance(error), String(error)).toBe(true);
      expect((error as TimeoutError).timeoutMs).toBe(300);
      expect(await db.query("slow", { seconds: 0 })).toEqual([{ done: database.dialect === "postgres" ? 1 : 0 }]);
      await db.close();
    });
  });
}
