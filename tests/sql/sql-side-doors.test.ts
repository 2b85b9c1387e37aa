/**
 * T20 over SQL, on SQLite and the real PostgreSQL and MariaDB: the general insert and sinks refuse the table of a
 * writable tag source (a narrow historian table: a row there is a tag write), compared as the dialect compares table
 * names, and leave the row count unchanged; the guard's tag write still works; row outputs check columns, deliver
 * one committed row per send and refuse a writable tag's table at creation. The adapter and each row output keep
 * frozen copies of the templates and queries they were given, so changing those objects later moves no row.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfigError, createGuard, createPlant, defineTags, float, ValidationError } from "plantwire";
import { createPlantwireSchema, plantwireEventsTemplate, plantwireHistorian, sql } from "plantwire/sql";
import { memoryAdapter } from "plantwire/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { execRaw, testDatabases, uniqueSuffix, viaPort } from "./sql-databases.js";

const databases = await testDatabases();

/** The schema a qualified name of the test table uses in each dialect. */
const schemaOf = { sqlite: "main", postgres: "public", mysql: "test" } as const;

for (const database of databases) {
  describe.skipIf(database.skipReason !== undefined)(`no side doors over SQL on ${database.label}`, () => {
    const prefix = `pwsd_${uniqueSuffix()}`;
    const historian = plantwireHistorian(prefix);
    const events = plantwireEventsTemplate(prefix);
    const columns = ["tag", "time", "value"] as const;
    const templates = {
      samples: { table: historian.table, columns },
      shouted: { table: historian.table.toUpperCase(), columns },
      qualified: { table: `${schemaOf[database.dialect]}.${historian.table}`, columns },
      events,
    };
    const db = sql({ url: database.url, name: "historian", templates });
    const tags = defineTags({
      speed: float({
        unit: "rpm",
        source: db.narrow(historian, "speed"),
        write: { range: [600, 1500], approval: "automatic", automaticRange: [600, 1500] },
      }),
    });
    const raw = (text: string) => execRaw(database.dialect, db.getInstance(), text);
    const count = async (table: string) =>
      Number(Object.values((await raw(`SELECT COUNT(*) AS c FROM ${table}`))[0] as object)[0]);
    const sample = (value: number) => ({ tag: "speed", time: new Date(), value });
    const [notes, orders] = [`${prefix}_notes`, `${prefix}_orders`];

    beforeAll(async () => {
      await createPlantwireSchema({ url: database.url, prefix });
      await db.connect();
    });
    afterAll(async () => {
      for (const table of [historian.table, events.table, notes, orders])
        await raw(`DROP TABLE IF EXISTS ${table}`).catch(() => {});
      await db.close();
    });

    it("refuses an insert or a sink into a writable tag's table, naming it; the row count is unchanged", async () => {
      const before = await count(historian.table);
      const error = await db.insert("samples", [sample(1790)]).then(
        () => undefined,
        (thrown: unknown) => thrown,
      );
      expect(ConfigError.isInstance(error)).toBe(true);
      expect((error as Error).message).toContain(`"${historian.table}"`);
      expect((error as Error).message).toContain("write guard");
      // The same table under another spelling: schema-qualified always, upper case where the dialect folds it.
      await expect(db.insert("qualified", [sample(1790)])).rejects.toSatisfy(ConfigError.isInstance);
      if (database.dialect === "postgres") {
        // plantwire quotes identifiers, and quoted names are case-sensitive in PostgreSQL: another table.
        expect(() => db.rowOutput("shouted")).not.toThrow();
      } else {
        await expect(db.insert("shouted", [sample(1790)])).rejects.toSatisfy(ConfigError.isInstance);
      }
      expect(() => db.sink("samples")).toThrow(ConfigError);
      expect(() => db.rowOutput("samples")).toThrow(ConfigError);
      expect(await count(historian.table)).toBe(before);
    });

    it("refuses a sink's batch when a writable source was declared on its table after the sink was made", async () => {
      const late = sql({ url: database.url, name: "late", templates: { samples: templates.samples } });
      await late.connect();
      try {
        const before = await count(historian.table);
        const sink = late.sink("samples", { flushIntervalMs: 60_000, onError: () => {} });
        late.narrow(historian, "other");
        sink.push(sample(1790));
        await expect(sink.flush()).rejects.toSatisfy(ConfigError.isInstance);
        expect(sink.written).toBe(0);
        expect(await count(historian.table)).toBe(before);
      } finally {
        await late.close();
      }
    });

    it("keeps the guard's own tag write working on the same adapter", async () => {
      const folder = mkdtempSync(join(tmpdir(), "plantwire-sql-side-doors-"));
      const plant = createPlant({ tags });
      const guard = createGuard({ plant, audit: join(folder, "audit.jsonl"), mode: "automatic" });
      try {
        const before = await count(historian.table);
        const [proposal] = await guard.propose({ speed: 1200 }, { reason: "side-door test" });
        expect(proposal?.state, JSON.stringify(proposal?.verdicts)).toBe("executed");
        expect(proposal?.outcome).toMatchObject({ write: "written", readBack: "verified" });
        expect(await count(historian.table)).toBe(before + 1);
      } finally {
        await guard.close();
        rmSync(folder, { recursive: true, force: true });
      }
    });

    it("delivers one committed row per send through a row output, checking columns and values", async () => {
      const output = db.rowOutput("events");
      expect(output.kind).toBe("row");
      expect(output.label).toBe(`sql historian → ${events.table} (template events)`);
      // The table's device identity, for one-writer locks: never a user name or password.
      const server =
        database.dialect === "sqlite" ? database.url.slice("sqlite:".length) : `127.0.0.1:${database.port}/test`;
      expect(output.device).toBe(`${database.dialect}://${server}/${events.table}`);
      const row = { time: new Date(), source: "alarm-explainer", kind: "explanation", message: "dry running" };
      expect(output.check(row)).toEqual([]);
      expect(output.size(row)).toBe(Buffer.byteLength(JSON.stringify(row)));
      expect(output.check({ ...row, speed: 1790 }).join()).toContain('unknown column "speed"');
      expect(output.check({ ...row, message: { nested: true } }).length).toBe(1);
      expect(output.check([row]).length).toBe(1);
      const before = await count(events.table);
      await expect(output.send({ ...row, speed: 1790 } as never)).rejects.toSatisfy(ValidationError.isInstance);
      expect(await count(events.table)).toBe(before);
      await output.send(row);
      expect(await count(events.table)).toBe(before + 1);
      const [stored] = await raw(`SELECT message FROM ${events.table} WHERE kind = 'explanation'`);
      expect(Object.values(stored as object)[0]).toBe("dry running");
    });

    it("keeps the templates and queries it was given: changing them after the guard is made moves no row", async () => {
      for (const table of [notes, orders]) await raw(`CREATE TABLE ${table} (message VARCHAR(200))`);
      const given = {
        url: database.url,
        name: "copied",
        templates: { notes: { table: notes, columns: ["message"] } },
        queries: {
          notes: {
            sql: `SELECT COUNT(*) AS c FROM ${notes}`,
            parameters: z.object({}),
            columns: z.object({ c: z.coerce.number() }),
          },
        },
      };
      const copied = sql(given);
      const folder = mkdtempSync(join(tmpdir(), "plantwire-sql-copied-"));
      const drive = memoryAdapter({ name: "drive", values: { p: 6 } });
      const plant = createPlant({ tags: defineTags({ p: float({ source: drive.key("p") }) }), onError: () => {} });
      const audit = join(folder, "audit.jsonl");
      const output = copied.rowOutput("notes");
      const guard = createGuard({
        plant,
        audit,
        writable: [],
        deviceLocks: join(folder, "locks"),
        outputs: { notes: { channel: output } },
      });
      try {
        // The caller points every option at another table once the guard has audited and locked "notes".
        given.templates.notes.table = orders;
        given.templates.notes.columns.push("secret");
        given.queries.notes.sql = `SELECT COUNT(*) AS c FROM ${orders}`;
        given.url = database.dialect === "sqlite" ? "sqlite::memory:" : viaPort(database.url, 1);
        await copied.connect();
        expect(output.label).toBe(`sql copied → ${notes} (template notes)`);
        expect(guard.status().devices).toContain(output.device);
        expect(output.device.endsWith(`/${notes}`)).toBe(true);
        expect(output.check({ message: "x", secret: "y" }).join()).toContain('unknown column "secret"');
        const sent = await guard.send("notes", { message: "open valve 3" }, { reason: "side-door test" });
        expect(sent.state, JSON.stringify(sent.verdicts)).toBe("executed");
        // A later output, insert and query of the same adapter use the copies made at creation too.
        expect(copied.rowOutput("notes").label).toBe(output.label);
        await copied.insert("notes", [{ message: "second" }]);
        expect(await copied.query("notes", {})).toEqual([{ c: 2 }]);
        expect([await count(notes), await count(orders)]).toEqual([2, 0]);
        const attempt = readFileSync(audit, "utf8")
          .split("\n")
          .filter(Boolean)
          .map((line) => JSON.parse(line) as { type: string; channel?: string })
          .find((record) => record.type === "attempt");
        expect(attempt?.channel).toBe(output.label);
      } finally {
        await guard.close();
        await copied.close();
        rmSync(folder, { recursive: true, force: true });
      }
    });
  });
}
