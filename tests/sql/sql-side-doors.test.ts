/**
 * T20 over SQL, on SQLite and the real PostgreSQL and MariaDB: the general insert and sinks refuse the table of a
 * writable tag source (a narrow historian table: a row there is a tag write), compared as the dialect compares table
 * names, and leave the row count unchanged; the guard's tag write still works; row outputs check columns, deliver
 * one committed row per send and refuse a writable tag's table at creation.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfigError, createGuard, createPlant, defineTags, float, ValidationError } from "plantwire";
import { createPlantwireSchema, plantwireEventsTemplate, plantwireHistorian, sql } from "plantwire/sql";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { execRaw, testDatabases, uniqueSuffix } from "./sql-databases.js";

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

    beforeAll(async () => {
      await createPlantwireSchema({ url: database.url, prefix });
      await db.connect();
    });
    afterAll(async () => {
      for (const table of [historian.table, events.table]) await raw(`DROP TABLE IF EXISTS ${table}`).catch(() => {});
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
  });
}
