/**
 * T10: hostile values and sequences against the guard. Only compliant values reach the device, every proposal is
 * exactly one proposal record, every device write exactly one attempt record, the chain verifies, and editing,
 * deleting or reordering any line is detected at that line.
 */
import { readFileSync, writeFileSync } from "node:fs";
import fc from "fast-check";
import { type AuditRecord, verifyAuditLog } from "plantwire";
import { describe, expect, it } from "vitest";
import { pumpStation } from "./guard-fixture.js";

/** Values a device might accept, so that sequences reach the device often enough to test what gets through. */
const plausibleValue = fc.oneof(
  fc.integer({ min: 940, max: 1060 }),
  fc.double({ min: 0, max: 100, noNaN: true }),
  fc.constantFrom("AUTO", "MANUAL", "OFF"),
);
const hostileValue = fc.oneof(
  { arbitrary: plausibleValue, weight: 4 },
  fc.double(),
  fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, -0, 1e308, -1e308, 5e-324),
  fc.integer({ min: 500, max: 1600 }),
  fc.double({ min: 0, max: 20, noNaN: true }),
  fc.constantFrom("1e3", "1000", "AUTO", "OFF", "MANUAL", "", "true"),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.integer(), { maxLength: 3 }),
  fc.object({ maxDepth: 1 }),
);
const tagName = fc.constantFrom("speed", "limit", "mode", "pressure", "trip", "valve", "ghost", "__proto__x");
const step = fc.record({
  tag: tagName,
  value: hostileValue,
  approve: fc.boolean(),
  advanceMs: fc.integer({ min: 0, max: 120_000 }),
});

function compliant(tag: string, value: unknown, before: unknown): boolean {
  const number = typeof value === "number" && Number.isFinite(value) && !Object.is(value, -0);
  switch (tag) {
    case "speed":
      return (
        number &&
        (value as number) >= 600 &&
        (value as number) <= 1500 &&
        Math.abs((value as number) - (before as number)) <= 50
      );
    case "limit":
      return number && (value as number) >= 1 && (value as number) <= 12;
    case "valve":
      return number && (value as number) >= 10 && (value as number) <= 90;
    case "mode":
      return value === "AUTO" || value === "MANUAL";
    default:
      return false;
  }
}

function lines(file: string): string[] {
  return readFileSync(file, "utf8").trimEnd().split("\n");
}

describe("T10: the guard under hostile values and sequences", () => {
  it("lets only compliant values reach the device and audits each attempt exactly once", async () => {
    let totalWrites = 0;
    let totalRejected = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 25 }), async (steps) => {
        let clock = 1_700_000_000_000;
        const station = pumpStation({ now: () => clock });
        const before: unknown[] = [];
        let proposed = 0;
        for (const { tag, value, approve, advanceMs } of steps) {
          clock += advanceMs;
          const [proposal] = await station.guard.propose({ [tag]: value } as never, { reason: "fuzz" });
          proposed++;
          if (proposal?.state === "rejected") totalRejected++;
          if (proposal?.state === "pending" && approve) {
            before.push(station.drive.get(tag));
            await station.guard.approve(proposal.id, { by: "fuzzer" });
          }
        }
        const writes = station.drive.writes;
        totalWrites += writes.length;
        writes.forEach((write, index) => {
          expect(compliant(write.key, write.value, before[index]), `${write.key}=${String(write.value)}`).toBe(true);
        });
        const records = lines(station.auditFile).map((line) => JSON.parse(line) as AuditRecord);
        expect(records.filter((record) => record.type === "proposal")).toHaveLength(proposed);
        expect(records.filter((record) => record.type === "attempt")).toHaveLength(writes.length);
        expect(records.filter((record) => record.type === "outcome")).toHaveLength(writes.length);
        expect(verifyAuditLog(station.auditFile).ok).toBe(true);
        await station.guard.close();
        await station.plant.close();
      }),
      {
        numRuns: 40,
        // Random sequences reach the device only now and then (a few percent of steps); these fixed ones always do,
        // and are turned away too, so every run checks both sides whatever the seed.
        examples: [
          [
            [
              { tag: "speed", value: 1030, approve: true, advanceMs: 60_000 },
              { tag: "valve", value: 55, approve: true, advanceMs: 60_000 },
              { tag: "speed", value: 1400, approve: true, advanceMs: 60_000 },
              { tag: "mode", value: "MANUAL", approve: true, advanceMs: 60_000 },
            ],
          ],
        ],
      },
    );
    // The property is only meaningful if the sequences both reached the device and were turned away.
    expect(totalWrites).toBeGreaterThan(0);
    expect(totalRejected).toBeGreaterThan(0);
  });

  it("detects an edited, deleted or reordered line, at that line", async () => {
    const station = pumpStation();
    for (const value of [1020, 1040, 9999, 1060]) {
      const [proposal] = await station.guard.propose({ speed: value }, { reason: "build a log" });
      if (proposal?.state === "pending") await station.guard.approve(proposal.id, { by: "a" });
    }
    await station.guard.close();
    await station.plant.close();
    const original = lines(station.auditFile);
    expect(verifyAuditLog(station.auditFile)).toEqual({ ok: true, records: original.length });
    const tamper = (mutate: (copy: string[]) => void) => {
      const copy = [...original];
      mutate(copy);
      writeFileSync(station.auditFile, `${copy.join("\n")}\n`);
      return verifyAuditLog(station.auditFile);
    };
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: original.length - 1 }),
        fc.constantFrom("edit", "delete", "swap"),
        (index, kind) => {
          if (kind === "swap" && index === original.length - 1) return;
          const result = tamper((copy) => {
            if (kind === "edit")
              copy[index] = copy[index]!.replace(
                /"by":"[^"]*"|"reason":"[^"]*"|"seq":\d+/,
                (match) => `${match.slice(0, -1)}x${match.slice(-1)}`,
              );
            if (kind === "delete") copy.splice(index, 1);
            if (kind === "swap") [copy[index], copy[index + 1]] = [copy[index + 1]!, copy[index]!];
          });
          expect(result.ok, `${kind} at line ${index + 1}`).toBe(false);
          if (!result.ok) expect(result.line).toBe(index + 1);
        },
      ),
      { numRuns: 60 },
    );
  });
});
