/**
 * T18 at the guard: when the audit cannot record a write's attempt (a file-size limit in a child process), nothing
 * reaches the device, every later proposal is refused with `audit-failed` naming the cause, and the records before
 * the failure verify.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { AuditLog, verifyAuditLog } from "plantwire";
import { describe, expect, it } from "vitest";

const root = fileURLToPath(new URL("../..", import.meta.url));
const child = fileURLToPath(new URL("../support/guard-audit-child.ts", import.meta.url));

describe("T18 the guard when its audit fails", () => {
  it("writes nothing after a failed append and refuses every later proposal with audit-failed", () => {
    const folder = mkdtempSync(join(tmpdir(), "plantwire-guard-t18-"));
    const file = join(folder, "audit.jsonl");
    const limitBytes = 256 * 1024;
    const log = AuditLog.open(file);
    // Filled to within 1.5 KiB of the limit: a proposal with a 2000-character reason no longer fits.
    while (statSync(file).size < limitBytes - 1536) log.append({ type: "note", note: "y".repeat(500) });
    log.close();
    const records = verifyAuditLog(file).records;
    const run = spawnSync(
      "bash",
      [
        "-c",
        `ulimit -f ${limitBytes / 1024} && exec "$0" --import tsx "$@"`,
        process.execPath,
        child,
        file,
        join(folder, "locks"),
      ],
      { cwd: root, encoding: "utf8" },
    );
    expect(run.status, run.stderr).toBe(0);
    const result = JSON.parse(run.stdout) as {
      writes: number;
      first: { state: string; outcome?: unknown };
      second: { state: string; verdicts: { code?: string; detail: string }[] };
      status: { audit: { state: string; code?: string; reason?: string } };
    };
    expect(result.writes).toBe(0);
    expect(result.first.state).toBe("refused");
    expect(result.first.outcome).toBeUndefined();
    expect(result.second.state).toBe("rejected");
    expect(result.second.verdicts.map((verdict) => verdict.code)).toEqual(["audit-failed"]);
    expect(result.second.verdicts[0]?.detail).toContain("size-limit");
    expect(result.status.audit).toMatchObject({ state: "failed", code: "size-limit" });
    // The records before the failure still verify (the cut-short batch was cut back off the file).
    const after = verifyAuditLog(file);
    expect(after.ok).toBe(true);
    expect(after.records).toBeGreaterThanOrEqual(records);
  });
});
