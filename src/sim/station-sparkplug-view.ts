/**
 * The station as a Sparkplug B edge node on the simulator's broker, built on plantwire's own edge node: NBIRTH and
 * DBIRTH with aliases, units and ranges, DDATA with the metrics that changed, NDEATH as the will (and on close),
 * births again on an NCMD "Node Control/Rebirth", and setpoint writes taken from DCMD.
 */
import { sparkplugEdgeNode } from "../../adapters/mqtt/mqtt-sparkplug-edge.js";
import { sparkplugHost } from "../../adapters/mqtt/mqtt-sparkplug-host.js";
import { goodSample, type Sample } from "../sample.js";
import type { AnyTag } from "../tags.js";
import type { SimulatorView, StationValues } from "./simulator-view.js";
import { modeStates, stationSignals } from "./station-signals.js";
import {
  sparkplugStationTags,
  stationSparkplugDevice,
  stationSparkplugGroup,
  stationSparkplugNode,
} from "./station-views.js";

const modeNames = new Map<number, string>(Object.entries(modeStates).map(([name, code]) => [code, name]));

/**
 * The station's values as samples for the edge node: as the model holds them, like the other views (so a written
 * setpoint comes back exactly as written, which is what confirms a host's write), the mode as its state name.
 */
function samplesOf(values: StationValues, time: number): Record<string, Sample> {
  return Object.fromEntries(
    stationSignals.map((signal) => {
      const value = values[signal.name];
      return [signal.name, goodSample(signal.name === "mode" ? modeNames.get(value as number) : value, time, time)];
    }),
  );
}

/**
 * Starts the station's edge node on the broker at `url`, with `initial` (taken at `time`) as the values of its first
 * births.
 */
export async function sparkplugView(url: string, initial: StationValues, time: number): Promise<SimulatorView> {
  // Datatypes, units, ranges and descriptions come from the station's tag map. The deadband is dropped at the edge:
  // every change is reported, so this view shows the same state as the others, and readers apply the tag map's
  // deadband on their side.
  const layout = sparkplugStationTags(sparkplugHost({ url, group: stationSparkplugGroup, name: "layout" }));
  const tags: Record<string, AnyTag> = {};
  for (const [name, tag] of Object.entries(layout)) tags[name] = { ...tag, deadband: 0 };
  const edge = sparkplugEdgeNode({
    url,
    name: "plantwire simulator",
    group: stationSparkplugGroup,
    node: stationSparkplugNode,
    device: stationSparkplugDevice,
    tags,
  });
  let commanded: Partial<Record<"speedSetpoint" | "mode", number>> = {};
  // The edge node has already checked each command against the tag's type; only the setpoints are writable.
  edge.onCommand((name, value) => {
    if (name === "speedSetpoint" && typeof value === "number") commanded.speedSetpoint = value;
    if (name === "mode" && typeof value === "string" && Object.hasOwn(modeStates, value))
      commanded.mode = modeStates[value as keyof typeof modeStates];
  });
  // Reported before connecting, so the first births carry real values. The edge node also replays these once, flagged
  // historical, after the births: it keeps every change made while it was not connected.
  await edge.update(samplesOf(initial, time));
  await edge.connect();
  return {
    url,
    async publish(values, time) {
      await edge.update(samplesOf(values, time));
    },
    written() {
      const changes = commanded;
      commanded = {};
      return changes;
    },
    close: () => edge.close(),
  };
}
