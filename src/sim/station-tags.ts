/**
 * The station's tag maps, one per protocol view, built from the signal table. Examples and glue scripts use these
 * instead of redefining tags: `createPlant({ tags: modbusStationTags(drive) })`.
 */
import type { TagSource } from "../adapter.js";
import {
  type AnyTag,
  type BooleanTag,
  boolean,
  defineTags,
  type EnumTag,
  enumeration,
  float,
  type NumericTag,
  type TextTag,
  text,
} from "../tags.js";
import { modeStates, type StationSignal, stationSignals } from "./station-signals.js";

/** The station's tags, typed: `snapshot.value("pressure")` is a number, `snapshot.value("mode")` a state name. */
export type StationTags = Readonly<{
  level: NumericTag;
  inflow: NumericTag;
  speedSetpoint: NumericTag;
  speed: NumericTag;
  motorCurrent: NumericTag;
  pressure: NumericTag;
  flow: NumericTag;
  bearingTemperature: NumericTag;
  vibration: NumericTag;
  mode: EnumTag<keyof typeof modeStates>;
  running: BooleanTag;
  alarm: BooleanTag;
  alarmText: TextTag;
}>;

/** The write policy of the speed setpoint: the guard holds every model proposal to it. */
export const speedSetpointPolicy = {
  range: [600, 1500],
  maxStep: 100,
  minIntervalMs: 10_000,
  approval: "required",
} as const;

function tagOf(signal: StationSignal, source: TagSource, writable: boolean): AnyTag {
  const common = {
    description: signal.description,
    source,
    ...(signal.deadband !== undefined ? { deadband: signal.deadband } : {}),
  };
  switch (signal.type) {
    case "float":
      return float({
        ...common,
        ...(signal.unit ? { unit: signal.unit } : {}),
        ...(signal.range ? { range: signal.range } : {}),
        ...(signal.resolution ? { resolution: signal.resolution } : {}),
        ...(writable && signal.writable ? { write: speedSetpointPolicy } : {}),
      });
    case "enum":
      return enumeration({
        ...common,
        states: modeStates,
        ...(writable && signal.writable ? { write: { states: ["AUTO", "MANUAL"] } } : {}),
      });
    case "boolean":
      return boolean(common);
    case "text":
      return text({ ...common, maxLength: 300 });
  }
}

/**
 * Builds a view from the signals a protocol serves, each with the source `sourceOf` gives it. A view that cannot
 * change the process (telemetry topics, the historian) is `writable: false`: its setpoints carry no write policy.
 */
export function stationTags(
  sourceOf: (signal: StationSignal) => TagSource | undefined,
  { writable = true }: { writable?: boolean } = {},
): Partial<StationTags> {
  const definitions: Record<string, AnyTag> = {};
  for (const signal of stationSignals) {
    const source = sourceOf(signal);
    if (source) definitions[signal.name] = tagOf(signal, source, writable);
  }
  return defineTags(definitions) as Partial<StationTags>;
}
