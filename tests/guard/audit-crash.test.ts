import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { AuditLog, type AuditRecord, verifyAuditLog } from "plantwire";
import { describe, expect, it, onTestFinished } from "vitest";

const root = fileURLToPath(new URL("../..", import.meta.url));
const child = fileURLToPath(new URL("../support/audit-crash-child.ts", import.meta.url));

describe("audit crash safety", () => {
  it("a process killed between attempt and outcome leaves a verifiable log, marked unfinished on reopen", () => {
    const folder = mkdtempSync(join(tmpdir(), "plantwire-crash-"));
    onTestFinished(() => rmSync(folder, { recursive: true, force: true }));
    const file = join(folder, "audit.jsonl");
    const run = spawnSync(process.execPath, ["--import", "tsx", child, file], { cwd: root, encoding: "utf8" });
    expect(run.signal, run.stderr).toBe("SIGKILL");
    const before = readFileSync(file, "utf8")
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as AuditRecord);
    expect(before.map((record) => record.type)).toEqual(["proposal", "decision", "attempt"]);
    expect(verifyAuditLog(file)).toEqual({ ok: true, records: 3 });

    const log = AuditLog.open(file);
    log.close();
    const after = readFileSync(file, "utf8")
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as AuditRecord);
    expect(after.at(-1)).toMatchObject({
      type: "recovery",
      proposalId: before[2]?.proposalId,
      outcome: "unknown",
      attemptSeq: 3,
    });
    expect(verifyAuditLog(file)).toEqual({ ok: true, records: 4 });
    // Reopening again adds nothing: the attempt now has its recovery record.
    AuditLog.open(file).close();
    expect(verifyAuditLog(file)).toEqual({ ok: true, records: 4 });
  });
});
