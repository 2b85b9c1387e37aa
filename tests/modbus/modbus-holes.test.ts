/**
 * Holes in a device's map (issue 15): a block answered with exception 2 is split and re-read so the tags the device
 * has stay good, and the hole is remembered so later polls never ask for it. Against the simulator over TCP, with
 * every request seen on the wire through the simulator's intercept hook.
 */
import { boolean, defineTags, float, integer } from "plantwire";
import { type ModbusAddress, modbus, startModbusSimulator } from "plantwire/modbus";
import { afterEach, describe, expect, it } from "vitest";

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

/** A simulator whose every read request (function code, start, count) is recorded as it arrives. */
async function recordingSimulator() {
  const requests: { functionCode: number; start: number; count: number }[] = [];
  const simulator = await startModbusSimulator({
    intercept: ({ pdu }) => {
      const functionCode = pdu[0] ?? 0;
      if (functionCode <= 4) requests.push({ functionCode, start: pdu.readUInt16BE(1), count: pdu.readUInt16BE(3) });
      return undefined;
    },
  });
  cleanups.push(() => simulator.close());
  const drive = modbus({ url: simulator.url, unit: 1, name: "drive", timeoutMs: 1000 });
  cleanups.push(() => drive.close());
  return { simulator, drive, requests };
}

const touches = (request: { start: number; count: number }, address: number) =>
  request.start <= address && address < request.start + request.count;

const at = (tag: { source: { address: unknown } }) => tag.source.address as ModbusAddress;

const bind = (tags: Record<string, { source: { address: unknown } }>) =>
  Object.entries(tags).map(([name, definition]) => ({
    name,
    definition: definition as never,
    address: definition.source.address as ModbusAddress,
  }));

describe("Modbus holes (exception 2 inside a block)", () => {
  it("splits a refused block, keeps the neighbours good and never asks for the hole again", async () => {
    const { simulator, drive, requests } = await recordingSimulator();
    const tags = defineTags({
      a: integer({ source: drive.holding(0) }),
      b: float({ source: drive.holding(2, "float32") }),
      missing: integer({ source: drive.holding(5) }),
      d: integer({ source: drive.holding(8) }),
      e: integer({ source: drive.holding(20) }),
      f: integer({ source: drive.holding(30) }),
    });
    simulator.setTag(at(tags.a), 11);
    simulator.setTag(at(tags.b), 2.5);
    simulator.setTag(at(tags.d), 44);
    simulator.setTag(at(tags.e), 55);
    simulator.setTag(at(tags.f), 66);
    // One illegal register under a tag, one in the gap between two tags the planner joins into one block.
    simulator.store.setAddressException(1, "holding", 5, 2);
    simulator.store.setAddressException(1, "holding", 25, 2);
    const bound = bind(tags);
    expect(drive.plan(bound).requests).toHaveLength(1); // 0–30 in one block: both holes are inside it
    await drive.connect();

    const first = await drive.read(bound);
    expect(first.map((sample) => sample.value)).toEqual([11, 2.5, undefined, 44, 55, 66]);
    expect(first[2]).toMatchObject({ quality: "bad", reason: "device-error" });
    expect(first[2]?.detail).toContain("illegal data address");
    expect(first[2]?.detail).toContain("unit 1 holding 5");
    expect(drive.holes().map(({ start, count }) => [start, count])).toEqual([
      [5, 1],
      [21, 9],
    ]);

    requests.length = 0;
    const second = await drive.read(bound);
    expect(second.map((sample) => sample.value)).toEqual([11, 2.5, undefined, 44, 55, 66]);
    expect(second[2]).toMatchObject({ quality: "bad", reason: "device-error" });
    expect(second[2]?.detail).toContain("unit 1 holding 5 is a hole in the device's map");
    expect(requests.length).toBeGreaterThan(0);
    expect(requests.filter((request) => touches(request, 5) || touches(request, 25))).toEqual([]);
    // Still coalesced, only never across a hole: 0–3, then 8–20 (its gap holds no hole), then 30.
    expect(requests).toEqual([
      { functionCode: 3, start: 0, count: 4 },
      { functionCode: 3, start: 8, count: 13 },
      { functionCode: 3, start: 30, count: 1 },
    ]);
    expect(drive.explainPlan(bound)).toContain('cannot read: tag "missing": unit 1 holding 5 is a hole');

    // After the device's map changes, forgetting the holes reads full blocks again.
    simulator.store.setAddressException(1, "holding", 5, undefined);
    simulator.store.setAddressException(1, "holding", 25, undefined);
    simulator.setTag(at(tags.missing), 9);
    drive.forgetHoles();
    requests.length = 0;
    const third = await drive.read(bound);
    expect(third.map((sample) => sample.value)).toEqual([11, 2.5, 9, 44, 55, 66]);
    expect(requests).toEqual([{ functionCode: 3, start: 0, count: 31 }]);
  });

  it("finds a hole among coils and a multi-register tag sitting on one", async () => {
    const { simulator, drive, requests } = await recordingSimulator();
    const tags = defineTags({
      pump: boolean({ source: drive.coil(0) }),
      ghost: boolean({ source: drive.coil(3) }),
      valve: boolean({ source: drive.coil(7) }),
      total: float({ source: drive.input(100, "float64") }),
      level: float({ source: drive.input(104, "float32") }),
    });
    simulator.setTag(at(tags.pump), true);
    simulator.setTag(at(tags.valve), true);
    simulator.setTag(at(tags.level), 1.25);
    simulator.store.setAddressException(1, "coil", 3, 2);
    simulator.store.setAddressException(1, "input", 102, 2); // the third register of the float64
    const bound = bind(tags);
    await drive.connect();
    const first = await drive.read(bound);
    expect(first.map((sample) => sample.quality)).toEqual(["good", "bad", "good", "bad", "good"]);
    expect(first.map((sample) => sample.value)).toEqual([true, undefined, true, undefined, 1.25]);
    expect(first[3]?.detail).toContain("unit 1 input 100–103");
    requests.length = 0;
    await drive.read(bound);
    expect(requests.filter((request) => request.functionCode === 1 && touches(request, 3))).toEqual([]);
    expect(requests.filter((request) => request.functionCode === 4 && touches(request, 102))).toEqual([]);
  });

  it("keeps a unit-wide refusal (every address answers exception 2) to one request per tag, then none", async () => {
    const { simulator, drive, requests } = await recordingSimulator();
    const tags = defineTags({
      a: integer({ source: drive.holding(0) }),
      b: integer({ source: drive.holding(1) }),
      c: integer({ source: drive.holding(2) }),
    });
    simulator.setBehaviour(1, { kind: "exception", code: 2 });
    const bound = bind(tags);
    await drive.connect();
    const first = await drive.read(bound);
    expect(first.every((sample) => sample.reason === "device-error")).toBe(true);
    requests.length = 0;
    const second = await drive.read(bound);
    expect(second.every((sample) => sample.reason === "device-error")).toBe(true);
    expect(requests).toEqual([]);
  });
});
