/**
 * Shared test fixture: a simulator, an adapter pointed at it, and a tag map that covers every kind of source.
 */
import { boolean, defineTags, enumeration, float, integer, text } from "plantwire";
import { type ModbusAdapter, type ModbusOptions, modbus, startModbusSimulator } from "plantwire/modbus";

/** Builds the tag map used by several test files. */
export function sampleTags(drive: ModbusAdapter) {
  return defineTags({
    speed: float({ unit: "rpm", resolution: 0.1, source: drive.holding(100, "uint16", { scale: 0.1 }), write: {} }),
    pressure: float({ unit: "bar", resolution: 0.01, source: drive.input(10, "float32", { wordOrder: "CDAB" }) }),
    running: boolean({ source: drive.coil(5), write: {} }),
    alarm: boolean({ source: drive.discrete(3) }),
    mode: enumeration({ states: { OFF: 0, AUTO: 1, MANUAL: 2 }, source: drive.holding(20), write: {} }),
    tripped: boolean({ source: drive.holding(30, "bool", { bit: 3 }), write: {} }),
    batch: text({ maxLength: 8, source: drive.holding(40, "string", { registers: 4 }), write: {} }),
    counter: integer({ source: drive.holding(50, "int64", { wordOrder: "DCBA" }), write: {} }),
    energy: float({ unit: "kWh", source: drive.register(40061, "float64", { wordOrder: "BADC" }), write: {} }),
  });
}

/** Two values per sample tag. */
export const sampleValues = {
  speed: [123.4, 1500],
  pressure: [6.25, -7.5],
  running: [true, false],
  alarm: [false, true],
  mode: ["AUTO", "MANUAL"],
  tripped: [true, false],
  batch: ["B-1029", "LOT77"],
  counter: [-123_456_789_012, 42],
  energy: [1234.5678, 0.001],
} as const;

const wire: Record<string, (value: unknown) => unknown> = {
  mode: (value) => ({ OFF: 0, AUTO: 1, MANUAL: 2 })[value as "OFF"],
};

/** Starts a simulator and an adapter on it. */
export async function startFixture(options: Partial<ModbusOptions> = {}) {
  const simulator = await startModbusSimulator();
  const drive = modbus({ url: simulator.url, unit: 1, name: "drive", timeoutMs: 500, ...options });
  const tags = sampleTags(drive);
  const setValue = (name: string, value: unknown) => {
    const tag = tags[name as keyof typeof tags];
    simulator.setTag(tag.source.address as never, (wire[name]?.(value) ?? value) as never);
  };
  return { simulator, drive, tags, setValue };
}
