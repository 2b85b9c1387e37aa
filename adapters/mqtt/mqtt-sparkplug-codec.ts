/**
 * Sparkplug B payloads through Eclipse Tahu's `sparkplug-payload` (loaded lazily; no hand-written protobuf), plus
 * the mapping between plantwire tags and Sparkplug metrics: datatypes, units and ranges as properties.
 */
import { loadOptionalDependency } from "../../src/optional-dependency.js";
import type { AnyTag } from "../../src/tags.js";

/** The Sparkplug B namespace, first topic level. */
export const SPARKPLUG_NAMESPACE = "spBv1.0";

/** The metric a host sets to true in an NCMD to ask for a rebirth. */
export const REBIRTH_METRIC = "Node Control/Rebirth";

// The payload types below describe Tahu's (sparkplug-payload's) objects by shape instead of importing them: its
// declarations need protobufjs and long, and fail a consumer's strict type-check on their own.

/** A 64-bit integer as the protobuf library represents it (Int64/UInt64 values, timestamps, seq, aliases). */
export interface SparkplugLong {
  readonly low: number;
  readonly high: number;
  readonly unsigned: boolean;
  toNumber(): number;
  toString(radix?: number): string;
}

/** A Sparkplug B datatype name, as Tahu's library spells it. */
export type SparkplugTypeName =
  | "Int8"
  | "Int16"
  | "Int32"
  | "Int64"
  | "UInt8"
  | "UInt16"
  | "UInt32"
  | "UInt64"
  | "Float"
  | "Double"
  | "Boolean"
  | "String"
  | "DateTime"
  | "Text"
  | "UUID"
  | "DataSet"
  | "Bytes"
  | "File"
  | "Template"
  | "PropertySet"
  | "PropertySetList";

/** A metric property (engUnit, engLow, …) as Tahu's library represents it. */
export interface SparkplugPropertyValue {
  type: SparkplugTypeName;
  value: null | number | SparkplugLong | boolean | string | SparkplugPropertySet | SparkplugPropertySet[];
  isNull?: boolean | null;
}

/** A set of metric properties by name. */
export type SparkplugPropertySet = Record<string, SparkplugPropertyValue>;

/** A Sparkplug B metric as Tahu's library represents it (DataSet and Template values are plain objects). */
export interface SparkplugMetric {
  name?: string | null;
  alias?: number | SparkplugLong | null;
  timestamp?: number | SparkplugLong | null;
  datatype?: number | null;
  isHistorical?: boolean | null;
  isTransient?: boolean | null;
  isNull?: boolean | null;
  properties?: SparkplugPropertySet;
  type: SparkplugTypeName;
  value: null | number | SparkplugLong | boolean | string | Uint8Array | object;
}

/** A Sparkplug B payload as Tahu's library represents it. */
export interface SparkplugPayload {
  timestamp?: number | SparkplugLong | null;
  metrics?: SparkplugMetric[] | null;
  seq?: number | SparkplugLong | null;
  uuid?: string | null;
  body?: Uint8Array | null;
}

/** Encodes and decodes Sparkplug B payloads. */
export interface SparkplugCodec {
  encode(payload: SparkplugPayload): Uint8Array;
  decode(bytes: Uint8Array): SparkplugPayload;
  /**
   * Encodes a data or command payload without metric datatypes, as Sparkplug 3.0 asks of NDATA/DDATA (the datatype
   * was given in the birth and is not sent again).
   */
  encodeWithoutTypes(payload: SparkplugPayload): Uint8Array;
  /**
   * Decodes a payload whose metrics may carry no datatype (NDATA/DDATA/NCMD/DCMD of a Sparkplug 3.0 peer): `typeOf`
   * names the datatype the birth gave the metric (by name or alias), or undefined when it is unknown.
   */
  decodeWithTypes(
    bytes: Uint8Array,
    typeOf: (name: string | undefined, alias: number | undefined) => string | undefined,
  ): SparkplugPayload;
}

interface SparkplugModule {
  get(namespace: string): {
    encodePayload(payload: SparkplugPayload): Uint8Array;
    decodePayload(bytes: Uint8Array): SparkplugPayload;
  } | null;
}

/** The generated protobuf classes inside sparkplug-payload (the same ones its encoder uses). */
interface ProtoMetric {
  name?: string;
  alias?: unknown;
  datatype?: number;
}
interface ProtoPayload {
  metrics: ProtoMetric[];
}
interface ProtoModule {
  org: {
    eclipse: {
      tahu: {
        protobuf: {
          DataType: Record<string, number>;
          Payload: { decode(bytes: Uint8Array): ProtoPayload; encode(payload: ProtoPayload): { finish(): Uint8Array } };
        };
      };
    };
  };
}

let codec: SparkplugCodec | undefined;

/** Loads `sparkplug-payload` on first use (fails with "npm i sparkplug-payload" when missing). */
export async function loadSparkplugCodec(): Promise<SparkplugCodec> {
  if (codec) return codec;
  const module = await loadOptionalDependency<SparkplugModule>("sparkplug-payload", "Sparkplug B in the MQTT adapter");
  const namespace = module.get(SPARKPLUG_NAMESPACE);
  if (!namespace) throw new Error("sparkplug-payload does not know the spBv1.0 namespace");
  // Tahu's encoder always writes the datatype and its decoder reads a value only through it, so data without
  // datatypes is made and read through Tahu's own protobuf classes: strip the field after encoding, and fill it in
  // from the birth before decoding.
  const proto = (
    await loadOptionalDependency<ProtoModule>(
      "sparkplug-payload/lib/sparkplugPayloadProto.js",
      "Sparkplug B in the MQTT adapter",
    )
  ).org.eclipse.tahu.protobuf;
  codec = {
    encode: (payload) => namespace.encodePayload(payload),
    decode: (bytes) => namespace.decodePayload(bytes),
    encodeWithoutTypes(payload) {
      const raw = proto.Payload.decode(namespace.encodePayload(payload));
      for (const metric of raw.metrics) delete metric.datatype;
      return proto.Payload.encode(raw).finish();
    },
    decodeWithTypes(bytes, typeOf) {
      const raw = proto.Payload.decode(bytes);
      let filled = false;
      for (const metric of raw.metrics) {
        if (metric.datatype) continue;
        // Unset fields read as protobuf defaults from the prototype ("" and 0): only own fields were sent.
        const type = typeOf(
          Object.hasOwn(metric, "name") ? metric.name : undefined,
          Object.hasOwn(metric, "alias") ? toNumber(metric.alias) : undefined,
        );
        const code = type === undefined ? undefined : proto.DataType[type];
        if (code === undefined) continue;
        metric.datatype = code;
        filled = true;
      }
      return namespace.decodePayload(filled ? proto.Payload.encode(raw).finish() : bytes);
    },
  };
  return codec;
}

/** A protobuf uint64 arrives as a Long (or a number); plantwire uses plain numbers. */
export function toNumber(value: unknown): number | undefined {
  if (typeof value === "number") return value;
  if (typeof value === "bigint") return Number(value);
  if (typeof value === "object" && value !== null && typeof (value as { toNumber?: unknown }).toNumber === "function") {
    return (value as { toNumber(): number }).toNumber();
  }
  return undefined;
}

/**
 * The Sparkplug datatype of a tag: Double, Int32/Int64, Boolean, DateTime, or String (enum state names and text).
 */
export function metricType(tag: AnyTag): SparkplugMetric["type"] {
  switch (tag.type) {
    case "float":
      return "Double";
    case "integer": {
      const [low, high] = tag.range ?? [Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY];
      return low >= -(2 ** 31) && high < 2 ** 31 ? "Int32" : "Int64";
    }
    case "boolean":
      return "Boolean";
    case "datetime":
      return "DateTime";
    default:
      return "String";
  }
}

/** Birth properties of a tag: engineering unit, range and description (Sparkplug property-set names Ignition reads). */
export function metricProperties(tag: AnyTag): SparkplugPropertySet | undefined {
  const properties: SparkplugPropertySet = {};
  if ((tag.type === "float" || tag.type === "integer") && tag.unit)
    properties.engUnit = { type: "String", value: tag.unit };
  if ((tag.type === "float" || tag.type === "integer") && tag.range) {
    properties.engLow = { type: "Double", value: tag.range[0] };
    properties.engHigh = { type: "Double", value: tag.range[1] };
  }
  if (tag.description) properties.description = { type: "String", value: tag.description };
  return Object.keys(properties).length > 0 ? properties : undefined;
}

/** A metric's value as plantwire sees it (Longs become numbers). */
export function metricValue(metric: SparkplugMetric): unknown {
  const value = metric.value;
  if (value === null || value === undefined) return undefined;
  return toNumber(value) ?? value;
}

/** The parts of a Sparkplug topic: spBv1.0/group/TYPE/node[/device]. */
export interface SparkplugTopic {
  readonly group: string;
  readonly type: string;
  readonly node: string;
  readonly device?: string;
}

/** Parses a Sparkplug B topic, or undefined when it is not one. */
export function parseSparkplugTopic(topic: string): SparkplugTopic | undefined {
  const parts = topic.split("/");
  if (parts[0] !== SPARKPLUG_NAMESPACE || parts.length < 4 || parts.length > 5) return undefined;
  const [, group, type, node, device] = parts as [string, string, string, string, string | undefined];
  return device === undefined ? { group, type, node } : { group, type, node, device };
}

/** Builds a Sparkplug topic. */
export function sparkplugTopic(group: string, type: string, node: string, device?: string): string {
  return [SPARKPLUG_NAMESPACE, group, type, node, ...(device ? [device] : [])].join("/");
}
