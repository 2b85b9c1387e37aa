import { type AnyTag, type BoundTag, boolean, float, integer } from "plantwire";
import { type ModbusAddress, type ModbusDataType, wordOrders } from "plantwire/modbus";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFixture } from "./modbus-fixture.js";

type Case = { type: ModbusDataType; values: number[]; scale?: number; offset?: number; resolution?: number };

const cases: Case[] = [
  { type: "int16", values: [-32768, 32767, -1, 0] },
  { type: "uint16", values: [0, 65535, 1] },
  { type: "int32", values: [-2147483648, 2147483647, -70000] },
  { type: "uint32", values: [0, 4294967295, 65536] },
  { type: "int64", values: [-(2 ** 53 - 1), 2 ** 53 - 1, -1] },
  { type: "uint64", values: [0, 2 ** 53 - 1, 2 ** 40] },
  { type: "float32", values: [-1.5, 3.4028234663852886e38, 1.401298464324817e-45, -0.15625, 1.1754943508222875e-38] },
  { type: "float64", values: [Number.MAX_VALUE, -Number.MIN_VALUE, Math.PI, -1e-300] },
  { type: "uint16", values: [6553.5, 0.1, 1234.5], scale: 0.1, resolution: 0.1 },
  { type: "int16", values: [-367.68, 287.67, -40], scale: 0.01, offset: -40, resolution: 0.01 },
  { type: "int32", values: [-2147483.648, 2147483.647, 0.001], scale: 0.001, resolution: 0.001 },
  { type: "int64", values: [-9007199254740.99, 12.345], scale: 0.001, resolution: 0.001 },
];

describe("modbus round trip: every type × every word order, written then read over a socket", () => {
  const context = {} as Awaited<ReturnType<typeof startFixture>>;
  beforeAll(async () => {
    Object.assign(context, await startFixture());
    await context.drive.connect();
  });
  afterAll(async () => {
    await context.drive.close();
    await context.simulator.close();
  });

  let nextAddress = 1000;
  for (const testCase of cases) {
    for (const order of wordOrders) {
      const label = `${testCase.type}${testCase.scale ? ` ×${testCase.scale}` : ""}${testCase.offset ? ` ${testCase.offset}` : ""} ${order}`;
      const start = nextAddress;
      nextAddress += testCase.values.length * 4;
      it(label, async () => {
        const { drive } = context;
        const bound: BoundTag<ModbusAddress>[] = testCase.values.map((_, index) => {
          const build = testCase.type.startsWith("float") || testCase.scale ? float : integer;
          const definition: AnyTag = build({
            source: drive.holding(start + index * 4, testCase.type as "int16", {
              wordOrder: order,
              ...(testCase.scale ? { scale: testCase.scale } : {}),
              ...(testCase.offset ? { offset: testCase.offset } : {}),
            }),
            ...(testCase.resolution ? { resolution: testCase.resolution } : {}),
          });
          return { name: `v${index}`, definition, address: definition.source.address as ModbusAddress };
        });
        for (const [index, tag] of bound.entries()) {
          const result = await drive.write(tag, testCase.values[index]);
          expect(result.outcome, result.error?.message).toBe("written");
        }
        const samples = await drive.read(bound);
        samples.forEach((sample, index) => {
          expect(sample.quality, sample.detail).toBe("good");
          expect(Object.is(sample.value, testCase.values[index]) || sample.value === testCase.values[index]).toBe(true);
        });
      });
    }
  }

  it("refuses values that do not fit without sending anything", async () => {
    const { drive, simulator } = context;
    const tag = integer({ source: drive.holding(900, "uint16") });
    const bound = { name: "small", definition: tag, address: tag.source.address as ModbusAddress };
    const before = simulator.store.writeRequestCount;
    for (const value of [65536, -1, 1.5, Number.NaN, "12"]) {
      const result = await drive.write(bound, value);
      expect(result.outcome).toBe("failed");
      expect(result.error?.name).toBe("ValidationError");
    }
    expect(simulator.store.writeRequestCount).toBe(before);
  });

  it("reports 64-bit integers beyond ±2^53 as bad on integer tags, approximately on float tags", async () => {
    const { drive, simulator } = context;
    const exact = integer({ source: drive.holding(950, "int64") });
    const approximate = float({ source: drive.holding(950, "int64") });
    simulator.setTag(exact.source.address as ModbusAddress, 2n ** 63n - 1n);
    const [first, second] = await drive.read([
      { name: "exact", definition: exact, address: exact.source.address as ModbusAddress },
      { name: "approximate", definition: approximate, address: approximate.source.address as ModbusAddress },
    ]);
    expect(first?.quality).toBe("bad");
    expect(first?.reason).toBe("out-of-range");
    expect(second?.value).toBe(Number(2n ** 63n - 1n));
  });

  it("reads and writes each of the 16 bits of a register (FC22), leaving the others alone", async () => {
    const { drive, simulator } = context;
    const bits = Array.from({ length: 16 }, (_, bit) => {
      const definition = boolean({ source: drive.holding(980, "bool", { bit }) });
      return { name: `bit${bit}`, definition, address: definition.source.address as ModbusAddress };
    });
    for (const target of [0, 7, 8, 15]) {
      simulator.setTag({ ...(bits[0]?.address as ModbusAddress), bit: undefined, dataType: "uint16" }, 0);
      expect((await drive.write(bits[target]!, true)).outcome).toBe("written");
      expect((await drive.write(bits[(target + 5) % 16]!, true)).outcome).toBe("written");
      expect((await drive.write(bits[(target + 5) % 16]!, false)).outcome).toBe("written");
      const samples = await drive.read(bits);
      expect(samples.map((sample) => sample.value)).toEqual(bits.map((_, bit) => bit === target));
    }
  });
});
