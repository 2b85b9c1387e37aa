/**
 * T19 (anchors): the log's head is published every N records and on close to a SQL table (SQLite, PostgreSQL,
 * MariaDB) or a retained MQTT topic (the embedded broker and the real Mosquitto). `plantwire audit verify --anchor`
 * reports a log that was shortened or rewritten after its head was anchored, even when its own chain and head were
 * made consistent again; a guard reopening such a log publishes nothing over the evidence; a failing anchor never
 * fails an append.
 */
import { writeFileSync } from "node:fs";
import { type AddressInfo, createServer } from "node:net";
import { join, resolve } from "node:path";
import {
  type AnchoredHead,
  type AuditAnchor,
  AuditLog,
  canonicalJson,
  GENESIS_HASH,
  recordHash,
  verifyAuditLog,
} from "plantwire";
import { mqtt, mqttAuditAnchor, startBroker } from "plantwire/mqtt";
import { sql, sqlAuditAnchor } from "plantwire/sql";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { execRaw, testDatabases, uniqueSuffix } from "../sql/sql-databases.js";
import { serviceSkipReason, services } from "../support/services.js";
import { afterThisTest, audit, freshLog, lines, records, temporaryFolder, writeLines } from "./audit-fixture.js";

/** Makes the log end at record `count`, with a head that agrees: the file alone no longer shows the cut. */
function shortenConsistently(file: string, count: number): void {
  const kept = lines(file).slice(0, count);
  writeLines(file, kept);
  const last = JSON.parse(kept.at(-1)!) as { seq: number; hash: string };
  writeFileSync(`${file}.head`, JSON.stringify({ seq: last.seq, hash: last.hash }));
}

/** Edits record `seq` and re-chains everything after it, head included (an unkeyed log allows exactly this). */
function rewriteConsistently(file: string, seq: number): void {
  let previous = GENESIS_HASH;
  const rewritten = records(file).map((record) => {
    const { hash: _hash, ...rest } = record;
    const unsigned = { ...rest, ...(record.seq === seq ? { note: "a quieter story" } : {}), prevHash: previous };
    const line = { ...unsigned, hash: recordHash(unsigned, previous) };
    previous = line.hash;
    return canonicalJson(line);
  });
  writeLines(file, rewritten);
  writeFileSync(`${file}.head`, JSON.stringify({ seq: rewritten.length, hash: previous }));
}

/** Writes seven records with a head published every three, and closes (which publishes the last). */
async function anchoredLog(anchor: AuditAnchor): Promise<{ file: string; last: AnchoredHead }> {
  const file = freshLog();
  const log = AuditLog.open(file, { anchor, anchorEvery: 3, anchorIntervalMs: 3_600_000 });
  for (let index = 1; index <= 7; index++) log.append({ type: "note", index, note: `record ${index}` });
  await log.close();
  expect(log.anchorFailures, String(log.lastAnchorError)).toBe(0);
  const last = records(file).at(-1)!;
  return { file, last: { file: resolve(file), seq: last.seq, hash: last.hash, time: last.time } };
}

/** The checks every anchor goes through, with `url` as `plantwire audit verify --anchor` takes it. */
async function checkAnchor(anchor: AuditAnchor, url: string): Promise<void> {
  const { file, last } = await anchoredLog(anchor);
  expect(await anchor.latest(resolve(file))).toEqual(last);
  const intact = await audit("verify", file, "--anchor", url);
  expect(intact.stdout).toContain(`Anchor: record 7 (${last.time}) matches`);
  expect(intact.code, intact.stdout + intact.stderr).toBe(0);

  // Rewritten after record 6 was anchored (the head published on close is record 7): the chain alone looks fine.
  const original = lines(file);
  rewriteConsistently(file, 6);
  expect(verifyAuditLog(file)).toEqual({ ok: true, records: 7 });
  const rewritten = await audit("verify", file, "--anchor", url);
  expect(rewritten.code).toBe(1);
  expect(rewritten.stdout).toMatch(/^ANCHOR MISMATCH at line 7: the anchor has record 7 with hash .* it was rewritten/);

  // Shortened to five records with a matching head.
  writeLines(file, original);
  shortenConsistently(file, 5);
  expect(verifyAuditLog(file)).toEqual({ ok: true, records: 5 });
  const shortened = await audit("verify", file, "--anchor", url);
  expect(shortened.code).toBe(1);
  expect(shortened.stdout).toContain(
    "ANCHOR MISMATCH at line 6: the anchor has record 7, but the log ends at record 5",
  );

  // A guard reopening the shortened log compares before it publishes, and keeps its hands off the evidence.
  const reopened = AuditLog.open(file, { anchor, anchorEvery: 1, anchorIntervalMs: 3_600_000 });
  reopened.append({ type: "note", note: "business as usual" });
  await reopened.close();
  expect(reopened.anchorFailures).toBeGreaterThanOrEqual(1);
  expect(String(reopened.lastAnchorError)).toContain("anchor mismatch");
  expect(await anchor.latest(resolve(file))).toEqual(last);
}

describe("SQL audit anchors", async () => {
  const databases = await testDatabases();
  for (const database of databases) {
    describe.skipIf(database.skipReason !== undefined)(`on ${database.label}`, () => {
      const table = `audit_anchor_${uniqueSuffix()}`;
      const adapter = sql({ url: database.url, name: "anchor-store" });
      afterAll(async () => {
        if (database.dialect !== "sqlite")
          await execRaw(database.dialect, adapter.getInstance(), `DROP TABLE IF EXISTS ${table}`);
        await adapter.close();
      });

      it("publishes one row per head, and verify finds a shortened or rewritten log", async () => {
        const anchor = sqlAuditAnchor(adapter, { table });
        await checkAnchor(anchor, `${database.url}?table=${table}`);
        const rows = (await execRaw(
          database.dialect,
          adapter.getInstance(),
          `SELECT seq FROM ${table} ORDER BY seq`,
        )) as { seq: number | string }[];
        const seqs = rows.map((row) => Number(row.seq));
        // Every three records and on close; a newer head may replace one still waiting, never the last.
        expect(seqs.at(-1)).toBe(7);
        expect(seqs.length).toBeGreaterThanOrEqual(2);
        expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
        await anchor.close?.();
      });

      if (database.dialect !== "postgres") return;
      it("works for a database user with nothing but INSERT and SELECT on the table", async () => {
        const role = `pw_anchor_${uniqueSuffix()}`;
        const owned = `${table}_owned`;
        const raw = (text: string) => execRaw(database.dialect, adapter.getInstance(), text);
        // The table exists (made here by the admin connection); the role may only add and read rows.
        const elsewhere = { file: "/elsewhere", seq: 1, hash: "0".repeat(64), time: new Date().toISOString() };
        await sqlAuditAnchor(adapter, { table: owned }).publish(elsewhere);
        await raw(`CREATE ROLE ${role} LOGIN`);
        const restricted = sql({ url: database.url.replace("postgres@", `${role}@`), name: "anchor-writer" });
        afterThisTest(async () => {
          await restricted.close();
          await raw(`DROP TABLE IF EXISTS ${owned}`);
          await raw(`DROP OWNED BY ${role}`).catch(() => {});
          await raw(`DROP ROLE IF EXISTS ${role}`);
        });
        await raw(`GRANT CONNECT ON DATABASE test TO ${role}`);
        await raw(`GRANT USAGE ON SCHEMA public TO ${role}`);
        await raw(`GRANT INSERT, SELECT ON ${owned} TO ${role}`);
        const { file, last } = await anchoredLog(sqlAuditAnchor(restricted, { table: owned }));
        expect(await sqlAuditAnchor(restricted, { table: owned }).latest(resolve(file))).toEqual(last);
        await expect(execRaw(database.dialect, restricted.getInstance(), `DELETE FROM ${owned}`)).rejects.toThrow(
          /permission denied/,
        );
      });
    });
  }
});

describe("MQTT audit anchors (retained topic)", async () => {
  const mosquittoReason = await serviceSkipReason("mosquitto");
  const brokers = [
    { label: "the embedded broker", skipReason: undefined as string | undefined, url: "" },
    { label: "Mosquitto", skipReason: mosquittoReason, url: services.mosquitto.url },
  ];
  for (const broker of brokers) {
    describe.skipIf(broker.skipReason !== undefined)(`on ${broker.label}`, () => {
      let stopBroker: (() => Promise<void>) | undefined;
      beforeAll(async () => {
        if (broker.url) return;
        const embedded = await startBroker({ port: 0 });
        broker.url = `mqtt://127.0.0.1:${embedded.port}`;
        stopBroker = () => embedded.close();
      });
      afterAll(async () => stopBroker?.());

      it("keeps the head as a retained message, and verify finds a shortened or rewritten log", async () => {
        const topic = `plantwire-test/audit-anchor/${uniqueSuffix()}`;
        const bus = mqtt({ url: broker.url, name: "anchor-bus" });
        try {
          const anchor = mqttAuditAnchor(bus, { topic });
          await checkAnchor(anchor, `${broker.url}/${topic}`);
        } finally {
          // An empty retained message clears the topic, so test runs leave nothing behind on a shared broker.
          await bus.publish(topic, "", { qos: 1, retain: true }).catch(() => {});
          await bus.close();
        }
      });
    });
  }
});

describe("an anchor after a recovery (SQLite)", () => {
  it("reports the anchored records lost with the broken part as such, and an empty anchor as a failure", async () => {
    const database = `sqlite:${join(temporaryFolder(), "anchor.db")}`;
    const adapter = sql({ url: database, name: "anchor-store" });
    afterThisTest(() => adapter.close());
    const anchor = sqlAuditAnchor(adapter, { table: "audit_anchor" });
    const { file } = await anchoredLog(anchor);
    // Records 6 and 7 were anchored, then lost; the head still says 7, so opening refuses and a person recovers.
    writeLines(file, lines(file).slice(0, 5));
    expect(() => AuditLog.open(file)).toThrow(/shortened/);
    expect((await audit("recover", file, "--reason", "restored from an old backup", "--by", "Bo")).code).toBe(0);
    const verified = await audit("verify", file, "--anchor", `${database}?table=audit_anchor`);
    expect(verified.stdout).toContain("This log continues audit.jsonl.broken-");
    expect(verified.stdout).toContain("records 6 to 7 were lost with the broken part");
    expect(verified.code).toBe(0);
    // The guard goes on publishing the new chain's heads.
    const log = AuditLog.open(file, { anchor, anchorEvery: 1, anchorIntervalMs: 3_600_000 });
    for (let index = 0; index < 3; index++) log.append({ type: "note", index });
    await log.close();
    expect(log.anchorFailures, String(log.lastAnchorError)).toBe(0);
    expect(await anchor.latest(resolve(file))).toMatchObject({ seq: 9, hash: records(file).at(-1)?.hash });
    expect((await audit("verify", file, "--anchor", `${database}?table=audit_anchor`)).code).toBe(0);

    const unanchored = freshLog();
    const other = AuditLog.open(unanchored);
    other.append({ type: "note" });
    await other.close();
    const empty = await audit("verify", unanchored, "--anchor", `${database}?table=audit_anchor`);
    expect(empty.code).toBe(1);
    expect(empty.stdout).toContain("ANCHOR EMPTY: nothing is anchored for this log");
  });
});

describe("an anchor that fails", () => {
  it("makes verify exit 1 when it cannot be read", async () => {
    const closed = await new Promise<number>((done) => {
      const server = createServer().listen(0, "127.0.0.1", () => {
        const { port } = server.address() as AddressInfo;
        server.close(() => done(port));
      });
    });
    const file = freshLog();
    const log = AuditLog.open(file);
    log.append({ type: "note" });
    await log.close();
    const result = await audit("verify", file, "--anchor", `mqtt://127.0.0.1:${closed}/plantwire-test/nothing-here`);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain("OK: 1 records");
    expect(result.stdout).toMatch(
      /ANCHOR UNREADABLE: MQTT adapter "audit-anchor" retained topic plantwire-test\/nothing-here: /,
    );
  });

  it("never fails or delays an append: failures are counted and the last error kept", async () => {
    let attempts = 0;
    const unreachable: AuditAnchor = {
      label: "an anchor that is down",
      async publish() {
        attempts++;
        throw new Error("connection refused");
      },
      async latest() {
        return undefined;
      },
    };
    const file = freshLog();
    const log = AuditLog.open(file, { anchor: unreachable, anchorEvery: 2, anchorIntervalMs: 3_600_000 });
    for (let index = 1; index <= 6; index++) log.append({ type: "note", index });
    await log.close();
    expect(verifyAuditLog(file)).toEqual({ ok: true, records: 6 });
    expect(attempts).toBeGreaterThanOrEqual(2);
    expect(log.anchorFailures).toBe(attempts);
    expect(log.lastAnchorError?.message).toBe("connection refused");
  });
});
