import { boolean, ConfigError, createPlant, defineTags, float, integer, parseTagMap } from "plantwire";
import { type ModbusAddress, modbus, parseClassicAddress, startModbusSimulator } from "plantwire/modbus";
import { afterEach, describe, expect, it } from "vitest";

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function simulatorAndAdapter(options: Record<string, unknown> = {}) {
  const simulator = await startModbusSimulator();
  const drive = modbus({ url: simulator.url, name: "drive", timeoutMs: 300, ...options });
  cleanups.push(
    () => simulator.close(),
    () => drive.close(),
  );
  return { simulator, drive };
}

describe("modbus addressing and config", () => {
  it("reads classic 1-based notation", () => {
    expect(parseClassicAddress(40001)).toEqual({ area: "holding", address: 0 });
    expect(parseClassicAddress("40101")).toEqual({ area: "holding", address: 100 });
    expect(parseClassicAddress("30011")).toEqual({ area: "input", address: 10 });
    expect(parseClassicAddress("10001")).toEqual({ area: "discrete", address: 0 });
    expect(parseClassicAddress("00005")).toEqual({ area: "coil", address: 4 });
    expect(parseClassicAddress("465536")).toEqual({ area: "holding", address: 65535 });
    for (const wrong of ["40000", "20001", "4001", "465537"])
      expect(() => parseClassicAddress(wrong)).toThrow(ConfigError);
  });

  it("rejects wrong adapter options, naming each field", () => {
    try {
      modbus({ url: "http://x", unit: 300, timeoutMs: -1, wordOrder: "ABDC" as never });
      expect.unreachable();
    } catch (error) {
      expect(ConfigError.isInstance(error)).toBe(true);
      const paths = (error as ConfigError).issues.map((issue) => issue.path);
      expect(paths).toEqual(expect.arrayContaining(["url", "unit", "timeoutMs", "wordOrder"]));
    }
    expect(() => modbus({ url: "modbus+rtu://" })).toThrow(ConfigError);
    const serial = modbus({ url: "modbus+rtu:///dev/ttyUSB0?baudRate=19200&parity=none" });
    expect(serial.settings.kind).toBe("rtu");
    expect(serial.settings.serial).toEqual({
      path: "/dev/ttyUSB0",
      baudRate: 19200,
      parity: "none",
      stopBits: 1,
      dataBits: 8,
    });
  });

  it("rejects sources that make no sense", () => {
    const drive = modbus({ url: "modbus+tcp://127.0.0.1:1" });
    expect(() => drive.holding(65535, "float32")).toThrow(ConfigError);
    expect(() => drive.holding(1, "bool")).toThrow(/bit/);
    expect(() => drive.holding(1, "string", { registers: 200 })).toThrow(ConfigError);
    expect(() => drive.holding(1, "string", { registers: 2, scale: 2 })).toThrow(ConfigError);
  });

  it("loads sources from a YAML tag map, with 40001 notation, and names each wrong field", async () => {
    const drive = modbus({ url: "modbus+tcp://127.0.0.1:1", name: "drive", wordOrder: "CDAB" });
    const yaml = `
tags:
  speed: { type: float, source: { adapter: drive, holding: 100, dataType: uint16, scale: 0.1 } }
  pressure: { type: float, source: { adapter: drive, register: 30011, dataType: float32 } }
  running: { type: boolean, source: { adapter: drive, register: "00006" } }
  tripped: { type: boolean, source: { adapter: drive, holding: 30, bit: 3, unit: 2 } }
`;
    const tags = await parseTagMap(yaml, "yaml", { adapters: { drive } });
    expect(tags.speed?.source.address).toMatchObject({ area: "holding", address: 100, scale: 0.1, unit: 1 });
    expect(tags.pressure?.source.address).toMatchObject({ area: "input", address: 10, wordOrder: "CDAB" });
    expect(tags.running?.source.address).toMatchObject({ area: "coil", address: 5, dataType: "bool" });
    expect(tags.tripped?.source.address).toMatchObject({ unit: 2, bit: 3, dataType: "bool" });
    const wrong = `
tags:
  a: { type: float, source: { adapter: drive, holding: 1, dataType: float128 } }
  b: { type: float, source: { adapter: drive, holding: 1, input: 2 } }
  c: { type: float, source: { adapter: drive, holding: 1, wordorder: CDAB } }
  d: { type: float, source: { adapter: drive, register: 70001 } }
`;
    const error = await parseTagMap(wrong, "yaml", { adapters: { drive } }).catch((caught: unknown) => caught);
    expect(ConfigError.isInstance(error)).toBe(true);
    const paths = (error as ConfigError).issues.map((issue) => issue.path);
    expect(paths).toEqual(
      expect.arrayContaining([
        "tags.a.source.dataType",
        "tags.b.source.input",
        "tags.c.source.wordorder",
        "tags.d.source.register",
      ]),
    );
  });
});

describe("modbus reads", () => {
  it("explains its plan: which tags go in which request", async () => {
    const drive = modbus({ url: "modbus+tcp://127.0.0.1:1", name: "drive", units: { 2: { requestPerTag: true } } });
    const tags = defineTags({
      a: float({ source: drive.holding(0) }),
      b: float({ source: drive.holding(5, "float32") }),
      c: float({ source: drive.input(0) }),
      d: float({ source: drive.holding(0, "uint16", { unit: 2 }) }),
      e: float({ source: drive.holding(1, "uint16", { unit: 2 }) }),
      f: float({ source: drive.holding(10, "string", { registers: 2 }) }),
    });
    const text = drive.explainPlan(tags);
    expect(text).toContain("unit 1:");
    expect(text).toContain("holding 0–6 (7 registers, 2 tags): a@0, b@5");
    expect(text).toContain("unit 2:");
    expect(text).toContain("4 requests for 5 tags");
    expect(text).toContain('cannot read: tag "f": a float tag cannot be read from a string source');
    expect(drive.plan(tags).requests.map((request) => request.count)).toEqual([7, 1, 1, 1]);
  });

  it("turns an exception answer into a bad sample for the tags of that request only", async () => {
    const { simulator, drive } = await simulatorAndAdapter();
    const tags = defineTags({
      good: integer({ source: drive.holding(0) }),
      refused: integer({ source: drive.holding(500) }),
    });
    simulator.store.setAddressException(1, "holding", 500, 2);
    simulator.setTag(tags.good.source.address as ModbusAddress, 7);
    const plant = createPlant({ tags, onError: () => {} });
    cleanups.push(() => plant.close());
    const snapshot = await plant.read();
    expect(snapshot.value("good")).toBe(7);
    expect(snapshot.sample("refused")).toMatchObject({ quality: "bad", reason: "device-error" });
    expect(snapshot.sample("refused").detail).toContain("illegal data address");
  });

  it("reads status bits and coils as right, immutable samples", async () => {
    const { simulator, drive } = await simulatorAndAdapter();
    const tags = defineTags({
      run: boolean({ source: drive.holding(20, "bool", { bit: 0 }) }),
      trip: boolean({ source: drive.holding(20, "bool", { bit: 9 }) }),
      ready: boolean({ source: drive.holding(20, "bool", { bit: 15 }) }),
      pump: boolean({ source: drive.coil(3) }),
      valve: boolean({ source: drive.coil(4) }),
    });
    simulator.setTag(tags.run.source.address as ModbusAddress, true);
    simulator.setTag(tags.trip.source.address as ModbusAddress, false);
    simulator.setTag(tags.ready.source.address as ModbusAddress, true);
    simulator.setTag(tags.pump.source.address as ModbusAddress, true);
    const bound = Object.entries(tags).map(([name, definition]) => ({
      name,
      definition,
      address: definition.source.address as ModbusAddress,
    }));
    await drive.connect();
    const samples = await drive.read(bound);
    expect(samples.map((sample) => sample.value)).toEqual([true, false, true, true, false]);
    for (const sample of samples) {
      expect(sample.quality).toBe("good");
      expect(() => Object.assign(sample, { value: "tampered" })).toThrow(TypeError);
    }
  });

  it("per-unit isolation: with one of three units dead, the others arrive every poll", async () => {
    const { simulator, drive } = await simulatorAndAdapter({ breaker: { failures: 2, openMs: 150, maxOpenMs: 300 } });
    const tags = defineTags({
      one: integer({ source: drive.holding(10, "uint16", { unit: 1 }) }),
      two: integer({ source: drive.holding(10, "uint16", { unit: 2 }) }),
      three: integer({ source: drive.holding(10, "uint16", { unit: 3 }) }),
    });
    for (const [name, tag] of Object.entries(tags)) simulator.setTag(tag.source.address as ModbusAddress, name.length);
    simulator.setBehaviour(2, { kind: "dead" });
    const plant = createPlant({ tags, onError: () => {} });
    cleanups.push(() => plant.close());
    const states: string[] = [];
    for (let poll = 0; poll < 6; poll++) {
      const snapshot = await plant.read();
      expect(snapshot.value("one")).toBe(3);
      expect(snapshot.value("three")).toBe(5);
      expect(snapshot.sample("two").quality).toBe("bad");
      states.push(drive.unitStatus().find((unit) => unit.unit === 2)?.state ?? "");
    }
    expect(states).toContain("backed-off");
    expect(drive.status().state).toBe("degraded");
    // Backed off, unit 2 costs no requests; once back, it is retried and recovers.
    simulator.setBehaviour(2, undefined);
    let recovered = false;
    for (let poll = 0; poll < 40 && !recovered; poll++) {
      await new Promise((resolve) => setTimeout(resolve, 25));
      recovered = (await plant.read()).isUsable("two");
    }
    expect(recovered).toBe(true);
    expect(drive.status().state).toBe("connected");
  });

  it("never sends two requests at once unless pipelining is on", async () => {
    for (const maxInFlight of [1, 4]) {
      const { simulator, drive } = await simulatorAndAdapter({ maxGapRegisters: 0, maxInFlight });
      await drive.connect();
      const tags = Array.from({ length: 20 }, (_, index) => {
        const definition = integer({ source: drive.holding(index * 10, "uint16", { unit: 1 + (index % 4) }) });
        return { name: `t${index}`, definition, address: definition.source.address as ModbusAddress };
      });
      for (const unit of [1, 2, 3, 4]) simulator.setBehaviour(unit, { kind: "slow", delayMs: 2 });
      const samples = await drive.read(tags);
      expect(samples.every((sample) => sample.quality === "good")).toBe(true);
      if (maxInFlight === 1) expect(simulator.mostOutstanding).toBe(1);
      else expect(simulator.mostOutstanding).toBeGreaterThan(1);
      expect(simulator.mostOutstanding).toBeLessThanOrEqual(maxInFlight);
    }
  });

  it("waits between requests for slow devices, and still reads everything", async () => {
    const { simulator, drive } = await simulatorAndAdapter({ interRequestDelayMs: 20, maxGapRegisters: 0 });
    const tags = defineTags({
      a: integer({ source: drive.holding(0) }),
      b: integer({ source: drive.holding(100) }),
      c: integer({ source: drive.input(7) }),
    });
    for (const [name, tag] of Object.entries(tags))
      simulator.setTag(tag.source.address as ModbusAddress, name.charCodeAt(0));
    const plant = createPlant({ tags, onError: () => {} });
    cleanups.push(() => plant.close());
    const snapshot = await plant.read();
    expect([snapshot.value("a"), snapshot.value("b"), snapshot.value("c")]).toEqual([97, 98, 99]);
    expect(simulator.store.requestCount).toBe(3);
    expect(simulator.mostOutstanding).toBe(1);
  });
});
