/** Races and misuse found in review: each of these once let a write through that should not have gone out. */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ApprovalError, createGuard, createPlant, defineTags, float } from "plantwire";
import { memoryAdapter } from "plantwire/testing";
import { describe, expect, it } from "vitest";
import { pumpStation } from "./guard-fixture.js";

describe("guard races and misuse", () => {
  it("writes once when one proposal is approved twice at the same time", async () => {
    const { drive, guard, plant } = pumpStation({ decisionPollMs: 1 });
    const [proposal] = await guard.propose({ limit: 9 }, { reason: "r" });
    const results = await Promise.allSettled([
      guard.approve(proposal!.id, { by: "alice" }),
      guard.approve(proposal!.id, { by: "bob" }),
      guard.approve(proposal!.id, { by: "carol" }),
    ]);
    expect(results.filter((result) => result.status === "fulfilled")).toHaveLength(1);
    for (const result of results)
      if (result.status === "rejected") expect(ApprovalError.isInstance(result.reason)).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 20)); // let the poller look too
    expect(drive.writes).toHaveLength(1);
    await guard.close();
    await plant.close();
  });

  it("writes the value that was checked and audited, whatever the caller does to the returned proposal", async () => {
    const { drive, guard, plant } = pumpStation();
    const [proposal] = await guard.propose({ limit: 9 }, { reason: "r" });
    expect(Object.isFrozen(proposal)).toBe(true);
    expect(() => {
      (proposal as { value: unknown }).value = 11.5;
    }).toThrow(TypeError);
    await expect(guard.approve(proposal!.id, { by: " " })).rejects.toThrow(/name of the person/);
    await guard.approve(proposal!.id, { by: "alice" });
    expect(drive.writes.map((write) => write.value)).toEqual([9]);
    await guard.close();
    await plant.close();
  });

  it("refuses numeric writes without any declared range, and automatic writes without an automatic band", async () => {
    const drive = memoryAdapter({ name: "drive", values: { free: 1, auto: 5 } });
    const tags = defineTags({
      free: float({ source: drive.key("free"), write: {} }),
      auto: float({ range: [0, 10], source: drive.key("auto"), write: { approval: "automatic" } }),
    });
    const plant = createPlant({ tags });
    const guard = createGuard({ plant, audit: join(mkdtempSync(join(tmpdir(), "pw-")), "a.jsonl"), mode: "automatic" });
    const [free] = await guard.propose({ free: 1e308 }, { reason: "r" });
    expect(free?.verdicts.find((verdict) => !verdict.passed)).toMatchObject({
      code: "out-of-range",
      detail: expect.stringContaining("no write range"),
    });
    const [auto] = await guard.propose({ auto: 6 }, { reason: "r" });
    expect(auto?.state).toBe("pending");
    expect(drive.writes).toHaveLength(0);
    await guard.close();
    await plant.close();
  });

  it("judges a first write's rate as one second of movement", async () => {
    const drive = memoryAdapter({ name: "drive", values: { valve: 10 } });
    const tags = defineTags({
      valve: float({ range: [0, 100], source: drive.key("valve"), write: { range: [0, 100], maxRatePerSecond: 1 } }),
    });
    const plant = createPlant({ tags });
    const guard = createGuard({ plant, audit: join(mkdtempSync(join(tmpdir(), "pw-")), "a.jsonl") });
    const [jump] = await guard.propose({ valve: 95 }, { reason: "r" });
    expect(jump?.verdicts.find((verdict) => !verdict.passed)?.code).toBe("rate-too-high");
    const [small] = await guard.propose({ valve: 10.5 }, { reason: "r" });
    expect(small?.state).toBe("pending");
    await guard.close();
    await plant.close();
  });

  it("keeps the minimum interval across a restart, from the audit log", async () => {
    const file = join(mkdtempSync(join(tmpdir(), "pw-")), "audit.jsonl");
    const drive = memoryAdapter({ name: "drive", values: { limit: 5 } });
    const tags = defineTags({
      limit: float({ range: [0, 16], source: drive.key("limit"), write: { range: [1, 12], minIntervalMs: 3_600_000 } }),
    });
    const plant = createPlant({ tags });
    const first = createGuard({ plant, audit: file, allowSameProcessApproval: true });
    const [proposal] = await first.propose({ limit: 6 }, { reason: "r" });
    await first.approve(proposal!.id, { by: "alice" });
    await first.close();
    const second = createGuard({ plant, audit: file });
    const [again] = await second.propose({ limit: 7 }, { reason: "r" });
    expect(again?.verdicts.find((verdict) => !verdict.passed)?.code).toBe("too-soon");
    await second.close();
    await plant.close();
  });

  it("refuses everything once closed", async () => {
    const { guard, plant } = pumpStation();
    const [proposal] = await guard.propose({ limit: 9 }, { reason: "r" });
    await guard.close();
    await expect(guard.propose({ limit: 9 }, { reason: "r" })).rejects.toThrow(/closed/);
    await expect(guard.approve(proposal!.id, { by: "alice" })).rejects.toThrow(/closed/);
    await plant.close();
  });

  it("records an outcome even when the read-back itself throws", async () => {
    const { drive, guard, plant, auditFile } = pumpStation();
    const [proposal] = await guard.propose({ limit: 9 }, { reason: "r" });
    const read = plant.read;
    let calls = 0;
    (plant as { read: typeof read }).read = async (...args) => {
      calls++;
      if (calls === 2) throw new Error("plant closed under us");
      return read(...args);
    };
    const done = await guard.approve(proposal!.id, { by: "alice" });
    expect(done.outcome).toMatchObject({
      write: "written",
      readBack: "unavailable",
      detail: expect.stringContaining("plant closed under us"),
    });
    expect(drive.writes).toHaveLength(1);
    await guard.close();
    await plant.close();
    const { verifyAuditLog } = await import("plantwire");
    expect(verifyAuditLog(auditFile).ok).toBe(true);
  });
});
