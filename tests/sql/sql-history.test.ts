/**
 * Windows: bucketed aggregates computed in SQL over 1M rows generated in SQL match the same aggregates computed in
 * JS from the same generating formula; raw windows, wide tables and the row cap behave.
 */
import { defineTags, float, type Sample, ValidationError } from "plantwire";
import { type SqlAggregate, sql } from "plantwire/sql";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { execRaw, testDatabases, uniqueSuffix } from "./sql-databases.js";

const databases = await testDatabases();
// 1M rows on SQLite (in memory, fast); 200k on the servers, which share this small machine with other suites.
const rowCounts = { sqlite: 1_000_000, postgres: 200_000, mariadb: 200_000 } as const;
const tagCount = 4;
const stepMs = 250;
const base = Date.UTC(2026, 0, 1);
const bucketMs = 3_600_000;
// Off the 250 ms grid, so no row sits exactly on a bucket edge.
const from = base + 1234;
const toFor = (rowCount: number) => base + rowCount * stepMs - 5017;

/** The generating formula, shared by SQL and JS: row n is tag t(n % 4), value ((n * 7919) % 10007) / 7. */
const generatedValue = (n: number) => ((n * 7919) % 10007) / 7;
const isBad = (n: number) => n % 97 === 0;

function expected(aggregate: SqlAggregate, rowCount: number): Map<string, Map<number, number>> {
  const to = toFor(rowCount);
  const result = new Map<string, Map<number, { sum: number; count: number; min: number; max: number; last: number }>>();
  for (let n = 0; n < rowCount; n++) {
    const time = base + n * stepMs;
    if (time < from || time >= to || isBad(n)) continue;
    const tag = `t${n % tagCount}`;
    const bucket = Math.floor((time - from) / bucketMs);
    const buckets = result.get(tag) ?? new Map();
    result.set(tag, buckets);
    const value = generatedValue(n);
    const entry = buckets.get(bucket);
    if (!entry) buckets.set(bucket, { sum: value, count: 1, min: value, max: value, last: value });
    else {
      entry.sum += value;
      entry.count++;
      entry.min = Math.min(entry.min, value);
      entry.max = Math.max(entry.max, value);
      entry.last = value;
    }
  }
  const pick = (entry: { sum: number; count: number; min: number; max: number; last: number }) =>
    aggregate === "avg" ? entry.sum / entry.count : aggregate === "count" ? entry.count : entry[aggregate];
  return new Map(
    [...result].map(([tag, buckets]) => [tag, new Map([...buckets].map(([bucket, entry]) => [bucket, pick(entry)]))]),
  );
}

/** The buckets of each tag holding a bad row: shown uncertain, their aggregate over the good rows only. */
function partlyBad(rowCount: number): Map<string, Map<number, number>> {
  const to = toFor(rowCount);
  const result = new Map<string, Map<number, number>>();
  for (let n = 0; n < rowCount; n += 97) {
    const time = base + n * stepMs;
    if (time < from || time >= to) continue;
    const tag = `t${n % tagCount}`;
    const buckets = result.get(tag) ?? new Map<number, number>();
    const bucket = Math.floor((time - from) / bucketMs);
    result.set(tag, buckets.set(bucket, (buckets.get(bucket) ?? 0) + 1));
  }
  return result;
}

function generateSql(dialect: string, table: string, rowCount: number): string {
  if (dialect === "sqlite") {
    return `INSERT INTO ${table} (tag, time, value, quality) WITH RECURSIVE s(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM s WHERE n < ${rowCount - 1}) SELECT 't' || (n % ${tagCount}), ${base} + n * ${stepMs}, ((n * 7919) % 10007) / 7.0, CASE WHEN n % 97 = 0 THEN 0 ELSE 192 END FROM s`;
  }
  if (dialect === "postgres") {
    return `INSERT INTO ${table} (tag, time, value, quality) SELECT 't' || (n % ${tagCount}), timestamptz 'epoch' + (${base}::bigint + n * ${stepMs}) * interval '1 millisecond', ((n::bigint * 7919) % 10007)::float8 / 7, CASE WHEN n % 97 = 0 THEN 0 ELSE 192 END FROM generate_series(0, ${rowCount - 1}) AS n`;
  }
  return `INSERT INTO ${table} (tag, time, value, quality) SELECT CONCAT('t', seq % ${tagCount}), FROM_UNIXTIME((${base} + seq * ${stepMs}) / 1000), ((seq * 7919) % 10007) / 7e0, CASE WHEN seq % 97 = 0 THEN 0 ELSE 192 END FROM seq_0_to_${rowCount - 1}`;
}

for (const database of databases) {
  describe.skipIf(database.skipReason !== undefined)(`sql history on ${database.label}`, () => {
    const rowCount = rowCounts[database.label];
    const to = toFor(rowCount);
    const table = `pwh_${uniqueSuffix()}`;
    const wideTable = `${table}_wide`;
    // SQLite in memory: the same engine, without the file cache dominating a 1M-row test.
    const url = database.dialect === "sqlite" ? "sqlite::memory:" : database.url;
    const db = sql({ url, name: "history", statementTimeoutMs: 60_000, rowCap: 50_000 });
    const mapping = {
      table,
      tagColumn: "tag",
      timeColumn: "time",
      valueColumn: "value",
      qualityColumn: "quality",
    } as const;
    const tags = defineTags({
      t0: float({ source: db.narrow(mapping, "t0") }),
      t1: float({ source: db.narrow(mapping, "t1") }),
      t2: float({ source: db.narrow(mapping, "t2") }),
      t3: float({ source: db.narrow(mapping, "t3") }),
    });

    beforeAll(async () => {
      await db.connect();
      const run = (text: string) => execRaw(database.dialect, db.getInstance(), text);
      await run(
        `CREATE TABLE ${table} (tag VARCHAR(20) NOT NULL, time ${database.timeType} NOT NULL, value DOUBLE PRECISION, quality SMALLINT)`,
      );
      await run(generateSql(database.dialect, table, rowCount));
      await run(`CREATE INDEX ${table}_tag_time ON ${table} (tag, time)`);
      await run(`CREATE TABLE ${wideTable} (ts ${database.timeType} NOT NULL, a DOUBLE PRECISION, b DOUBLE PRECISION)`);
    }, 120_000);
    afterAll(async () => {
      await execRaw(database.dialect, db.getInstance(), `DROP TABLE IF EXISTS ${table}`).catch(() => {});
      await execRaw(database.dialect, db.getInstance(), `DROP TABLE IF EXISTS ${wideTable}`).catch(() => {});
      await db.close();
    });

    for (const aggregate of ["avg", "min", "max", "last", "count"] as const) {
      it(`bucketed ${aggregate} over ${rowCount} rows matches JS`, async () => {
        const window = await db.history(tags, from, to, { bucket: "1h", aggregate });
        const reference = expected(aggregate, rowCount);
        const marked = partlyBad(rowCount);
        for (const name of window.names) {
          const want = reference.get(name) as Map<number, number>;
          const got = window.series(name);
          expect(got.length, name).toBe(want.size);
          for (const sample of got as Sample<number>[]) {
            const bucket = ((sample.sourceTime as number) - from) / bucketMs;
            const value = want.get(bucket);
            expect(value, `${name} bucket ${bucket}`).toBeDefined();
            const bad = marked.get(name)?.get(bucket) ?? 0;
            expect(sample.quality, `${name} bucket ${bucket}`).toBe(bad > 0 ? "uncertain" : "good");
            if (bad > 0) expect(sample.detail).toMatch(new RegExp(`, 0 uncertain, ${bad} bad$`));
            if (aggregate === "avg") expect(sample.value).toBeCloseTo(value as number, 9);
            else expect(sample.value).toBe(value);
          }
        }
      }, 60_000);
    }

    it("returns raw rows with quality when not bucketed, and refuses windows over the row cap", async () => {
      const window = await db.history({ t1: tags.t1 }, base, base + 40 * stepMs);
      const series = window.series("t1");
      expect(series.map((sample) => sample.sourceTime)).toEqual(
        Array.from({ length: 10 }, (_, index) => base + (index * 4 + 1) * stepMs),
      );
      expect(series.map((sample) => sample.value)).toEqual(
        Array.from({ length: 10 }, (_, index) => generatedValue(index * 4 + 1)),
      );
      const bad = await db.history({ t0: tags.t0 }, base, base + 1);
      expect(bad.series("t0")[0]?.quality).toBe("bad");
      await expect(db.history(tags, from, to)).rejects.toSatisfy(ValidationError.isInstance);
      await expect(db.history(tags, from, to, { bucket: "1s" })).rejects.toSatisfy(ValidationError.isInstance);
      await expect(db.history(tags, to, from, { bucket: "1h" })).rejects.toSatisfy(ValidationError.isInstance);
      await expect(db.history(tags, from, to, { bucket: "soon" })).rejects.toSatisfy(ValidationError.isInstance);
    });

    it("buckets a wide table per column", async () => {
      const wide = { table: wideTable, timeColumn: "ts" };
      const wideTags = defineTags({
        a: float({ source: db.wide(wide, "a") }),
        b: float({ source: db.wide(wide, "b") }),
      });
      const writer = sql({
        dialect: database.dialect,
        client: db.getInstance() as never,
        name: "w",
        templates: { rows: { table: wideTable, columns: ["ts", "a", "b"] } },
      });
      await writer.connect();
      const rows = Array.from({ length: 600 }, (_, index) => ({
        ts: new Date(base + index * 1000),
        a: index,
        b: index % 7,
      }));
      await writer.insert("rows", rows);
      await writer.close();
      const maxima = await db.history(wideTags, base, base + 600_000, { bucket: "1m", aggregate: "max" });
      expect(maxima.series("a").map((sample) => sample.value)).toEqual(
        Array.from({ length: 10 }, (_, i) => i * 60 + 59),
      );
      const last = await db.history(wideTags, base, base + 600_000, { bucket: 60_000, aggregate: "last" });
      expect(last.series("b").map((sample) => sample.value)).toEqual(
        Array.from({ length: 10 }, (_, i) => (i * 60 + 59) % 7),
      );
      const raw = await db.history(wideTags, base, base + 3000);
      expect(raw.series("a").map((sample) => [sample.sourceTime, sample.value])).toEqual([
        [base, 0],
        [base + 1000, 1],
        [base + 2000, 2],
      ]);
    });
  });
}
