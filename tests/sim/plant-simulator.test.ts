/**
 * The plant simulator end to end: one station served over Modbus, OPC UA, MQTT and the SQLite historian, read by
 * plantwire's own adapters with the shipped tag maps; a guarded setpoint write over Modbus changes the process, and
 * every view sees it.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { createGuard, createPlant } from "plantwire";
import { modbus } from "plantwire/modbus";
import { mqtt } from "plantwire/mqtt";
import { opcua } from "plantwire/opcua";
import { sql } from "plantwire/sql";
import { waitFor } from "plantwire/testing";
import { describe, expect, it } from "vitest";
import { runCli } from "../../src/cli/main.js";
import { startPlantSimulator } from "../../src/sim/plant-simulator.js";
import { modbusStationTags, mqttStationTags, opcuaStationTags, sqlStationTags } from "../../src/sim/station-views.js";
import { captureIo } from "../support/capture-io.js";

describe("plant simulator", () => {
  it("serves one station over every protocol, and a guarded Modbus write changes the process", async () => {
    const folder = mkdtempSync(join(tmpdir(), "plantwire-sim-"));
    const simulator = await startPlantSimulator({
      modbus: { port: 0 },
      opcua: { port: 0 },
      mqtt: { port: 0 },
      historian: { file: join(folder, "historian.db") },
      tickMs: 100,
      speedup: 10,
    });
    const drive = modbus({ url: simulator.urls.modbus!, unit: 1, name: "drive" });
    const plc = opcua({
      endpoint: simulator.urls.opcua!,
      name: "plc",
      insecure: true,
      securityMode: "None",
      pkiFolder: join(folder, "pki"),
      onWarning: () => {},
    });
    const bus = mqtt({ url: simulator.urls.mqtt!, name: "bus" });
    const historian = sql({ url: simulator.urls.historian!, name: "historian" });
    const viaModbus = createPlant({ tags: modbusStationTags(drive) });
    const viaOpcua = createPlant({ tags: opcuaStationTags(plc) });
    const viaMqtt = createPlant({ tags: mqttStationTags(bus) });
    const viaSql = createPlant({ tags: sqlStationTags(historian) });
    try {
      await viaMqtt.connect();
      const [fromModbus, fromOpcua, fromSql] = await Promise.all([viaModbus.read(), viaOpcua.read(), viaSql.read()]);
      expect(await waitFor(async () => (await viaMqtt.read()).isUsable("pressure"), 5000)).toBe(true);
      const pressure = simulator.model.values.pressure;
      for (const value of [fromModbus.value("pressure"), fromOpcua.value("pressure"), fromSql.value("pressure")]) {
        expect(Math.abs(value - pressure)).toBeLessThan(1);
      }
      expect(fromModbus.value("mode")).toBe("AUTO");
      expect(fromOpcua.value("mode")).toBe("AUTO");
      expect(fromOpcua.value("alarmText")).toBe("");

      const guard = createGuard({
        plant: viaModbus,
        audit: join(folder, "audit.jsonl"),
        allowSameProcessApproval: true,
      });
      const current = (await viaModbus.read()).value("speedSetpoint");
      const [proposal] = await guard.propose({ speedSetpoint: current + 80 }, { reason: "raise pressure" });
      const done = await guard.approve(proposal!.id, { by: "test" });
      expect(done.outcome).toMatchObject({ write: "written", readBack: "verified" });
      expect(await waitFor(() => Math.abs(simulator.model.values.speedSetpoint - (current + 80)) < 0.5, 5000)).toBe(
        true,
      );
      expect(
        await waitFor(
          async () => Math.abs((await viaOpcua.read()).value("speedSetpoint") - (current + 80)) < 0.5,
          5000,
        ),
      ).toBe(true);
      await guard.close();
    } finally {
      await Promise.allSettled([viaModbus.close(), viaOpcua.close(), viaMqtt.close(), viaSql.close()]);
      await simulator.close();
    }
  });

  it("runs from the command line, prints where each view is served, and stops by itself", async () => {
    // Closed input: the command must not read the terminal the tests run in.
    const input = new PassThrough();
    input.end();
    const io = Object.assign(captureIo(), { input });
    const historianFile = join(mkdtempSync(join(tmpdir(), "plantwire-sim-cli-")), "historian.db");
    const code = await runCli(
      [
        "sim",
        "--modbus-port",
        "0",
        "--opcua-port",
        "0",
        "--mqtt-port",
        "0",
        "--historian",
        historianFile,
        "--fault",
        "cavitation",
        "--duration-ms",
        "300",
      ],
      io,
    );
    expect(code, io.stderr).toBe(0);
    expect(io.stdout).toMatch(/modbus\s+modbus\+tcp:\/\/127\.0\.0\.1:\d+/);
    expect(io.stdout).toMatch(/opcua\s+opc\.tcp:\/\/127\.0\.0\.1:\d+/);
    expect(io.stdout).toMatch(/mqtt\s+mqtt:\/\/127\.0\.0\.1:\d+/);
    expect(io.stdout).toMatch(
      /sparkplug\s+mqtt:\/\/127\.0\.0\.1:\d+ \(group plantwire, edge node pump-station, device pump7\)/,
    );
    expect(io.stdout).toMatch(/tag maps\s+\S*tag-maps[\\/]pump-station\n/);
    expect(io.stdout).toContain(`sqlite:${historianFile}`);
    expect(io.stdout).toContain("faults    cavitation");
    const wrong = captureIo();
    expect(await runCli(["sim", "--fault", "meteor"], wrong)).toBe(2);
    expect(wrong.stderr).toContain('--fault "meteor": unknown fault');
  });
});
