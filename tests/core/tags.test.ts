import {
  absoluteDeadband,
  ConfigError,
  decimalsFor,
  defineTags,
  enumeration,
  float,
  integer,
  isChange,
  isWritable,
  text,
  boolean as yesNo,
} from "plantwire";
import { memoryAdapter } from "plantwire/testing";
import { describe, expect, it } from "vitest";

const plc = memoryAdapter({ name: "plc" });

function issuesOf(build: () => unknown): string[] {
  try {
    build();
  } catch (error) {
    expect(ConfigError.isInstance(error)).toBe(true);
    return (error as ConfigError).issues.map((issue) => `${issue.path}: ${issue.message}`);
  }
  throw new Error("expected a ConfigError");
}

describe("defineTags", () => {
  it("accepts a well-formed map and freezes it", () => {
    const tags = defineTags({
      speed: float({
        unit: "rpm",
        range: [0, 1800],
        resolution: 0.1,
        deadband: { percent: 1 },
        source: plc.key("speed"),
        write: { range: [600, 1500], maxStep: 50, minIntervalMs: 60_000, approval: "required" },
      }),
      starts: integer({ source: plc.key("starts") }),
      trip: yesNo({ safety: true, source: plc.key("trip") }),
      mode: enumeration({ states: { OFF: 0, AUTO: 1 }, source: plc.key("mode"), write: { states: ["AUTO"] } }),
      note: text({ maxLength: 10, source: plc.key("note") }),
    });
    expect(Object.isFrozen(tags)).toBe(true);
    expect(Object.isFrozen(tags.speed)).toBe(true);
    expect(isWritable(tags.speed)).toBe(true);
    expect(isWritable(tags.trip)).toBe(false);
    expect(isWritable(tags.starts)).toBe(false);
    expect(absoluteDeadband(tags.speed)).toBeCloseTo(18);
    expect(decimalsFor(tags.speed)).toBe(1);
    expect(decimalsFor(tags.starts)).toBe(0);
  });

  it("reports every problem with the field that has it", () => {
    const issues = issuesOf(() =>
      defineTags({
        speed: float({ range: [10, 0], source: plc.key("speed") }),
        level: float({ deadband: { percent: 5 }, source: plc.key("level") }),
        valve: float({ range: [0, 100], write: { range: [-5, 50] }, source: plc.key("valve") }),
        trip: yesNo({ safety: true, write: {}, source: plc.key("trip") }),
        mode: enumeration({ states: { OFF: 0, ON: 1 }, source: plc.key("mode"), write: { states: ["ON"] } }),
        orphan: float({ source: undefined as never }),
        "bad name": float({ source: plc.key("x") }),
        stale: float({ staleAfterMs: -1, source: plc.key("y") }),
      }),
    );
    expect(issues).toEqual([
      "speed.range: low must be smaller than high",
      "level.deadband: a percent deadband needs the tag's range",
      "valve.write.range: write range [-5, 50] leaves the engineering range [0, 100]",
      "trip.write: a safety-class tag can never be written",
      "orphan.source: missing or not made by an adapter",
      "bad name: tag names must start with a letter or _ and use only letters, digits, _, . and -",
      expect.stringMatching(/^stale\.staleAfterMs: /),
    ]);
  });

  it("refuses non-finite numbers in ranges and limits", () => {
    const issues = issuesOf(() =>
      defineTags({
        x: float({ range: [0, Number.POSITIVE_INFINITY], write: { maxStep: Number.NaN }, source: plc.key("x") }),
      }),
    );
    expect(issues.some((issue) => issue.startsWith("x.range"))).toBe(true);
    expect(issues.some((issue) => issue.startsWith("x.write.maxStep"))).toBe(true);
  });
});

describe("change detection", () => {
  const pressure = float({ range: [0, 16], deadband: 0.5, source: plc.key("p") });
  const sample = (value: unknown, quality: "good" | "bad" = "good") => ({ value, quality, receivedTime: 0 }) as const;

  it("reports value moves past the deadband, and every quality change", () => {
    expect(isChange(pressure, undefined, sample(1))).toBe(true);
    expect(isChange(pressure, sample(6), sample(6.5))).toBe(false);
    expect(isChange(pressure, sample(6), sample(6.51))).toBe(true);
    expect(isChange(pressure, sample(6), sample(6, "bad"))).toBe(true);
    const mode = enumeration({ states: { A: 0, B: 1 }, source: plc.key("m") });
    expect(isChange(mode, sample("A"), sample("A"))).toBe(false);
    expect(isChange(mode, sample("A"), sample("B"))).toBe(true);
  });
});
