import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AuditLog, type AuditRecord, ConfigError, verifyAuditLog } from "plantwire";
import { afterAll, describe, expect, it } from "vitest";

const folders: string[] = [];
afterAll(() => {
  for (const folder of folders) rmSync(folder, { recursive: true, force: true });
});

function freshLog(): string {
  const folder = mkdtempSync(join(tmpdir(), "plantwire-audit-"));
  folders.push(folder);
  return join(folder, "audit.jsonl");
}

function lines(file: string): string[] {
  return readFileSync(file, "utf8").trimEnd().split("\n");
}

describe("audit log", () => {
  it("stores awkward values as plain JSON so the chain always verifies", () => {
    const file = freshLog();
    const log = AuditLog.open(file);
    const circular: Record<string, unknown> = { a: 1 };
    circular.self = circular;
    log.append({ type: "note", value: Buffer.from("hi") });
    log.append({ type: "note", value: 10n ** 30n });
    log.append({ type: "note", value: circular });
    log.append({ type: "note", value: JSON.parse('{"__proto__": {"by": "mallory"}}') });
    log.close();
    expect(verifyAuditLog(file)).toEqual({ ok: true, records: 4 });
    const records = lines(file).map((line) => JSON.parse(line) as AuditRecord);
    expect(records[1]?.value).toBe("1000000000000000000000000000000n");
    expect(records[2]?.value).toEqual({ a: 1, self: "[circular]" });
  });

  it("detects an edit inside a __proto__ key", () => {
    const file = freshLog();
    const log = AuditLog.open(file);
    log.append({ type: "decision", decision: "approved", by: "alice" });
    log.close();
    const [line] = lines(file);
    writeFileSync(file, `${line!.replace('"by":"alice"', '"__proto__":{"by":"mallory"},"by":"alice"')}\n`);
    expect(verifyAuditLog(file)).toMatchObject({ ok: false, line: 1 });
  });

  it("refuses to continue a log whose end was cut off, or whose head file is gone", () => {
    const file = freshLog();
    const log = AuditLog.open(file);
    for (let index = 0; index < 3; index++) log.append({ type: "note", index });
    log.close();
    const whole = lines(file);
    writeFileSync(file, `${whole.slice(0, 2).join("\n")}\n`);
    expect(verifyAuditLog(file)).toMatchObject({ ok: false, line: 3 });
    expect(() => AuditLog.open(file)).toThrow(ConfigError);
    writeFileSync(file, `${whole.join("\n")}\n`);
    rmSync(`${file}.head`);
    expect(verifyAuditLog(file).ok).toBe(false);
    expect(() => AuditLog.open(file)).toThrow(/head file is missing/);
  });

  it("cuts off a torn final line on reopen, keeps a copy, and says so", () => {
    const file = freshLog();
    const log = AuditLog.open(file);
    log.append({ type: "note", index: 1 });
    log.close();
    writeFileSync(file, '{"type":"attempt","seq":2,"ti', { flag: "a" });
    const reopened = AuditLog.open(file);
    reopened.close();
    expect(verifyAuditLog(file)).toEqual({ ok: true, records: 2 });
    expect(JSON.parse(lines(file)[1]!)).toMatchObject({
      type: "recovery",
      note: expect.stringContaining("torn final line"),
    });
  });

  it("allows one writer at a time, and takes over a lock left by a dead process", () => {
    const file = freshLog();
    const log = AuditLog.open(file);
    expect(() => AuditLog.open(file)).toThrow(/already open in this process/);
    log.close();
    writeFileSync(`${file}.lock`, "999999999");
    const again = AuditLog.open(file);
    again.append({ type: "note" });
    again.close();
    expect(existsSync(`${file}.lock`)).toBe(false);
    copyFileSync(file, `${file}.copy`);
    expect(verifyAuditLog(file).ok).toBe(true);
  });
});
