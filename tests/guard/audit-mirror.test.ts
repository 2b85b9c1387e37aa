/** The audit mirrored into a SQL table through the SQL adapter's sink: every record lands as a row. */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { AuditLog, createGuard, createPlant, defineTags, float, verifyAuditLog } from "plantwire";
import { sql } from "plantwire/sql";
import { memoryAdapter } from "plantwire/testing";
import { describe, expect, it } from "vitest";

describe("audit mirror into the SQL sink", () => {
  it("copies every audit record into a table, and the local chain still verifies", async () => {
    const folder = mkdtempSync(join(tmpdir(), "plantwire-mirror-"));
    const databaseFile = join(folder, "plant.db");
    const setup = new Database(databaseFile);
    setup.exec("CREATE TABLE plantwire_audit (seq INTEGER PRIMARY KEY, time TEXT, type TEXT, record TEXT)");
    setup.close();
    const historian = sql({
      url: `sqlite:${databaseFile}`,
      name: "historian",
      templates: { audit: { table: "plantwire_audit", columns: ["seq", "time", "type", "record"] } },
    });
    await historian.connect();
    const sink = historian.sink("audit", { flushIntervalMs: 20 });
    const auditFile = join(folder, "audit.jsonl");
    const log = AuditLog.open(auditFile, {
      mirror: (record) =>
        sink.push({ seq: record.seq, time: record.time, type: record.type, record: JSON.stringify(record) }),
    });
    const drive = memoryAdapter({ name: "drive", values: { limit: 8 } });
    const plant = createPlant({
      tags: defineTags({ limit: float({ range: [0, 16], source: drive.key("limit"), write: { range: [1, 12] } }) }),
    });
    const guard = createGuard({ plant, audit: log, allowSameProcessApproval: true });
    const [proposal] = await guard.propose({ limit: 9 }, { reason: "mirror test" });
    await guard.approve(proposal!.id, { by: "alice" });
    await guard.propose({ limit: 99 }, { reason: "out of range" });
    await guard.close();
    log.close();
    await new Promise((resolve) => setTimeout(resolve, 10));
    await sink.close();
    await historian.close();
    await plant.close();
    const check = new Database(databaseFile, { readonly: true });
    const rows = check.prepare("SELECT seq, type, record FROM plantwire_audit ORDER BY seq").all() as {
      seq: number;
      type: string;
      record: string;
    }[];
    check.close();
    expect(rows.map((row) => row.type)).toEqual(["proposal", "decision", "attempt", "outcome", "proposal"]);
    expect(JSON.parse(rows[2]!.record)).toMatchObject({ type: "attempt", tag: "limit", value: 9 });
    expect(log.mirrorFailures).toBe(0);
    expect(verifyAuditLog(auditFile)).toEqual({ ok: true, records: 5 });
  });
});
