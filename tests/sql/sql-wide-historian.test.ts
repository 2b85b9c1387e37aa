/**
 * A wide historian as loggers write it: one row per instant, a column per tag, monthly tables (found by name pattern,
 * or through a partition index table), a quality code for the whole row and one per tag (`speed_q`), and NULL cells
 * where the logger had no value. Windows cross a partition boundary; the newest month's table is still empty, so the
 * latest row sits in an older partition; buckets with rows but none good are bad with their count, partly bad ones
 * uncertain; code tables, ranges and functions map the codes. On SQLite, PostgreSQL and MariaDB, with each
 * dialect's own time column type.
 */
import { ConfigError, defineTags, float, parseTagMap, type Sample } from "plantwire";
import { type QualityRule, type SqlAddress, sql, type WideTableMapping } from "plantwire/sql";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { execRaw, testDatabases, uniqueSuffix } from "./sql-databases.js";

const databases = await testDatabases();
const minute = 60_000;
const boundary = Date.UTC(2026, 1, 1); // 2026-02-01, where the January table ends
const columns = ["t_stamp", "quality_code", "speed", "speed_q", "level", "level_q"] as const;
type Row = [time: number, rowCode: number, speed: number, speedCode: number, level: number | null, levelCode: number];

// January 23:00–23:50 all good. February 00:00–00:20: the row's code is bad (the logger lost the device);
// 00:30 level is NULL; 00:40 speed's own code is 24 (a sensor fault) while the row is good.
const rows: Row[] = [
  ...Array.from({ length: 6 }, (_, i): Row => [boundary - 60 * minute + i * 10 * minute, 192, 10 + i, 192, 1 + i, 192]),
  [boundary, 0, 20, 192, 2, 192],
  [boundary + 10 * minute, 0, 21, 192, 2, 192],
  [boundary + 20 * minute, 0, 22, 192, 2, 192],
  [boundary + 30 * minute, 192, 23, 192, null, 192],
  [boundary + 40 * minute, 192, 24, 24, 5, 192],
  [boundary + 50 * minute, 192, 25, 192, 6, 192],
];

for (const database of databases) {
  describe.skipIf(database.skipReason !== undefined)(`a partitioned wide historian on ${database.label}`, () => {
    const p = `pwwide_${uniqueSuffix()}`;
    const [jan, feb, mar] = ["01", "02", "03"].map((month) => `${p}_2026_${month}`) as [string, string, string];
    const admin = sql({
      url: database.url,
      name: "admin",
      templates: Object.fromEntries([jan, feb].map((table) => [table, { table, columns: [...columns] }])),
    });
    const run = (text: string) => execRaw(database.dialect, admin.getInstance(), text);

    beforeAll(async () => {
      await admin.connect();
      for (const table of [jan, feb, mar]) {
        await run(
          `CREATE TABLE ${table} (t_stamp ${database.timeType} NOT NULL, quality_code INTEGER, speed DOUBLE PRECISION, speed_q INTEGER, level DOUBLE PRECISION, level_q INTEGER)`,
        );
      }
      for (const [time, ...values] of rows) {
        const row = Object.fromEntries(columns.map((column, index) => [column, values[index - 1] ?? null]));
        await admin.insert(time < boundary ? jan : feb, [{ ...row, t_stamp: new Date(time) }]);
      }
      await run(`CREATE TABLE ${p}_parts (pname VARCHAR(100), start_time BIGINT, end_time BIGINT)`);
      const spans = [jan, feb, mar].map(
        (table, month) => `('${table}', ${Date.UTC(2026, month)}, ${Date.UTC(2026, month + 1)})`,
      );
      await run(`INSERT INTO ${p}_parts VALUES ${spans.join(", ")}`);
    });
    afterAll(async () => {
      for (const table of [jan, feb, mar, `${p}_parts`]) await run(`DROP TABLE IF EXISTS ${table}`).catch(() => {});
      await admin.close();
    });

    const monthly = { tables: `${p}_{yyyy}_{mm}` };
    const indexed = { indexTable: `${p}_parts`, nameColumn: "pname", startColumn: "start_time", endColumn: "end_time" };

    async function open(mapping: WideTableMapping) {
      const db = sql({ url: database.url, name: "historian" });
      const tags = defineTags({
        speed: float({ source: db.wide(mapping, "speed") }),
        level: float({ source: db.wide(mapping, "level") }),
      });
      await db.connect();
      return { db, tags };
    }
    const base = (partitions: WideTableMapping["partitions"]): WideTableMapping => ({
      table: `${p}_data`,
      timeColumn: "t_stamp",
      qualityColumn: "quality_code",
      quality: { good: [192] },
      ...(partitions ? { partitions } : {}),
    });
    const window = (from: number, to: number) => [boundary + from * minute, boundary + to * minute] as const;
    const shown = (series: readonly Sample[]) =>
      series.map((sample) => [sample.sourceTime, sample.value, sample.quality, sample.detail]);

    for (const [label, partitions] of [
      ["monthly tables", monthly],
      ["a partition index table", indexed],
    ] as const) {
      it(`buckets across the partition boundary through ${label}: row codes, per-tag codes and NULL cells`, async () => {
        const { db, tags } = await open({ ...base(partitions), tagQualityColumn: "{column}_q" });
        try {
          const averages = await db.history(tags, ...window(-60, 60), { bucket: "30m", aggregate: "avg" });
          expect(shown(averages.series("speed"))).toEqual([
            [boundary - 60 * minute, 11, "good", undefined],
            [boundary - 30 * minute, 14, "good", undefined],
            [boundary, undefined, "bad", "bucket of 3 rows, none good (historian quality)"],
            [boundary + 30 * minute, 24, "uncertain", "bucket of 3 rows: 2 good, 0 uncertain, 1 bad"],
          ]);
          expect(shown(averages.series("level")).slice(2)).toEqual([
            [boundary, undefined, "bad", "bucket of 3 rows, none good (historian quality)"],
            [boundary + 30 * minute, 5.5, "uncertain", "bucket of 3 rows: 2 good, 0 uncertain, 1 bad"],
          ]);
          const last = await db.history(tags, ...window(-60, 60), { bucket: "30m", aggregate: "last" });
          expect(shown(last.series("speed")).map((row) => row.slice(1, 3))).toEqual([
            [12, "good"],
            [15, "good"],
            [undefined, "bad"],
            [25, "uncertain"],
          ]);
          const counts = await db.history(tags, ...window(-60, 60), { bucket: "1h", aggregate: "count" });
          expect(counts.series("speed").map((sample) => [sample.value, sample.quality])).toEqual([
            [6, "good"],
            [2, "uncertain"],
          ]);
          const raw = await db.history(tags, ...window(-15, 45));
          expect(raw.series("speed").map((sample) => [sample.sourceTime, sample.value, sample.quality])).toEqual([
            [boundary - 10 * minute, 15, "good"],
            [boundary, 20, "bad"],
            [boundary + 10 * minute, 21, "bad"],
            [boundary + 20 * minute, 22, "bad"],
            [boundary + 30 * minute, 23, "good"],
            [boundary + 40 * minute, 24, "bad"],
          ]);
          expect(raw.series("level")[4]).toMatchObject({ quality: "bad", sourceTime: boundary + 30 * minute });
        } finally {
          await db.close();
        }
      });

      it(`reads the latest row from the older partition through ${label} (the newest month is empty)`, async () => {
        const { db, tags } = await open({ ...base(partitions), tagQualityColumn: "{column}_q" });
        try {
          const bound = (["speed", "level"] as const).map((name) => ({
            name,
            definition: tags[name],
            address: tags[name].source.address as SqlAddress,
          }));
          const [speed, level] = await db.read(bound);
          expect([speed?.value, speed?.sourceTime, speed?.quality]).toEqual([25, boundary + 50 * minute, "good"]);
          expect([level?.value, level?.quality]).toEqual([6, "good"]);
          await admin.insert(feb, [
            {
              t_stamp: new Date(boundary + 55 * minute),
              quality_code: 192,
              speed: 26,
              speed_q: 8,
              level: 7,
              level_q: 192,
            },
          ]);
          const [faulted, fine] = await db.read(bound);
          expect([faulted?.value, faulted?.quality, faulted?.reason]).toEqual([26, "bad", "device-error"]);
          expect([fine?.value, fine?.quality]).toEqual([7, "good"]);
          await run(`DELETE FROM ${feb} WHERE speed = 26`);
        } finally {
          await db.close();
        }
      });
    }

    it("reads the row's code alone in one scan: a NULL cell still marks the bucket, other tags stay good", async () => {
      const { db, tags } = await open(base(monthly));
      try {
        const averages = await db.history(tags, ...window(0, 60), { bucket: "30m", aggregate: "avg" });
        expect(shown(averages.series("speed"))).toEqual([
          [boundary, undefined, "bad", "bucket of 3 rows, none good (historian quality)"],
          [boundary + 30 * minute, 24, "good", undefined],
        ]);
        expect(averages.series("level")[1]).toMatchObject({ value: 5.5, quality: "uncertain" });
        const maxima = await db.history(tags, ...window(-60, 60), { bucket: "1h", aggregate: "max" });
        expect(maxima.series("speed").map((sample) => [sample.value, sample.quality])).toEqual([
          [15, "good"],
          [25, "uncertain"],
        ]);
      } finally {
        await db.close();
      }
    });

    const byFunction: QualityRule = (code) => (Number(code) === 192 ? "good" : "bad");
    const rules: [string, QualityRule, string][] = [
      ["a code table", { good: [192], uncertain: [24] }, "2 good, 1 uncertain, 0 bad"],
      ["ranges", { good: [{ from: 192, to: 255 }], uncertain: [{ from: 1, to: 63 }] }, "2 good, 1 uncertain, 0 bad"],
      ["a function", byFunction, "2 good, 0 uncertain, 1 bad"],
    ];
    for (const [label, quality, detail] of rules) {
      it(`maps row and tag codes through ${label}`, async () => {
        const { db, tags } = await open({ ...base(indexed), tagQualityColumn: "{column}_q", quality });
        try {
          const window30 = await db.history({ speed: tags.speed }, ...window(30, 60), { bucket: "30m" });
          expect(window30.series("speed")[0]?.detail).toBe(`bucket of 3 rows: ${detail}`);
          const early = await db.history({ speed: tags.speed }, ...window(0, 30), { bucket: "30m" });
          // Row code 0 is bad under every one of these rules.
          expect(early.series("speed")[0]?.quality).toBe("bad");
        } finally {
          await db.close();
        }
      });
    }

    it("loads the layout from a YAML tag map and names a wrong quality column pattern", async () => {
      const db = sql({ url: database.url, name: "historian" });
      const map = await parseTagMap(
        `tags:
  speed: { type: float, source: { adapter: historian, column: speed, wide: { table: ${p}_data, timeColumn: t_stamp, qualityColumn: quality_code, tagQualityColumn: "{column}_q", quality: { good: [192] }, partitions: { tables: "${p}_{yyyy}_{mm}" } } } }
`,
        "yaml",
        { adapters: { historian: db } },
      );
      await db.connect();
      try {
        const window60 = await db.history({ speed: map.speed as ReturnType<typeof float> }, ...window(30, 60), {
          bucket: "30m",
        });
        expect(window60.series("speed")[0]).toMatchObject({ value: 24, quality: "uncertain" });
      } finally {
        await db.close();
      }
      const wrong = { table: "t", timeColumn: "ts", tagQualityColumn: "speed_q" };
      expect(() => db.wide(wrong, "speed")).toThrow(ConfigError);
      expect(() => db.wide(wrong, "speed")).toThrow(/tagQualityColumn/);
      expect(() =>
        db.wide({ table: "t", timeColumn: "ts", tagQualityColumn: `{column}_${"q".repeat(60)}` }, "speed"),
      ).toThrow(/not a plain SQL identifier/);
    });
  });
}
