/**
 * A Sparkplug B 3.0 decoder for the tests, independent of plantwire's codec: births through Eclipse Tahu's
 * `sparkplug-payload`, data (which carries no datatypes) read field by field from Tahu's generated protobuf classes
 * with the datatypes the birth declared, the way a Sparkplug 3.0 host application reads it.
 */
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const tahu = require("sparkplug-payload") as {
  get(namespace: string): { decodePayload(bytes: Uint8Array): DecodedPayload };
};
const proto = (require("sparkplug-payload/lib/sparkplugPayloadProto.js") as ProtoRoot).org.eclipse.tahu.protobuf;

interface ProtoRoot {
  org: { eclipse: { tahu: { protobuf: { Payload: { decode(bytes: Uint8Array): RawPayload } } } } };
}
interface RawMetric {
  name?: string;
  alias?: unknown;
  timestamp?: unknown;
  datatype?: number;
  isNull?: boolean;
  isHistorical?: boolean;
  value?: string;
  intValue?: number;
  longValue?: unknown;
  floatValue?: number;
  doubleValue?: number;
  booleanValue?: boolean;
  stringValue?: string;
  [key: string]: unknown;
}
interface RawPayload {
  seq?: unknown;
  timestamp?: unknown;
  metrics: RawMetric[];
}

/** One decoded metric: what was on the wire, with `hasDatatype` / `hasTimestamp` telling whether the fields were sent. */
export interface ReferenceMetric {
  name: string | undefined;
  alias: number | undefined;
  type: string | undefined;
  value: unknown;
  timestamp: number | undefined;
  hasDatatype: boolean;
  hasTimestamp: boolean;
  isHistorical: boolean;
  properties?: Record<string, { type: string; value: unknown }>;
}

/** A decoded payload. */
export interface ReferencePayload {
  seq: number | undefined;
  metrics: ReferenceMetric[];
}

interface DecodedPayload {
  metrics?: { name?: string | null; type: string; properties?: Record<string, { type: string; value: unknown }> }[];
}

const number = (value: unknown): number | undefined =>
  value === undefined || value === null ? undefined : Number(String(value));
const own = (object: object, key: string) => Object.hasOwn(object, key);

/** Decodes Sparkplug messages of one group, remembering each node's and device's births for the data after them. */
export class ReferenceDecoder {
  readonly #types = new Map<string, Map<string, string>>();

  decode(topic: string, bytes: Uint8Array): ReferencePayload | undefined {
    const parts = topic.split("/");
    if (parts[0] !== "spBv1.0" || parts.length < 4) return undefined;
    const type = parts[2] ?? "";
    const scope = `${parts[3]}/${parts[4] ?? ""}`;
    const raw = proto.Payload.decode(bytes);
    const birth = type.endsWith("BIRTH");
    const tahuMetrics = birth ? (tahu.get("spBv1.0").decodePayload(bytes).metrics ?? []) : [];
    if (birth) this.#types.set(scope, new Map());
    const types = this.#types.get(scope);
    const metrics = raw.metrics.map((metric, index): ReferenceMetric => {
      const alias = own(metric, "alias") ? number(metric.alias) : undefined;
      const name = own(metric, "name") ? metric.name : undefined;
      const declared = own(metric, "datatype") ? tahuTypeName(metric.datatype) : undefined;
      if (birth && declared) {
        if (alias !== undefined) types?.set(`#${alias}`, declared);
        if (name !== undefined) types?.set(name, declared);
      }
      const typeName = declared ?? types?.get(name ?? `#${alias}`);
      const entry: ReferenceMetric = {
        name,
        alias,
        type: typeName,
        value: metric.isNull ? null : readValue(typeName, metric),
        timestamp: own(metric, "timestamp") ? number(metric.timestamp) : undefined,
        hasDatatype: own(metric, "datatype"),
        hasTimestamp: own(metric, "timestamp"),
        isHistorical: metric.isHistorical === true,
      };
      const properties = tahuMetrics[index]?.properties;
      if (properties) entry.properties = properties;
      return entry;
    });
    return { seq: own(raw, "seq") ? number(raw.seq) : undefined, metrics };
  }
}

const TYPE_NAMES = [
  "Unknown",
  "Int8",
  "Int16",
  "Int32",
  "Int64",
  "UInt8",
  "UInt16",
  "UInt32",
  "UInt64",
  "Float",
  "Double",
  "Boolean",
  "String",
  "DateTime",
  "Text",
];

function tahuTypeName(code: number | undefined): string | undefined {
  return code === undefined ? undefined : TYPE_NAMES[code];
}

function readValue(type: string | undefined, metric: RawMetric): unknown {
  switch (type) {
    case "Int8":
    case "Int16":
    case "Int32":
      return (metric.intValue ?? 0) | 0;
    case "UInt8":
    case "UInt16":
      return metric.intValue;
    case "Int64":
    case "UInt32":
    case "UInt64":
    case "DateTime":
      return number(metric.longValue);
    case "Float":
      return metric.floatValue;
    case "Double":
      return metric.doubleValue;
    case "Boolean":
      return metric.booleanValue;
    case "String":
    case "Text":
      return metric.stringValue;
    default:
      return metric.value === undefined ? undefined : metric[metric.value];
  }
}
