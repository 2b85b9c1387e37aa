/**
 * `plantwire audit verify --no-head`: a copy of a log handed to an auditor without its `.head` file. The chain is
 * checked; an intact chain exits 4 (never 0) and says that records cut off the end cannot be ruled out; a damaged
 * chain still fails with 1 at its line.
 */
import { copyFileSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { AuditLog, verifyAuditLog } from "plantwire";
import { sql, sqlAuditAnchor } from "plantwire/sql";
import { afterAll, describe, expect, it } from "vitest";
import { exitCodes } from "../../src/cli/cli-command.js";
import { runCli } from "../../src/cli/main.js";
import { captureIo } from "../support/capture-io.js";
import { removeFolders, temporaryFolder } from "./cli-child.js";

afterAll(removeFolders);

/** A log of `count` records written by the real AuditLog, and a copy of the log alone (no head) in another folder. */
function logAndCopy(count: number, key?: string) {
  const folder = temporaryFolder();
  const file = join(folder, "audit.jsonl");
  const log = AuditLog.open(file, key ? { key } : {});
  for (let index = 1; index <= count; index++) log.append({ type: "note", note: `record ${index}` });
  log.close();
  const copy = join(temporaryFolder(), "audit.jsonl");
  copyFileSync(file, copy);
  return { file, copy };
}

async function verify(...args: string[]) {
  const io = captureIo();
  const code = await runCli(["audit", "verify", ...args], io);
  return { code, stdout: io.stdout, stderr: io.stderr };
}

describe("audit verify --no-head", () => {
  it("an intact copy without its head: exit 4 with the caveat, never 0", async () => {
    const { copy } = logAndCopy(5);
    const run = await verify(copy, "--no-head");
    expect(run.code).toBe(exitCodes.endNotChecked);
    expect(run.code).toBe(4);
    expect(run.stdout).toContain("CHAIN INTACT, END NOT CHECKED: 5 records");
    expect(run.stdout).toContain("records cut off the end");
    expect(run.stdout).not.toMatch(/^OK/m);
  });

  it("without --no-head the same copy fails as before, and the report points at --no-head", async () => {
    const { copy } = logAndCopy(3);
    const run = await verify(copy);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain("BROKEN");
    expect(run.stdout).toContain("head file is missing");
    expect(run.stdout).toContain("--no-head");
  });

  it("a tampered copy still fails with 1 at the edited line", async () => {
    const { copy } = logAndCopy(4);
    writeFileSync(copy, readFileSync(copy, "utf8").replace("record 2", "record 9"));
    const run = await verify(copy, "--no-head");
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/^BROKEN at line 2: /m);
  });

  it("a copy cut short at the end is what --no-head cannot see: still 4, with the caveat", async () => {
    const { copy } = logAndCopy(6);
    const lines = readFileSync(copy, "utf8").trimEnd().split("\n");
    writeFileSync(copy, `${lines.slice(0, 4).join("\n")}\n`);
    const run = await verify(copy, "--no-head");
    expect(run.code).toBe(4);
    expect(run.stdout).toContain("END NOT CHECKED: 4 records");
    // With its head, the same cut is caught.
    const { file } = logAndCopy(6);
    writeFileSync(file, `${readFileSync(file, "utf8").trimEnd().split("\n").slice(0, 4).join("\n")}\n`);
    expect((await verify(file)).code).toBe(1);
  });

  it("a torn last line, a keyed copy without its key and a missing copy fail with 1", async () => {
    const { copy } = logAndCopy(3);
    writeFileSync(copy, `${readFileSync(copy, "utf8")}{"seq":4,"ty`);
    const torn = await verify(copy, "--no-head");
    expect(torn.code).toBe(1);
    expect(torn.stdout).toMatch(/BROKEN at line 4: the line is cut short/);

    const keyFile = join(temporaryFolder(), "audit.key");
    writeFileSync(keyFile, "0123456789abcdef0123456789abcdef", { mode: 0o600 });
    const keyed = logAndCopy(3, keyFile);
    const noKey = await verify(keyed.copy, "--no-head");
    expect(noKey.code).toBe(1);
    expect(noKey.stdout).toContain("KEY NEEDED");
    const withKey = await verify(keyed.copy, "--no-head", "--key", keyFile);
    expect(withKey.code).toBe(4);
    expect(withKey.stdout).toContain("keyed (HMAC-SHA256)");

    const missing = await verify(join(temporaryFolder(), "none.jsonl"), "--no-head");
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("No audit log at");
  });

  it("with an anchor (SQLite): a matching anchor is reported, still 4; a copy cut before the anchor fails", async () => {
    const database = `sqlite:${join(temporaryFolder(), "anchor.db")}`;
    const adapter = sql({ url: database, name: "anchor-store" });
    try {
      const file = join(temporaryFolder(), "audit.jsonl");
      const log = AuditLog.open(file, {
        anchor: sqlAuditAnchor(adapter, { table: "audit_anchor" }),
        anchorEvery: 3,
        anchorIntervalMs: 3_600_000,
      });
      for (let index = 1; index <= 6; index++) log.append({ type: "note", note: `record ${index}` });
      await log.close(); // publishes the last head: record 6
      const copy = join(temporaryFolder(), "audit.jsonl");
      copyFileSync(file, copy);
      // Heads name the log by the path it was written at: a copy elsewhere says which.
      const anchorUrl = `${database}?table=audit_anchor&file=${encodeURIComponent(resolve(file))}`;
      const matched = await verify(copy, "--no-head", "--anchor", anchorUrl);
      expect(matched.stdout).toContain("CHAIN INTACT, END NOT CHECKED: 6 records");
      expect(matched.stdout).toMatch(/Anchor: record 6 .* matches/);
      expect(matched.code).toBe(4);

      writeFileSync(copy, `${readFileSync(copy, "utf8").trimEnd().split("\n").slice(0, 4).join("\n")}\n`);
      const cut = await verify(copy, "--no-head", "--anchor", anchorUrl);
      expect(cut.code).toBe(1);
      expect(cut.stdout).toContain("ANCHOR MISMATCH");
    } finally {
      await adapter.close();
    }
  });

  it("in code: withoutHead checks the chain and marks the result", () => {
    const { copy, file } = logAndCopy(2);
    expect(verifyAuditLog(copy)).toMatchObject({ ok: false, damage: "head-missing" });
    expect(verifyAuditLog(copy, { withoutHead: true })).toEqual({ ok: true, records: 2, withoutHead: true });
    // The head beside the original is not read either: the caveat is the same.
    expect(verifyAuditLog(file, { withoutHead: true })).toEqual({ ok: true, records: 2, withoutHead: true });
    expect(verifyAuditLog(file)).toEqual({ ok: true, records: 2 });
  });

  it("the help names --no-head and its exit code", async () => {
    const help = captureIo();
    expect(await runCli(["audit", "verify", "--help"], help)).toBe(0);
    expect(help.stdout).toContain("--no-head");
    expect(help.stdout).toContain("4 with --no-head");
  });
});
