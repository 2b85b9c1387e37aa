import { fileURLToPath } from "node:url";
import { createPlant, loadTagMap, parseTagMap, type TagExpectations } from "plantwire";
import { memoryAdapter } from "plantwire/testing";
import { describe, expect, it } from "vitest";
import { configErrorOf } from "../support/test-lifecycle.js";

const pumpStation = fileURLToPath(new URL("../fixtures/pump-station.yaml", import.meta.url));

describe("tag map files with expect", () => {
  it("loads when every expected tag is there with its type, and keeps the file's other tags", async () => {
    const plc = memoryAdapter({ name: "plc", values: { speed: 1200, pressure: 6.1, running: true, mode: "AUTO" } });
    const tags = await loadTagMap(pumpStation, {
      adapters: { plc },
      expect: { speed: "float", running: "boolean", mode: "enum", alarm: "text" },
    });
    expect(Object.keys(tags)).toEqual(["speed", "pressure", "running", "mode", "trip", "alarm"]);
    const plant = createPlant({ tags });
    const snapshot = await plant.read();
    expect(snapshot.value("speed")).toBe(1200);
    expect(snapshot.value("running")).toBe(true);
    expect(snapshot.value("mode")).toBe("AUTO");
    // The tags the script did not expect are read with the rest.
    expect(snapshot.names).toContain("pressure");
    expect(snapshot.entries().find(([name]) => name === ("pressure" as string))?.[1].value).toBe(6.1);
    await plant.close();
  });

  it("names a missing tag, where it belongs and how to add it", async () => {
    const plc = memoryAdapter({ name: "plc" });
    const error = await configErrorOf(loadTagMap(pumpStation, { adapters: { plc }, expect: { vibration: "float" } }));
    expect(error.file).toBe(pumpStation);
    expect(error.issues).toEqual([
      {
        path: "tags.vibration",
        message: "missing: the script expects a float tag of this name",
        fix: `add tag vibration of type float to ${pumpStation}`,
      },
    ]);
  });

  it("names a tag of the wrong type, what it is and what was expected", async () => {
    const plc = memoryAdapter({ name: "plc" });
    const error = await configErrorOf(loadTagMap(pumpStation, { adapters: { plc }, expect: { alarm: "boolean" } }));
    expect(error.issues).toEqual([
      {
        path: "tags.alarm",
        message: "is a text tag, but the script expects a boolean tag",
        fix: "change its type to boolean, or the script's expectation",
      },
    ]);
    expect(error.message).toContain("tags.alarm: is a text tag, but the script expects a boolean tag");
  });

  it("tells float from integer: both are numbers, but the file must say what the script expects", async () => {
    const plc = memoryAdapter({ name: "plc" });
    const error = await configErrorOf(loadTagMap(pumpStation, { adapters: { plc }, expect: { speed: "integer" } }));
    expect(error.issues.map((issue) => issue.message)).toEqual([
      "is a float tag, but the script expects an integer tag",
    ]);
  });

  it("reports every problem at once, with the file's own, in file order and missing tags last", async () => {
    const plc = memoryAdapter({ name: "plc" });
    const yaml = [
      "tags:",
      "  level: { type: float, range: [5, 1], source: { adapter: plc, key: level } }",
      "  alarm: { type: text, maxLength: 80, source: { adapter: plc, key: alarm } }",
      "  mode: { type: enum, states: { OFF: 0, ON: 1 }, source: { adapter: plc, key: mode } }",
      "",
    ].join("\n");
    const error = await configErrorOf(
      parseTagMap(yaml, "yaml", {
        adapters: { plc },
        file: "site/tags.yaml",
        expect: { vibration: "float", mode: "boolean", alarm: "boolean", level: "float", running: "boolean" },
      }),
    );
    expect(error.issues.map((issue) => [issue.path, issue.fix])).toEqual([
      ["tags.level.range", "write the range as [low, high] with low < high"],
      ["tags.alarm", "change its type to boolean, or the script's expectation"],
      ["tags.mode", "change its type to boolean, or the script's expectation"],
      ["tags.vibration", "add tag vibration of type float to site/tags.yaml"],
      ["tags.running", "add tag running of type boolean to site/tags.yaml"],
    ]);
    expect(error.message).toContain("site/tags.yaml (5 problems)");
  });

  it("leaves a tag without a known type to the file's own check, and reports an unknown expected type", async () => {
    const plc = memoryAdapter({ name: "plc" });
    const yaml = "tags:\n  speed: { type: flaot, source: { adapter: plc, key: speed } }\n";
    // An expectation built at run time (or in plain JavaScript) gets past the compiler.
    const fromSettings: Record<string, string> = { speed: "float", mode: "state" };
    const error = await configErrorOf(
      parseTagMap(yaml, "yaml", { adapters: { plc }, expect: fromSettings as TagExpectations }),
    );
    expect(error.issues.map((issue) => issue.path)).toEqual(["tags.speed.type", "expect.mode"]);
    expect(error.issues[1]?.message).toBe('unknown tag type "state"');
  });
});
