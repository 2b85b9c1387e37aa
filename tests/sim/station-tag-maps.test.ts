/**
 * The shipped tag-map files (tag-maps/pump-station/<view>.yaml) against the TypeScript views they are written from:
 * each loads, through its adapter's parseSource, into exactly the tags the view builds (names and order, types,
 * units, ranges, resolutions, deadbands, write policies, resolved sources), and each is still the text the
 * generator writes, so files and views cannot drift apart. Then plants made from the files read a running simulator.
 */
import { existsSync, mkdtempSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { isAbsolute, join } from "node:path";
import { type Adapter, createPlant, loadTagMap, type TagDefinitions } from "plantwire";
import { modbus } from "plantwire/modbus";
import { mqtt, sparkplugHost } from "plantwire/mqtt";
import { opcua } from "plantwire/opcua";
import { sql } from "plantwire/sql";
import { waitFor } from "plantwire/testing";
import { describe, expect, it } from "vitest";
import { startPlantSimulator } from "../../src/sim/plant-simulator.js";
import {
  type StationView,
  stationAdapterNames,
  stationTagMapFile,
  stationViews,
} from "../../src/sim/station-tag-map-files.js";
import { stationTagMapText } from "../../src/sim/station-tag-map-text.js";
import {
  modbusStationTags,
  mqttStationTags,
  opcuaStationTags,
  sparkplugStationTags,
  sqlStationTags,
  stationSparkplugGroup,
} from "../../src/sim/station-views.js";
import { differences } from "./station-values.js";

type Urls = Partial<Record<StationView, string>>;

/** Each view's adapter (never connected unless `urls` says where) and the TypeScript view over it. */
function viewOf(view: StationView, urls: Urls = {}, folder = tmpdir()): { adapter: Adapter; tags: TagDefinitions } {
  const name = stationAdapterNames[view];
  switch (view) {
    case "modbus": {
      const drive = modbus({ url: urls.modbus ?? "modbus+tcp://127.0.0.1:5020", unit: 1, name });
      return { adapter: drive, tags: modbusStationTags(drive) };
    }
    case "opcua": {
      const plc = opcua({
        endpoint: urls.opcua ?? "opc.tcp://127.0.0.1:4840",
        name,
        insecure: true,
        securityMode: "None",
        pkiFolder: join(folder, "pki"),
        onWarning: () => {},
      });
      return { adapter: plc, tags: opcuaStationTags(plc) };
    }
    case "mqtt": {
      const bus = mqtt({ url: urls.mqtt ?? "mqtt://127.0.0.1:1884", name });
      return { adapter: bus, tags: mqttStationTags(bus) };
    }
    case "sparkplug": {
      const host = sparkplugHost({
        url: urls.sparkplug ?? "mqtt://127.0.0.1:1884",
        group: stationSparkplugGroup,
        name,
        initialValueWaitMs: 10_000,
      });
      return { adapter: host, tags: sparkplugStationTags(host) };
    }
    case "historian": {
      const historian = sql({ url: urls.historian ?? "sqlite:./plantwire-sim.db", name });
      return { adapter: historian, tags: sqlStationTags(historian) };
    }
  }
}

describe("station tag-map files", () => {
  it("are found by absolute path in the package", () => {
    for (const view of stationViews) {
      const file = stationTagMapFile(view);
      expect(isAbsolute(file)).toBe(true);
      expect(file.endsWith(join("tag-maps", "pump-station", `${view}.yaml`))).toBe(true);
      expect(existsSync(file), file).toBe(true);
    }
    expect(() => stationTagMapFile("profibus" as StationView)).toThrow(/unknown view "profibus"/);
  });

  for (const view of stationViews) {
    it(`${view}.yaml loads into the same tags as the TypeScript view`, async () => {
      const { adapter, tags: expected } = viewOf(view);
      const loaded = await loadTagMap(stationTagMapFile(view), {
        adapters: { [stationAdapterNames[view]]: adapter },
      });
      expect(Object.keys(loaded)).toEqual(Object.keys(expected));
      for (const [name, tag] of Object.entries(expected)) {
        const { source, ...fields } = tag;
        const { source: loadedSource, ...loadedFields } = loaded[name]!;
        expect(loadedFields, name).toStrictEqual(fields);
        expect(loadedSource.adapter, name).toBe(adapter);
        expect(loadedSource.address, name).toStrictEqual(source.address);
        expect(loadedSource.label, name).toBe(source.label);
      }
      const text = await readFile(stationTagMapFile(view), "utf8");
      expect(text, "stale file: run npx tsx src/sim/write-station-tag-maps.ts").toBe(stationTagMapText(view));
      expect(text).toContain(`adapters: { ${stationAdapterNames[view]} }`);
    });
  }

  it("make plants that read a running simulator, every view agreeing with the model", async () => {
    const folder = mkdtempSync(join(tmpdir(), "plantwire-sim-tag-maps-"));
    const simulator = await startPlantSimulator({
      modbus: { port: 0 },
      opcua: { port: 0 },
      mqtt: { port: 0 },
      historian: { file: join(folder, "historian.db") },
      // A tick no test lives to see: the process holds still, so every view can be compared with the model.
      tickMs: 3_600_000,
    });
    const plants = await Promise.all(
      stationViews.map(async (view) => {
        const { adapter } = viewOf(view, simulator.urls, folder);
        const tags = await loadTagMap(stationTagMapFile(view), { adapters: { [stationAdapterNames[view]]: adapter } });
        return { view, plant: createPlant({ tags }) };
      }),
    );
    try {
      for (const { view, plant } of plants) {
        // Retained MQTT messages and Sparkplug births arrive just after subscribing: wait for them.
        const agrees = await waitFor(
          async () => differences(await plant.read(), simulator.model.values).length === 0,
          10_000,
        );
        expect(agrees, `${view}: ${differences(await plant.read(), simulator.model.values).join("; ")}`).toBe(true);
        expect((await plant.read()).names.length, view).toBe(Object.keys(plant.tags).length);
      }
    } finally {
      await Promise.allSettled(plants.map(({ plant }) => plant.close()));
      await simulator.close();
    }
  });
});
