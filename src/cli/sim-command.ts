/** `plantwire sim`: the plant simulator, serving the pumping station over every protocol until Ctrl+C. */
import { dirname } from "node:path";
import { parseArgs } from "node:util";
import type { PumpFault } from "../sim/pump-station-model.js";
import { type CliCommand, exitCodes } from "./cli-command.js";

const faults: readonly PumpFault[] = ["bearing-wear", "cavitation", "sensor-drift", "stuck-valve", "comms-loss"];

export const simCommand: CliCommand = {
  name: "sim",
  summary: "Run the plant simulator: a pumping station over Modbus, OPC UA, MQTT, Sparkplug B and a SQLite historian",
  usage: `Usage: plantwire sim [--seed 7] [--speedup 1] [--modbus-port 5020] [--opcua-port 4840] [--mqtt-port 1884]
                     [--historian ./plantwire-sim.db] [--no-modbus] [--no-opcua] [--no-mqtt] [--no-sparkplug]
                     [--no-historian] [--fault <${faults.join("|")}>]... [--duration-ms N]
Serves on 127.0.0.1 only; Sparkplug B shares the MQTT broker (--no-mqtt turns both off). Writes to the speed
setpoint (Modbus holding 0, OPC UA ns=1;s=PumpStation.speedSetpoint, Sparkplug DCMD speedSetpoint) change the
process. Stops on Ctrl+C or after --duration-ms.`,
  async run(args, io) {
    const { values } = parseArgs({
      args: [...args],
      options: {
        seed: { type: "string", default: "7" },
        speedup: { type: "string", default: "1" },
        "modbus-port": { type: "string", default: "5020" },
        "opcua-port": { type: "string", default: "4840" },
        "mqtt-port": { type: "string", default: "1884" },
        historian: { type: "string", default: "./plantwire-sim.db" },
        "no-modbus": { type: "boolean" },
        "no-opcua": { type: "boolean" },
        "no-mqtt": { type: "boolean" },
        "no-sparkplug": { type: "boolean" },
        "no-historian": { type: "boolean" },
        fault: { type: "string", multiple: true },
        "duration-ms": { type: "string" },
      },
    });
    for (const fault of values.fault ?? []) {
      if (!faults.includes(fault as PumpFault)) {
        io.err(`Unknown fault "${fault}". Use one of: ${faults.join(", ")}\n`);
        return exitCodes.usage;
      }
    }
    const { startPlantSimulator } = await import("../sim/plant-simulator.js");
    const { stationSparkplugDevice, stationSparkplugGroup, stationSparkplugNode } = await import(
      "../sim/station-views.js"
    );
    const { stationTagMapFile } = await import("../sim/station-tag-map-files.js");
    const simulator = await startPlantSimulator({
      seed: Number(values.seed),
      speedup: Number(values.speedup),
      modbus: values["no-modbus"] ? false : { port: Number(values["modbus-port"]) },
      opcua: values["no-opcua"] ? false : { port: Number(values["opcua-port"]) },
      mqtt: values["no-mqtt"] ? false : { port: Number(values["mqtt-port"]) },
      sparkplug: !values["no-sparkplug"],
      historian: values["no-historian"] ? false : { file: values.historian },
    });
    for (const fault of values.fault ?? []) await simulator.setFault(fault as PumpFault, true);
    io.out("plantwire simulator: a pumping station (simulated, not a plant)\n");
    const sparkplugIds = `group ${stationSparkplugGroup}, edge node ${stationSparkplugNode}, device ${stationSparkplugDevice}`;
    for (const [protocol, url] of Object.entries(simulator.urls)) {
      io.out(`  ${protocol.padEnd(9)} ${url}${protocol === "sparkplug" ? ` (${sparkplugIds})` : ""}\n`);
    }
    io.out(`  tag maps  ${dirname(stationTagMapFile("modbus"))}\n`);
    if (values.fault?.length) io.out(`  faults    ${values.fault.join(", ")}\n`);
    await new Promise<void>((resolve) => {
      const stop = () => resolve();
      process.once("SIGINT", stop);
      if (values["duration-ms"])
        setTimeout(() => {
          process.off("SIGINT", stop);
          resolve();
        }, Number(values["duration-ms"]));
    });
    await simulator.close();
    io.out("simulator stopped\n");
    return exitCodes.ok;
  },
};
