/**
 * The adapter conformance suite on SQLite, PostgreSQL and MariaDB: narrow historian tags (float, boolean, enum), wide
 * columns (float, text) and a named-query tag, read from tables made by the schema helper. PostgreSQL and MariaDB run
 * through a fault proxy so the suite can cut the link.
 */
import { boolean, defineTags, enumeration, float, text } from "plantwire";
import { createPlantwireSchema, plantwireEventsTemplate, plantwireHistorian, sql } from "plantwire/sql";
import { type ConformanceFixture, describeAdapterConformance } from "plantwire/testing";
import { afterAll, describe } from "vitest";
import { z } from "zod";
import { type FaultProxy, startFaultProxy } from "../support/fault-proxy.js";
import { execRaw, testDatabases, uniqueSuffix, viaPort } from "./sql-databases.js";

const databases = await testDatabases();

for (const database of databases) {
  describe.skipIf(database.skipReason !== undefined)(`sql on ${database.label}`, async () => {
    const prefix = `pwc_${uniqueSuffix()}`;
    const wideTable = `${prefix}_wide`;
    const historian = plantwireHistorian(prefix);
    let admin: ReturnType<typeof makeAdmin> | undefined;
    let fixtureCount = 0;
    let clock = 0;

    function makeAdmin() {
      return sql({
        url: database.url,
        name: "admin",
        templates: {
          samples: { table: historian.table, columns: ["tag", "time", "value"] },
          wide: { table: wideTable, columns: ["ts", "level", "batch"] },
          events: plantwireEventsTemplate(prefix),
        },
      });
    }
    async function ready() {
      if (admin) return admin;
      await createPlantwireSchema({ url: database.url, prefix });
      admin = makeAdmin();
      await admin.connect();
      await execRaw(
        database.dialect,
        admin.getInstance(),
        `CREATE TABLE ${wideTable} (ts ${database.timeType} NOT NULL, level DOUBLE PRECISION, batch VARCHAR(100))`,
      );
      return admin;
    }
    afterAll(async () => {
      if (!admin) return;
      for (const table of [historian.table, `${prefix}_events`, wideTable]) {
        await execRaw(database.dialect, admin.getInstance(), `DROP TABLE IF EXISTS ${table}`);
      }
      await admin.close();
    });

    await describeAdapterConformance(`sql (${database.label})`, async (): Promise<ConformanceFixture> => {
      const peer = await ready();
      const fixture = ++fixtureCount;
      let proxy: FaultProxy | undefined;
      let url = database.url;
      if (database.port !== undefined) {
        proxy = await startFaultProxy({ host: "127.0.0.1", port: database.port });
        url = viaPort(database.url, proxy.port);
      }
      const db = sql({
        url,
        name: `plant-${database.label}`,
        statementTimeoutMs: 1500,
        poolSize: 2,
        queries: {
          latestLab: {
            sql: `SELECT value AS ph FROM ${historian.table} WHERE tag = :tag ORDER BY time DESC LIMIT 1`,
            parameters: z.object({ tag: z.string() }),
            columns: z.object({ ph: z.number() }),
          },
        },
      });
      const tagName = (name: string) => `f${fixture}.${name}`;
      const tags = defineTags({
        speed: float({ unit: "rpm", source: db.narrow(historian, tagName("speed")), write: { range: [0, 2000] } }),
        running: boolean({ source: db.narrow(historian, tagName("running")) }),
        mode: enumeration({ states: { OFF: 0, AUTO: 1, MANUAL: 2 }, source: db.narrow(historian, tagName("mode")) }),
        level: float({ unit: "m", source: db.wide({ table: wideTable, timeColumn: "ts" }, "level") }),
        batch: text({ maxLength: 100, source: db.wide({ table: wideTable, timeColumn: "ts" }, "batch") }),
        ph: float({ source: db.fromQuery("latestLab", { tag: tagName("lab") }, "ph") }),
      });
      const wideRow: { level: number | null; batch: string | null } = { level: null, batch: null };
      const numeric: Record<string, (value: unknown) => number> = {
        speed: (value) => value as number,
        running: (value) => (value ? 1 : 0),
        mode: (value) => ({ OFF: 0, AUTO: 1, MANUAL: 2 })[value as "OFF"],
        ph: (value) => value as number,
      };
      return {
        adapter: db,
        tags,
        values: {
          speed: [1200.5, 900.25],
          running: [true, false],
          mode: ["AUTO", "MANUAL"],
          level: [3.25, 4.5],
          batch: ["B-001 'quoted'", 'B-002 "; DROP TABLE x; --'],
          ph: [7.1, 6.8],
        },
        async setValue(name, value) {
          // Times strictly increase and stay in the past, so a later adapter write is always the latest row.
          const time = new Date(Date.now() - 60_000 + ++clock);
          if (name === "level" || name === "batch") {
            wideRow[name] = value as never;
            await peer.insert("wide", [{ ts: time, level: wideRow.level, batch: wideRow.batch }]);
            return;
          }
          const key = name === "ph" ? "lab" : name;
          await peer.insert("samples", [{ tag: tagName(key), time, value: numeric[name]?.(value) ?? null }]);
        },
        write: { name: "speed", value: 1444.5 },
        ...(proxy
          ? {
              breakPeer() {
                proxy?.setMode({ kind: "blackhole" });
                proxy?.resetAll();
              },
              restorePeer() {
                proxy?.setMode({ kind: "pass" });
              },
            }
          : {}),
        async dispose() {
          await proxy?.close();
        },
      };
    });
  });
}
