/**
 * T10 over a real protocol: hostile proposals through the guard to the Modbus simulator over a socket. Only
 * compliant values reach the device, the device saw exactly one write per audited attempt, and the chain verifies.
 */
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { type AuditRecord, createGuard, createPlant, defineTags, enumeration, float, verifyAuditLog } from "plantwire";
import { modbus, startModbusSimulator } from "plantwire/modbus";
import { describe, expect, it } from "vitest";

const proposal = fc.record({
  tag: fc.constantFrom("speed", "mode", "pressure"),
  value: fc.oneof(
    { arbitrary: fc.integer({ min: 960, max: 1060 }), weight: 4 },
    fc.double(),
    fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, -0, 1e308, "1e3", "AUTO", "MANUAL", "OFF", true, null),
    fc.array(fc.integer(), { maxLength: 2 }),
  ),
});

describe("T10 through the guard to the Modbus simulator", () => {
  it("lets only compliant values reach the device, each write audited exactly once", async () => {
    const simulator = await startModbusSimulator();
    const drive = modbus({ url: simulator.url, unit: 1, name: "drive", timeoutMs: 1000 });
    const speedSource = drive.holding(100, "uint16", { scale: 0.1 });
    const modeSource = drive.holding(20);
    const addressOf = { speed: speedSource.address, mode: modeSource.address };
    const tags = defineTags({
      speed: float({
        unit: "rpm",
        range: [0, 1800],
        resolution: 0.1,
        source: speedSource,
        write: { range: [600, 1500], maxStep: 50 },
      }),
      mode: enumeration({
        states: { OFF: 0, AUTO: 1, MANUAL: 2 },
        source: drive.holding(20),
        write: { states: ["AUTO", "MANUAL"] },
      }),
      pressure: float({ unit: "bar", source: drive.input(10, "float32") }),
    });
    simulator.setTag(addressOf.speed, 1000);
    simulator.setTag(addressOf.mode, 1);
    const plant = createPlant({ tags });
    const audit = join(mkdtempSync(join(tmpdir(), "plantwire-t10-modbus-")), "audit.jsonl");
    const guard = createGuard({ plant, audit, allowSameProcessApproval: true });
    const seen: { tag: string; value: unknown; before: unknown }[] = [];
    await fc.assert(
      fc.asyncProperty(fc.array(proposal, { minLength: 1, maxLength: 8 }), async (steps) => {
        for (const { tag, value } of steps) {
          const [made] = await guard.propose({ [tag]: value } as never, { reason: "fuzz" });
          if (made?.state !== "pending") continue;
          const before = tag === "speed" ? simulator.getTag(addressOf.speed) : undefined;
          const done = await guard.approve(made.id, { by: "fuzzer" });
          if (done.outcome?.write === "written")
            seen.push({ tag, value: simulator.getTag(addressOf[tag as "speed" | "mode"]), before });
        }
      }),
      { numRuns: 15 },
    );
    const deviceWrites = simulator.store.writesAt(1, "holding", 100) + simulator.store.writesAt(1, "holding", 20);
    const records = readFileSync(audit, "utf8")
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as AuditRecord);
    expect(records.filter((record) => record.type === "attempt")).toHaveLength(deviceWrites);
    expect(deviceWrites).toBeGreaterThan(0);
    for (const { tag, value, before } of seen) {
      if (tag === "speed") {
        expect(value as number).toBeGreaterThanOrEqual(600);
        expect(value as number).toBeLessThanOrEqual(1500);
        expect(Math.abs((value as number) - (before as number))).toBeLessThanOrEqual(50.05);
      } else {
        expect([1, 2]).toContain(value);
      }
    }
    expect(simulator.store.writesAt(1, "input", 10)).toBe(0);
    await guard.close();
    await plant.close();
    await simulator.close();
    expect(verifyAuditLog(audit).ok).toBe(true);
  });
});
