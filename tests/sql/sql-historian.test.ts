/**
 * A SCADA historian as it stands: a tag table (path → ids, a retired id kept), rows in monthly partition tables (found
 * by name pattern, or through a partition index table), vendor quality codes mapped by a rule, numeric ids written
 * in YAML. Windows cross a partition boundary; a latest value sits in the older partition; buckets with rows but
 * none good are bad with their count, partly bad ones uncertain.
 */
import { defineTags, float, parseTagMap, type Sample } from "plantwire";
import { type SqlAddress, sql } from "plantwire/sql";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { execRaw, testDatabases, uniqueSuffix } from "./sql-databases.js";

const databases = await testDatabases();
const minute = 60_000;
const boundary = Date.UTC(2026, 1, 1); // 2026-02-01, where the January partition ends
const speedPath = "site/pump7/speed";
const statePath = "site/pump7/level";

for (const database of databases) {
  describe.skipIf(database.skipReason !== undefined)(`a partitioned historian on ${database.label}`, () => {
    const p = `pwhi_${uniqueSuffix()}`;
    const jan = `${p}_2026_01`;
    const feb = `${p}_2026_02`;
    const admin = sql({ url: database.url, name: "admin" });
    const run = (text: string) => execRaw(database.dialect, admin.getInstance(), text);
    const rows: [number, number, number, number][] = [];

    beforeAll(async () => {
      await admin.connect();
      await run(`CREATE TABLE ${p}_te (id INTEGER NOT NULL, tagpath VARCHAR(100) NOT NULL, retired BIGINT)`);
      // speed was edited on 2026-02-01: its old id 1 is retired, id 5 carries on. level keeps id 2.
      await run(
        `INSERT INTO ${p}_te (id, tagpath, retired) VALUES (1, '${speedPath}', ${boundary}), (5, '${speedPath}', NULL), (2, '${statePath}', NULL), (3, 'site/other', NULL)`,
      );
      for (const table of [jan, feb]) {
        await run(
          `CREATE TABLE ${table} (tagid INTEGER NOT NULL, t_stamp BIGINT NOT NULL, floatvalue DOUBLE PRECISION, dataintegrity INTEGER)`,
        );
      }
      // January, id 1: 23:00..23:50 every 10 min, all 192. level (id 2): one row at 22:00, nothing later.
      for (let i = 0; i < 6; i++) rows.push([1, boundary - 60 * minute + i * 10 * minute, 10 + i, 192]);
      rows.push([2, boundary - 120 * minute, 3.5, 192]);
      // February, id 5: 00:00..00:20 all bad (0, 300, 0); 00:30 192, 00:40 216 (a vendor "good, overridden"), 00:50 192.
      const feb5: [number, number][] = [
        [0, 0],
        [10, 300],
        [20, 0],
        [30, 192],
        [40, 216],
        [50, 192],
      ];
      for (const [offset, code] of feb5) rows.push([5, boundary + offset * minute, 20 + offset / 10, code]);
      for (const [id, time, value, code] of rows) {
        await run(
          `INSERT INTO ${time < boundary ? jan : feb} (tagid, t_stamp, floatvalue, dataintegrity) VALUES (${id}, ${time}, ${value}, ${code})`,
        );
      }
      await run(`CREATE TABLE ${p}_parts (pname VARCHAR(100), start_time BIGINT, end_time BIGINT)`);
      await run(
        `INSERT INTO ${p}_parts VALUES ('${jan}', ${Date.UTC(2026, 0, 1)}, ${boundary}), ('${feb}', ${boundary}, ${Date.UTC(2026, 2, 1)})`,
      );
    });
    afterAll(async () => {
      for (const table of [`${p}_te`, jan, feb, `${p}_parts`])
        await run(`DROP TABLE IF EXISTS ${table}`).catch(() => {});
      await admin.close();
    });

    const mappingYaml = (partitions: string, quality: string) =>
      `{ table: ${p}_data, tagColumn: tagid, timeColumn: t_stamp, valueColumn: floatvalue, qualityColumn: dataintegrity, timeType: epochMilliseconds, tagTable: { table: ${p}_te, idColumn: id, pathColumn: tagpath }, partitions: ${partitions}${quality} }`;
    const monthly = `{ tables: "${p}_{yyyy}_{mm}" }`;
    const indexed = `{ indexTable: ${p}_parts, nameColumn: pname, startColumn: start_time, endColumn: end_time }`;
    const strict = ", quality: { good: [192] }";

    async function open(partitions: string, quality: string) {
      const db = sql({ url: database.url, name: "historian" });
      const map = await parseTagMap(
        `tags:
  speed: { type: float, source: { adapter: historian, narrow: ${mappingYaml(partitions, quality)}, tag: "${speedPath}" } }
  level: { type: float, source: { adapter: historian, narrow: ${mappingYaml(partitions, quality)}, tag: "${statePath}" } }
`,
        "yaml",
        { adapters: { historian: db } },
      );
      await db.connect();
      return {
        db,
        tags: defineTags({
          speed: map.speed as ReturnType<typeof float>,
          level: map.level as ReturnType<typeof float>,
        }),
      };
    }

    for (const [label, partitions] of [
      ["monthly tables", monthly],
      ["a partition index table", indexed],
    ] as const) {
      it(`buckets across the partition boundary through ${label}, marking bad and partly bad buckets`, async () => {
        const { db, tags } = await open(partitions, strict);
        try {
          const window = await db.history({ speed: tags.speed }, boundary - 60 * minute, boundary + 60 * minute, {
            bucket: "30m",
            aggregate: "avg",
          });
          const series = window.series("speed") as Sample<number>[];
          expect(series.map((sample) => [sample.sourceTime, sample.quality])).toEqual([
            [boundary - 60 * minute, "good"],
            [boundary - 30 * minute, "good"],
            [boundary, "bad"],
            [boundary + 30 * minute, "uncertain"],
          ]);
          expect(series.map((sample) => sample.value)).toEqual([11, 14, undefined, 24]);
          expect(series[2]?.detail).toBe("bucket of 3 rows, none good (historian quality)");
          expect(series[3]?.detail).toBe("bucket of 3 rows: 2 good, 0 uncertain, 1 bad");
          const counts = await db.history({ speed: tags.speed }, boundary - 60 * minute, boundary + 60 * minute, {
            bucket: "1h",
            aggregate: "count",
          });
          expect(counts.series("speed").map((sample) => [sample.value, sample.quality])).toEqual([
            [6, "good"],
            [2, "uncertain"],
          ]);
          const raw = await db.history({ speed: tags.speed }, boundary - 15 * minute, boundary + 15 * minute);
          expect(raw.series("speed").map((sample) => [sample.sourceTime, sample.value, sample.quality])).toEqual([
            [boundary - 10 * minute, 15, "good"],
            [boundary, 20, "bad"],
            [boundary + 10 * minute, 21, "bad"],
          ]);
        } finally {
          await db.close();
        }
      });

      it(`reads the latest value of each path through ${label}, one in the older partition`, async () => {
        const { db, tags } = await open(partitions, strict);
        try {
          const [speed, level] = await db.read([
            { name: "speed", definition: tags.speed, address: tags.speed.source.address as SqlAddress },
            { name: "level", definition: tags.level, address: tags.level.source.address as SqlAddress },
          ]);
          expect([speed?.value, speed?.sourceTime, speed?.quality]).toEqual([25, boundary + 50 * minute, "good"]);
          expect([level?.value, level?.sourceTime, level?.quality]).toEqual([3.5, boundary - 120 * minute, "good"]);
        } finally {
          await db.close();
        }
      });
    }

    it("reads OPC DA quality bytes by default: 216 good, a vendor code of 300 bad", async () => {
      const { db, tags } = await open(monthly, "");
      try {
        const window = await db.history({ speed: tags.speed }, boundary, boundary + 60 * minute);
        expect(window.series("speed").map((sample) => sample.quality)).toEqual([
          "bad",
          "bad",
          "bad",
          "good",
          "good",
          "good",
        ]);
      } finally {
        await db.close();
      }
    });

    it("accepts numeric ids written in YAML, and a function rule", async () => {
      const db = sql({ url: database.url, name: "historian" });
      const map = await parseTagMap(
        `tags:
  speed: { type: float, source: { adapter: historian, narrow: { table: ${feb}, tagColumn: tagid, timeColumn: t_stamp, valueColumn: floatvalue, qualityColumn: dataintegrity, timeType: epochMilliseconds }, tag: 5 } }
`,
        "yaml",
        { adapters: { historian: db } },
      );
      expect(map.speed?.source.address).toMatchObject({ kind: "narrow", tag: 5 });
      const ruled = db.narrow(
        {
          table: feb,
          tagColumn: "tagid",
          timeColumn: "t_stamp",
          valueColumn: "floatvalue",
          qualityColumn: "dataintegrity",
          timeType: "epochMilliseconds",
          quality: (code) => (Number(code) === 300 ? "uncertain" : "bad"),
        },
        5,
      );
      await db.connect();
      try {
        const tags = defineTags({ speed: map.speed as ReturnType<typeof float>, ruled: float({ source: ruled }) });
        const window = await db.history(tags, boundary, boundary + 30 * minute);
        expect(window.series("speed").map((sample) => sample.value)).toEqual([20, 21, 22]);
        expect(window.series("ruled").map((sample) => sample.quality)).toEqual(["bad", "uncertain", "bad"]);
      } finally {
        await db.close();
      }
    });

    it("fails connect() when the tag table cannot be read, and reads an unknown path as a config error", async () => {
      const broken = sql({ url: database.url, name: "historian" });
      broken.narrow(
        {
          table: feb,
          tagColumn: "tagid",
          timeColumn: "t_stamp",
          valueColumn: "floatvalue",
          tagTable: { table: `${p}_missing`, idColumn: "id", pathColumn: "tagpath" },
        },
        speedPath,
      );
      await expect(broken.connect()).rejects.toSatisfy(
        (error: unknown) => error instanceof Error && /missing/.test(error.message),
      );
      expect(broken.status().state).toBe("disconnected");
      const db = sql({ url: database.url, name: "historian" });
      const ghost = float({
        source: db.narrow(
          {
            table: feb,
            tagColumn: "tagid",
            timeColumn: "t_stamp",
            valueColumn: "floatvalue",
            timeType: "epochMilliseconds",
            tagTable: { table: `${p}_te`, idColumn: "id", pathColumn: "tagpath" },
          },
          "site/nowhere",
        ),
      });
      await db.connect();
      try {
        const [sample] = await db.read([
          { name: "ghost", definition: ghost, address: ghost.source.address as SqlAddress },
        ]);
        expect([sample?.quality, sample?.reason]).toEqual(["bad", "config-error"]);
        await expect(db.history({ ghost }, boundary, boundary + minute)).rejects.toThrow(/site\/nowhere/);
      } finally {
        await db.close();
      }
    });
  });
}
