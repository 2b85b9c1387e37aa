/**
 * The station's Modbus TCP, OPC UA, plain MQTT and SQLite historian views. Each is handed the station's current
 * values when it starts and serves them from the first connection it accepts: a client never reads the empty
 * registers, default node values or missing retained messages of a server that is still being filled.
 */
import { type ModbusAddress, modbus, startModbusSimulator } from "../../adapters/modbus/index.js";
import { startBroker } from "../../adapters/mqtt/mqtt-broker.js";
import { opcua } from "../../adapters/opcua/opcua-adapter.js";
import { startOpcuaSimulator } from "../../adapters/opcua/opcua-simulator.js";
import { variablesFromTags } from "../../adapters/opcua/opcua-simulator-space.js";
import { sql } from "../../adapters/sql/sql-adapter.js";
import { createPlantwireSchema, plantwireHistorian } from "../../adapters/sql/sql-schema.js";
import { urlHost } from "./simulator-network.js";
import type { SimulatorView, StationValues } from "./simulator-view.js";
import { type StationSignal, stationSignals } from "./station-signals.js";
import { modbusStationTags, opcuaStationTags, stationTopicPrefix } from "./station-views.js";

type Written = ReturnType<NonNullable<SimulatorView["written"]>>;

const writable = stationSignals.filter((signal) => signal.writable);

/** Integer registers hold whole steps of their scale: round the physics to what the register can carry. */
function registerValue(signal: StationSignal, value: unknown): number | boolean {
  if (typeof value !== "number") return value as boolean;
  const dataType = signal.modbus?.dataType;
  if (dataType !== "int16" && dataType !== "uint16") return value;
  const step = signal.modbus?.scale ?? 1;
  return Number((Math.round(value / step) * step).toFixed(6));
}

/** The station on a Modbus TCP server (unit 1) listening on `host`, its registers filled with `initial`. */
export async function modbusView(port: number, initial: StationValues, host: string): Promise<SimulatorView> {
  const layout = modbusStationTags(modbus({ url: "modbus+tcp://127.0.0.1:1", unit: 1, name: "layout" }));
  const addresses = new Map(Object.entries(layout).map(([name, tag]) => [name, tag.source.address as ModbusAddress]));
  const server = await startModbusSimulator({ port, host });
  const pushed = new Map<string, unknown>();
  const publish = (values: StationValues) => {
    for (const signal of stationSignals) {
      const address = addresses.get(signal.name);
      if (!address) continue;
      server.setTag(address, registerValue(signal, values[signal.name]));
      pushed.set(signal.name, server.getTag(address));
    }
  };
  // The server makes its registers only as it starts listening, so they are filled here, with no await in between:
  // only promise continuations run between the two, and a client's request is read on a later turn of the event
  // loop, so no request is ever answered from empty registers.
  publish(initial);
  return {
    url: `modbus+tcp://${urlHost(host)}:${server.port}`,
    publish,
    written() {
      const changes: Written = {};
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

/** The station on an OPC UA server listening on `host`, whose nodes hold `initial` before it accepts a connection. */
export async function opcuaView(port: number, initial: StationValues, host: string): Promise<SimulatorView> {
  const tags = opcuaStationTags(opcua({ endpoint: "opc.tcp://127.0.0.1:1", name: "layout" }));
  // Each variable's alias is its tag's name, which is the signal's name.
  const variables = variablesFromTags(tags).map((variable) => ({
    ...variable,
    value: initial[variable.aliases?.[0] ?? ""] ?? variable.value,
  }));
  const server = await startOpcuaSimulator({ port, host, variables });
  const pushed = new Map<string, unknown>(stationSignals.map((signal) => [signal.name, server.get(signal.name)]));
  return {
    url: server.endpoint,
    publish(values) {
      for (const signal of stationSignals) {
        server.set(signal.name, values[signal.name]);
        pushed.set(signal.name, server.get(signal.name));
      }
    },
    written() {
      const changes: Written = {};
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

/**
 * The embedded MQTT broker listening on `host`, holding one retained JSON message per signal from `initial` (taken
 * at `time`).
 */
export async function mqttView(
  port: number,
  initial: StationValues,
  time: number,
  host: string,
): Promise<SimulatorView> {
  const broker = await startBroker({ port, host });
  const publish = (values: StationValues, at: number): Promise<void> => {
    const published = stationSignals.map((signal) => {
      const payload = Buffer.from(JSON.stringify({ value: values[signal.name], time: at }));
      return new Promise<void>((resolve) =>
        broker.aedes.publish(
          { cmd: "publish", topic: `${stationTopicPrefix}/${signal.name}`, payload, qos: 0, retain: true, dup: false },
          () => resolve(),
        ),
      );
    });
    return Promise.all(published).then(() => {});
  };
  // Published with no await since the broker started listening: the retained messages are stored before any client
  // can have connected and subscribed, which takes reads on later turns of the event loop.
  await publish(initial, time);
  return { url: `mqtt://${urlHost(host)}:${broker.port}`, publish, close: () => broker.close() };
}

/** The SQLite historian at `file`, with the rows of `initial` (taken at `time`) written before it is reported. */
export async function historianView(file: string, initial: StationValues, time: number): Promise<SimulatorView> {
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
  const publish = (values: StationValues, at: number) => {
    for (const signal of stationSignals) {
      if (signal.type === "float")
        sink.push({ tag: signal.name, time: at, value: values[signal.name] as number, quality: 192 });
    }
  };
  publish(initial, time);
  try {
    await sink.flush();
  } catch (error) {
    await sink.close().catch(() => {});
    await database.close().catch(() => {});
    throw error;
  }
  return {
    url,
    publish,
    async close() {
      await sink.close();
      await database.close();
    },
  };
}
