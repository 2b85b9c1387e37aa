/**
 * A running guard and the CLI against what the approvers' group can put in the approvals folder (a FIFO as a decision
 * or a pending proposal, bad ids, a forged presence, a copy under a used nonce), and the CLI's word on a decision the
 * guard took but has not finished: "not known yet", never "nothing will be written".
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { createGuard, fileApprovalStore, type PendingProposal, proposalDigest } from "plantwire";
import { waitFor } from "plantwire/testing";
import { afterEach, describe, expect, it } from "vitest";
import { runCli } from "../support/cli-process.js";
import { pumpStation } from "./guard-fixture.js";

type Station = ReturnType<typeof pumpStation>;
const open: Station[] = [];

function station(options: Parameters<typeof pumpStation>[0] = {}, dir = approvalsFolder()) {
  const made = pumpStation({ approvals: dir, decisionPollMs: 40, allowSameProcessApproval: false, ...options });
  open.push(made);
  return { ...made, dir, store: fileApprovalStore(dir) };
}

function approvalsFolder() {
  return join(mkdtempSync(join(tmpdir(), "plantwire-hardening-")), "approvals");
}

afterEach(async () => {
  for (const made of open.splice(0)) {
    await made.guard.close();
    await made.plant.close();
  }
});

function refusals(file: string, proposalId: string) {
  return readFileSync(file, "utf8")
    .trim()
    .split("\n")
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .filter(
      (record) => record.type === "decision" && record.proposalId === proposalId && record.decision === "refused",
    );
}

function shown(made: ReturnType<typeof station>, id: string): PendingProposal {
  const pending = made.store.pending().find((proposal) => proposal.id === id);
  if (!pending) throw new Error(`proposal ${id} is not pending`);
  return pending;
}

describe("files that are not decisions", () => {
  it("a FIFO filed as a decision is refused as malformed, and the guard keeps running", async () => {
    const made = station();
    const [proposal] = await made.guard.propose({ limit: 9 }, { reason: "raise" });
    const id = proposal!.id;
    execFileSync("mkfifo", [join(made.dir, "decisions", `${id}.fifo.json`)]);
    // Reading it plainly would wait for a writer forever, with the event loop (and this waitFor) frozen.
    expect(await waitFor(() => refusals(made.auditFile, id).length === 1, 5000)).toBe(true);
    expect(refusals(made.auditFile, id)[0]).toMatchObject({
      code: "malformed",
      detail: expect.stringContaining("FIFO"),
    });
    expect(made.store.acknowledgement(id, "fifo")).toMatchObject({ stage: "answered", accepted: false });
    const approved = await runCli("approve", id, "--by", "alice", "--dir", made.dir);
    expect(approved.code).toBe(0);
    expect(made.drive.writes.map((write) => write.value)).toEqual([9]);
  });

  it("a guard starts past pending files with bad ids, a FIFO and a link, and removes them", async () => {
    const dir = approvalsFolder();
    const pending = join(dir, "pending");
    mkdirSync(pending, { recursive: true });
    const stale = { tag: "limit", value: 9, current: 8, reason: "r", createdAt: 1, expiresAt: 2, guard: "old" };
    const entry = { ...stale, approvalsRequired: 1, approvedBy: [] };
    writeFileSync(join(pending, "evil.json"), JSON.stringify({ ...entry, id: "../evil" }));
    writeFileSync(join(pending, "bad id.json"), JSON.stringify({ ...entry, id: "bad id" }));
    execFileSync("mkfifo", [join(pending, "fifo.json")]);
    writeFileSync(join(dir, "elsewhere.json"), JSON.stringify({ ...entry, id: "linked" }));
    symlinkSync(join(dir, "elsewhere.json"), join(pending, "linked.json"));
    const made = station({}, dir);
    expect(readdirSync(pending)).toEqual([]);
    const [proposal] = await made.guard.propose({ limit: 9 }, { reason: "raise" });
    // A FIFO placed later does not hang the listing either.
    execFileSync("mkfifo", [join(pending, "later.json")]);
    const listed = await runCli("proposals", "--dir", dir);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toContain(proposal!.id);
  });

  it("a forged presence with a fresh heartbeat blocks a second guard, and the error names the file to remove", async () => {
    const made = station();
    made.store.announce({
      guard: "forged",
      pid: process.pid,
      host: hostname(),
      user: "x",
      audit: "x",
      startedAt: Date.now(),
      beatAt: Date.now() + 60_000,
    });
    const audit = join(made.folder, "second-audit.jsonl");
    expect(() => createGuard({ plant: made.plant, audit, approvals: made.dir, deviceLocks: false })).toThrow(
      `is not a plantwire guard, remove ${join(made.dir, "guard.json")}`,
    );
  });

  it("a copy filed under a nonce already answered is refused on the record, and the first answer stands", async () => {
    const made = station();
    const [proposal] = await made.guard.propose({ limit: 9 }, { reason: "raise" });
    const id = proposal!.id;
    const decision = {
      id,
      decision: "approve" as const,
      by: "alice",
      digest: proposalDigest(shown(made, id)),
      time: Date.now(),
      nonce: "n1",
      pid: 1,
      host: "gateway",
    };
    expect(made.store.submit(decision)).toBe(true);
    await waitFor(() => made.store.acknowledgement(id, "n1")?.stage === "answered", 5000);
    expect(made.store.acknowledgement(id, "n1")).toMatchObject({ accepted: true, state: "executed" });
    writeFileSync(join(made.dir, "decisions", `${id}.n1.json`), JSON.stringify({ ...decision, decision: "reject" }));
    expect(await waitFor(() => refusals(made.auditFile, id).length === 1, 5000)).toBe(true);
    expect(refusals(made.auditFile, id)[0]).toMatchObject({ code: "malformed", detail: expect.stringContaining("n1") });
    expect(made.store.acknowledgement(id, "n1")).toMatchObject({ accepted: true, state: "executed" });
    expect(made.drive.writes).toHaveLength(1);
  });
});

describe("what the CLI says about a decision", () => {
  it("once the guard took it, an outcome that is late is 'not known yet', never 'nothing will be written'", async () => {
    const made = station();
    const write = made.drive.write!.bind(made.drive);
    made.drive.write = async (tag, value) => {
      await new Promise((resolve) => setTimeout(resolve, 2500));
      return write(tag, value);
    };
    const [proposal] = await made.guard.propose({ limit: 9 }, { reason: "raise" });
    const id = proposal!.id;
    const run = await runCli("approve", id, "--by", "alice", "--dir", made.dir, "--wait-ms", "1000");
    // The default --result-wait-ms outlasts the slow write: the real outcome is reported.
    expect(run.stdout).toContain("Approved by alice. Result: executed");
    expect(run.code).toBe(0);

    const [next] = await made.guard.propose({ limit: 10 }, { reason: "raise again" });
    const late = await runCli("approve", next!.id, "--by", "bob", "--dir", made.dir, "--result-wait-ms", "300");
    expect(late.code).toBe(1);
    expect(late.stderr).toContain("The outcome is not known yet");
    expect(late.stderr).toContain(`plantwire audit show ${made.auditFile}`);
    expect(late.stderr).not.toContain("Nothing will be written");
    expect(await waitFor(() => made.drive.writes.length === 2, 5000)).toBe(true);
  });

  it("a decision the guard did not take in time is taken back, and nothing is written", async () => {
    const made = station({ decisionPollMs: 60_000 });
    const [proposal] = await made.guard.propose({ limit: 9 }, { reason: "raise" });
    const run = await runCli("approve", proposal!.id, "--by", "alice", "--dir", made.dir, "--wait-ms", "300");
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("it was taken back. Nothing will be written");
    expect(readdirSync(join(made.dir, "decisions"))).toEqual([]);
    expect(made.guard.get(proposal!.id)?.state).toBe("pending");
  });
});
