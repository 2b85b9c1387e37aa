/** The station's tag map as each protocol serves it. */
import type { ModbusAdapter } from "../../adapters/modbus/index.js";
import type { MqttAdapter, SparkplugAddress } from "../../adapters/mqtt/index.js";
import type { OpcuaAdapter } from "../../adapters/opcua/index.js";
import { plantwireHistorian } from "../../adapters/sql/sql-schema.js";
import type { TagSource } from "../adapter.js";
import type { StationSignal } from "./station-signals.js";
import { type StationTags, stationTags } from "./station-tags.js";

/** The MQTT topic prefix the simulator publishes under. */
export const stationTopicPrefix = "plantwire/pump-station";

/** The Sparkplug B group id the simulator's edge node belongs to. */
export const stationSparkplugGroup = "plantwire";

/** The simulator's Sparkplug B edge node id. */
export const stationSparkplugNode = "pump-station";

/** The Sparkplug B device id under which the simulator publishes the station's metrics (DBIRTH, DDATA, DCMD). */
export const stationSparkplugDevice = "pump7";

/** The OPC UA node id of a signal in the simulator. */
export function stationNodeId(name: string): string {
  return `ns=1;s=PumpStation.${name}`;
}

/** The station over Modbus TCP (unit 1): every signal but the alarm text. */
export function modbusStationTags(drive: ModbusAdapter): Omit<StationTags, "alarmText"> {
  return stationTags((signal: StationSignal): TagSource | undefined => {
    const place = signal.modbus;
    if (!place) return undefined;
    if (place.area === "coil") return drive.coil(place.address);
    if (place.area === "discrete") return drive.discrete(place.address);
    const options = {
      ...(place.scale ? { scale: place.scale } : {}),
      ...(place.wordOrder ? { wordOrder: place.wordOrder } : {}),
    };
    return drive[place.area](place.address, place.dataType ?? "uint16", options);
  }) as Omit<StationTags, "alarmText">;
}

/** The station over OPC UA, one node per signal under PumpStation in namespace 1. */
export function opcuaStationTags(plc: OpcuaAdapter): StationTags {
  return stationTags((signal) => plc.node(stationNodeId(signal.name))) as StationTags;
}

/** The station over MQTT: one retained JSON message `{ value, time }` per signal; telemetry only, nothing to write. */
export function mqttStationTags(bus: MqttAdapter, prefix = stationTopicPrefix): StationTags {
  return stationTags((signal) => bus.topic(`${prefix}/${signal.name}`, { path: "/value", timestampPath: "/time" }), {
    writable: false,
  }) as StationTags;
}

/**
 * The station over Sparkplug B: one device metric per signal, named after it, read by a Sparkplug host of group
 * {@link stationSparkplugGroup}: `sparkplugStationTags(sparkplugHost({ url, group: stationSparkplugGroup }))`.
 */
export function sparkplugStationTags(host: {
  metric(node: string, metric: string, options?: { device?: string }): TagSource<SparkplugAddress>;
}): StationTags {
  return stationTags((signal) =>
    host.metric(stationSparkplugNode, signal.name, { device: stationSparkplugDevice }),
  ) as StationTags;
}

/** The numeric signals in the SQL historian (the plantwire samples table). */
export type HistorianStationTags = Pick<
  StationTags,
  | "level"
  | "inflow"
  | "speedSetpoint"
  | "speed"
  | "motorCurrent"
  | "pressure"
  | "flow"
  | "bearingTemperature"
  | "vibration"
>;

/** The station's numeric history in the plantwire historian schema; a record of the past, nothing to write. */
export function sqlStationTags(historian: {
  narrow(mapping: ReturnType<typeof plantwireHistorian>, tag: string): TagSource;
}): HistorianStationTags {
  const mapping = plantwireHistorian();
  return stationTags((signal) => (signal.type === "float" ? historian.narrow(mapping, signal.name) : undefined), {
    writable: false,
  }) as HistorianStationTags;
}
