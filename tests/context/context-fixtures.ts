/** Shared tag map and data for the context tests. */
import {
  badSample,
  boolean,
  defineTags,
  enumeration,
  float,
  goodSample,
  integer,
  type Sample,
  Snapshot,
  text,
  Window,
} from "plantwire";
import { memoryAdapter } from "plantwire/testing";

const memory = memoryAdapter();

export const tags = defineTags({
  speed: float({
    unit: "rpm",
    range: [0, 1800],
    resolution: 1,
    description: "Pump 7 speed",
    source: memory.key("speed"),
    write: { range: [600, 1500] },
  }),
  pressure: float({
    unit: "bar",
    range: [0, 16],
    resolution: 0.01,
    staleAfterMs: 10_000,
    source: memory.key("pressure"),
  }),
  temperature: float({ unit: "°C", range: [-40, 150], resolution: 0.1, source: memory.key("temperature") }),
  count: integer({ range: [0, 100000], source: memory.key("count") }),
  running: boolean({ labels: ["stopped", "running"], source: memory.key("running") }),
  mode: enumeration({ states: { OFF: 0, AUTO: 1, MANUAL: 2 }, source: memory.key("mode") }),
  alarm: text({ maxLength: 500, description: "Active alarm text", source: memory.key("alarm") }),
});

export const now = Date.UTC(2026, 10, 29, 12, 0, 0);

export function snapshotOf(samples: Record<string, Sample>, time = now): Snapshot<typeof tags> {
  return new Snapshot(tags, new Map(Object.entries(samples)), time);
}

/** A window of `rows` samples per tag, one per second, with deterministic values. */
export function windowOf(
  rows: number,
  value = (name: string, row: number) => defaultValue(name, row),
): Window<typeof tags> {
  const series = new Map<string, Sample[]>();
  for (const name of Object.keys(tags)) {
    series.set(
      name,
      Array.from({ length: rows }, (_, row) => goodSample(value(name, row), now + row * 1000)),
    );
  }
  return new Window(tags, series, now, now + rows * 1000);
}

export function defaultValue(name: string, row: number): unknown {
  switch (name) {
    case "running":
      return row % 3 !== 0;
    case "mode":
      return ["OFF", "AUTO", "MANUAL"][row % 3];
    case "alarm":
      return row % 2 ? "HI | pressure" : "";
    case "count":
      return row * 7;
    default:
      return 5 + Math.sin(row / 7) * 3.3333333;
  }
}

export { badSample, goodSample };
