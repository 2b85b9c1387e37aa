import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { ModbusAddress, ModbusArea } from "../../adapters/modbus/modbus-address.js";
import { planRequests, resolvePlannerOptions } from "../../adapters/modbus/modbus-planner.js";

const areas: ModbusArea[] = ["coil", "discrete", "holding", "input"];

const itemArbitrary = fc.record({
  unit: fc.integer({ min: 1, max: 4 }),
  area: fc.constantFrom(...areas),
  address: fc.integer({ min: 0, max: 3000 }),
  count: fc.constantFrom(1, 1, 2, 4, 10, 60),
});

const overridesArbitrary = fc.record(
  {
    maxRegistersPerRequest: fc.integer({ min: 1, max: 125 }),
    maxBitsPerRequest: fc.integer({ min: 1, max: 2000 }),
    maxGapRegisters: fc.integer({ min: 0, max: 40 }),
    maxGapBits: fc.integer({ min: 0, max: 400 }),
    requestPerTag: fc.boolean(),
  },
  { requiredKeys: [] },
);

function toAddress(item: { unit: number; area: ModbusArea; address: number; count: number }): ModbusAddress {
  const bits = item.area === "coil" || item.area === "discrete";
  return {
    unit: item.unit,
    area: item.area,
    address: item.address,
    count: bits ? 1 : item.count,
    dataType: bits ? "bool" : "string",
    wordOrder: "ABCD",
    scale: 1,
    offset: 0,
  };
}

describe("modbus request planner", () => {
  it("covers every tag exactly once, within limits, never across units or areas, honouring overrides", () => {
    fc.assert(
      fc.property(
        fc.array(itemArbitrary, { maxLength: 300 }),
        fc.dictionary(fc.constantFrom("1", "2", "3", "4"), overridesArbitrary),
        (raw, overrides) => {
          const items = raw.map((item, index) => ({ index, address: toAddress(item) }));
          const optionsFor = (unit: number) => resolvePlannerOptions(overrides[String(unit)]);
          const plan = planRequests(items, optionsFor);
          const seen = new Map<number, number>();
          for (const request of plan.requests) {
            const options = optionsFor(request.unit);
            const bits = request.area === "coil" || request.area === "discrete";
            expect(request.count).toBeLessThanOrEqual(
              bits ? options.maxBitsPerRequest : options.maxRegistersPerRequest,
            );
            expect(request.count).toBeLessThanOrEqual(bits ? 2000 : 125);
            if (options.requestPerTag) expect(request.items).toHaveLength(1);
            for (const item of request.items) {
              const address = items[item.index]?.address as ModbusAddress;
              expect(address.unit).toBe(request.unit);
              expect(address.area).toBe(request.area);
              expect(item.offset).toBe(address.address - request.start);
              expect(item.offset + address.count).toBeLessThanOrEqual(request.count);
              seen.set(item.index, (seen.get(item.index) ?? 0) + 1);
            }
            // No gap inside a request is longer than the unit allows.
            const covered = request.items
              .map((item) => [item.offset, item.offset + (items[item.index]?.address.count ?? 0)] as const)
              .sort((a, b) => a[0] - b[0]);
            let end = 0;
            for (const [from, to] of covered) {
              expect(from - end).toBeLessThanOrEqual(bits ? options.maxGapBits : options.maxGapRegisters);
              end = Math.max(end, to);
            }
          }
          for (const item of plan.unplannable) seen.set(item.index, (seen.get(item.index) ?? 0) + 1);
          expect(seen.size).toBe(items.length);
          for (const count of seen.values()) expect(count).toBe(1);
          for (const item of plan.unplannable) {
            const options = optionsFor(items[item.index]?.address.unit ?? 0);
            expect(items[item.index]?.address.count).toBeGreaterThan(options.maxRegistersPerRequest);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it("reads 1000 sparse registers of one unit in a handful of requests, and one per tag when told", () => {
    const items = Array.from({ length: 100 }, (_, index) => ({
      index,
      address: toAddress({ unit: 1, area: "holding", address: index * 5, count: 2 }),
    }));
    expect(planRequests(items, () => resolvePlannerOptions()).requests).toHaveLength(4);
    expect(planRequests(items, () => resolvePlannerOptions({ maxGapRegisters: 0 })).requests).toHaveLength(100);
    expect(planRequests(items, () => resolvePlannerOptions({ requestPerTag: true })).requests).toHaveLength(100);
    expect(planRequests(items, () => resolvePlannerOptions({ maxRegistersPerRequest: 10 })).requests).toHaveLength(50);
  });
});
