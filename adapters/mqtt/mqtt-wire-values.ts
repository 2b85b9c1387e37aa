/**
 * What a tag's value becomes on the wire, and whether it fits: JSON commands (the MQTT adapter) and Sparkplug B
 * datatypes (host commands, edge births and data). The guard asks through the adapters' `checkWrite`, so a value that
 * cannot be sent is refused when it is proposed; read-backs compare at the wire's precision through `sameOnWire`.
 */
import type { AnyTag } from "../../src/tags.js";
import { coerceToTag } from "./mqtt-codec.js";

const SAFE = Number.MAX_SAFE_INTEGER;
/** Whole-number ranges of the Sparkplug integer datatypes (64-bit ones limited to what a JS number holds exactly). */
const INTEGER_RANGES: Readonly<Record<string, readonly [number, number]>> = {
  Int8: [-128, 127],
  Int16: [-32_768, 32_767],
  Int32: [-(2 ** 31), 2 ** 31 - 1],
  Int64: [-SAFE, SAFE],
  UInt8: [0, 255],
  UInt16: [0, 65_535],
  UInt32: [0, 2 ** 32 - 1],
  UInt64: [0, SAFE],
};
/** The largest finite float32. */
const FLOAT32_MAX = 3.4028234663852886e38;

/** A value ready for the wire, or why it cannot be sent. */
export type WireValue = { value: unknown } | { problem: string };

/** A JSON command's value for a tag: the typed value (Dates become ISO text in JSON), or the problem. */
export function jsonCommandValue(tag: AnyTag, value: unknown): WireValue {
  const coerced = coerceToTag(tag, value);
  if ("problem" in coerced) return coerced;
  if (typeof coerced.value === "number" && tag.type === "integer" && !Number.isSafeInteger(coerced.value)) {
    return { problem: `${coerced.value} is beyond ±2^53, where JSON numbers lose whole-number precision` };
  }
  return coerced;
}

/**
 * The value a tag's value becomes in a Sparkplug metric of `datatype`: enum tags send their state name to String
 * metrics and their code to integer metrics, date-times are epoch milliseconds in DateTime metrics. Problems name the datatype and its range, e.g. "70000 does not fit Int16 (-32768..32767)".
 */
export function sparkplugWireValue(tag: AnyTag, datatype: string, value: unknown): WireValue {
  const coerced = coerceToTag(tag, value);
  if ("problem" in coerced) return coerced;
  let wire: unknown = coerced.value;
  if (tag.type === "enum" && datatype in INTEGER_RANGES) wire = tag.states[wire as string];
  if (wire instanceof Date) {
    if (datatype === "String" || datatype === "Text") return { value: wire.toISOString() };
    wire = wire.getTime();
    if (datatype !== "DateTime" && datatype !== "Int64" && datatype !== "UInt64") return mismatch(tag, datatype);
  }
  const range = INTEGER_RANGES[datatype];
  if (range) {
    if (typeof wire === "boolean" && tag.type === "boolean") return { value: wire ? 1 : 0 };
    if (typeof wire !== "number") return mismatch(tag, datatype);
    if (!Number.isInteger(wire)) return { problem: `${wire} is not a whole number, which a ${datatype} metric needs` };
    if (wire < range[0] || wire > range[1]) {
      return { problem: `${wire} does not fit ${datatype} (${range[0]}..${range[1]})` };
    }
    return { value: wire };
  }
  switch (datatype) {
    case "Float":
    case "Double":
      if (typeof wire !== "number") return mismatch(tag, datatype);
      if (datatype === "Float" && Math.abs(wire) > FLOAT32_MAX) {
        return { problem: `${wire} is beyond the range of a Float (float32, ±3.4e38)` };
      }
      return { value: wire };
    case "Boolean":
      return typeof wire === "boolean" ? { value: wire } : mismatch(tag, datatype);
    case "String":
    case "Text":
    case "UUID":
      return typeof wire === "string" ? { value: wire } : mismatch(tag, datatype);
    case "DateTime":
      return typeof wire === "number" ? { value: wire } : mismatch(tag, datatype);
    default:
      return { problem: `plantwire does not write Sparkplug ${datatype} metrics` };
  }
}

function mismatch(tag: AnyTag, datatype: string): WireValue {
  return { problem: `a ${tag.type} value cannot be sent in a Sparkplug ${datatype} metric` };
}

/**
 * Whether a read-back equals the written value at the precision of a Sparkplug datatype: a Float metric carries a
 * float32 (0.1 reads back 0.10000000149011612), date-times compare by their instant. Undefined leaves the comparison to
 * the guard.
 */
export function sameInSparkplug(
  datatype: string | undefined,
  written: unknown,
  readBack: unknown,
): boolean | undefined {
  if (datatype === "Float" && typeof written === "number" && typeof readBack === "number") {
    return Math.fround(written) === Math.fround(readBack);
  }
  return sameInstant(written, readBack);
}

/** Date-times compare by their instant (two Date objects are never `Object.is` equal); undefined for other values. */
export function sameInstant(written: unknown, readBack: unknown): boolean | undefined {
  if (written instanceof Date || readBack instanceof Date) {
    const time = (value: unknown) =>
      value instanceof Date ? value.getTime() : typeof value === "string" ? Date.parse(value) : Number.NaN;
    return time(written) === time(readBack);
  }
  return undefined;
}
