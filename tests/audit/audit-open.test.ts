/**
 * T19 (file side): opening a log re-hashes it against its head and refuses every way of losing records quietly:
 * emptied, deleted beside its head, shortened, edited, reordered, head missing, and lines that parse to the same
 * record but are not stored canonically (duplicate key, reordered keys, extra spaces). A head that lagged behind a
 * log whose extra records chain is accepted, with a note.
 */
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { AuditLog, ConfigError, canonicalJson, verifyAuditLog } from "plantwire";
import { describe, expect, it } from "vitest";
import { audit, lines, logWith, records, writeLines } from "./audit-fixture.js";

/** The ConfigError `AuditLog.open(file)` throws; fails the test when it opens. */
function refusal(file: string): ConfigError {
  let caught: unknown;
  try {
    AuditLog.open(file).close();
  } catch (error) {
    caught = error;
  }
  expect(ConfigError.isInstance(caught), `opened ${file}`).toBe(true);
  const error = caught as ConfigError;
  expect(error.issues[0]?.fix).toContain(`plantwire audit recover ${file} --reason`);
  // A refused open leaves nothing behind: no lock, no new records.
  expect(existsSync(`${file}.lock`)).toBe(false);
  return error;
}

describe("opening an audit log", () => {
  it("refuses an emptied log whose head remains (: > audit.jsonl)", async () => {
    const file = logWith(3);
    writeFileSync(file, "");
    expect(refusal(file).issues[0]).toMatchObject({
      path: "emptied",
      message: expect.stringContaining("records up to 3"),
    });
    expect(verifyAuditLog(file)).toMatchObject({ ok: false, records: 0, line: 1 });
    const cli = await audit("verify", file);
    expect(cli.code).toBe(1);
    expect(cli.stdout).toMatch(/^BROKEN at line 1: the log is empty, but its head file says/);
  });

  it("refuses a deleted log whose head remains", async () => {
    const file = logWith(2);
    rmSync(file);
    expect(refusal(file).issues[0]).toMatchObject({ path: "deleted" });
    expect(existsSync(file)).toBe(false);
    expect(verifyAuditLog(file)).toMatchObject({ ok: false, problem: expect.stringContaining("deleted") });
    const cli = await audit("verify", file);
    expect(cli.code).toBe(1);
    expect(cli.stdout).toContain("BROKEN at line 1: the log is missing, but its head file says");
    const nothing = await audit("verify", `${file}.nothing`);
    expect(nothing.code).toBe(1);
    expect(nothing.stderr).toContain(`No audit log at ${file}.nothing`);
  });

  it("refuses a shortened log and a log whose head is missing", () => {
    const file = logWith(5);
    const whole = lines(file);
    writeLines(file, whole.slice(0, 3));
    expect(refusal(file).issues[0]).toMatchObject({
      path: "shortened",
      message: expect.stringContaining("ends at record 3"),
    });
    expect(verifyAuditLog(file)).toMatchObject({ ok: false, records: 3, line: 4 });
    writeLines(file, whole);
    rmSync(`${file}.head`);
    expect(refusal(file).issues[0]).toMatchObject({ path: "head-missing" });
    expect(verifyAuditLog(file)).toMatchObject({ ok: false, records: 5, line: 6 });
  });

  it("refuses an edited or reordered chain and names the line", () => {
    const file = logWith(4);
    const whole = lines(file);
    writeLines(file, [whole[0]!, whole[2]!, whole[1]!, whole[3]!]);
    expect(refusal(file).issues[0]).toMatchObject({
      path: "broken",
      message: expect.stringMatching(/^line 2 has sequence number 3/),
    });
    writeLines(file, [whole[0]!, whole[1]!.replace('"record 2"', '"record two"'), whole[2]!, whole[3]!]);
    expect(refusal(file).issues[0]?.message).toMatch(/^line 2 does not match its hash/);
    expect(verifyAuditLog(file)).toMatchObject({ ok: false, records: 1, line: 2 });
  });

  it("fails a duplicated key, reordered keys and extra spaces, though each parses to the same record", async () => {
    const file = logWith(2);
    const [first, second] = lines(file) as [string, string];
    expect(canonicalJson(JSON.parse(first))).toBe(first);
    const variants = {
      "duplicate key": first.replace('"index":1', '"index":7,"index":1'),
      "reordered keys": `{"type":"note",${first.slice(1).replace(',"type":"note"', "")}`,
      "extra spaces": first.replace('"index":1', '"index": 1'),
    };
    for (const [name, variant] of Object.entries(variants)) {
      expect(variant, name).not.toBe(first);
      expect(JSON.parse(variant), name).toEqual(JSON.parse(first));
      writeLines(file, [variant, second]);
      expect(verifyAuditLog(file), name).toMatchObject({
        ok: false,
        records: 0,
        line: 1,
        problem: expect.stringContaining("canonical form"),
      });
      expect(refusal(file).issues[0]?.path, name).toBe("broken");
      expect((await audit("verify", file)).code, name).toBe(1);
    }
    writeLines(file, [first, second]);
    expect(verifyAuditLog(file)).toEqual({ ok: true, records: 2 });
  });

  it("accepts a log longer than its head when the extra records chain (the head lagged), with a note", () => {
    const file = logWith(2);
    const lagging = readFileSync(`${file}.head`, "utf8");
    const log = AuditLog.open(file);
    log.appendBatch([
      { type: "note", index: 3 },
      { type: "note", index: 4 },
    ]);
    log.close();
    writeFileSync(`${file}.head`, lagging);
    expect(verifyAuditLog(file)).toEqual({ ok: true, records: 4 });
    const reopened = AuditLog.open(file);
    reopened.close();
    expect(records(file).at(-1)).toMatchObject({
      type: "note",
      seq: 5,
      note: expect.stringContaining("the head file named record 2, but the log holds records up to 4"),
    });
    expect(JSON.parse(readFileSync(`${file}.head`, "utf8"))).toMatchObject({ seq: 5 });
  });

  it("refuses a head that names a record the log has with another hash (rewritten)", () => {
    const file = logWith(3);
    const head = JSON.parse(readFileSync(`${file}.head`, "utf8")) as { seq: number; hash: string };
    writeFileSync(`${file}.head`, JSON.stringify({ seq: 2, hash: head.hash }));
    expect(refusal(file).issues[0]).toMatchObject({ path: "rewritten" });
  });

  it("writes canonical lines, and a batch in one write with one flush", () => {
    const file = logWith(0);
    const log = AuditLog.open(file);
    const before = log.flushes;
    const batch = log.appendBatch([
      { type: "decision", proposalId: "p1", decision: "approved", by: "alice", zebra: 1, apple: { b: 2, a: 1 } },
      { type: "attempt", proposalId: "p1", tag: "speed", value: 1040 },
    ]);
    expect(log.flushes - before).toBe(1);
    expect(batch.map((record) => record.seq)).toEqual([1, 2]);
    expect(batch[0]?.time).toBe(batch[1]?.time);
    expect(log.lastAttempts.get("speed")).toBe(Date.parse(batch[1]!.time));
    log.append({ type: "outcome", proposalId: "p1", tag: "speed", write: "written" });
    expect(log.flushes - before).toBe(2);
    log.close();
    for (const line of lines(file)) expect(canonicalJson(JSON.parse(line))).toBe(line);
    expect(verifyAuditLog(file)).toEqual({ ok: true, records: 3 });
  });

  it("keeps the fields the log sets out of the caller's hands", () => {
    const file = logWith(0);
    const log = AuditLog.open(file);
    const record = log.append({ type: "note", seq: 99, hash: "x", prevHash: "y", chain: "hmac-sha256", time: "then" });
    log.close();
    expect(record).toMatchObject({ seq: 1 });
    expect(record).not.toHaveProperty("chain");
    expect(verifyAuditLog(file)).toEqual({ ok: true, records: 1 });
  });
});
