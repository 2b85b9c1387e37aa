/**
 * `plantwire sim`: the plant simulator, serving the pumping station over every protocol until Ctrl+C. Faults can be
 * switched on at start, at set times, and by commands typed while it runs.
 */

import { isIP } from "node:net";
import { dirname } from "node:path";
import { MissingDependencyError } from "../errors.js";
import { describeFaultWindow, type FaultSchedule, type FaultWindow, parseFaultWindow } from "../sim/fault-schedule.js";
import { isPumpFault, type PumpFault, pumpFaults } from "../sim/pump-station-model.js";
import type { SimulatorConsole } from "../sim/simulator-console.js";
import {
  defaultSimulatorHost,
  defaultSimulatorPorts,
  listenWarning,
  SimulatorListenError,
  viewPackages,
} from "../sim/simulator-network.js";
import type { StationView } from "../sim/station-tag-map-files.js";
import { type CliCommand, exitCodes } from "./cli-command.js";
import { booleanFlag, CliUsageError, type Flag, integerFlag, numberFlag, parseFlags, stringFlag } from "./cli-flags.js";
import { type StopWait, untilStopped } from "./cli-signals.js";

/** `--fault <fault>`, repeatable: each one checked against the station's faults as it is read. */
const faultFlag: Flag<PumpFault[]> & { readonly default: PumpFault[] } = {
  type: "string",
  multiple: true,
  default: [],
  accepts: `one of ${pumpFaults.join(", ")}`,
  read(text, flag) {
    if (!isPumpFault(text)) {
      throw new CliUsageError(`${flag} "${text}": unknown fault. Fix: give one of ${pumpFaults.join(", ")}.`);
    }
    return [text];
  },
};

/** `--fault-at <fault>@<start>[-<end>]`, repeatable: the window, or the reason it cannot be one and how to write it. */
const faultAtFlag: Flag<FaultWindow[]> & { readonly default: FaultWindow[] } = {
  type: "string",
  multiple: true,
  default: [],
  accepts: "<fault>@<seconds> or <fault>@<start>-<end>, such as cavitation@30",
  read(text, flag) {
    const window = parseFaultWindow(text);
    if ("error" in window) throw new CliUsageError(`${flag} ${window.error}.`);
    return [window];
  },
};

/** `--listen <address>`: an IP address or a host name; the warning for one that is not loopback is printed later. */
const listenFlag: Flag<string> & { readonly default: string } = {
  type: "string",
  default: defaultSimulatorHost,
  accepts: "an IP address or a host name, such as 127.0.0.1",
  read(text, flag) {
    const host = text.trim();
    if (!isIP(host) && !/^[A-Za-z0-9]([A-Za-z0-9.-]{0,252})$/.test(host)) {
      throw new CliUsageError(`${flag} "${text}": give an IP address or a host name, e.g. ${flag} 127.0.0.1.`);
    }
    return host;
  },
};

const portFlag = (port: number) => integerFlag({ min: 0, max: 65_535, default: port });

const flags = {
  // Any safe integer, as before: the generator folds it to 32 bits, so the seed only has to be a whole number.
  seed: integerFlag({ min: Number.MIN_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER, default: 7 }),
  // The model advances in steps of at most 1 s, so each 0.5 s tick costs speedup / 2 steps: past an hour a second the
  // steps no longer fit in the tick and the simulator stops answering (a million took seconds a tick).
  speedup: numberFlag({ min: 0.01, max: 3600, default: 1 }),
  "modbus-port": portFlag(defaultSimulatorPorts.modbus),
  "opcua-port": portFlag(defaultSimulatorPorts.opcua),
  "mqtt-port": portFlag(defaultSimulatorPorts.mqtt),
  historian: stringFlag({ default: "./plantwire-sim.db", nonBlank: true, hint: "./plantwire-sim.db" }),
  "no-modbus": booleanFlag(),
  "no-opcua": booleanFlag(),
  "no-mqtt": booleanFlag(),
  "no-sparkplug": booleanFlag(),
  "no-historian": booleanFlag(),
  "no-input": booleanFlag(),
  fault: faultFlag,
  "fault-at": faultAtFlag,
  "duration-ms": integerFlag({ min: 1, max: 2 ** 31 - 1, unit: "ms" }),
  listen: listenFlag,
};

const usage = `Usage: plantwire sim [--seed 7] [--speedup 1] [--modbus-port 5020] [--opcua-port 4840] [--mqtt-port 1884]
                     [--historian ./plantwire-sim.db] [--no-modbus] [--no-opcua] [--no-mqtt] [--no-sparkplug]
                     [--no-historian] [--fault <fault>]... [--fault-at <fault>@<seconds>[-<seconds>]]...
                     [--no-input] [--duration-ms N] [--listen 127.0.0.1] [--verbose]
  --seed N                      same seed, same plant: any whole number (default 7)
  --speedup X                   simulated seconds per real second, from 0.01 to 3600 (default 1)
  --fault <fault>               switch a fault on from the start (repeatable)
  --fault-at <fault>@<s>        switch it on <s> seconds after start (repeatable)
  --fault-at <fault>@<s>-<e>    switch it on at <s> seconds and off again at <e>
                                (real seconds after the simulator has started, whatever --speedup;
                                e.g. --fault-at cavitation@30 --fault-at stuck-valve@60-120)
  --modbus-port, --opcua-port, --mqtt-port
                                a port from 0 to 65535; 0 picks a free port
  --historian FILE              the SQLite historian file, kept after the simulator stops
  --no-modbus, --no-opcua, --no-mqtt, --no-sparkplug, --no-historian
                                leave that view out (--no-mqtt also leaves out Sparkplug B, which needs the broker)
  --no-input                    do not read typed commands (standard input is left alone)
  --duration-ms N               stop after N milliseconds, from 1 to 2147483647 (default: run until Ctrl+C or SIGTERM)
  --listen <address>            the address every view listens on (default 127.0.0.1, this machine only);
                                anything else, such as 0.0.0.0, lets other machines read and WRITE the station
                                and prints a warning
  --verbose                     debug logging for the whole process, as PLANTWIRE_LOG=debug
Faults: ${pumpFaults.join(", ")}.
While it runs in a terminal, type a command and Enter: "fault <name> on|off", "faults" (each fault, whether it
is on, and the switches scheduled), "help", "quit". Standard input is not read when it is not a terminal or when
the simulator starts in the terminal's background (&); --no-input never reads it.
Serves on 127.0.0.1 only unless --listen says otherwise. Writes to the speed setpoint (Modbus holding 0,
OPC UA ns=1;s=PumpStation.speedSetpoint, Sparkplug DCMD speedSetpoint) change the process. Stops on Ctrl+C,
SIGTERM, a closed output, "quit", or after --duration-ms, and removes its temporary files.
Exit codes: 0 after a clean stop, 1 when it cannot start (a port taken, packages missing; all of them are named),
2 for a wrong command line.`;

/** The other way out when packages are missing: the flags that leave out the views needing them. */
function withoutViews(missing: readonly string[]): string {
  const flags = (Object.entries(viewPackages) as [StationView, readonly string[]][])
    .filter(([, packages]) => packages.some((name) => missing.includes(name)))
    .map(([view]) => `--no-${view}`);
  return `Or start without the views that need them: plantwire sim ${flags.join(" ")}`;
}

export const simCommand: CliCommand = {
  name: "sim",
  summary: "Run the plant simulator: a pumping station over Modbus, OPC UA, MQTT, Sparkplug B and a SQLite historian",
  usage,
  async run(args, io) {
    // A wrong command line throws a CliUsageError here, before anything starts: runCli prints it with the usage, exit 2.
    const { values } = parseFlags(args, flags);
    const windows = values["fault-at"];
    const host = values.listen;

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
        seed: values.seed,
        speedup: values.speedup,
        host,
        modbus: values["no-modbus"] ? false : { port: values["modbus-port"] },
        opcua: values["no-opcua"] ? false : { port: values["opcua-port"] },
        mqtt: values["no-mqtt"] ? false : { port: values["mqtt-port"] },
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
      for (const fault of values.fault) await setFault(fault, true);
      io.out("plantwire simulator: a pumping station (simulated, not a plant)\n");
      const sparkplugIds = `group ${stationSparkplugGroup}, edge node ${stationSparkplugNode}, device ${stationSparkplugDevice}`;
      for (const [protocol, url] of Object.entries(simulator.urls)) {
        io.out(`  ${protocol.padEnd(9)} ${url}${protocol === "sparkplug" ? ` (${sparkplugIds})` : ""}\n`);
      }
      io.out(`  tag maps  ${dirname(stationTagMapFile("modbus"))}\n`);
      if (values.fault.length > 0) io.out(`  faults    ${values.fault.join(", ")}\n`);
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
      if (values["duration-ms"] !== undefined) duration = setTimeout(stop, values["duration-ms"]);
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
