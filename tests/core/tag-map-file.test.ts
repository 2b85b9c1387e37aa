import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createPlant, loadTagMap, parseTagMap } from "plantwire";
import { memoryAdapter } from "plantwire/testing";
import { describe, expect, it } from "vitest";
import { configErrorOf } from "../support/test-lifecycle.js";

const fixture = (name: string) => fileURLToPath(new URL(`../fixtures/${name}`, import.meta.url));

describe("tag map files", () => {
  it("loads a valid YAML map whose tags read through the named adapter", async () => {
    const plc = memoryAdapter({ name: "plc", values: { speed: 1200.04, pressure: 6.1, running: true, mode: "AUTO" } });
    const tags = await loadTagMap(fixture("pump-station.yaml"), { adapters: { plc } });
    expect(Object.keys(tags)).toEqual(["speed", "pressure", "running", "mode", "trip", "alarm"]);
    expect(tags.speed?.source.adapter).toBe(plc);
    expect(tags.speed?.write?.maxStep).toBe(50);
    const plant = createPlant({ tags });
    const snapshot = await plant.read();
    expect(snapshot.value("speed")).toBe(1200.04);
    expect(snapshot.value("mode")).toBe("AUTO");
    expect(snapshot.sample("trip").quality).toBe("bad");
    await plant.close();
  });

  it("reports five mistakes as five errors, each naming the file, its field and a fix", async () => {
    const plc = memoryAdapter({ name: "plc" });
    const error = await configErrorOf(loadTagMap(fixture("five-mistakes.yaml"), { adapters: { plc } }));
    expect(error.file).toContain("five-mistakes.yaml");
    expect(error.message).toContain("five-mistakes.yaml");
    expect(error.issues.map((issue) => issue.path)).toEqual([
      "tags.speed.range",
      "tags.pressure.type",
      "tags.mode.states",
      "tags.trip.write",
      "tags.level.source.adapter",
    ]);
    for (const issue of error.issues) {
      expect(issue.fix.length, issue.path).toBeGreaterThan(5);
      expect(error.message).toContain(issue.path);
    }
    expect(error.issues[4]?.fix).toContain("plc");
  });

  it("reads JSON too, and lets the adapter report a bad source field", async () => {
    const plc = memoryAdapter({ name: "plc" });
    const json = JSON.stringify({ tags: { level: { type: "float", source: { adapter: "plc", register: 4 } } } });
    const error = await configErrorOf(parseTagMap(json, "json", { adapters: { plc }, file: "site.json" }));
    expect(error.issues.map((issue) => issue.path)).toEqual(["tags.level.source.key"]);
  });

  it("names unknown fields, misspelt keys and syntax errors", async () => {
    const plc = memoryAdapter({ name: "plc" });
    const yaml = "tags:\n  speed:\n    type: float\n    uint: rpm\n    source: { adapter: plc, key: speed }\n";
    const error = await configErrorOf(parseTagMap(yaml, "yaml", { adapters: { plc } }));
    expect(error.issues[0]?.path).toBe("tags.speed.uint");
    expect(error.issues[0]?.message).toBe('unknown field "uint"');
    const broken = await configErrorOf(parseTagMap("tags: [unclosed", "yaml", { adapters: { plc } }));
    expect(broken.issues[0]?.message).toContain("not valid YAML");
    const missing = await configErrorOf(parseTagMap("site: x", "yaml", { adapters: { plc } }));
    expect(missing.issues[0]?.path).toBe("tags");
  });

  it("refuses files it cannot read or parse by extension", async () => {
    const folder = await mkdtemp(join(tmpdir(), "plantwire-"));
    const plc = memoryAdapter({ name: "plc" });
    await writeFile(join(folder, "tags.txt"), "tags: {}");
    expect((await configErrorOf(loadTagMap(join(folder, "tags.txt"), { adapters: { plc } }))).issues[0]?.fix).toContain(
      ".yaml",
    );
    expect((await configErrorOf(loadTagMap(join(folder, "missing.yaml"), { adapters: { plc } }))).file).toContain(
      "missing.yaml",
    );
  });
});
