/**
 * The guard's login door: decisions carrying a logged-in person's identity are accepted only by a guard created with
 * `loginDecisions`, only for that person's own name and only with the digest they were shown; every refusal is on the
 * audit. Loops get `proposerOnly(guard)`, which has no way to approve, reject or close.
 */
import { readFileSync } from "node:fs";
import { proposerOnly } from "plantwire";
import { afterEach, describe, expect, it } from "vitest";
import { pumpStation } from "../guard/guard-fixture.js";
import type { Json } from "./serve-fixture.js";

type Station = ReturnType<typeof pumpStation>;
const open: Station[] = [];

function station(options: Parameters<typeof pumpStation>[0]) {
  const made = pumpStation({ allowSameProcessApproval: false, ...options });
  open.push(made);
  return made;
}

afterEach(async () => {
  for (const made of open.splice(0)) {
    await made.guard.close();
    await made.plant.close();
  }
});

const records = (file: string) =>
  readFileSync(file, "utf8")
    .trim()
    .split("\n")
    .map((line) => JSON.parse(line) as Record<string, Json>);

const console = (login: string) => ({ via: "console" as const, login, client: "192.0.2.7" });

describe("the login door", () => {
  it("is shut unless the guard was created with loginDecisions: an identity does not open it", async () => {
    const made = station({});
    const [proposal] = await made.guard.propose({ limit: 9 }, { reason: "raise" });
    const options = { by: "alice", digest: proposal!.digest, identity: console("alice") };
    await expect(made.guard.approve(proposal!.id, options)).rejects.toMatchObject({ refusal: "same-process" });
    await expect(made.guard.approve(proposal!.id, { by: "alice", digest: proposal!.digest })).rejects.toMatchObject({
      refusal: "same-process",
    });
    expect(made.drive.writes).toHaveLength(0);
    const refused = records(made.auditFile).filter((record) => record.decision === "refused");
    expect(refused.map((record) => record.code)).toEqual(["same-process", "same-process"]);
    expect(refused[0]?.detail).toContain("loginDecisions");
  });

  it("takes a logged-in person's approval with the digest shown, and records who, how and from where", async () => {
    const made = station({ loginDecisions: true });
    const [proposal] = await made.guard.propose({ limit: 9 }, { reason: "raise" });
    const done = await made.guard.approve(proposal!.id, {
      by: "alice",
      digest: proposal!.digest,
      identity: console("alice"),
    });
    expect(done).toMatchObject({ state: "executed", decidedBy: "alice" });
    expect(made.drive.writes.map((write) => write.value)).toEqual([9]);
    const decision = records(made.auditFile).find((record) => record.decision === "approved");
    expect(decision).toMatchObject({
      by: "alice",
      identity: { via: "console", login: "alice", client: "192.0.2.7", pid: process.pid },
    });
  });

  it("refuses another name than the login, a missing or wrong digest, and a plain approval without identity", async () => {
    const made = station({ loginDecisions: true });
    const [proposal] = await made.guard.propose({ limit: 9 }, { reason: "raise" });
    const id = proposal!.id;
    const digest = proposal!.digest;
    await expect(made.guard.approve(id, { by: "bob", digest, identity: console("alice") })).rejects.toMatchObject({
      refusal: "same-process",
    });
    await expect(made.guard.approve(id, { by: "alice", identity: console("alice") })).rejects.toMatchObject({
      refusal: "digest-mismatch",
    });
    await expect(
      made.guard.approve(id, { by: "alice", digest: "f".repeat(64), identity: console("alice") }),
    ).rejects.toMatchObject({ refusal: "digest-mismatch" });
    await expect(made.guard.approve(id, { by: "alice", digest, identity: console("") })).rejects.toMatchObject({
      refusal: "same-process",
    });
    await expect(made.guard.approve(id, { by: "alice", digest })).rejects.toMatchObject({ refusal: "same-process" });
    expect(made.drive.writes).toHaveLength(0);
    const codes = records(made.auditFile)
      .filter((record) => record.decision === "refused")
      .map((record) => record.code);
    expect(codes).toEqual(["same-process", "digest-mismatch", "digest-mismatch", "same-process", "same-process"]);
    expect(made.guard.get(id)?.state).toBe("pending");
  });

  it("counts one login once on a two-person tag", async () => {
    const { createGuard, createPlant, defineTags, float } = await import("plantwire");
    const { memoryAdapter } = await import("plantwire/testing");
    const { mkdtempSync } = await import("node:fs");
    const { tmpdir } = await import("node:os");
    const { join } = await import("node:path");
    const drive = memoryAdapter({ name: "drive", values: { limit: 5 } });
    const tags = defineTags({
      limit: float({ range: [0, 16], source: drive.key("limit"), write: { range: [1, 12], approvals: 2 } }),
    });
    const plant = createPlant({ tags });
    const auditFile = join(mkdtempSync(join(tmpdir(), "plantwire-door-")), "audit.jsonl");
    const guard = createGuard({ plant, audit: auditFile, loginDecisions: true, deviceLocks: false });
    try {
      const [proposal] = await guard.propose({ limit: 7 }, { reason: "raise" });
      const decide = (login: string) =>
        guard.approve(proposal!.id, { by: login, digest: proposal!.digest, identity: console(login) });
      expect((await decide("alice")).state).toBe("pending");
      await expect(decide("alice")).rejects.toMatchObject({ refusal: "same-person" });
      expect(drive.writes).toHaveLength(0);
      expect((await decide("bob")).state).toBe("executed");
      expect(drive.writes.map((write) => write.value)).toEqual([7]);
    } finally {
      await guard.close();
      await plant.close();
    }
  });
});

describe("proposerOnly", () => {
  it("proposes and looks, and has no approve, reject or close, nor a way to reach them", async () => {
    const made = station({ loginDecisions: true });
    const proposer = proposerOnly(made.guard);
    const [proposal] = await proposer.propose({ limit: 9 }, { reason: "raise" });
    expect(proposer.pending().map((item) => item.id)).toEqual([proposal!.id]);
    expect(proposer.get(proposal!.id)?.state).toBe("pending");
    expect(proposer.status().pending).toBe(1);
    for (const name of ["approve", "reject", "close"]) expect(name in proposer).toBe(false);
    expect(Object.isFrozen(proposer)).toBe(true);
    expect(() => Object.assign(proposer, { approve: made.guard.approve })).toThrow();
    // Nothing reachable from the facade is the guard: its own properties are plain functions.
    for (const value of Object.values(proposer)) {
      expect(typeof value).toBe("function");
      expect(value).not.toBe(made.guard);
    }
    expect(made.drive.writes).toHaveLength(0);
  });
});
