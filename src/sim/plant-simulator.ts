/**
 * The plant simulator: the pumping station's physics served at once over Modbus TCP, OPC UA, MQTT (plain JSON and
 * Sparkplug B on the embedded broker) and a SQLite historian that keeps recording, on ports that do not clash with
 * standard services. Writes to the setpoints (over Modbus, OPC UA or Sparkplug B) change the process.
 */

import { requireOptionalDependencies } from "../optional-dependency.js";
import { type PumpFault, PumpStationModel } from "./pump-station-model.js";
import { defaultSimulatorHost, defaultSimulatorPorts, listening, simulatorPackages } from "./simulator-network.js";
import type { SimulatorView, StationValues } from "./simulator-view.js";
import { historianView, modbusView, mqttView, opcuaView } from "./station-server-views.js";
import { sparkplugView } from "./station-sparkplug-view.js";
import type { StationView } from "./station-tag-map-files.js";

/** Options of {@link startPlantSimulator}. Each protocol can be turned off with `false`. */
export interface PlantSimulatorOptions {
  /** Same seed, same plant. @default 7 */
  seed?: number;
  /** Simulated seconds per real second. @default 1 */
  speedup?: number;
  /** Real milliseconds between process steps. @default 500 */
  tickMs?: number;
  /**
   * The address every view listens on. Anything but a loopback address lets other machines read the station and
   * write its setpoints (the CLI warns). @default "127.0.0.1"
   */
  host?: string;
  /** Modbus TCP on `host`. @default { port: 5020 } */
  modbus?: { port?: number } | false;
  /** OPC UA on `host` (security None offered alongside the secure policies: a simulator, not a plant). @default { port: 4840 } */
  opcua?: { port?: number } | false;
  /** The embedded MQTT broker on `host`, with one retained JSON message per signal. @default { port: 1884 } */
  mqtt?: { port?: number } | false;
  /**
   * The station as a Sparkplug B edge node on the embedded broker (group "plantwire", edge node "pump-station",
   * device "pump7"). Needs the broker: off when `mqtt` is false. @default true
   */
  sparkplug?: boolean;
  /** The SQLite historian file. @default { file: "./plantwire-sim.db" } */
  historian?: { file?: string } | false;
  /**
   * Called as soon as each view serves the station, before the next view starts, and awaited. Clients may connect
   * to a view while the others are still starting (an example started next to `plantwire sim` does), and every view
   * already serves the station's current values then.
   */
  onViewReady?: (view: StationView, url: string) => void | Promise<void>;
}

/** A running plant simulator. */
export interface PlantSimulator {
  readonly model: PumpStationModel;
  /** Where each view is served. */
  readonly urls: Partial<Record<StationView, string>>;
  /** Turns a fault on or off. "comms-loss" makes the Modbus and OPC UA servers stop answering. */
  setFault(fault: PumpFault, active: boolean): Promise<void>;
  /** Advances the process now by `seconds` and publishes the new values (tests and demos). */
  step(seconds: number): Promise<void>;
  /** Stops every server and the historian. */
  close(): Promise<void>;
}

/** The views the options turn on, in the order they start. */
export function simulatorViews(options: PlantSimulatorOptions): StationView[] {
  const views: StationView[] = [];
  if (options.modbus !== false) views.push("modbus");
  if (options.opcua !== false) views.push("opcua");
  if (options.mqtt !== false) views.push("mqtt");
  if (options.mqtt !== false && options.sparkplug !== false) views.push("sparkplug");
  if (options.historian !== false) views.push("historian");
  return views;
}

/**
 * Starts the station and serves it over every protocol asked for. Checks first, without loading any, that every
 * package the chosen views need is installed, and throws one MissingDependencyError naming them all; a port that
 * cannot be taken throws a SimulatorListenError naming the view.
 */
export async function startPlantSimulator(options: PlantSimulatorOptions = {}): Promise<PlantSimulator> {
  requireOptionalDependencies(simulatorPackages(simulatorViews(options)), "The simulator");
  const host = options.host ?? defaultSimulatorHost;
  const model = new PumpStationModel({ seed: options.seed ?? 7 });
  const speedup = options.speedup ?? 1;
  const views: SimulatorView[] = [];
  const urls: PlantSimulator["urls"] = {};
  // Last started, first stopped: the Sparkplug edge node says goodbye (NDEATH) while its broker is still up.
  const closeViews = async () => {
    for (const view of [...views].reverse()) await view.close().catch(() => {});
  };
  const values = () => model.values as unknown as StationValues;
  // Each view is given the current values as it starts and serves them from its first connection; the process does
  // not step until every view is up, so all of them start from the same state.
  const serve = async (view: StationView, start: () => Promise<SimulatorView>) => {
    const started = await start();
    views.push(started);
    urls[view] = started.url;
    await options.onViewReady?.(view, started.url);
  };
  try {
    if (options.modbus !== false) {
      const port = options.modbus?.port ?? defaultSimulatorPorts.modbus;
      await serve("modbus", () => listening("modbus", host, port, () => modbusView(port, values(), host)));
    }
    if (options.opcua !== false) {
      const port = options.opcua?.port ?? defaultSimulatorPorts.opcua;
      await serve("opcua", () => listening("opcua", host, port, () => opcuaView(port, values(), host)));
    }
    if (options.mqtt !== false) {
      const port = options.mqtt?.port ?? defaultSimulatorPorts.mqtt;
      await serve("mqtt", () => listening("mqtt", host, port, () => mqttView(port, values(), Date.now(), host)));
    }
    const broker = urls.mqtt;
    if (options.sparkplug !== false && broker) {
      await serve("sparkplug", () => sparkplugView(broker, values(), Date.now()));
    }
    if (options.historian !== false) {
      const file = options.historian ? (options.historian.file ?? "./plantwire-sim.db") : "./plantwire-sim.db";
      await serve("historian", () => historianView(file, values(), Date.now()));
    }
  } catch (error) {
    await closeViews();
    throw error;
  }
  const publish = async () => {
    const time = Date.now();
    for (const view of views) await view.publish(values(), time);
  };
  const applyWrites = () => {
    for (const view of views) {
      const changes = view.written?.() ?? {};
      if (changes.speedSetpoint !== undefined) model.writeSpeedSetpoint(changes.speedSetpoint);
      if (changes.mode !== undefined) model.writeMode(changes.mode);
    }
  };
  const step = async (seconds: number) => {
    applyWrites();
    model.step(seconds);
    await publish();
  };
  const tickMs = options.tickMs ?? 500;
  const timer = setInterval(() => void step((tickMs / 1000) * speedup).catch(() => {}), tickMs);
  return {
    model,
    urls,
    async setFault(fault, active) {
      model.setFault(fault, active);
      if (fault === "comms-loss") await Promise.all(views.map((view) => view.suspend?.(active)));
    },
    step,
    async close() {
      clearInterval(timer);
      await closeViews();
    },
  };
}
