/**
 * T16: decisions are bound to what the person saw. Forged, edited, copied and ownerless decisions write nothing, and
 * every refused one is on the audit with its reason; the CLI exits non-zero and says nothing will be written.
 */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileApprovalStore, type PendingProposal, proposalDigest, verifyAuditLog } from "plantwire";
import { waitFor } from "plantwire/testing";
import { afterEach, describe, expect, it } from "vitest";
import { runCli } from "../support/cli-process.js";
import { pumpStation } from "./guard-fixture.js";

type Station = ReturnType<typeof pumpStation>;
const open: Station[] = [];

function station(options: Parameters<typeof pumpStation>[0] = {}) {
  const dir = join(mkdtempSync(join(tmpdir(), "plantwire-decisions-")), "approvals");
  const made = pumpStation({ approvals: dir, decisionPollMs: 40, allowSameProcessApproval: false, ...options });
  open.push(made);
  return { ...made, dir, store: fileApprovalStore(dir) };
}

afterEach(async () => {
  for (const made of open.splice(0)) {
    await made.guard.close();
    await made.plant.close();
  }
});

function auditRecords(file: string): Record<string, unknown>[] {
  return readFileSync(file, "utf8")
    .trim()
    .split("\n")
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

function refusals(file: string, proposalId: string): string[] {
  return auditRecords(file)
    .filter((record) => record.type === "decision" && record.proposalId === proposalId && record.decision === "refused")
    .map((record) => String(record.code));
}

/** Files a decision as anyone in the approvers' group could, and waits for the guard's answer. */
async function file(
  made: ReturnType<typeof station>,
  id: string,
  content: unknown,
  nonce: string = crypto.randomUUID(),
) {
  writeFileSync(
    join(made.dir, "decisions", `${id}.${nonce}.json`),
    typeof content === "string" ? content : JSON.stringify(content),
  );
  const answered = await waitFor(
    () => made.store.acknowledgement(id, nonce) !== undefined || made.store.waiting().length === 0,
    5000,
  );
  expect(answered).toBe(true);
  // Give the guard's answer (or, without a nonce, its audit record) a moment to land.
  await waitFor(() => made.store.acknowledgement(id, nonce) !== undefined, 300);
  return made.store.acknowledgement(id, nonce);
}

function shown(made: ReturnType<typeof station>, id: string): PendingProposal {
  const pending = made.store.pending().find((proposal) => proposal.id === id);
  if (!pending) throw new Error(`proposal ${id} is not pending`);
  return pending;
}

describe("T16 forged and edited decisions", () => {
  it("refuses each malformed, unknown, blank, copied or mismatched decision, records why, and writes nothing", async () => {
    const made = station();
    const [speed] = await made.guard.propose({ limit: 9 }, { reason: "raise" });
    const [other] = await made.guard.propose({ valve: 45 }, { reason: "open a bit" });
    const id = speed!.id;
    const digest = proposalDigest(shown(made, id));
    // As the CLI files it: which process (another one than the guard's) on which host.
    const good = { id, decision: "approve", by: "alice", digest, time: Date.now(), pid: 1, host: "gateway" };
    const cases: [unknown, string][] = [
      ["{ not json", "malformed"],
      [{ ...good, decision: undefined, nonce: "n1" }, "unknown-decision"],
      [{ ...good, decision: "maybe", nonce: "n2" }, "unknown-decision"],
      [{ ...good, by: undefined, nonce: "n3" }, "blank-approver"],
      [{ ...good, by: "   ", nonce: "n4" }, "blank-approver"],
      [{ ...good, digest: undefined, nonce: "n5" }, "digest-mismatch"],
      [{ ...good, digest: proposalDigest({ ...shown(made, id), value: 12 }), nonce: "n6" }, "digest-mismatch"],
      [{ ...good, pid: undefined, nonce: "n6b" }, "malformed"],
    ];
    for (const [content, code] of cases) {
      const nonce = (content as { nonce?: string }).nonce ?? "none";
      const ack = await file(made, id, content, nonce);
      if (typeof content !== "string") expect(ack).toMatchObject({ accepted: false, code });
    }
    // A valid decision for the other proposal, copied under this one's name.
    const copied = { ...good, id: other!.id, digest: proposalDigest(shown(made, other!.id)), nonce: "n7" };
    expect(await file(made, id, copied, "n7")).toMatchObject({ accepted: false, code: "copied-from-another-id" });

    expect(made.drive.writes).toHaveLength(0);
    expect(made.guard.get(id)?.state).toBe("pending");
    expect(refusals(made.auditFile, id)).toEqual([
      "malformed",
      "unknown-decision",
      "unknown-decision",
      "blank-approver",
      "blank-approver",
      "digest-mismatch",
      "digest-mismatch",
      "malformed",
      "copied-from-another-id",
    ]);
    // The real decision still goes through afterwards, once.
    expect(await file(made, id, { ...good, nonce: "n8" }, "n8")).toMatchObject({ accepted: true, state: "executed" });
    expect(made.drive.writes.map((write) => write.value)).toEqual([9]);
    expect(await file(made, id, { ...good, nonce: "n9" }, "n9")).toMatchObject({
      accepted: false,
      code: "already-decided",
    });
    expect(made.drive.writes).toHaveLength(1);
  });

  it("an edited pending file can only produce a refused decision from the CLI", async () => {
    const made = station();
    const [proposal] = await made.guard.propose({ limit: 9 }, { reason: "raise" });
    const pendingFile = join(made.dir, "pending", `${proposal!.id}.json`);
    const edited = JSON.parse(readFileSync(pendingFile, "utf8"));
    edited.value = 8.5; // the person would confirm 8.5; the guard holds 9
    writeFileSync(pendingFile, JSON.stringify(edited));
    const run = await runCli("approve", proposal!.id, "--by", "alice", "--dir", made.dir);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain("→ 8.5");
    expect(run.stderr).toContain("digest-mismatch");
    expect(run.stderr).toContain("Nothing will be written");
    expect(made.drive.writes).toHaveLength(0);
    expect(refusals(made.auditFile, proposal!.id)).toEqual(["digest-mismatch"]);
    const decision = auditRecords(made.auditFile).find((record) => record.type === "decision");
    expect(decision).toMatchObject({ by: "alice", identity: { via: "cli", osUser: expect.any(String) } });
  });

  it("a blank approver is a usage error in the CLI, and refused in the API", async () => {
    const made = station({ allowSameProcessApproval: true });
    const [proposal] = await made.guard.propose({ limit: 9 }, { reason: "raise" });
    const run = await runCli("approve", proposal!.id, "--by", "   ", "--dir", made.dir);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("cannot be blank");
    await expect(made.guard.approve(proposal!.id, { by: " " })).rejects.toThrow(/name of the person/);
    expect(made.drive.writes).toHaveLength(0);
    expect(refusals(made.auditFile, proposal!.id)).toEqual(["blank-approver"]);
  });

  it("the proposing process cannot approve its own proposal without the explicit option", async () => {
    const made = station();
    const [proposal] = await made.guard.propose({ limit: 9 }, { reason: "raise" });
    await expect(made.guard.approve(proposal!.id, { by: "alice" })).rejects.toThrow(/allowSameProcessApproval/);
    // A decision file filed by this very process is refused the same way.
    const digest = proposalDigest(shown(made, proposal!.id));
    const self = { id: proposal!.id, decision: "approve", by: "alice", digest, time: Date.now(), nonce: "s1" };
    const { hostname } = await import("node:os");
    const ack = await file(made, proposal!.id, { ...self, pid: process.pid, host: hostname() }, "s1");
    expect(ack).toMatchObject({ accepted: false, code: "same-process" });
    expect(made.drive.writes).toHaveLength(0);
    // Rejecting is always allowed: saying no never moves equipment.
    expect((await made.guard.reject(proposal!.id, { by: "alice", reason: "not now" })).state).toBe("declined");
  });
});

describe("separate approver users", () => {
  it("refuses an approval filed as the guard's own OS user when the deployment separates them", async () => {
    const made = station({ separateApproverUsers: true });
    const [proposal] = await made.guard.propose({ limit: 9 }, { reason: "raise" });
    const digest = proposalDigest(shown(made, proposal!.id));
    // This test process runs as the guard's user: exactly what a script of the service user would be.
    const forged = { id: proposal!.id, decision: "approve", by: "alice", digest, time: Date.now(), pid: 1, host: "gw" };
    const ack = await file(made, proposal!.id, { ...forged, nonce: "u1" }, "u1");
    expect(ack).toMatchObject({ accepted: false, code: "same-user" });
    const run = await runCli("approve", proposal!.id, "--by", "alice", "--dir", made.dir);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("same-user");
    expect(made.drive.writes).toHaveLength(0);
    expect(refusals(made.auditFile, proposal!.id)).toEqual(["same-user", "same-user"]);
  });

  it("records the reason read once, even from options whose getter changes its answer", async () => {
    const made = station();
    let reads = 0;
    const options = {
      get reason() {
        reads++;
        return reads === 1 ? "checked reason" : "something else";
      },
    };
    const [proposal] = await made.guard.propose({ limit: 9 }, options);
    expect(proposal?.reason).toBe("checked reason");
    const record = auditRecords(made.auditFile).find((entry) => entry.type === "proposal");
    expect(record?.reason).toBe("checked reason");
  });
});

describe("T16 decisions nobody will carry out", () => {
  it("after the guard is gone the CLI exits 1 and says nothing will be written; a new guard abandons the proposal", async () => {
    const made = station();
    const [proposal] = await made.guard.propose({ limit: 9 }, { reason: "raise" });
    await made.guard.close();
    const run = await runCli("approve", proposal!.id, "--by", "alice", "--dir", made.dir);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("no running guard");
    expect(run.stderr).toContain("Nothing will be written");
    const listed = await runCli("proposals", "--dir", made.dir);
    expect(listed.stdout).toContain("nothing listed here will be written");
    expect(made.drive.writes).toHaveLength(0);

    // The next guard on the same audit and folder takes nothing up: it records the proposal as abandoned.
    const next = pumpStation({ approvals: made.dir, decisionPollMs: 40 });
    open.push(next);
    expect(made.store.pending()).toEqual([]);
    expect(made.store.result(proposal!.id)).toMatchObject({ state: "abandoned" });
    const again = await runCli("approve", proposal!.id, "--by", "alice", "--dir", made.dir);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain("abandoned");
    expect(next.drive.writes).toHaveLength(0);
    const abandoned = auditRecords(next.auditFile).filter((record) => record.code === "abandoned");
    expect(abandoned).toEqual([expect.objectContaining({ proposalId: proposal!.id, decision: "refused" })]);
  });

  it("a restarted guard on the same audit records the abandoned proposals of the previous one", async () => {
    const made = station();
    const [proposal] = await made.guard.propose({ limit: 9 }, { reason: "raise" });
    await made.guard.close();
    const { createGuard } = await import("plantwire");
    const again = createGuard({ plant: made.plant, audit: made.auditFile, approvals: made.dir });
    await again.close();
    const abandoned = auditRecords(made.auditFile).filter((record) => record.code === "abandoned");
    expect(abandoned).toEqual([expect.objectContaining({ proposalId: proposal!.id, decision: "refused" })]);
    expect(verifyAuditLog(made.auditFile).ok).toBe(true);
  });
});

describe("named people and two-person tags", () => {
  it("needs two different people for a tag with approvals: 2, and records both", async () => {
    const { createGuard, createPlant, defineTags, float } = await import("plantwire");
    const { memoryAdapter } = await import("plantwire/testing");
    const drive = memoryAdapter({ name: "drive", values: { limit: 5 } });
    const tags = defineTags({
      limit: float({ range: [0, 16], source: drive.key("limit"), write: { range: [1, 12], approvals: 2 } }),
    });
    const plant = createPlant({ tags });
    const dir = join(mkdtempSync(join(tmpdir(), "plantwire-two-")), "approvals");
    const auditFile = join(dir, "..", "audit.jsonl");
    const guard = createGuard({ plant, audit: auditFile, approvals: dir, decisionPollMs: 40 });
    try {
      const [two] = await guard.propose({ limit: 7 }, { reason: "raise" });
      expect(two?.approvalsRequired).toBe(2);
      const first = await runCli("approve", two!.id, "--by", "alice", "--dir", dir);
      expect(first.code).toBe(0);
      expect(first.stdout).toContain("First approval recorded");
      expect(drive.writes).toHaveLength(0);
      const listed = await runCli("proposals", "--dir", dir);
      expect(listed.stdout).toContain('two people must approve (approved by "alice")');
      for (const alias of ["Alice ", "alice\u200b", "ａｌｉｃｅ"]) {
        const same = await runCli("approve", two!.id, "--by", alias, "--dir", dir);
        expect(same.code).toBe(1);
        expect(same.stderr).toContain("same-person");
      }
      expect(drive.writes).toHaveLength(0);
      const second = await runCli("approve", two!.id, "--by", "bob", "--dir", dir);
      expect(second.code).toBe(0);
      expect(drive.writes.map((write) => write.value)).toEqual([7]);
      const approved = auditRecords(auditFile).find((record) => record.decision === "approved");
      expect(approved).toMatchObject({ by: "bob", approvedBy: ["alice", "bob"] });
    } finally {
      await guard.close();
      await plant.close();
    }
  });
});

describe("one decision per tag", () => {
  it("a newer proposal for a tag supersedes the pending one, on the record", async () => {
    const made = station();
    const proposals = [];
    for (const value of [8, 9, 10, 11])
      proposals.push((await made.guard.propose({ limit: value }, { reason: "r" }))[0]!);
    expect(made.guard.pending().map((proposal) => proposal.value)).toEqual([11]);
    expect(made.store.pending().map((proposal) => proposal.value)).toEqual([11]);
    for (const older of proposals.slice(0, 3)) {
      expect(made.guard.get(older.id)?.state).toBe("superseded");
      expect(refusals(made.auditFile, older.id)).toEqual(["superseded"]);
    }
  });
});
