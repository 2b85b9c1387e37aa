import { readFileSync } from "node:fs";
import { ApprovalError, type AuditRecord, verifyAuditLog } from "plantwire";
import { describe, expect, it } from "vitest";
import { pumpStation } from "./guard-fixture.js";

const records = (file: string) =>
  readFileSync(file, "utf8")
    .trim()
    .split("\n")
    .map((line) => JSON.parse(line) as AuditRecord);

describe("write guard", () => {
  it("holds a model's proposal for approval, then writes once, reads back, and audits every step", async () => {
    const { drive, guard, plant, auditFile } = pumpStation();
    const [proposal] = await guard.propose(
      { speed: 1040 },
      { reason: "raise pressure", modelId: "test-model", prompt: "p" },
    );
    expect(proposal).toMatchObject({ state: "pending", current: 1000, value: 1040 });
    expect(drive.writes).toHaveLength(0);
    expect(guard.pending().map((pending) => pending.id)).toEqual([proposal!.id]);

    const executed = await guard.approve(proposal!.id, { by: "alice" });
    expect(executed).toMatchObject({
      state: "executed",
      decidedBy: "alice",
      outcome: { write: "written", readBack: "verified" },
    });
    expect(drive.writes.map((write) => write.value)).toEqual([1040]);
    expect(records(auditFile).map((record) => record.type)).toEqual(["proposal", "decision", "attempt", "outcome"]);
    expect(records(auditFile)[0]).toMatchObject({
      modelId: "test-model",
      promptHash: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
    expect(verifyAuditLog(auditFile)).toEqual({ ok: true, records: 4 });
    await guard.close();
    await plant.close();
  });

  it("rejects with every failing check's code, and writes nothing", async () => {
    const { drive, guard, plant } = pumpStation();
    const cases: [string, unknown, string[]][] = [
      ["speed", 1600, ["out-of-range", "step-too-large"]],
      ["speed", Number.NaN, ["invalid-value"]],
      ["speed", "1e3", ["invalid-value"]],
      ["speed", -0, ["invalid-value"]],
      ["speed", [1000], ["invalid-value"]],
      ["pressure", 5, ["not-writable"]],
      ["trip", true, ["safety-class"]],
      ["mode", "OFF", ["state-not-allowed"]],
      ["nonsense", 1, ["unknown-tag"]],
    ];
    for (const [tag, value, codes] of cases) {
      const [proposal] = await guard.propose({ [tag]: value } as never, { reason: "test" });
      expect(proposal?.state, `${tag}=${String(value)}`).toBe("rejected");
      expect(proposal?.verdicts.filter((verdict) => !verdict.passed).map((verdict) => verdict.code)).toEqual(codes);
    }
    expect(drive.writes).toHaveLength(0);
    await guard.close();
    await plant.close();
  });

  it("enforces interlocks and fails safe when they cannot be evaluated", async () => {
    const { drive, guard, plant } = pumpStation();
    drive.set("mode", "MANUAL");
    const [manual] = await guard.propose({ speed: 1010 }, { reason: "r" });
    expect(manual?.verdicts.find((verdict) => !verdict.passed)).toMatchObject({
      code: "interlock",
      check: "interlock: pump in AUTO",
    });
    drive.set("mode", "AUTO", { quality: "bad", reason: "sensor-failure" });
    const [unknownMode] = await guard.propose({ speed: 1010 }, { reason: "r" });
    expect(unknownMode?.verdicts.find((verdict) => !verdict.passed)?.detail).toContain("could not be evaluated");
    await guard.close();
    await plant.close();
  });

  it("rejects a step judged against a stale or bad current value", async () => {
    const { drive, guard, plant } = pumpStation();
    drive.set("speed", 1000, { quality: "bad", reason: "comm-failure" });
    const [proposal] = await guard.propose({ speed: 1010 }, { reason: "r" });
    expect(proposal?.verdicts.filter((verdict) => !verdict.passed).map((verdict) => verdict.code)).toEqual([
      "current-not-fresh",
    ]);
    await guard.close();
    await plant.close();
  });

  it("T15: refuses an approval after the TTL, and a second use of an approval", async () => {
    let clock = 1_000_000;
    const { drive, guard, plant, auditFile } = pumpStation({ proposalTtlMs: 1000, now: () => clock });
    const [late] = await guard.propose({ speed: 1020 }, { reason: "r" });
    clock += 1001;
    await expect(guard.approve(late!.id, { by: "bob" })).rejects.toSatisfy(ApprovalError.isInstance);
    expect(guard.get(late!.id)?.state).toBe("refused");

    const [twice] = await guard.propose({ speed: 1020 }, { reason: "r" });
    await guard.approve(twice!.id, { by: "bob" });
    await expect(guard.approve(twice!.id, { by: "bob" })).rejects.toThrow(/already decided/);
    await expect(guard.reject(twice!.id, { by: "carol" })).rejects.toThrow(/already decided/);
    expect(drive.writes).toHaveLength(1);
    const refusals = records(auditFile).filter((record) => record.type === "decision" && record.decision === "refused");
    expect(refusals.map((record) => record.code)).toEqual(["expired", "already-decided", "already-decided"]);
    await guard.close();
    await plant.close();
  });

  it("re-checks at approval time against the then-current snapshot", async () => {
    const { drive, guard, plant } = pumpStation();
    const [proposal] = await guard.propose({ speed: 1040 }, { reason: "r" });
    drive.set("speed", 900); // the drive moved: 1040 is now a 140 rpm step
    const result = await guard.approve(proposal!.id, { by: "alice" });
    expect(result.state).toBe("refused");
    expect(drive.writes).toHaveLength(0);
    await guard.close();
    await plant.close();
  });

  it("writes automatically only inside the tag's automatic band, and never in shadow mode", async () => {
    const automatic = pumpStation({ mode: "automatic" });
    const [inside] = await automatic.guard.propose({ speed: 1040 }, { reason: "r" });
    expect(inside).toMatchObject({ state: "executed", decidedBy: "automatic" });
    const [outside] = await automatic.guard.propose({ speed: 1080 }, { reason: "r" }); // band is [900, 1050]
    expect(outside?.state).toBe("pending");
    const [notAutomatic] = await automatic.guard.propose({ limit: 9 }, { reason: "r" }); // approval: required
    expect(notAutomatic?.state).toBe("pending");
    expect(automatic.drive.writes.map((write) => write.value)).toEqual([1040]);
    await automatic.guard.close();
    await automatic.plant.close();

    const shadow = pumpStation({ mode: "shadow" });
    const [shadowed] = await shadow.guard.propose({ speed: 1040 }, { reason: "r" });
    expect(shadowed?.state).toBe("shadowed");
    expect(shadow.drive.writes).toHaveLength(0);
    await shadow.guard.close();
    await shadow.plant.close();
  });

  it("reports a mismatching read-back", async () => {
    const { drive, guard, plant } = pumpStation();
    drive.failWrites("unknown"); // the memory adapter then keeps the old value, as a lost write would
    const [proposal] = await guard.propose({ limit: 9 }, { reason: "r" });
    const done = await guard.approve(proposal!.id, { by: "a" });
    expect(done.outcome).toMatchObject({ write: "unknown", readBack: "mismatch", readBackValue: 8 });
    await guard.close();
    await plant.close();
  });

  it("blocks a tag whose last outcome is unknown until a read-back settles it", async () => {
    const { drive, guard, plant, auditFile } = pumpStation();
    const [proposal] = await guard.propose({ limit: 9 }, { reason: "r" });
    drive.failWrites("unknown");
    drive.fail(new Error("link lost")); // the write goes out, no answer, and the read-back fails too
    const done = await guard.approve(proposal!.id, { by: "a" });
    expect(done.outcome).toMatchObject({ write: "unknown", readBack: "unavailable" });
    const [blocked] = await guard.propose({ limit: 10 }, { reason: "r" });
    expect(blocked?.verdicts.filter((verdict) => !verdict.passed).map((verdict) => verdict.code)).toEqual([
      "outcome-unknown",
    ]);
    drive.fail(undefined);
    drive.failWrites(undefined);
    const [settled] = await guard.propose({ limit: 10 }, { reason: "r" });
    expect(settled?.state).toBe("pending");
    expect(
      records(auditFile).some(
        (record) => record.type === "note" && record.note === "read back after an unknown outcome",
      ),
    ).toBe(true);
    expect(drive.writes.map((write) => write.value)).toEqual([9]);
    await guard.close();
    await plant.close();
  });

  it("enforces the minimum interval between writes to one tag", async () => {
    const { guard, plant } = pumpStation();
    const [first] = await guard.propose({ valve: 45 }, { reason: "r" });
    await guard.approve(first!.id, { by: "a" });
    const [second] = await guard.propose({ valve: 46 }, { reason: "r" });
    expect(second?.verdicts.filter((verdict) => !verdict.passed).map((verdict) => verdict.code)).toEqual(["too-soon"]);
    await guard.close();
    await plant.close();
  });
});
