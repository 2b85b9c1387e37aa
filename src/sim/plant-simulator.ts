/**
 * The plant simulator: the pumping station's physics served at once over Modbus TCP, OPC UA, MQTT (plain JSON and
 * Sparkplug B on the embedded broker) and a SQLite historian that keeps recording, on ports that do not clash with
 * standard services. Writes to the setpoints (over Modbus, OPC UA or Sparkplug B) change the process.
 */
import { modbus, startModbusSimulator } from "../../adapters/modbus/index.js";
import { startBroker } from "../../adapters/mqtt/mqtt-broker.js";
import { opcua } from "../../adapters/opcua/opcua-adapter.js";
import { startOpcuaSimulator } from "../../adapters/opcua/opcua-simulator.js";
import { sql } from "../../adapters/sql/sql-adapter.js";
import { createPlantwireSchema, plantwireHistorian } from "../../adapters/sql/sql-schema.js";
import { type PumpFault, PumpStationModel } from "./pump-station-model.js";
import type { SimulatorView } from "./simulator-view.js";
import { type StationSignal, stationSignals } from "./station-signals.js";
import { sparkplugView } from "./station-sparkplug-view.js";
import { modbusStationTags, opcuaStationTags, stationTopicPrefix } from "./station-views.js";

/** Options of {@link startPlantSimulator}. Each protocol can be turned off with `false`. */
export interface PlantSimulatorOptions {
  /** Same seed, same plant. @default 7 */
  seed?: number;
  /** Simulated seconds per real second. @default 1 */
  speedup?: number;
  /** Real milliseconds between process steps. @default 500 */
  tickMs?: number;
  /** Modbus TCP on 127.0.0.1. @default { port: 5020 } */
  modbus?: { port?: number } | false;
  /** OPC UA on 127.0.0.1 (security None offered alongside the secure policies: a simulator, not a plant). @default { port: 4840 } */
  opcua?: { port?: number } | false;
  /** The embedded MQTT broker on 127.0.0.1, with one retained JSON message per signal. @default { port: 1884 } */
  mqtt?: { port?: number } | false;
  /**
   * The station as a Sparkplug B edge node on the embedded broker (group "plantwire", edge node "pump-station",
   * device "pump7"). Needs the broker: off when `mqtt` is false. @default true
   */
  sparkplug?: boolean;
  /** The SQLite historian file. @default { file: "./plantwire-sim.db" } */
  historian?: { file?: string } | false;
}

/** A running plant simulator. */
export interface PlantSimulator {
  readonly model: PumpStationModel;
  /** Where each view is served. */
  readonly urls: { modbus?: string; opcua?: string; mqtt?: string; sparkplug?: string; historian?: string };
  /** Turns a fault on or off. "comms-loss" makes the Modbus and OPC UA servers stop answering. */
  setFault(fault: PumpFault, active: boolean): Promise<void>;
  /** Advances the process now by `seconds` and publishes the new values (tests and demos). */
  step(seconds: number): Promise<void>;
  /** Stops every server and the historian. */
  close(): Promise<void>;
}

const writable = stationSignals.filter((signal) => signal.writable);

/** Integer registers hold whole steps of their scale: round the physics to what the register can carry. */
function registerValue(signal: StationSignal, value: unknown): number | boolean {
  if (typeof value !== "number") return value as boolean;
  const dataType = signal.modbus?.dataType;
  if (dataType !== "int16" && dataType !== "uint16") return value;
  const step = signal.modbus?.scale ?? 1;
  return Number((Math.round(value / step) * step).toFixed(6));
}

async function modbusView(port: number): Promise<SimulatorView> {
  const server = await startModbusSimulator({ port });
  const layout = modbusStationTags(modbus({ url: server.url, unit: 1, name: "layout" }));
  const addresses = new Map(
    Object.entries(layout).map(([name, tag]) => [name, tag.source.address as Parameters<typeof server.setTag>[0]]),
  );
  const pushed = new Map<string, unknown>();
  return {
    url: server.url,
    publish(values) {
      for (const signal of stationSignals) {
        const address = addresses.get(signal.name);
        if (!address) continue;
        server.setTag(address, registerValue(signal, values[signal.name]));
        pushed.set(signal.name, server.getTag(address));
      }
    },
    written() {
      const changes: Partial<Record<"speedSetpoint" | "mode", number>> = {};
      for (const signal of writable) {
        const address = addresses.get(signal.name);
        if (!address) continue;
        const now = server.getTag(address);
        if (pushed.has(signal.name) && now !== pushed.get(signal.name)) changes[signal.name as "mode"] = Number(now);
      }
      return changes;
    },
    suspend: async (active) => (active ? server.stop() : server.start()),
    close: () => server.close(),
  };
}

async function opcuaView(port: number): Promise<SimulatorView> {
  const tags = opcuaStationTags(opcua({ endpoint: "opc.tcp://127.0.0.1:1", name: "layout" }));
  const server = await startOpcuaSimulator({ port, tags });
  const pushed = new Map<string, unknown>();
  return {
    url: server.endpoint,
    publish(values) {
      for (const signal of stationSignals) {
        server.set(signal.name, values[signal.name]);
        pushed.set(signal.name, server.get(signal.name));
      }
    },
    written() {
      const changes: Partial<Record<"speedSetpoint" | "mode", number>> = {};
      for (const signal of writable) {
        const now = server.get(signal.name);
        if (pushed.has(signal.name) && now !== pushed.get(signal.name)) changes[signal.name as "mode"] = Number(now);
      }
      return changes;
    },
    suspend: async (active) => (active ? server.suspend() : server.resume()),
    close: () => server.close(),
  };
}

async function mqttView(port: number): Promise<SimulatorView> {
  const broker = await startBroker({ port });
  return {
    url: broker.url,
    publish(values, time) {
      for (const signal of stationSignals) {
        const payload = Buffer.from(JSON.stringify({ value: values[signal.name], time }));
        broker.aedes.publish(
          { cmd: "publish", topic: `${stationTopicPrefix}/${signal.name}`, payload, qos: 0, retain: true, dup: false },
          () => {},
        );
      }
    },
    close: () => broker.close(),
  };
}

async function historianView(file: string): Promise<SimulatorView> {
  const url = `sqlite:${file}`;
  await createPlantwireSchema({ url });
  const mapping = plantwireHistorian();
  const database = sql({
    url,
    name: "sim-historian",
    templates: { samples: { table: mapping.table, columns: ["tag", "time", "value", "quality"] } },
  });
  await database.connect();
  const sink = database.sink("samples", { flushIntervalMs: 1000 });
  return {
    url,
    publish(values, time) {
      for (const signal of stationSignals) {
        if (signal.type === "float")
          sink.push({ tag: signal.name, time, value: values[signal.name] as number, quality: 192 });
      }
    },
    flush: () => sink.flush(),
    async close() {
      await sink.close();
      await database.close();
    },
  };
}

/** Starts the station and serves it over every protocol asked for. */
export async function startPlantSimulator(options: PlantSimulatorOptions = {}): Promise<PlantSimulator> {
  const model = new PumpStationModel({ seed: options.seed ?? 7 });
  const speedup = options.speedup ?? 1;
  const views: SimulatorView[] = [];
  const urls: PlantSimulator["urls"] = {};
  // Last started, first stopped: the Sparkplug edge node says goodbye (NDEATH) while its broker is still up.
  const closeViews = async () => {
    for (const view of [...views].reverse()) await view.close().catch(() => {});
  };
  const serve = async (protocol: keyof PlantSimulator["urls"], start: () => Promise<SimulatorView>) => {
    const view = await start();
    views.push(view);
    urls[protocol] = view.url;
  };
  try {
    if (options.modbus !== false)
      await serve("modbus", () => modbusView(options.modbus ? (options.modbus.port ?? 5020) : 5020));
    if (options.opcua !== false)
      await serve("opcua", () => opcuaView(options.opcua ? (options.opcua.port ?? 4840) : 4840));
    if (options.mqtt !== false) await serve("mqtt", () => mqttView(options.mqtt ? (options.mqtt.port ?? 1884) : 1884));
    const broker = urls.mqtt;
    if (options.sparkplug !== false && broker) {
      await serve("sparkplug", () => sparkplugView(broker, model.values as unknown as Record<string, unknown>));
    }
    if (options.historian !== false) {
      await serve("historian", () =>
        historianView(options.historian ? (options.historian.file ?? "./plantwire-sim.db") : "./plantwire-sim.db"),
      );
    }
  } catch (error) {
    await closeViews();
    throw error;
  }
  const publish = async () => {
    const time = Date.now();
    for (const view of views) await view.publish(model.values as unknown as Record<string, unknown>, time);
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
  await publish();
  // The first values are in every view before anyone reads, the historian's included.
  await Promise.all(views.map((view) => view.flush?.()));
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
