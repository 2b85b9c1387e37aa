/**
 * SQL adapter benchmarks, side by side in one run:
 *  - a 24 h window of 10 tags at 1 s (864,000 rows), bucketed to 1 min in SQL vs fetched raw and aggregated in JS
 *    (time, and bytes of rows leaving the database, counted as the JSON size of the rows returned);
 *  - 1,000 sample rows inserted as one batched transaction vs one insert (and transaction) per row.
 * SQLite always (a temp file in WAL mode, as `plantwire sql init` sets it up); PostgreSQL too when it answers on
 * 127.0.0.1:5432.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sql } from "../adapters/sql/index.js";
import { float, type Sample, type TagDefinitions } from "../src/index.js";
import { type BenchResult, ratioResult, timeSideBySide } from "./bench-kit.js";

const tagCount = 10;
const seconds = 86_400;
const base = Date.UTC(2026, 0, 1);
const insertRows = 1000;

type Target = { label: string; url: string; dialect: "sqlite" | "postgres"; timeType: string };

async function rawExec(db: ReturnType<typeof sql>, dialect: Target["dialect"], text: string): Promise<void> {
  const instance = db.getInstance() as { exec?(sql: string): void; query?(sql: string): Promise<unknown> };
  if (dialect === "sqlite") instance.exec?.(text);
  else await instance.query?.(text);
}

function generate(dialect: Target["dialect"], table: string): string {
  const rows = tagCount * seconds;
  if (dialect === "sqlite") {
    return `INSERT INTO ${table} (tag, time, value) WITH RECURSIVE s(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM s WHERE n < ${rows - 1}) SELECT 'tag' || (n % ${tagCount}), ${base} + (n / ${tagCount}) * 1000, (n % 1000) / 10.0 FROM s`;
  }
  return `INSERT INTO ${table} (tag, time, value) SELECT 'tag' || (n % ${tagCount}), timestamptz 'epoch' + (${base}::bigint + (n / ${tagCount}) * 1000) * interval '1 millisecond', (n % 1000) / 10.0 FROM generate_series(0, ${rows - 1}) AS n`;
}

/** What a glue script without SQL downsampling does: every raw sample into JS, then per-minute averages. */
function averageInJs(series: readonly Sample[], from: number, bucketMs: number): Map<number, number> {
  const sums = new Map<number, { sum: number; count: number }>();
  for (const sample of series) {
    const bucket = Math.floor(((sample.sourceTime ?? 0) - from) / bucketMs);
    const entry = sums.get(bucket) ?? { sum: 0, count: 0 };
    entry.sum += sample.value as number;
    entry.count++;
    sums.set(bucket, entry);
  }
  return new Map([...sums].map(([bucket, entry]) => [bucket, entry.sum / entry.count]));
}

async function benchTarget(target: Target): Promise<BenchResult[]> {
  const table = `pw_bench_${process.pid}`;
  const db = sql({
    url: target.url,
    name: "bench",
    rowCap: 1_000_000,
    statementTimeoutMs: 120_000,
  });
  // Rows go in through an adapter that declares no tag on the table: the general insert refuses the table of a
  // tag source on its own adapter (a row there is a tag write, for the guard).
  const logger = sql({
    url: target.url,
    name: "bench-logger",
    statementTimeoutMs: 120_000,
    templates: { samples: { table, columns: ["tag", "time", "value"] } },
  });
  await db.connect();
  await logger.connect();
  try {
    // WAL, as `plantwire sql init` sets up a SQLite historian.
    if (target.dialect === "sqlite") await rawExec(db, target.dialect, "PRAGMA journal_mode = WAL");
    await rawExec(
      db,
      target.dialect,
      `CREATE TABLE ${table} (tag VARCHAR(20) NOT NULL, time ${target.timeType} NOT NULL, value DOUBLE PRECISION)`,
    );
    await rawExec(db, target.dialect, generate(target.dialect, table));
    await rawExec(db, target.dialect, `CREATE INDEX ${table}_tag_time ON ${table} (tag, time)`);
    const mapping = { table, tagColumn: "tag", timeColumn: "time", valueColumn: "value" };
    const tags: TagDefinitions = Object.fromEntries(
      Array.from({ length: tagCount }, (_, index) => [
        `tag${index}`,
        float({ source: db.narrow(mapping, `tag${index}`) }),
      ]),
    );
    const from = base;
    const to = base + seconds * 1000;
    let bucketedBytes = 0;
    let rawBytes = 0;
    const times = await timeSideBySide(
      async () => {
        const window = await db.history(tags, from, to);
        rawBytes = 0;
        for (const name of window.names) {
          const series = window.series(name);
          rawBytes += JSON.stringify(series.map((sample) => [sample.sourceTime, sample.value])).length;
          averageInJs(series, from, 60_000);
        }
      },
      async () => {
        const window = await db.history(tags, from, to, { bucket: "1m", aggregate: "avg" });
        bucketedBytes = 0;
        for (const name of window.names) {
          bucketedBytes += JSON.stringify(
            window.series(name).map((sample) => [sample.sourceTime, sample.value]),
          ).length;
        }
      },
      3,
    );
    let written = 0;
    const row = () => ({ tag: "bench", time: new Date(base + seconds * 1000 + written++), value: written % 100 });
    const inserts = await timeSideBySide(
      async () => {
        for (let index = 0; index < insertRows; index++) await logger.insert("samples", [row()]);
      },
      async () => {
        await logger.insert("samples", Array.from({ length: insertRows }, row));
      },
      3,
    );
    const label = `sql ${target.label}`;
    return [
      ratioResult(
        `${label}: 24 h × 10 tags window, time`,
        { label: "raw rows + JS average", value: times.baselineMs, unit: "ms" },
        { label: "bucketed in SQL (1 min avg)", value: times.candidateMs, unit: "ms" },
        { at: "most", ratio: 0.5 },
        `${tagCount * seconds} rows in the window`,
      ),
      ratioResult(
        `${label}: 24 h × 10 tags window, bytes`,
        { label: "raw rows", value: rawBytes, unit: "B" },
        { label: "bucketed in SQL", value: bucketedBytes, unit: "B" },
        { at: "most", ratio: 0.05 },
        "bytes = JSON size of [time, value] pairs returned by the database",
      ),
      ratioResult(
        `${label}: ${insertRows} inserts, time`,
        { label: "one insert per row", value: inserts.baselineMs, unit: "ms" },
        { label: "one batched transaction", value: inserts.candidateMs, unit: "ms" },
        { at: "most", ratio: 0.1 },
      ),
    ];
  } finally {
    await rawExec(db, target.dialect, `DROP TABLE IF EXISTS ${table}`).catch(() => {});
    await logger.close();
    await db.close();
  }
}

export default async function sqlBench(): Promise<BenchResult[]> {
  const directory = mkdtempSync(join(tmpdir(), "plantwire-sql-bench-"));
  const targets: Target[] = [
    { label: "sqlite", url: `sqlite:${join(directory, "bench.db")}`, dialect: "sqlite", timeType: "INTEGER" },
    { label: "postgres", url: "postgres://postgres@127.0.0.1:5432/test", dialect: "postgres", timeType: "TIMESTAMPTZ" },
  ];
  const results: BenchResult[] = [];
  try {
    for (const target of targets) {
      try {
        results.push(...(await benchTarget(target)));
      } catch (error) {
        if (target.dialect === "sqlite") throw error;
        console.warn(`sql bench: ${target.label} skipped (${error instanceof Error ? error.message : String(error)})`);
      }
    }
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
  return results;
}
