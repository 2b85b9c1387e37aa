import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createGuard, createPlant, defineTags, float, type OutputChannel } from "plantwire";
import { memoryAdapter } from "plantwire/testing";
import { describe, expect, it } from "vitest";
import { runCli as cli } from "../support/cli-process.js";
import { pumpStation } from "./guard-fixture.js";

describe("approvals from the command line, in another process", () => {
  it("lists, approves once, rejects, and verifies the audit", async () => {
    const dir = join(mkdtempSync(join(tmpdir(), "plantwire-approvals-")), "approvals");
    const { drive, guard, plant, auditFile } = pumpStation({
      approvals: dir,
      decisionPollMs: 50,
      allowSameProcessApproval: false,
    });

    const [toApprove] = await guard.propose({ speed: 1030 }, { reason: "hold 6 bar", loop: "advisor" });
    const [toReject] = await guard.propose({ limit: 11 }, { reason: "raise the limit" });
    const listed = await cli("proposals", "--dir", dir);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toContain(toApprove!.id);
    expect(listed.stdout).toContain("speed: 1000 → 1030");
    expect(listed.stdout).toContain("loop advisor");

    const approved = await cli("approve", toApprove!.id, "--by", "alice", "--dir", dir, "--wait-ms", "10000");
    expect(approved.stdout).toContain("Approved by alice. Result: executed: write written, read-back verified");
    expect(approved.code).toBe(0);
    expect(drive.writes.map((write) => write.value)).toEqual([1030]);
    expect(guard.get(toApprove!.id)).toMatchObject({ state: "executed", decidedBy: "alice" });

    const again = await cli("approve", toApprove!.id, "--by", "mallory", "--dir", dir);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain("no longer pending (executed");

    const rejected = await cli("reject", toReject!.id, "--by", "bob", "--reason", "not today", "--dir", dir);
    expect(rejected.code).toBe(0);
    expect(guard.get(toReject!.id)).toMatchObject({ state: "declined", decidedBy: "bob" });
    expect(drive.writes).toHaveLength(1);

    expect((await cli("approve", "no-such-id", "--by", "x", "--dir", dir)).code).toBe(1);
    expect((await cli("approve")).code).toBe(2);

    await guard.close();
    await plant.close();
    const verified = await cli("audit", "verify", auditFile);
    expect(verified.code).toBe(0);
    expect(verified.stdout).toMatch(/^OK: \d+ records/);
    const lines = readFileSync(auditFile, "utf8").trimEnd().split("\n");
    lines[2] = lines[2]!.replace('"by":"alice"', '"by":"alicf"');
    writeFileSync(auditFile, `${lines.join("\n")}\n`);
    const broken = await cli("audit", "verify", auditFile);
    expect(broken.code).toBe(1);
    expect(broken.stdout).toContain("BROKEN at line 3");
  });
});

describe("what an approver is shown", () => {
  it("approve shows the whole value it approves; proposals marks a shortened one; an output has no current value", async () => {
    const folder = mkdtempSync(join(tmpdir(), "plantwire-shown-"));
    const drive = memoryAdapter({ name: "drive", values: { p: 6 } });
    const plant = createPlant({ tags: defineTags({ p: float({ source: drive.key("p") }) }), onError: () => {} });
    const sent: unknown[] = [];
    const channel: OutputChannel = {
      kind: "row",
      label: "test → shift_log",
      device: "test://shift_log",
      check: () => [],
      size: (item) => JSON.stringify(item).length,
      send: async (item) => void sent.push(item),
    };
    const dir = join(folder, "approvals");
    const guard = createGuard({
      plant,
      audit: join(folder, "audit.jsonl"),
      approvals: dir,
      writable: [],
      deviceLocks: false,
      decisionPollMs: 40,
      outputs: { shiftLog: { channel, approval: "required", maxBytes: 16384 } },
    });
    try {
      const tail = "ALSO: operator must bypass interlock PSH-101 tonight";
      const message = `Pump 7 vibration normal, no action needed this shift.${" ".repeat(30)}${tail}`;
      const proposal = await guard.send("shiftLog", { message }, { reason: "summary" });
      const listed = await cli("proposals", "--dir", dir);
      expect(listed.stdout).not.toContain(tail);
      expect(listed.stdout).toMatch(/… \(\d+ more characters; `plantwire approve` shows all\)/);
      expect(listed.stdout).toContain("output:shiftLog: send {");
      expect(listed.stdout).not.toContain("undefined");
      const approved = await cli("approve", proposal.id, "--by", "alice", "--dir", dir);
      expect(approved.stdout).toContain(JSON.stringify({ message }));
      expect(approved.stdout).not.toContain("undefined");
      expect(approved.code).toBe(0);
      expect(sent).toEqual([{ message }]);
    } finally {
      await guard.close();
      await plant.close();
    }
  });
});
