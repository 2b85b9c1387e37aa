/**
 * The simulator's Sparkplug B view, read and written through plantwire's own Sparkplug host: the births answer the
 * host's rebirth request with every signal, DDATA follows the process, a guarded setpoint write goes out as a DCMD
 * and changes the process, and closing the simulator sends NDEATH.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createGuard, createPlant, type Sample } from "plantwire";
import { type HistoricalMetric, sparkplugHost } from "plantwire/mqtt";
import { waitFor } from "plantwire/testing";
import { describe, expect, it } from "vitest";
import { startPlantSimulator } from "../../src/sim/plant-simulator.js";
import { sparkplugStationTags, stationSparkplugGroup } from "../../src/sim/station-views.js";
import { differences } from "./station-values.js";

/** A tick no test lives to see: the process moves only when a test calls `step()`. */
const frozen = 3_600_000;

describe("plant simulator, Sparkplug B view", () => {
  it("publishes the station as an edge node whose births and data match the model", async () => {
    const folder = mkdtempSync(join(tmpdir(), "plantwire-sim-sparkplug-"));
    const simulator = await startPlantSimulator({
      modbus: { port: 0 },
      opcua: { port: 0 },
      mqtt: { port: 0 },
      historian: { file: join(folder, "historian.db") },
      tickMs: frozen,
    });
    expect(simulator.urls.sparkplug).toBe(simulator.urls.mqtt);
    const host = sparkplugHost({
      url: simulator.urls.sparkplug!,
      group: stationSparkplugGroup,
      name: "host",
      initialValueWaitMs: 10_000,
    });
    const historical: HistoricalMetric[] = [];
    host.onHistorical((metric) => historical.push(metric));
    const plant = createPlant({ tags: sparkplugStationTags(host) });
    const deaths: Sample[] = [];
    try {
      await plant.connect();
      // The host joined after the first births, so its first read asks the node for a rebirth and waits for it.
      const first = await plant.read();
      expect(differences(first, simulator.model.values)).toEqual([]);
      expect(first.value("mode")).toBe("AUTO");
      expect(host.stats().rebirthRequests).toBeGreaterThanOrEqual(1);
      expect(host.stats().births).toBeGreaterThanOrEqual(2); // NBIRTH and DBIRTH
      expect(historical).toEqual([]); // a rebirth replays no history

      const inflowBefore = simulator.model.values.inflow;
      await simulator.step(120);
      expect(simulator.model.values.inflow).not.toBe(inflowBefore);
      expect(
        await waitFor(async () => differences(await plant.read(), simulator.model.values).length === 0, 10_000),
        differences(await plant.read(), simulator.model.values).join("; "),
      ).toBe(true);
      expect(host.stats().dataMessages).toBeGreaterThanOrEqual(1);
      expect(host.stats().seqGaps).toBe(0);

      const watcher = await plant.watch(({ name, sample }) => {
        if (name === "pressure" && sample.reason === "comm-failure") deaths.push(sample);
      });
      await simulator.close();
      expect(await waitFor(() => deaths.length > 0, 10_000)).toBe(true);
      expect(deaths[0]?.detail).toContain("offline");
      await watcher.stop();
    } finally {
      await plant.close();
      await simulator.close();
    }
  });

  it("takes guarded setpoint writes as DCMD, and the process follows", async () => {
    const folder = mkdtempSync(join(tmpdir(), "plantwire-sim-sparkplug-write-"));
    const simulator = await startPlantSimulator({
      modbus: false,
      opcua: false,
      mqtt: { port: 0 },
      historian: false,
      tickMs: 100,
      speedup: 10,
    });
    const host = sparkplugHost({
      url: simulator.urls.sparkplug!,
      group: stationSparkplugGroup,
      name: "host",
      initialValueWaitMs: 10_000,
      writeTimeoutMs: 10_000,
    });
    const plant = createPlant({ tags: sparkplugStationTags(host) });
    const guard = createGuard({ plant, audit: join(folder, "audit.jsonl"), allowSameProcessApproval: true });
    try {
      const before = await plant.read();
      const target = before.value("speedSetpoint") + 80;
      const [speed, mode] = await guard.propose({ speedSetpoint: target, mode: "MANUAL" }, { reason: "test" });
      expect(speed?.state, JSON.stringify(speed?.verdicts)).toBe("pending");
      expect(mode?.state, JSON.stringify(mode?.verdicts)).toBe("pending");
      expect((await guard.approve(speed!.id, { by: "test" })).outcome).toMatchObject({
        write: "written",
        readBack: "verified",
      });
      expect((await guard.approve(mode!.id, { by: "test" })).outcome).toMatchObject({
        write: "written",
        readBack: "verified",
      });
      expect(simulator.model.values.speedSetpoint).toBe(target);
      expect(simulator.model.values.mode).toBe(2);
      // The drive ramps to the new setpoint, and the Sparkplug view reports it.
      expect(
        await waitFor(async () => Math.abs((await plant.read()).valueOr("speed", Number.NaN) - target) <= 1, 10_000),
      ).toBe(true);
    } finally {
      await guard.close();
      await plant.close();
      await simulator.close();
    }
  });

  it("is on by default, off with sparkplug: false, and needs the broker", async () => {
    const without = await startPlantSimulator({
      modbus: false,
      opcua: false,
      historian: false,
      mqtt: { port: 0 },
      sparkplug: false,
    });
    const none = await startPlantSimulator({ modbus: false, opcua: false, historian: false, mqtt: false });
    try {
      expect(without.urls.mqtt).toMatch(/^mqtt:\/\/127\.0\.0\.1:\d+$/);
      expect(without.urls.sparkplug).toBeUndefined();
      expect(none.urls).toEqual({});
    } finally {
      await without.close();
      await none.close();
    }
  });
});
