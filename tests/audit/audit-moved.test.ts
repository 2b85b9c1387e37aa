/**
 * A log renamed, deleted or replaced while open: the records would go to a file nobody looks for, so the append that
 * notices throws an AuditError with code `moved`, the log latches, and the guard writes no device through it.
 */
import { readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type AuditError, AuditLog, createGuard, createPlant, defineTags, float, verifyAuditLog } from "plantwire";
import { memoryAdapter } from "plantwire/testing";
import { describe, expect, it } from "vitest";
import { afterThisTest, auditErrorOf, freshLog, logWith, temporaryFolder } from "./audit-fixture.js";

/** A log with two records, left open (closed after the test). */
function openLog(): { log: AuditLog; file: string; head: string } {
  const file = logWith(2);
  const log = AuditLog.open(file);
  afterThisTest(() => log.close());
  return { log, file, head: readFileSync(`${file}.head`, "utf8") };
}

function expectMoved(log: AuditLog, error: AuditError, file: string): void {
  expect(error.failure.code).toBe("moved");
  expect(error.failure.message).toContain(`The audit log ${file} was moved, replaced or deleted while it was open`);
  expect(error.failure.message).toContain("a record just written went to the old file instead");
  expect(error.failure.message).toContain("plantwire audit recover");
  expect(log.failure).toEqual(error.failure);
  // Latched: every later append throws the same failure.
  expect(auditErrorOf(() => log.append({ type: "note" })).failure).toEqual(error.failure);
}

describe("an audit log moved while open", () => {
  it("renamed: the append throws `moved`, the record is cut off the old file again, the head is left alone", () => {
    const { log, file, head } = openLog();
    renameSync(file, `${file}.rotated`);
    const error = auditErrorOf(() => log.append({ type: "note", note: "after the rename" }));
    expectMoved(log, error, file);
    expect(error.failure.message).toContain("was cut off it again");
    expect(readFileSync(`${file}.head`, "utf8")).toBe(head);
    // Put back, the old file and its head still verify: nothing of the failed append is left in it.
    renameSync(`${file}.rotated`, file);
    expect(verifyAuditLog(file)).toEqual({ ok: true, records: 2 });
  });

  it("deleted: the append throws `moved`", () => {
    const { log, file } = openLog();
    rmSync(file);
    expectMoved(
      log,
      auditErrorOf(() => log.append({ type: "note" })),
      file,
    );
  });

  it("replaced by another file: the append throws `moved` and the new file gets nothing", () => {
    const { log, file } = openLog();
    const other = join(temporaryFolder(), "other.jsonl");
    writeFileSync(other, "");
    renameSync(other, file);
    expectMoved(
      log,
      auditErrorOf(() => log.append({ type: "note" })),
      file,
    );
    expect(readFileSync(file, "utf8")).toBe("");
  });

  it("a log left in place keeps appending", () => {
    const { log, file } = openLog();
    log.append({ type: "note" });
    expect(log.failure).toBeUndefined();
    expect(verifyAuditLog(file)).toEqual({ ok: true, records: 3 });
  });

  it("the guard writes no device once its log was moved, and reports the failure", async () => {
    const file = freshLog();
    const drive = memoryAdapter({ name: "drive", values: { limit: 8 } });
    const plant = createPlant({
      tags: defineTags({ limit: float({ range: [0, 16], source: drive.key("limit"), write: { range: [1, 12] } }) }),
      onError: () => {},
    });
    const guard = createGuard({ plant, audit: file, allowSameProcessApproval: true });
    afterThisTest(async () => {
      await guard.close();
      await plant.close();
    });
    const [before] = await guard.propose({ limit: 9 }, { reason: "before the move" });
    expect((await guard.approve(before!.id, { by: "alice" })).state).toBe("executed");
    const [pending] = await guard.propose({ limit: 10 }, { reason: "approved after the move" });
    renameSync(file, `${file}.moved`);
    // The decision and attempt went to the moved file and were cut off again: the approval is refused, unwritten.
    expect((await guard.approve(pending!.id, { by: "alice" })).state).toBe("refused");
    const [after] = await guard.propose({ limit: 11 }, { reason: "proposed after the move" });
    expect(drive.get("limit")).toBe(9);
    expect(after!.state).toBe("rejected");
    expect(after!.verdicts.map((verdict) => verdict.code)).toEqual(["audit-failed"]);
    expect(guard.status().audit).toMatchObject({ state: "failed", code: "moved" });
  });
});
