import { spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { verifyAuditLog } from "plantwire";
import { describe, expect, it } from "vitest";

const root = fileURLToPath(new URL("../..", import.meta.url));
const child = fileURLToPath(new URL("../support/loop-shutdown-child.ts", import.meta.url));

describe("graceful shutdown", () => {
  it("SIGTERM mid-run finishes the run, closes the audit and adapters, and the process exits by itself", async () => {
    const audit = join(mkdtempSync(join(tmpdir(), "plantwire-shutdown-")), "audit.jsonl");
    const process_ = spawn(process.execPath, ["--import", "tsx", child, audit], { cwd: root });
    let output = "";
    process_.stdout.on("data", (chunk) => {
      output += chunk;
      if (output.includes("running") && !process_.killed) process_.kill("SIGTERM");
    });
    process_.stderr.on("data", (chunk) => {
      output += chunk;
    });
    const code = await new Promise<number | null>((resolve) => process_.on("exit", resolve));
    expect(code, output).toBe(0);
    expect(output).toContain("SIGTERM: stopping");
    expect(output).toContain("stopped: loops finished, audit closed, adapters closed");
    const verification = verifyAuditLog(audit);
    expect(verification.ok).toBe(true);
    expect(verification.records).toBeGreaterThanOrEqual(4);
  });
});
