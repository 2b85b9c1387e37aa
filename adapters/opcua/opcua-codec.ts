/**
 * Between OPC UA values and plantwire values: which built-in DataTypes suit which tag type, DataValue → Sample (status
 * code → quality, source and server timestamps), and tag value → typed Variant for writes.
 */
import type { DataValue, StatusCode, Variant } from "node-opcua";
import type { BoundTag } from "../../src/adapter.js";
import type { Quality, QualityReason, Sample } from "../../src/sample.js";
import type { AnyTag } from "../../src/tags.js";

/** node-opcua's module type, loaded lazily. */
export type NodeOpcua = typeof import("node-opcua");

/** OPC UA built-in data types by id (Part 6 §5.1.2), so this file needs no runtime import of node-opcua. */
export const builtInTypes = {
  Boolean: 1,
  SByte: 2,
  Byte: 3,
  Int16: 4,
  UInt16: 5,
  Int32: 6,
  UInt32: 7,
  Int64: 8,
  UInt64: 9,
  Float: 10,
  Double: 11,
  String: 12,
  DateTime: 13,
  LocalizedText: 21,
} as const;

const integerTypes = new Set<number>([2, 3, 4, 5, 6, 7, 8, 9]);
const integerLimits: Record<number, [number, number]> = {
  2: [-128, 127],
  3: [0, 255],
  4: [-32768, 32767],
  5: [0, 65535],
  6: [-2147483648, 2147483647],
  7: [0, 4294967295],
  8: [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
  9: [0, Number.MAX_SAFE_INTEGER],
};

// The other built-in types (Part 6 §5.1.2), for messages: none of them carries a tag.
const otherTypeNames: Record<number, string> = {
  14: "Guid",
  15: "ByteString",
  16: "XmlElement",
  17: "NodeId",
  18: "ExpandedNodeId",
  19: "StatusCode",
  20: "QualifiedName",
  22: "ExtensionObject (a structure)",
  23: "DataValue",
  24: "Variant",
  25: "DiagnosticInfo",
};

/** The name of a built-in type id, e.g. 11 → "Double". */
export function builtInTypeName(id: number): string {
  for (const [name, value] of Object.entries(builtInTypes)) if (value === id) return name;
  return otherTypeNames[id] ?? `built-in type ${id}`;
}

/** The built-in types a node may have to carry a tag of this type. */
export function acceptedTypes(tag: AnyTag): readonly number[] {
  switch (tag.type) {
    case "float":
      return [10, 11, ...integerTypes];
    case "integer":
    case "enum":
      return [...integerTypes];
    case "boolean":
      return [1];
    case "text":
      return [12, 21];
    case "datetime":
      return [13];
  }
}

/** The plantwire tag type that best fits a built-in type, for browse. Undefined when none fits. */
export function tagTypeFor(builtInType: number): "float" | "integer" | "boolean" | "text" | "datetime" | undefined {
  if (builtInType === 10 || builtInType === 11) return "float";
  if (builtInType === 13) return "datetime";
  if (integerTypes.has(builtInType)) return "integer";
  if (builtInType === 1) return "boolean";
  if (builtInType === 12 || builtInType === 21) return "text";
  return undefined;
}

function reasonFor(name: string, quality: Quality): QualityReason {
  if (quality === "uncertain") {
    if (name.includes("LastUsable")) return "last-known-value";
    if (name.includes("Sensor")) return "sensor-failure";
    return "other";
  }
  if (/NodeIdUnknown|NodeIdInvalid|NotReadable|UserAccessDenied|AttributeIdInvalid|NotSupported/.test(name)) {
    return "config-error";
  }
  if (/Sensor/.test(name)) return "sensor-failure";
  if (/Device|OutOfService|ConfigurationError/.test(name)) return "device-error";
  if (/Communication|NotConnected|ConnectionClosed|SecureChannel|SessionClosed|SessionIdInvalid/.test(name)) {
    return "comm-failure";
  }
  if (/Timeout/.test(name)) return "timeout";
  if (/WaitingForInitialData/.test(name)) return "not-read-yet";
  if (/TypeMismatch|DecodingError|EncodingError/.test(name)) return "type-mismatch";
  if (/OutOfRange/.test(name)) return "out-of-range";
  return "other";
}

/** The quality class of a status code: OPC UA's two top bits (00 good, 01 uncertain, 10/11 bad). */
export function qualityOf(statusCode: StatusCode): Quality {
  const severity = statusCode.value >>> 30;
  return severity === 0 ? "good" : severity === 1 ? "uncertain" : "bad";
}

/** A sample with OPC UA's server timestamp kept beside the source timestamp. */
export interface OpcuaSample<TValue = unknown> extends Sample<TValue> {
  /** When the server last saw the value (ms since the epoch), if it said. */
  readonly serverTime?: number;
  /** The OPC UA status code name, e.g. "Good" or "UncertainLastUsableValue". */
  readonly statusCode?: string;
}

function int64ToNumber(value: unknown): unknown {
  // node-opcua returns Int64/UInt64 as [high, low] 32-bit words.
  if (Array.isArray(value) && value.length === 2 && value.every((part) => typeof part === "number")) {
    const [high, low] = value as [number, number];
    return high * 4294967296 + (low >>> 0);
  }
  return value;
}

function plainValue(variant: Variant | null | undefined): unknown {
  if (!variant) return undefined;
  const { value } = variant;
  if (variant.arrayType === 1 && value && typeof value === "object" && "length" in value) {
    return Array.from(value as ArrayLike<unknown>, (item) => plainScalar(item, variant.dataType));
  }
  return plainScalar(value, variant.dataType);
}

function plainScalar(value: unknown, dataType: number): unknown {
  if (dataType === 8 || dataType === 9) return int64ToNumber(value);
  if (dataType === 21) return (value as { text?: string | null } | null)?.text ?? "";
  // DateTime stays a Date: the datetime tag type carries it as one (a number would be an epoch no reader could tell).
  return value;
}

/** Converts a plain value to the tag's type; a string describing the problem when it does not fit. */
export function tagValueOf(tag: AnyTag, value: unknown): { value: unknown } | { problem: string } {
  if (Array.isArray(value)) return { value };
  switch (tag.type) {
    case "float":
    case "integer":
      if (typeof value === "number") return { value };
      return { problem: `expected a number, got ${typeof value}` };
    case "boolean":
      if (typeof value === "boolean") return { value };
      return { problem: `expected a boolean, got ${typeof value}` };
    case "enum": {
      const state = Object.entries(tag.states).find(([, code]) => code === value)?.[0];
      if (state !== undefined) return { value: state };
      return { problem: `code ${String(value)} is not one of the states ${Object.keys(tag.states).join(", ")}` };
    }
    case "text":
      if (typeof value !== "string") return { problem: `expected text, got ${typeof value}` };
      if (value.length > tag.maxLength) return { problem: `text of ${value.length} characters > ${tag.maxLength}` };
      return { value };
    case "datetime":
      if (value instanceof Date && !Number.isNaN(value.getTime())) return { value };
      return { problem: `expected a DateTime, got ${typeof value}` };
  }
}

/** Turns one DataValue into a sample for a tag: status code → quality, timestamps kept, values never invented. */
export function sampleFromDataValue(tag: BoundTag, dataValue: DataValue, receivedTime: number): OpcuaSample {
  const statusCode = dataValue.statusCode;
  const statusName = statusCode.name;
  const quality = qualityOf(statusCode);
  if (quality === "bad") {
    const reason = reasonFor(statusName, quality);
    return { value: undefined, quality, reason, detail: statusName, receivedTime, statusCode: statusName };
  }
  const sample: { -readonly [K in keyof OpcuaSample]: OpcuaSample[K] } = {
    value: undefined,
    quality,
    receivedTime,
    statusCode: statusName,
  };
  const sourceTime = dataValue.sourceTimestamp?.getTime();
  const serverTime = dataValue.serverTimestamp?.getTime();
  if (sourceTime !== undefined && sourceTime > 0) sample.sourceTime = sourceTime;
  if (serverTime !== undefined && serverTime > 0) sample.serverTime = serverTime;
  const converted = tagValueOf(tag.definition, plainValue(dataValue.value));
  if ("problem" in converted) {
    sample.quality = "bad";
    sample.reason = tag.definition.type === "text" ? "out-of-range" : "decode-error";
    sample.detail = `${statusName}: ${converted.problem}`;
    return sample;
  }
  sample.value = converted.value;
  if (quality === "uncertain") {
    sample.reason = reasonFor(statusName, quality);
    sample.detail = statusName;
  }
  return sample;
}

/** The largest finite float32 (an OPC UA Float, a PLC REAL): anything larger becomes Infinity on the wire. */
export const float32Max = 3.4028234663852886e38;

/** The value one scalar of a write puts on the wire for a node of this built-in type; throws with the misfit. */
export function scalarFor(tag: AnyTag, builtInType: number, value: unknown): unknown {
  if (tag.type === "enum" && typeof value === "string") {
    const code = (tag.states as Record<string, number>)[value];
    if (code === undefined)
      throw new Error(`"${value}" is not one of the states ${Object.keys(tag.states).join(", ")}`);
    value = code;
  }
  if (builtInType === 1) {
    if (typeof value !== "boolean") throw new Error(`expected a boolean, got ${JSON.stringify(value)}`);
    return value;
  }
  if (builtInType === 12) {
    if (typeof value !== "string") throw new Error(`expected text, got ${JSON.stringify(value)}`);
    return value;
  }
  if (builtInType === 21) {
    if (typeof value !== "string") throw new Error(`expected text, got ${JSON.stringify(value)}`);
    return { text: value };
  }
  if (builtInType === 13) {
    if (!(value instanceof Date) || Number.isNaN(value.getTime())) {
      throw new Error(`DateTime needs a valid Date, got ${JSON.stringify(value)}`);
    }
    return value;
  }
  if (typeof value !== "number" || !Number.isFinite(value)) {
    throw new Error(`expected a finite number, got ${JSON.stringify(value)}`);
  }
  const limits = integerLimits[builtInType];
  if (limits) {
    if (!Number.isInteger(value)) throw new Error(`${builtInTypeName(builtInType)} needs a whole number, got ${value}`);
    if (value < limits[0] || value > limits[1]) {
      throw new Error(`${value} is outside ${builtInTypeName(builtInType)} [${limits[0]}, ${limits[1]}]`);
    }
    if (builtInType === 8 || builtInType === 9) return [Math.floor(value / 4294967296), value >>> 0];
  }
  if (builtInType === 10 && Math.abs(value) > float32Max) {
    throw new Error(`${value} is outside Float (float32) [-${float32Max}, ${float32Max}]`);
  }
  return value;
}

/** Builds the Variant for a write from the node's built-in type and value rank; throws with the reason on a misfit. */
export function variantFor(
  ua: NodeOpcua,
  tag: AnyTag,
  node: { builtInType: number; valueRank: number },
  value: unknown,
): Variant {
  if (Array.isArray(value)) {
    if (node.valueRank === -1) throw new Error("the node holds a scalar, not an array");
    const items = value.map((item) => scalarFor(tag, node.builtInType, item));
    return new ua.Variant({ dataType: node.builtInType, arrayType: ua.VariantArrayType.Array, value: items });
  }
  if (node.valueRank > 0) throw new Error("the node holds an array: write an array of values");
  const scalar = scalarFor(tag, node.builtInType, value);
  return new ua.Variant({ dataType: node.builtInType, arrayType: ua.VariantArrayType.Scalar, value: scalar });
}
