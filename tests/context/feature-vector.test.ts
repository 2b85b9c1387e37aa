import { DataQualityError } from "plantwire";
import { describe, expect, it } from "vitest";
import { featureVector } from "../../src/context/index.js";
import { badSample, goodSample, now, snapshotOf, tags } from "./context-fixtures.js";

const snapshot = () =>
  snapshotOf({
    speed: goodSample(900, now),
    pressure: goodSample(4, now - 60_000),
    temperature: goodSample(55, now),
    count: badSample("timeout", undefined, now),
    running: goodSample(true, now),
    mode: goodSample("MANUAL", now),
  });

describe("featureVector", () => {
  it("has a fixed order with names alongside, range-scaled, enums one-hot, text left out", () => {
    const features = featureVector(tags, { missing: "nan" });
    expect(features.names).toEqual([
      "speed",
      "pressure",
      "temperature",
      "count",
      "running",
      "mode=OFF",
      "mode=AUTO",
      "mode=MANUAL",
    ]);
    const vector = features.encode(snapshot());
    expect(vector).toBeInstanceOf(Float32Array);
    expect(vector[0]).toBeCloseTo(0.5);
    expect(vector[1]).toBeNaN(); // stale
    expect(vector[2]).toBeCloseTo((55 + 40) / 190);
    expect(vector[3]).toBeNaN(); // bad
    expect([...vector.slice(4)]).toEqual([1, 0, 0, 1]);
    expect(featureVector(tags, { missing: "nan" }).names).toEqual(features.names);
  });

  it("applies the chosen missing policy and optional usable flags", () => {
    const filled = featureVector(tags, {
      tags: ["pressure", "count", "speed"],
      missing: { fill: -1 },
      scale: "none",
      usableFlags: true,
    });
    expect(filled.names).toEqual(["pressure", "count", "speed", "pressure:usable", "count:usable", "speed:usable"]);
    expect([...filled.encode(snapshot())]).toEqual([-1, -1, 900, 0, 0, 1]);
    expect(() => featureVector(tags, { tags: ["count"], missing: "throw" }).encode(snapshot())).toThrow(
      DataQualityError,
    );
    expect(() => featureVector(tags, { tags: ["alarm"], missing: "nan" })).toThrow(/text tags cannot be features/);
  });

  it("uses an uncertain value unless told to treat it as missing", () => {
    const doubted = snapshotOf({
      speed: { ...goodSample(900, now), quality: "uncertain", reason: "last-known-value" },
    });
    const options = { tags: ["speed"] as const, missing: { fill: -1 }, scale: "none", usableFlags: true } as const;
    expect([...featureVector(tags, options).encode(doubted)]).toEqual([900, 1]);
    expect([...featureVector(tags, { ...options, uncertain: "missing" }).encode(doubted)]).toEqual([-1, 0]);
  });
});
