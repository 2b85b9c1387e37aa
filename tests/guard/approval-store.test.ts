/**
 * The file approval store against what anyone in the approvers' group can put in its folder: FIFOs, links,
 * directories and huge files are never read (nothing blocks), and a withdrawal takes back only the filer's own
 * decision, whatever order the guard, the filer and others act in.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, symlinkSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type FiledDecision, fileApprovalStore, type PendingProposal } from "plantwire";
import { describe, expect, it } from "vitest";

function folder() {
  return join(mkdtempSync(join(tmpdir(), "plantwire-store-")), "approvals");
}

const decision = (id: string, nonce: string, by = "alice"): FiledDecision => ({
  id,
  decision: "approve",
  by,
  digest: "d",
  time: 0,
  nonce,
});

const proposal = (id: string): PendingProposal => ({
  id,
  tag: "limit",
  value: 9,
  current: 8,
  reason: "raise",
  createdAt: 1,
  expiresAt: 2,
  guard: "g",
  approvalsRequired: 1,
  approvedBy: [],
});

describe("reading what the group can write", () => {
  it("takes a FIFO, a link, a directory or a huge file as an unreadable decision, without blocking", () => {
    const dir = folder();
    const store = fileApprovalStore(dir);
    const decisions = join(dir, "decisions");
    execFileSync("mkfifo", [join(decisions, "p1.fifo.json")]);
    const target = join(dir, "..", "someone-elses.json");
    writeFileSync(target, JSON.stringify(decision("p1", "link")));
    symlinkSync(target, join(decisions, "p1.link.json"));
    mkdirSync(join(decisions, "p1.folder.json"));
    writeFileSync(join(decisions, "p1.huge.json"), " ".repeat(70 * 1024));
    expect(store.take("p1", "fifo")).toMatchObject({ content: undefined, unreadable: "is a FIFO, not a regular file" });
    expect(store.take("p1", "link")).toEqual({
      id: "p1",
      content: undefined,
      unreadable: "is a symbolic link, not a regular file",
    });
    expect(store.take("p1", "folder")).toMatchObject({ unreadable: "is a directory, not a regular file" });
    expect(store.take("p1", "huge")).toMatchObject({ unreadable: "is larger than 65536 bytes" });
    // Each was removed when taken; nothing is left to take.
    expect(store.waiting()).toEqual([]);
    expect(readdirSync(decisions)).toEqual([]);
  });

  it("records the owner of the file taken, read from its descriptor", () => {
    const store = fileApprovalStore(folder());
    expect(store.submit(decision("p1", "n1"))).toBe(true);
    expect(store.take("p1", "n1")).toEqual({
      id: "p1",
      content: decision("p1", "n1"),
      fileOwnerUid: process.getuid?.(),
    });
  });

  it("lists pending proposals past a FIFO, a link and files with bad names or ids, and sweeps those away", () => {
    const dir = folder();
    const store = fileApprovalStore(dir);
    store.publish(proposal("good"));
    const pending = join(dir, "pending");
    execFileSync("mkfifo", [join(pending, "fifo.json")]);
    symlinkSync(join(pending, "good.json"), join(pending, "linked.json"));
    writeFileSync(join(pending, "bad id.json"), JSON.stringify(proposal("bad id")));
    writeFileSync(join(pending, "other.json"), JSON.stringify(proposal("../escape")));
    writeFileSync(join(pending, "shape.json"), JSON.stringify({ ...proposal("shape"), approvedBy: "x" }));
    expect(store.pending().map((item) => item.id)).toEqual(["good"]);
    store.sweep();
    expect(readdirSync(pending)).toEqual(["good.json"]);
  });

  it("reads no FIFO as an acknowledgement, a result or the guard's presence", () => {
    const dir = folder();
    const store = fileApprovalStore(dir);
    execFileSync("mkfifo", [join(dir, "acks", "p1.n1.json")]);
    execFileSync("mkfifo", [join(dir, "results", "p1.json")]);
    execFileSync("mkfifo", [join(dir, "guard.json")]);
    expect(store.acknowledgement("p1", "n1")).toBeUndefined();
    expect(store.result("p1")).toBeUndefined();
    expect(store.presence()).toBeUndefined();
  });
});

describe("one decision per filer, taken once", () => {
  it("a filer's withdrawal never removes another's decision (the guard took the first in between)", () => {
    const store = fileApprovalStore(folder());
    // The order the reviewer found racy: alice files; the guard takes hers; bob files; alice's wait runs out.
    expect(store.submit(decision("p1", "nonceA", "alice"))).toBe(true);
    expect((store.take("p1", "nonceA")?.content as FiledDecision | undefined)?.by).toBe("alice");
    expect(store.submit(decision("p1", "nonceB", "bob"))).toBe(true);
    expect(store.withdrawDecision("p1", "nonceA")).toBe(false);
    expect(store.waiting()).toEqual([{ id: "p1", nonce: "nonceB" }]);
    expect((store.take("p1", "nonceB")?.content as FiledDecision | undefined)?.by).toBe("bob");
  });

  it("the guard and the filer race for one file: exactly one gets it", () => {
    const store = fileApprovalStore(folder());
    store.submit(decision("p1", "n1"));
    expect(store.withdrawDecision("p1", "n1")).toBe(true);
    expect(store.take("p1", "n1")).toBeUndefined();
    store.submit(decision("p1", "n2"));
    expect(store.take("p1", "n2")).toBeDefined();
    expect(store.withdrawDecision("p1", "n2")).toBe(false);
  });

  it("a copy filed under the filer's nonce after the guard took the original does not pass for it", () => {
    const dir = folder();
    const filer = fileApprovalStore(dir);
    filer.submit(decision("p1", "n1"));
    expect(fileApprovalStore(dir).take("p1", "n1")).toBeDefined();
    // Anyone in the group can see the nonce and file under it once the guard has taken the original.
    writeFileSync(join(dir, "decisions", "p1.n1.json"), JSON.stringify(decision("p1", "n1")));
    expect(filer.withdrawDecision("p1", "n1")).toBe(false);
  });

  it("only the store that filed a decision takes it back", () => {
    const dir = folder();
    fileApprovalStore(dir).submit(decision("p1", "n1"));
    expect(fileApprovalStore(dir).withdrawDecision("p1", "n1")).toBe(false);
    expect(fileApprovalStore(dir).waiting()).toEqual([{ id: "p1", nonce: "n1" }]);
  });

  it("lists decisions oldest first, several per proposal, and refuses a second file under one nonce", () => {
    const dir = folder();
    const store = fileApprovalStore(dir);
    store.submit(decision("p1", "b"));
    store.submit(decision("p1", "a"));
    utimesSync(join(dir, "decisions", "p1.a.json"), new Date(1000), new Date(1000));
    expect(store.waiting()).toEqual([
      { id: "p1", nonce: "a" },
      { id: "p1", nonce: "b" },
    ]);
    expect(store.submit(decision("p1", "a"))).toBe(false);
  });
});
