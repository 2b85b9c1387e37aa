/**
 * SQL timestamps as "datetime" tags, in a wide batch-record layout (one row per batch step: its time, a temperature,
 * when the batch started, as the database's own timestamp type). Run in a zone away from UTC, so a timestamp read
 * as local time instead of UTC would show.
 */
import { dateTime, defineTags, float, type Sample } from "plantwire";
import { type SqlAddress, sql } from "plantwire/sql";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { execRaw, testDatabases, uniqueSuffix } from "./sql-databases.js";

const databases = await testDatabases();
const base = Date.UTC(2026, 2, 10, 6, 0, 0, 250);
const started = [Date.UTC(2026, 2, 10, 5, 30), Date.UTC(2026, 2, 10, 6, 1, 0, 500)];
const zone = process.env.TZ;
beforeAll(() => {
  process.env.TZ = "America/New_York";
});
afterAll(() => {
  if (zone === undefined) delete process.env.TZ;
  else process.env.TZ = zone;
});

for (const database of databases) {
  describe.skipIf(database.skipReason !== undefined)(`datetime tags on ${database.label}`, () => {
    const table = `pwdt_${uniqueSuffix()}`;
    const db = sql({
      url: database.url,
      name: "batches",
      templates: { steps: { table, columns: ["ts", "temperature", "started"] } },
    });
    const mapping = { table, timeColumn: "ts" };
    const tags = defineTags({
      temperature: float({ source: db.wide(mapping, "temperature") }),
      started: dateTime({ source: db.wide(mapping, "started") }),
    });
    // SQLite: plantwire binds a Date as epoch milliseconds, so an INTEGER column; ISO text is tested below.
    const stampType = database.timeType;

    beforeAll(async () => {
      await db.connect();
      await execRaw(
        database.dialect,
        db.getInstance(),
        `CREATE TABLE ${table} (ts ${database.timeType} NOT NULL, temperature DOUBLE PRECISION, started ${stampType})`,
      );
      await db.insert(
        "steps",
        Array.from({ length: 4 }, (_, index) => ({
          ts: new Date(base + index * 1000),
          temperature: 60 + index,
          started: new Date(started[index < 2 ? 0 : 1] as number),
        })),
      );
    });
    afterAll(async () => {
      await execRaw(database.dialect, db.getInstance(), `DROP TABLE IF EXISTS ${table}`).catch(() => {});
      await db.close();
    });

    it("reads the latest timestamp as a Date at the stored instant", async () => {
      const [, sample] = await db.read([
        { name: "temperature", definition: tags.temperature, address: tags.temperature.source.address as SqlAddress },
        { name: "started", definition: tags.started, address: tags.started.source.address as SqlAddress },
      ]);
      expect(sample?.quality).toBe("good");
      expect(sample?.value).toBeInstanceOf(Date);
      expect((sample?.value as Date | undefined)?.getTime()).toBe(started[1]);
    });

    it("reads timestamps in raw and last-per-bucket windows", async () => {
      const raw = await db.history({ started: tags.started }, base, base + 4000);
      expect(raw.series("started").map((sample) => (sample.value as Date).getTime())).toEqual([
        started[0],
        started[0],
        started[1],
        started[1],
      ]);
      const last = await db.history({ started: tags.started }, base, base + 4000, { bucket: "2s", aggregate: "last" });
      expect((last.series("started") as Sample<Date>[]).map((sample) => sample.value?.getTime())).toEqual(started);
      await expect(db.history({ started: tags.started }, base, base + 4000, { bucket: "2s" })).rejects.toThrow(
        /numeric/,
      );
    });

    it.skipIf(database.dialect !== "sqlite")(
      "reads SQLite's zoneless text as UTC and refuses text that is no time (SQLite only: the other databases have typed timestamps)",
      async () => {
        const text = sql({ url: database.url, name: "text" });
        const textTags = defineTags({ started: dateTime({ source: text.wide(mapping, "started") }) });
        await text.connect();
        try {
          await execRaw(
            database.dialect,
            text.getInstance(),
            `INSERT INTO ${table} (ts, temperature, started) VALUES (${base + 10_000}, 1, '2026-03-10 05:30:00.000')`,
          );
          const [sample] = await text.read([
            { name: "started", definition: textTags.started, address: textTags.started.source.address as SqlAddress },
          ]);
          expect((sample?.value as Date | undefined)?.getTime()).toBe(started[0]);
          await execRaw(
            database.dialect,
            text.getInstance(),
            `INSERT INTO ${table} (ts, temperature, started) VALUES (${base + 20_000}, 1, 'next tuesday')`,
          );
          const [bad] = await text.read([
            { name: "started", definition: textTags.started, address: textTags.started.source.address as SqlAddress },
          ]);
          expect([bad?.quality, bad?.reason]).toEqual(["bad", "type-mismatch"]);
        } finally {
          await text.close();
        }
      },
    );
  });
}
