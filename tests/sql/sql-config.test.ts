/**
 * Configuration and edges on SQLite (always available): URLs, options, tag-map files, named-query placeholders,
 * value conversion, unsupported writes, connection failures, and the `sql init` command.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  ConfigError,
  ConnectionError,
  defineTags,
  float,
  integer,
  parseTagMap,
  text,
  UnsupportedError,
  ValidationError,
} from "plantwire";
import { plantwireHistorian, sql } from "plantwire/sql";
import { afterAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { commands } from "../../adapters/sql/sql-cli.js";
import { parseSqlUrl } from "../../adapters/sql/sql-config.js";
import { postgresDialect } from "../../adapters/sql/sql-dialect-postgres.js";
import { compileNamedQuery, queryText } from "../../adapters/sql/sql-named-query.js";
import { execRaw } from "./sql-databases.js";

const directory = mkdtempSync(join(tmpdir(), "plantwire-sql-config-"));
afterAll(() => rmSync(directory, { recursive: true, force: true }));

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (line: string) => out.push(line), err: (line: string) => err.push(line) }, out, err };
}

describe("sql configuration", () => {
  it("reads the dialect from URLs and names the accepted forms otherwise", () => {
    expect(parseSqlUrl("sqlite:./plant.db")).toEqual({ dialect: "sqlite", target: "./plant.db" });
    expect(parseSqlUrl("sqlite::memory:")).toEqual({ dialect: "sqlite", target: ":memory:" });
    expect(parseSqlUrl("postgresql://u@h/db").dialect).toBe("postgres");
    expect(parseSqlUrl("mariadb://u@h/db")).toEqual({ dialect: "mysql", target: "mysql://u@h/db" });
    expect(() => parseSqlUrl("oracle://x")).toThrow(ConfigError);
    expect(() => sql({})).toThrow(ConfigError);
    expect(() => sql({ url: "sqlite::memory:", writeUrl: "postgres://x@127.0.0.1/db" })).toThrow(ConfigError);
    expect(() => sql({ url: "sqlite::memory:", poolSize: 0 })).toThrow(ConfigError);
    expect(() => sql({ url: "sqlite::memory:", templates: { bad: { table: "t", columns: ["a;b"] } } })).toThrow(
      ConfigError,
    );
  });

  it("finds :name placeholders outside quotes, comments and :: casts, and checks them against the schema", () => {
    const compiled = compileNamedQuery("q", {
      sql: "SELECT ':skip' AS a, value::text AS b -- :comment\nFROM t WHERE x = :x AND y > :y AND z = :x;",
      parameters: z.object({ x: z.number(), y: z.number() }),
      columns: z.object({}),
    });
    expect(compiled.order).toEqual(["x", "y", "x"]);
    expect(queryText(compiled, postgresDialect, 5)).toBe(
      "SELECT ':skip' AS a, value::text AS b -- :comment\nFROM t WHERE x = $1 AND y > $2 AND z = $3\nLIMIT 5",
    );
    const limited = compileNamedQuery("l", {
      sql: "SELECT v FROM t ORDER BY v LIMIT :n",
      parameters: z.object({ n: z.number() }),
      columns: z.object({}),
    });
    expect(queryText(limited, postgresDialect, 7)).toBe(
      "SELECT * FROM (SELECT v FROM t ORDER BY v LIMIT $1) AS plantwire_capped LIMIT 7",
    );
    expect(() =>
      compileNamedQuery("q", { sql: "SELECT :nope", parameters: z.object({}), columns: z.object({}) }),
    ).toThrow(/:nope/);
  });

  it("resolves YAML tag-map sources and reports bad ones with their field paths", async () => {
    const db = sql({
      url: "sqlite::memory:",
      name: "historian",
      queries: { lab: { sql: "SELECT 1 AS v", parameters: z.object({}), columns: z.object({ v: z.number() }) } },
    });
    const good = await parseTagMap(
      `tags:
  speed:
    type: float
    source: { adapter: historian, narrow: { table: samples, tagColumn: tag, timeColumn: time, valueColumn: value }, tag: pump7.speed }
  level:
    type: float
    source: { adapter: historian, wide: { table: line1, timeColumn: ts }, column: level }
  ph:
    type: float
    source: { adapter: historian, query: lab, column: v }
`,
      "yaml",
      { adapters: { historian: db } },
    );
    expect(good.speed?.source.address).toMatchObject({ kind: "narrow", tag: "pump7.speed" });
    expect(good.level?.source.label).toBe("historian:line1.level");
    expect(good.ph?.source.address).toMatchObject({ kind: "query", query: "lab" });
    const error = await parseTagMap(
      `tags:
  a: { type: float, source: { adapter: historian, narrow: { table: "x; DROP", tagColumn: tag, timeColumn: time, valueColumn: value }, tag: a } }
  b: { type: float, source: { adapter: historian, wide: { table: t, timeColumn: ts }, column: "a b" } }
  c: { type: float, source: { adapter: historian, query: nope, column: v } }
`,
      "yaml",
      { adapters: { historian: db } },
    ).catch((caught: unknown) => caught);
    expect(ConfigError.isInstance(error)).toBe(true);
    const paths = (error as ConfigError).issues.map((issue) => issue.path);
    expect(paths).toContain("tags.a.source.narrow.table");
    expect(paths).toContain("tags.b.source.column");
    expect(paths).toContain("tags.c.source.query");
  });

  it("turns values that do not fit their tag into bad samples, and refuses writes it cannot make", async () => {
    const db = sql({ url: "sqlite::memory:", name: "edges" });
    const tags = defineTags({ n: integer({ source: db.narrow(plantwireHistorian("e"), "n") }) });
    const bound = (name: string, definition: (typeof tags)["n"] | ReturnType<typeof text>, address: unknown) =>
      ({ name, definition, address }) as never;
    await expect(db.read([bound("n", tags.n, tags.n.source.address)])).rejects.toThrow(ConnectionError);
    await db.connect();
    const run = (statement: string) => execRaw("sqlite", db.getInstance(), statement);
    await run("CREATE TABLE e_samples (tag TEXT, time INTEGER, value, quality INTEGER)");
    await run("INSERT INTO e_samples VALUES ('n', 1, 2.5, NULL), ('t', 1, 'far too long', 192), ('q', 1, 4, 0)");
    const long = text({ maxLength: 3, source: db.narrow(plantwireHistorian("e"), "t") });
    const bad = integer({ source: db.narrow(plantwireHistorian("e"), "q") });
    const samples = await db.read([
      bound("n", tags.n, tags.n.source.address),
      bound("t", long, long.source.address),
      bound("q", bad, bad.source.address),
    ]);
    expect(samples.map((sample) => [sample.quality, sample.reason])).toEqual([
      ["bad", "type-mismatch"],
      ["bad", "type-mismatch"],
      ["bad", "device-error"],
    ]);
    expect(samples[2]?.value).toBe(4);
    const wide = float({ source: db.wide({ table: "w", timeColumn: "ts" }, "a") });
    const wideWrite = await db.write(bound("w", wide as never, wide.source.address), 1);
    expect(wideWrite.outcome).toBe("failed");
    expect(UnsupportedError.isInstance(wideWrite.error)).toBe(true);
    const wrongType = await db.write(bound("n", tags.n, tags.n.source.address), 1.5);
    expect(ValidationError.isInstance(wrongType.error)).toBe(true);
    await db.close();
  });

  it("reads and buckets text timestamps and epoch seconds on SQLite", async () => {
    const db = sql({ url: "sqlite::memory:", name: "times" });
    await db.connect();
    const run = (statement: string) => execRaw("sqlite", db.getInstance(), statement);
    await run("CREATE TABLE text_times (tag TEXT, ts TEXT, v REAL)");
    await run(
      "INSERT INTO text_times VALUES ('a', '2026-01-01 00:00:00', 1), ('a', '2026-01-01 00:00:30.500', 3), ('a', '2026-01-01 00:01:10', 5)",
    );
    await run("CREATE TABLE second_times (ts INTEGER, v REAL)");
    await run("INSERT INTO second_times VALUES (1767225600, 2), (1767225630, 4), (1767225670, 6)");
    const start = Date.UTC(2026, 0, 1);
    const textMapping = {
      table: "text_times",
      tagColumn: "tag",
      timeColumn: "ts",
      valueColumn: "v",
      timeType: "timestamp",
    } as const;
    const tags = defineTags({
      a: float({ source: db.narrow(textMapping, "a") }),
      b: float({ source: db.wide({ table: "second_times", timeColumn: "ts", timeType: "epochSeconds" }, "v") }),
    });
    const bound = Object.entries(tags).map(([name, definition]) => ({
      name,
      definition,
      address: definition.source.address as never,
    }));
    const latest = await db.read(bound);
    expect(latest.map((sample) => [sample.value, sample.sourceTime])).toEqual([
      [5, start + 70_000],
      [6, start + 70_000],
    ]);
    const window = await db.history(tags, start, start + 120_000, { bucket: "1m", aggregate: "avg" });
    expect(window.series("a").map((sample) => [sample.sourceTime, sample.value])).toEqual([
      [start, 2],
      [start + 60_000, 5],
    ]);
    expect(window.series("b").map((sample) => sample.value)).toEqual([3, 6]);
    await db.close();
  });

  it("fails to connect with a ConnectionError and status disconnected", async () => {
    const db = sql({ url: "postgres://nobody@127.0.0.1:1/none", name: "down", statementTimeoutMs: 500 });
    await expect(db.connect()).rejects.toSatisfy(ConnectionError.isInstance);
    expect(db.status().state).toBe("disconnected");
    await db.close();
  });
});

describe("plantwire sql init", () => {
  const init = commands.find((command) => command.name === "sql init");

  it("creates the schema with indexes, idempotently", async () => {
    const url = `sqlite:${join(directory, "init.db")}`;
    for (let round = 0; round < 2; round++) {
      const { io, out } = capture();
      expect(await init?.run([url, "--prefix", "site"], io)).toBe(0);
      expect(out.join("")).toContain("site_samples");
    }
    const db = sql({ url, name: "check" });
    await db.connect();
    const names = (await execRaw("sqlite", db.getInstance(), "SELECT name FROM sqlite_master ORDER BY name")).map(
      (row) => (row as { name: string }).name,
    );
    expect(names).toEqual(
      expect.arrayContaining(["site_samples", "site_events", "site_samples_tag_time", "site_events_kind_time"]),
    );
    await db.close();
  });

  it("answers wrong usage with exit code 2 and a bad prefix with a ConfigError", async () => {
    const { io, err } = capture();
    // A wrong command line is exit 2 through the CLI's entry point (the command itself throws a usage error).
    const { runCli } = await import("../../src/cli/main.js");
    expect(await runCli(["sql", "init"], io)).toBe(2);
    expect(await runCli(["sql", "init", "a", "b"], io)).toBe(2);
    expect(await runCli(["sql", "init", "sqlite::memory:", "--bogus"], io)).toBe(2);
    expect(err.join("")).toMatch(/Unknown option --bogus/);
    await expect(init?.run(["sqlite::memory:", "--prefix", "a-b"], io)).rejects.toThrow(ConfigError);
  });
});
