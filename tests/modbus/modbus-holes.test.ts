/**
 * Holes in a device's map (issue 15): a block answered with exception 2 is split and re-read so the tags the device
 * has stay good, and the hole is remembered so later polls do not ask for it until its retry, which backs off while
 * the device keeps refusing. Against the simulator over TCP, with every request seen on the wire through the
 * simulator's intercept hook; the retry clock is a virtual Date.
 */
import { boolean, defineTags, float, integer } from "plantwire";
import { type ModbusAddress, modbus, startModbusSimulator } from "plantwire/modbus";
import { afterEach, describe, expect, it, vi } from "vitest";
import { HoleRegistry, resolveHoleOptions } from "../../adapters/modbus/modbus-holes.js";

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  vi.useRealTimers();
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

/** A simulator whose every read request (function code, start, count) is recorded as it arrives. */
async function recordingSimulator(options: Partial<Parameters<typeof modbus>[0]> = {}) {
  const requests: { functionCode: number; start: number; count: number }[] = [];
  const simulator = await startModbusSimulator({
    intercept: ({ pdu }) => {
      const functionCode = pdu[0] ?? 0;
      if (functionCode <= 4) requests.push({ functionCode, start: pdu.readUInt16BE(1), count: pdu.readUInt16BE(3) });
      return undefined;
    },
  });
  cleanups.push(() => simulator.close());
  const drive = modbus({ url: simulator.url, unit: 1, name: "drive", timeoutMs: 1000, ...options });
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
  it("splits a refused block, keeps the neighbours good and does not ask for the hole again before its retry", async () => {
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

  it("asks for a hole again after its wait: one that became valid reads good, one still refused waits twice as long", async () => {
    // Only Date is virtual: sockets and timers stay real, and the registry's clock is moved instead of waited for.
    vi.useFakeTimers({ toFake: ["Date"] });
    const start = Date.UTC(2026, 5, 1, 8);
    vi.setSystemTime(start);
    const minute = 60_000;
    const { simulator, drive, requests } = await recordingSimulator({
      holes: { retryAfterMs: 5 * minute, maxRetryAfterMs: 12 * minute },
    });
    const tags = defineTags({
      a: integer({ source: drive.holding(0) }),
      late: integer({ source: drive.holding(3) }),
      b: integer({ source: drive.holding(6) }),
      gone: integer({ source: drive.holding(9) }),
    });
    for (const [tag, value] of [
      [tags.a, 1],
      [tags.late, 3],
      [tags.b, 6],
      [tags.gone, 9],
    ] as const)
      simulator.setTag(at(tag), value);
    // A transient refusal (a gateway whose device is still starting) and a register the device really lacks.
    simulator.store.setAddressException(1, "holding", 3, 2);
    simulator.store.setAddressException(1, "holding", 9, 2);
    const bound = bind(tags);
    await drive.connect();
    const first = await drive.read(bound);
    expect(first.map((sample) => sample.value)).toEqual([1, undefined, 6, undefined]);
    expect(first[1]?.detail).toContain(`not asked for again before ${new Date(start + 5 * minute).toISOString()}`);
    expect(drive.holes().map(({ start: address, retryAt, strikes }) => [address, retryAt, strikes])).toEqual([
      [3, start + 5 * minute, 1],
      [9, start + 5 * minute, 1],
    ]);

    simulator.store.setAddressException(1, "holding", 3, undefined); // the device came up
    vi.setSystemTime(start + 4 * minute);
    requests.length = 0;
    const before = await drive.read(bound);
    expect(before.map((sample) => sample.value)).toEqual([1, undefined, 6, undefined]);
    expect(requests.filter((request) => touches(request, 3) || touches(request, 9))).toEqual([]);

    vi.setSystemTime(start + 5 * minute);
    expect(drive.holes()).toEqual([]);
    requests.length = 0;
    const after = await drive.read(bound);
    expect(after.map((sample) => sample.value)).toEqual([1, 3, 6, undefined]);
    expect(after[1]?.quality).toBe("good");
    expect(requests.some((request) => touches(request, 3))).toBe(true);
    // holding 9 was refused again on its retry: it backs off to 10 minutes, then to the 12-minute cap.
    expect(drive.holes().map(({ start: address, retryAt, strikes }) => [address, retryAt, strikes])).toEqual([
      [9, start + 15 * minute, 2],
    ]);
    vi.setSystemTime(start + 15 * minute);
    await drive.read(bound);
    expect(drive.holes().map(({ retryAt, strikes }) => [retryAt, strikes])).toEqual([[start + 27 * minute, 3]]);

    // forgetHoles() still clears at once, backoff included: found again, the hole starts over at 5 minutes.
    drive.forgetHoles();
    vi.setSystemTime(start + 16 * minute);
    await drive.read(bound);
    expect(drive.holes().map(({ retryAt, strikes }) => [retryAt, strikes])).toEqual([[start + 21 * minute, 1]]);
  });

  it('keeps holes for good with retryAfterMs: "never", and refuses a wrong setting naming it', async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(Date.UTC(2026, 5, 1));
    const { simulator, drive } = await recordingSimulator({ holes: { retryAfterMs: "never" } });
    const tags = defineTags({ a: integer({ source: drive.holding(0) }), b: integer({ source: drive.holding(1) }) });
    simulator.store.setAddressException(1, "holding", 1, 2);
    await drive.connect();
    await drive.read(bind(tags));
    expect(drive.holes().map((hole) => hole.retryAt)).toEqual([Number.POSITIVE_INFINITY]);
    vi.setSystemTime(Date.UTC(2027, 5, 1));
    expect(drive.holes()).toHaveLength(1);
    const [, b] = await drive.read(bind(tags));
    expect(b?.detail).toContain("not asked for again until forgetHoles() or a restart");
    expect(() => modbus({ url: simulator.url, holes: { retryAfterMs: -1 } })).toThrow(/holes\.retryAfterMs/);
  });

  it("starts a hole's wait over when it is found again long after its retry (the address was valid in between)", () => {
    let now = 0;
    const registry = new HoleRegistry(resolveHoleOptions({ retryAfterMs: 1000, maxRetryAfterMs: 8000 }), () => now);
    const found = () => registry.add({ unit: 1, area: "holding", start: 7, count: 1, why: "test", time: now });
    found();
    const version = registry.version;
    now = 1000;
    expect(registry.list()).toEqual([]);
    expect(registry.version).toBeGreaterThan(version);
    found(); // refused again on its retry
    expect(registry.list().map(({ retryAt, strikes }) => [retryAt, strikes])).toEqual([[3000, 2]]);
    now = 3000;
    expect(registry.overlapping(1, "holding", 0, 10)).toBeUndefined();
    now = 60_000; // read fine for almost a minute, then refused once more
    found();
    expect(registry.list().map(({ retryAt, strikes }) => [retryAt, strikes])).toEqual([[61_000, 1]]);
    expect(registry.overlapping(1, "holding", 7, 8)?.start).toBe(7);
  });
});
