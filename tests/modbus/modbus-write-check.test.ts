/**
 * Write checks that know the Modbus wire (issue 15): through the guard to the simulator over TCP, a value that does
 * not fit the register after scale and offset is `invalid-value` at proposal time with no attempt on record and no
 * write on the device; a float32 read-back is verified at float32 precision; and the adapter's own checks, case by case.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  type AuditRecord,
  boolean,
  createGuard,
  createPlant,
  defineTags,
  enumeration,
  float,
  integer,
} from "plantwire";
import { type ModbusAddress, modbus, startModbusSimulator } from "plantwire/modbus";
import { afterEach, describe, expect, it } from "vitest";

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const at = (tag: { source: { address: unknown } }) => tag.source.address as ModbusAddress;

describe("Modbus write checks through the guard", () => {
  it("rejects 70000 for a uint16 at proposal time and verifies 0.1 read back from a float32", async () => {
    const simulator = await startModbusSimulator();
    cleanups.push(() => simulator.close());
    const drive = modbus({ url: simulator.url, unit: 1, name: "drive", timeoutMs: 1000 });
    const tags = defineTags({
      // The write range admits 70000: only the wire check stands between it and the device.
      count: float({ source: drive.holding(0, "uint16"), write: { range: [0, 100_000] } }),
      gain: float({ source: drive.holding(10, "float32"), write: { range: [0, 1] } }),
    });
    const plant = createPlant({ tags, onError: () => {} });
    cleanups.push(() => plant.close());
    const folder = mkdtempSync(join(tmpdir(), "plantwire-modbus-wire-"));
    cleanups.push(() => rmSync(folder, { recursive: true, force: true }));
    const audit = join(folder, "audit.jsonl");
    const guard = createGuard({ plant, audit, mode: "approval", allowSameProcessApproval: true, deviceLocks: false });
    cleanups.push(() => guard.close?.());

    const [tooLarge] = await guard.propose({ count: 70000 }, { reason: "beyond uint16" });
    expect(tooLarge?.state).toBe("rejected");
    const failed = tooLarge?.verdicts.find((verdict) => !verdict.passed);
    expect(failed?.code).toBe("invalid-value");
    expect(failed?.detail).toContain("does not fit uint16 (0..65535) after scale 1");

    const [gain] = await guard.propose({ gain: 0.1 }, { reason: "float32 set-point" });
    expect(gain?.verdicts.filter((verdict) => !verdict.passed)).toEqual([]);
    expect(gain?.state).toBe("pending");
    const done = await guard.approve(gain?.id as string, { by: "tester" });
    expect(done.outcome).toMatchObject({ write: "written", readBack: "verified" });
    expect(done.outcome?.readBackValue).not.toBe(0.1); // the wire holds 0.10000000149011612
    expect(simulator.getTag(at(tags.gain))).toBe(Math.fround(0.1));

    const records = readFileSync(audit, "utf8")
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as AuditRecord);
    const attempts = records.filter((record) => record.type === "attempt");
    expect(attempts.map((record) => (record as { tag?: string }).tag)).toEqual(["gain"]);
    expect(simulator.store.writesAt(1, "holding", 0)).toBe(0);
  });
});

describe("Modbus checkWrite and sameOnWire", () => {
  const drive = modbus({ url: "modbus+tcp://127.0.0.1:1", unit: 1, name: "drive" });
  const tags = defineTags({
    speed: float({ source: drive.holding(0, "uint16", { scale: 0.1 }), write: {} }),
    offsetTemperature: float({ source: drive.holding(1, "int16", { scale: 0.1, offset: -40 }), write: {} }),
    total: integer({ source: drive.holding(2, "uint32"), write: {} }),
    signed: integer({ source: drive.holding(4, "int32"), write: {} }),
    gain: float({ source: drive.holding(6, "float32"), write: {} }),
    precise: float({ source: drive.holding(8, "float64"), write: {} }),
    pump: boolean({ source: drive.coil(0), write: {} }),
    trip: boolean({ source: drive.holding(20, "bool", { bit: 3 }), write: {} }),
    mode: enumeration({ states: { OFF: 0, AUTO: 1, BIG: 70000 }, source: drive.holding(21), write: {} }),
    level: float({ source: drive.input(0, "float32") }),
  });
  const check = (name: keyof typeof tags, value: unknown) =>
    drive.checkWrite?.({ name, definition: tags[name], address: at(tags[name]) }, value);
  const same = (name: keyof typeof tags, written: unknown, readBack: unknown) =>
    drive.sameOnWire?.({ name, definition: tags[name], address: at(tags[name]) }, written, readBack);

  it("says why a value does not fit the register, and nothing when it does", () => {
    expect(check("speed", 1500)).toBeUndefined();
    expect(check("speed", 6553.5)).toBeUndefined();
    expect(check("speed", 6553.6)).toContain("does not fit uint16 (0..65535) after scale 0.1");
    expect(check("speed", -0.1)).toContain("does not fit uint16");
    expect(check("speed", 123.45)).toContain("not a whole number of uint16 steps after scale 0.1");
    expect(check("offsetTemperature", -40)).toBeUndefined();
    expect(check("offsetTemperature", 3300)).toContain(
      "does not fit int16 (-32768..32767) after scale 0.1 and offset -40",
    );
    expect(check("total", 4_294_967_295)).toBeUndefined();
    expect(check("total", 4_294_967_296)).toContain("does not fit uint32");
    expect(check("signed", -2_147_483_648)).toBeUndefined();
    expect(check("signed", 2_147_483_648)).toContain("does not fit int32");
    expect(check("signed", 1.5)).toContain("not a whole number");
    expect(check("gain", 0.1)).toBeUndefined();
    expect(check("gain", 1e39)).toContain("does not fit float32");
    expect(check("gain", 1e-50)).toContain("would be written as 0");
    expect(check("precise", 1e300)).toBeUndefined();
    expect(check("pump", true)).toBeUndefined();
    expect(check("pump", 1)).toContain("single bit");
    expect(check("trip", false)).toBeUndefined();
    expect(check("trip", "yes")).toContain("single bit");
    expect(check("mode", "AUTO")).toBeUndefined();
    expect(check("mode", "BIG")).toContain("70000 is outside the uint16 range");
    expect(check("level", 1)).toContain("read-only");
  });

  it("compares a read-back at the wire's precision", () => {
    expect(same("gain", 0.1, Math.fround(0.1))).toBe(true);
    expect(same("gain", 0.1, 0.1000001)).toBe(false);
    expect(same("gain", 123456.789, Math.fround(123456.789))).toBe(true);
    expect(same("speed", 123.4, 123.4 + 1e-9)).toBe(true);
    expect(same("speed", 123.4, 123.5)).toBe(false);
    expect(same("offsetTemperature", 21.3, 613 * 0.1 - 40)).toBe(true);
    expect(same("precise", 0.1, 0.1)).toBe(true);
    expect(same("precise", 0.1, Math.fround(0.1))).toBe(false);
    expect(same("pump", true, true)).toBeUndefined();
  });
});
