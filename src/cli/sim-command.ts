/**
 * `plantwire sim`: the plant simulator, serving the pumping station over every protocol until Ctrl+C. Faults can be
 * switched on at start, at set times, and by commands typed while it runs.
 */

import { isIP } from "node:net";
import { dirname } from "node:path";
import { parseArgs } from "node:util";
import { MissingDependencyError } from "../errors.js";
import { describeFaultWindow, type FaultSchedule, type FaultWindow, parseFaultWindow } from "../sim/fault-schedule.js";
import { isPumpFault, type PumpFault, pumpFaults } from "../sim/pump-station-model.js";
import type { SimulatorConsole } from "../sim/simulator-console.js";
import { defaultSimulatorHost, listenWarning, SimulatorListenError, viewPackages } from "../sim/simulator-network.js";
import type { StationView } from "../sim/station-tag-map-files.js";
import { type CliCommand, type CliIo, exitCodes } from "./cli-command.js";
import { type StopWait, untilStopped } from "./cli-signals.js";

const options = {
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
  "no-input": { type: "boolean" },
  fault: { type: "string", multiple: true },
  "fault-at": { type: "string", multiple: true },
  "duration-ms": { type: "string" },
  listen: { type: "string", default: defaultSimulatorHost },
} as const;

const usage = `Usage: plantwire sim [--seed 7] [--speedup 1] [--modbus-port 5020] [--opcua-port 4840] [--mqtt-port 1884]
                     [--historian ./plantwire-sim.db] [--no-modbus] [--no-opcua] [--no-mqtt] [--no-sparkplug]
                     [--no-historian] [--fault <fault>]... [--fault-at <fault>@<seconds>[-<seconds>]]...
                     [--no-input] [--duration-ms N] [--listen 127.0.0.1]
  --fault <fault>               switch a fault on from the start (repeatable)
  --fault-at <fault>@<s>        switch it on <s> seconds after start (repeatable)
  --fault-at <fault>@<s>-<e>    switch it on at <s> seconds and off again at <e>
                                (real seconds after the simulator has started, whatever --speedup;
                                e.g. --fault-at cavitation@30 --fault-at stuck-valve@60-120)
  --modbus-port, --opcua-port, --mqtt-port
                                0 picks a free port
  --no-input                    do not read typed commands (standard input is left alone)
  --duration-ms N               stop after N milliseconds (default: run until Ctrl+C or SIGTERM)
  --listen <address>            the address every view listens on (default 127.0.0.1, this machine only);
                                anything else, such as 0.0.0.0, lets other machines read and WRITE the station
                                and prints a warning
Faults: ${pumpFaults.join(", ")}.
While it runs in a terminal, type a command and Enter: "fault <name> on|off", "faults" (each fault, whether it
is on, and the switches scheduled), "help", "quit". Standard input is not read when it is not a terminal or when
the simulator starts in the terminal's background (&); --no-input never reads it.
Serves on 127.0.0.1 only unless --listen says otherwise; Sparkplug B shares the MQTT broker (--no-mqtt turns both off). Writes to the speed
setpoint (Modbus holding 0, OPC UA ns=1;s=PumpStation.speedSetpoint, Sparkplug DCMD speedSetpoint) change the
process. Stops on Ctrl+C, SIGTERM, "quit", or after --duration-ms, and removes its temporary files.`;

function usageError(io: CliIo, message: string): number {
  io.err(`${message}\n\n${usage}\n`);
  return exitCodes.usage;
}

type Values = ReturnType<typeof parseArgs<{ options: typeof options; args: string[] }>>["values"];

/** The numeric options, checked: the first problem as a message naming the flag and the fix, or the numbers. */
function numbers(values: Values) {
  const checks = {
    seed: { valid: Number.isSafeInteger, want: "a whole number", example: "7" },
    speedup: { valid: (n: number) => Number.isFinite(n) && n > 0, want: "a number above 0", example: "20" },
    "modbus-port": { valid: isPort, want: "a port from 0 to 65535 (0 picks a free one)", example: "5020" },
    "opcua-port": { valid: isPort, want: "a port from 0 to 65535 (0 picks a free one)", example: "4840" },
    "mqtt-port": { valid: isPort, want: "a port from 0 to 65535 (0 picks a free one)", example: "1884" },
    "duration-ms": {
      valid: (n: number) => Number.isInteger(n) && n >= 1 && n <= 2 ** 31 - 1,
      want: "a whole number of milliseconds from 1 to 2147483647",
      example: "60000",
    },
  } as const;
  const parsed: Partial<Record<keyof typeof checks, number>> = {};
  for (const [flag, check] of Object.entries(checks) as [keyof typeof checks, (typeof checks)[keyof typeof checks]][]) {
    const text = values[flag];
    if (text === undefined) continue;
    const value = text.trim() === "" ? Number.NaN : Number(text);
    if (!check.valid(value))
      return { error: `--${flag} "${text}": give ${check.want}, e.g. --${flag} ${check.example}` };
    parsed[flag] = value;
  }
  return { parsed };
}

/** The other way out when packages are missing: the flags that leave out the views needing them. */
function withoutViews(missing: readonly string[]): string {
  const flags = (Object.entries(viewPackages) as [StationView, readonly string[]][])
    .filter(([, packages]) => packages.some((name) => missing.includes(name)))
    .map(([view]) => `--no-${view}`);
  return `Or start without the views that need them: plantwire sim ${flags.join(" ")}`;
}

function isPort(value: number): boolean {
  return Number.isInteger(value) && value >= 0 && value <= 65535;
}

export const simCommand: CliCommand = {
  name: "sim",
  summary: "Run the plant simulator: a pumping station over Modbus, OPC UA, MQTT, Sparkplug B and a SQLite historian",
  usage,
  async run(args, io) {
    let values: Values;
    try {
      ({ values } = parseArgs({ args: [...args], options }));
    } catch (error) {
      return usageError(io, (error as Error).message);
    }
    for (const fault of values.fault ?? []) {
      if (!isPumpFault(fault)) {
        return usageError(io, `--fault "${fault}": unknown fault; use one of: ${pumpFaults.join(", ")}`);
      }
    }
    const windows: FaultWindow[] = [];
    for (const text of values["fault-at"] ?? []) {
      const window = parseFaultWindow(text);
      if ("error" in window) return usageError(io, `--fault-at ${window.error}`);
      windows.push(window);
    }
    const checked = numbers(values);
    if (checked.error !== undefined) return usageError(io, checked.error);
    const number = checked.parsed;
    const host = values.listen.trim();
    if (!isIP(host) && !/^[A-Za-z0-9]([A-Za-z0-9.-]{0,252})$/.test(host)) {
      return usageError(io, `--listen "${values.listen}": give an IP address or a host name, e.g. --listen 127.0.0.1`);
    }

    const { startPlantSimulator } = await import("../sim/plant-simulator.js");
    const { stationSparkplugDevice, stationSparkplugGroup, stationSparkplugNode } = await import(
      "../sim/station-views.js"
    );
    const { stationTagMapFile } = await import("../sim/station-tag-map-files.js");
    const { scheduleFaults } = await import("../sim/fault-schedule.js");
    const { simulatorConsoleHint, startSimulatorConsole, terminalInput } = await import("../sim/simulator-console.js");
    const warning = listenWarning(host);
    if (warning) io.err(`${warning}\n`);
    let stop = () => {};
    const stopped = new Promise<void>((resolve) => {
      stop = resolve;
    });
    // Ctrl+C, SIGTERM (systemd, containers, kill) and a closed output all stop it the same graceful way, also while
    // the views are still starting (OPC UA takes a while): it then stops as soon as they are up, and cleans up.
    const signals: StopWait = untilStopped();
    void signals.stopped.then(() => stop());
    let simulator: Awaited<ReturnType<typeof startPlantSimulator>>;
    try {
      simulator = await startPlantSimulator({
        seed: number.seed,
        speedup: number.speedup,
        host,
        modbus: values["no-modbus"] ? false : { port: number["modbus-port"] },
        opcua: values["no-opcua"] ? false : { port: number["opcua-port"] },
        mqtt: values["no-mqtt"] ? false : { port: number["mqtt-port"] },
        sparkplug: !values["no-sparkplug"],
        historian: values["no-historian"] ? false : { file: values.historian },
      });
    } catch (error) {
      signals.cancel();
      if (error instanceof SimulatorListenError) {
        io.err(`${error.commandLineMessage()}\n`);
        return exitCodes.failure;
      }
      if (MissingDependencyError.isInstance(error)) {
        io.err(`${error.message}\n${withoutViews(error.packageNames)}\n`);
        return exitCodes.failure;
      }
      throw error;
    }
    // Switches run one at a time, in the order asked (scheduled or typed): "comms-loss" suspends and resumes
    // servers, which must not overlap.
    let switching = Promise.resolve();
    const setFault = (fault: PumpFault, active: boolean) => {
      const done = switching.then(() => simulator.setFault(fault, active));
      switching = done.catch(() => {});
      return done;
    };
    let schedule: FaultSchedule | undefined;
    let commands: SimulatorConsole | undefined;
    let duration: NodeJS.Timeout | undefined;
    try {
      for (const fault of values.fault ?? []) await setFault(fault as PumpFault, true);
      io.out("plantwire simulator: a pumping station (simulated, not a plant)\n");
      const sparkplugIds = `group ${stationSparkplugGroup}, edge node ${stationSparkplugNode}, device ${stationSparkplugDevice}`;
      for (const [protocol, url] of Object.entries(simulator.urls)) {
        io.out(`  ${protocol.padEnd(9)} ${url}${protocol === "sparkplug" ? ` (${sparkplugIds})` : ""}\n`);
      }
      io.out(`  tag maps  ${dirname(stationTagMapFile("modbus"))}\n`);
      if (values.fault?.length) io.out(`  faults    ${values.fault.join(", ")}\n`);
      if (windows.length > 0) io.out(`  schedule  ${windows.map(describeFaultWindow).join("; ")} (seconds from now)\n`);

      schedule = scheduleFaults(windows, setFault, (change, error) => {
        const what = `${change.fault} ${change.active ? "on" : "off"}`;
        if (error === undefined) io.out(`Fault ${what} (scheduled at ${change.atSeconds} s).\n`);
        else
          io.err(`Could not switch ${what} as scheduled: ${error instanceof Error ? error.message : String(error)}\n`);
      });
      const pending = schedule.pending;
      // Typed commands come from a stream the caller hands over, or from the terminal this runs in the foreground of.
      const input = values["no-input"] ? undefined : (io.input ?? terminalInput());
      if (input) {
        commands = startSimulatorConsole({
          input,
          out: (text) => io.out(text),
          setFault,
          isActive: (fault) => simulator.model.faults.has(fault),
          pending,
          quit: () => stop(),
        });
        io.out(`${simulatorConsoleHint}\n`);
      }
      if (number["duration-ms"] !== undefined) duration = setTimeout(stop, number["duration-ms"]);
      await stopped;
    } finally {
      signals.cancel();
      clearTimeout(duration);
      schedule?.cancel();
      await commands?.close();
      await switching;
      await simulator.close();
    }
    io.out("simulator stopped\n");
    return exitCodes.ok;
  },
};
