/**
 * The simulator at start-up: every view serves the station's real values from the moment it accepts connections,
 * also while the views after it are still starting (a client started next to the simulator reads the first view that
 * is up), and right after `startPlantSimulator` resolves. Nothing here steps the process, so the values read must be
 * those of a fresh model with the same seed.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createPlant, type Snapshot, type TagDefinitions } from "plantwire";
import { modbus } from "plantwire/modbus";
import { mqtt, sparkplugHost } from "plantwire/mqtt";
import { opcua } from "plantwire/opcua";
import { sql } from "plantwire/sql";
import { describe, expect, it } from "vitest";
import { type PlantSimulator, startPlantSimulator } from "../../src/sim/plant-simulator.js";
import { PumpStationModel } from "../../src/sim/pump-station-model.js";
import { type StationView, stationViews } from "../../src/sim/station-tag-map-files.js";
import {
  modbusStationTags,
  mqttStationTags,
  opcuaStationTags,
  sparkplugStationTags,
  sqlStationTags,
  stationSparkplugGroup,
} from "../../src/sim/station-views.js";
import { differences } from "./station-values.js";

/** A tick no test lives to see: the process moves only when a test calls `step()`. */
const frozen = 3_600_000;

/** A client of one view: reads it once, as a snapshot, and closes. */
interface ViewClient {
  read(): Promise<Snapshot<TagDefinitions>>;
  close(): Promise<void>;
}

function clientOf(view: StationView, url: string, folder: string): ViewClient {
  const plantOf = (tags: TagDefinitions) => {
    const plant = createPlant({ tags });
    return { read: () => plant.read(), close: () => plant.close() };
  };
  switch (view) {
    case "modbus":
      return plantOf(modbusStationTags(modbus({ url, unit: 1, name: "drive" })));
    case "opcua":
      return plantOf(
        opcuaStationTags(
          opcua({
            endpoint: url,
            name: "plc",
            insecure: true,
            securityMode: "None",
            pkiFolder: join(folder, "pki"),
            onWarning: () => {},
          }),
        ),
      );
    case "mqtt":
      // Long enough that only a retained message that is missing, not one that is slow, fails the read.
      return plantOf(mqttStationTags(mqtt({ url, name: "bus", initialValueWaitMs: 10_000 })));
    case "sparkplug":
      return plantOf(
        sparkplugStationTags(
          sparkplugHost({ url, group: stationSparkplugGroup, name: "host", initialValueWaitMs: 10_000 }),
        ),
      );
    case "historian":
      return plantOf(sqlStationTags(sql({ url, name: "historian" })));
  }
}

describe("plant simulator start-up", () => {
  it("serves the model's values on every view from its first connection, while the later views start", async () => {
    const folder = mkdtempSync(join(tmpdir(), "plantwire-sim-start-up-"));
    // Same seed, same plant: the values every view must serve before the first step.
    const expected = new PumpStationModel({ seed: 7 }).values;
    const clients: ViewClient[] = [];
    const readOnce = async (view: StationView, url: string) => {
      const client = clientOf(view, url, folder);
      clients.push(client);
      const snapshot = await client.read();
      return { snapshot, client };
    };
    const whileStarting: Partial<Record<StationView, string[]>> = {};
    const modbusSpeeds: unknown[] = [];
    let simulator: PlantSimulator | undefined;
    try {
      simulator = await startPlantSimulator({
        seed: 7,
        modbus: { port: 0 },
        opcua: { port: 0 },
        mqtt: { port: 0 },
        historian: { file: join(folder, "historian.db") },
        tickMs: frozen,
        // Read each view as soon as it is up: the views after it have not started yet.
        async onViewReady(view, url) {
          const { snapshot } = await readOnce(view, url);
          whileStarting[view] = differences(snapshot, expected);
          if (view === "modbus") modbusSpeeds.push(snapshot.value("speed"));
        },
      });
      expect(Object.keys(whileStarting)).toEqual([...stationViews]);
      for (const view of stationViews) expect(whileStarting[view], `${view}, while starting`).toEqual([]);
      expect(modbusSpeeds).toEqual([expected.speed]);
      expect(expected.speed).toBeGreaterThan(0);

      // Right after start: fresh clients of every view read the same values, which are still the model's.
      expect(simulator.model.values).toEqual(expected);
      const started = simulator;
      const afterStart = await Promise.all(
        stationViews.map(async (view) => {
          const { snapshot } = await readOnce(view, started.urls[view]!);
          return [view, differences(snapshot, started.model.values)] as const;
        }),
      );
      for (const [view, found] of afterStart) expect(found, `${view}, after start`).toEqual([]);
    } finally {
      await Promise.allSettled(clients.map((client) => client.close()));
      await simulator?.close();
    }
  });
});
