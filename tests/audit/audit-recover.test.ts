/**
 * `plantwire audit recover`: the damaged log and its head are kept as evidence, and a new chain starts whose first
 * record says why, who, which OS user and how far the old chain verified, and links to the old chain's last good
 * record. The new chain verifies ("continues … from record N") and a guard can open and continue it.
 */
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { AuditLog, verifyAuditLog } from "plantwire";
import { describe, expect, it } from "vitest";
import { audit, keyFile, lines, logWith, records, writeLines } from "./audit-fixture.js";

function brokenFileOf(file: string): string {
  const name = readdirSync(dirname(file)).find((entry) => /^audit\.jsonl\.broken-[\dT:.Z-]+$/.test(entry));
  expect(name, "the old log is kept").toBeDefined();
  return join(dirname(file), name!);
}

describe("plantwire audit recover", () => {
  it("keeps a shortened log, and starts a chain linked to its last good record", async () => {
    const file = logWith(5);
    const whole = lines(file);
    writeLines(file, whole.slice(0, 3));
    const damaged = readFileSync(file, "utf8");
    const { code, stdout } = await audit("recover", file, "--reason", "lines cut by a bad restore", "--by", "Alice Ng");
    expect(code, stdout).toBe(0);

    const old = brokenFileOf(file);
    expect(readFileSync(old, "utf8")).toBe(damaged);
    expect(JSON.parse(readFileSync(`${old}.head`, "utf8"))).toMatchObject({ seq: 5 });
    expect(stdout).toContain(`Kept the old log as ${old}`);

    const [first] = records(file);
    const lastGood = JSON.parse(whole[2]!) as { seq: number; hash: string };
    expect(first).toMatchObject({
      type: "recovery",
      seq: 4,
      prevHash: lastGood.hash,
      reason: "lines cut by a bad restore",
      by: "Alice Ng",
      user: expect.any(String),
      continues: {
        file: basename(old),
        records: 3,
        lastSeq: 3,
        lastHash: lastGood.hash,
        problem: expect.stringContaining("ends at record 3"),
      },
    });
    expect(verifyAuditLog(file)).toMatchObject({ ok: true, records: 1, continues: { lastSeq: 3 } });
    const verified = await audit("verify", file);
    expect(verified.code).toBe(0);
    expect(verified.stdout).toContain(`This log continues ${basename(old)} from record 3`);
    const shown = await audit("show", file);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toContain(
      `recovery  new chain continuing "${basename(old)}" from record 3 · by "Alice Ng" (OS user "`,
    );

    // A guard continues the new chain.
    const log = AuditLog.open(file);
    expect(log.append({ type: "note", note: "back in service" }).seq).toBe(5);
    log.close();
    expect(verifyAuditLog(file)).toMatchObject({ ok: true, records: 2 });
  });

  it("recovers an emptied log, a deleted one and a broken chain", async () => {
    const emptied = logWith(2);
    writeFileSync(emptied, "");
    expect((await audit("recover", emptied, "--reason", "emptied", "--by", "Bo")).code).toBe(0);
    expect(records(emptied)[0]).toMatchObject({ seq: 1, continues: { records: 0, lastSeq: 0 } });
    expect(verifyAuditLog(emptied).ok).toBe(true);

    const broken = logWith(4);
    const whole = lines(broken);
    writeLines(broken, [whole[0]!, whole[1]!, whole[2]!.replace('"record 3"', '"record III"'), whole[3]!]);
    expect((await audit("recover", broken, "--reason", "edited line", "--by", "Bo")).code).toBe(0);
    expect(records(broken)[0]).toMatchObject({ seq: 3, continues: { records: 2, lastSeq: 2 } });
    expect(verifyAuditLog(broken).ok).toBe(true);
    const continued = AuditLog.open(broken);
    expect(continued.append({ type: "note" }).seq).toBe(4);
    continued.close();

    const deleted = logWith(3);
    rmSync(deleted);
    expect((await audit("recover", deleted, "--reason", "deleted by a cleanup script", "--by", "Bo")).code).toBe(0);
    // Nothing to keep but the head: it still says how far the deleted log went.
    const keptHead = readdirSync(dirname(deleted)).find((entry) => /^audit\.jsonl\.broken-.*\.head$/.test(entry));
    expect(JSON.parse(readFileSync(join(dirname(deleted), keptHead!), "utf8"))).toMatchObject({ seq: 3 });
    expect(records(deleted)[0]).toMatchObject({
      seq: 1,
      continues: { records: 0, problem: expect.stringContaining("deleted") },
    });
    expect(verifyAuditLog(deleted).ok).toBe(true);
  });

  it("recovers a keyed log with its key into a keyed chain", async () => {
    const file = logWith(0);
    const key = keyFile(dirname(file));
    logWith(3, { key }, file);
    writeLines(file, lines(file).slice(0, 2));
    expect((await audit("recover", file, "--reason", "cut", "--by", "Bo")).code).toBe(1);
    expect((await audit("recover", file, "--reason", "cut", "--by", "Bo", "--key", key)).code).toBe(0);
    expect(verifyAuditLog(file, { key })).toMatchObject({ ok: true, keyed: true, continues: { lastSeq: 2 } });
  });

  it("says how to use it, with exit 2, for a blank person or reason, and exit 1 while a guard holds the log", async () => {
    const file = logWith(2);
    for (const args of [
      [file, "--reason", "x", "--by", "   "],
      [file, "--reason", "", "--by", "Bo"],
      [file, "--by", "Bo"],
      ["--reason", "x", "--by", "Bo"],
      [file, "--reason", "x", "--by", "Bo", "--force"],
    ]) {
      const { code, stderr } = await audit("recover", ...args);
      expect(code, args.join(" ")).toBe(2);
      expect(stderr).toContain("Usage: plantwire audit recover");
    }
    const log = AuditLog.open(file);
    const held = await audit("recover", file, "--reason", "x", "--by", "Bo");
    log.close();
    expect(held.code).toBe(1);
    expect(held.stderr).toContain("already open");
    expect(existsSync(file) && verifyAuditLog(file).ok).toBe(true);
    expect(readdirSync(dirname(file)).some((entry) => entry.includes("broken"))).toBe(false);
  });
});
