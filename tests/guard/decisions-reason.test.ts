/**
 * An approval's reason is kept: the guard's approve() and the real `plantwire approve --reason` in a child process
 * each leave it in the audit's approval record, trimmed and capped; text that is not a string is dropped.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileApprovalStore, verifyAuditLog } from "plantwire";
import { waitFor } from "plantwire/testing";
import { afterEach, describe, expect, it } from "vitest";
import { runCli } from "../support/cli-process.js";
import { pumpStation } from "./guard-fixture.js";

type Station = ReturnType<typeof pumpStation>;
const open: Station[] = [];
const folders: string[] = [];

function station(options: Parameters<typeof pumpStation>[0] = {}) {
  const made = pumpStation(options);
  open.push(made);
  folders.push(made.folder);
  return made;
}

afterEach(async () => {
  for (const made of open.splice(0)) {
    await made.guard.close();
    await made.plant.close();
  }
  for (const folder of folders.splice(0)) rmSync(folder, { recursive: true, force: true });
});

function decisions(file: string, proposalId: string): Record<string, unknown>[] {
  return readFileSync(file, "utf8")
    .trim()
    .split("\n")
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .filter((record) => record.type === "decision" && record.proposalId === proposalId);
}

describe("an approval's reason through the guard API", () => {
  it("is kept in the approval record, trimmed", async () => {
    const made = station();
    const [proposal] = await made.guard.propose({ limit: 9 }, { reason: "raise" });
    const decided = await made.guard.approve(proposal!.id, {
      by: "alice",
      reason: "  shift lead agreed on the radio \n",
    });
    expect(decided.state).toBe("executed");
    expect(decisions(made.auditFile, proposal!.id)).toEqual([
      expect.objectContaining({ decision: "approved", by: "alice", reason: "shift lead agreed on the radio" }),
    ]);
    expect(verifyAuditLog(made.auditFile).ok).toBe(true);
  });

  it("is capped at 2000 characters without cutting one in half; a blank or non-text reason is left out", async () => {
    const made = station();
    const [long] = await made.guard.propose({ limit: 9 }, { reason: "raise" });
    await made.guard.approve(long!.id, { by: "alice", reason: "🔧".repeat(5000) });
    const [kept] = decisions(made.auditFile, long!.id);
    expect(Array.from(String(kept?.reason))).toHaveLength(2000);
    expect(String(kept?.reason)).toBe("🔧".repeat(2000));

    const [blank] = await made.guard.propose({ limit: 10 }, { reason: "raise" });
    await made.guard.approve(blank!.id, { by: "alice", reason: "   " });
    const [odd] = await made.guard.propose({ limit: 11 }, { reason: "raise" });
    await made.guard.approve(odd!.id, { by: "alice", reason: { toString: () => "not text" } as unknown as string });
    for (const id of [blank!.id, odd!.id]) {
      expect(decisions(made.auditFile, id)).toEqual([expect.objectContaining({ decision: "approved" })]);
      expect(decisions(made.auditFile, id)[0]).not.toHaveProperty("reason");
    }
    expect(made.drive.writes.map((write) => write.value)).toEqual([9, 10, 11]);
  });
});

describe("an approval's reason from the CLI's file path", () => {
  it("`plantwire approve --reason` leaves the reason in the approval record of the guard that holds the proposal", async () => {
    const dir = join(mkdtempSync(join(tmpdir(), "plantwire-reason-")), "approvals");
    folders.push(join(dir, ".."));
    const made = station({ approvals: dir, decisionPollMs: 40, allowSameProcessApproval: false });
    const [proposal] = await made.guard.propose({ limit: 9 }, { reason: "raise" });
    expect(
      fileApprovalStore(dir)
        .pending()
        .map((pending) => pending.id),
    ).toContain(proposal!.id);
    const run = await runCli("approve", proposal!.id, "--by", "alice", "--reason", "checked the gauge", "--dir", dir);
    expect(run.code, run.stderr).toBe(0);
    expect(await waitFor(() => made.guard.get(proposal!.id)?.state === "executed", 5000)).toBe(true);
    expect(decisions(made.auditFile, proposal!.id)).toEqual([
      expect.objectContaining({ decision: "approved", by: "alice", reason: "checked the gauge" }),
    ]);
  });
});
