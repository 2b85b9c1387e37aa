/**
 * The simulator's address space: variable specs (from a tag map, a list, or generated), laid out as a readable folder
 * tree under Objects, with EngineeringUnits and EURange where the spec has them and write access for setpoints.
 */
import type { Namespace, UAObject, UAVariable } from "node-opcua";
import type { TagDefinitions } from "../../src/tags.js";
import { isWritable } from "../../src/tags.js";
import type { NodeOpcua } from "./opcua-codec.js";
import type { OpcuaAddress } from "./opcua-config.js";

/** The built-in types the simulator serves. */
export type SimulatorDataType =
  | "Boolean"
  | "SByte"
  | "Byte"
  | "Int16"
  | "UInt16"
  | "Int32"
  | "UInt32"
  | "Int64"
  | "UInt64"
  | "Float"
  | "Double"
  | "String"
  | "DateTime";

/** One variable of the simulator. */
export interface SimulatorVariable {
  /** Folder path and name under Objects, e.g. "Plant/Pump7/Speed". */
  readonly path: string;
  /** The node id. @default "ns=1;s=" + the path with "/" as "." */
  readonly nodeId?: string;
  readonly dataType: SimulatorDataType;
  /** The initial value (an array makes a one-dimensional array variable). */
  readonly value: unknown;
  /** EngineeringUnits display name, e.g. "rpm". */
  readonly unit?: string;
  /** EURange [low, high]. */
  readonly range?: readonly [number, number];
  /** Whether clients may write it (a setpoint). @default false */
  readonly writable?: boolean;
  /** Whether clients may read it; false serves a node whose UserAccessLevel lacks CurrentRead. @default true */
  readonly readable?: boolean;
  /** Answer writes with Good_CompletesAsynchronously (the device applies them later), for tests. @default false */
  readonly completesAsynchronously?: boolean;
  /** Extra names `simulator.set()` accepts, e.g. the tag name. */
  readonly aliases?: readonly string[];
}

const tagDataTypes = {
  float: "Double",
  integer: "Int32",
  boolean: "Boolean",
  enum: "Int32",
  text: "String",
  datetime: "DateTime",
} as const;

/** The simulator's own namespace index (node-opcua puts the server's own namespace at 1). */
export const simulatorNamespace = 1;

function pathFromAddress(name: string, address: OpcuaAddress): { path: string; nodeId?: string } {
  if (address.path !== undefined) {
    const segments = address.path.split("/").filter((segment) => segment.length > 0);
    const relative = segments[0] === "Objects" ? segments.slice(1) : segments;
    return { path: relative.map((segment) => segment.replace(/^\d+:/, "")).join("/") };
  }
  const nodeId = address.nodeId ?? "";
  const stringId = /^ns=1;s=(.+)$/.exec(nodeId);
  if (stringId) return { path: (stringId[1] as string).split(".").join("/"), nodeId };
  return { path: `Simulator/${name}`, nodeId };
}

/** Variables that serve a tag map whose sources are OPC UA node ids (ns=1) or browse paths. */
export function variablesFromTags(tags: TagDefinitions): SimulatorVariable[] {
  return Object.entries(tags).map(([name, tag]) => {
    const where = pathFromAddress(name, tag.source.address as OpcuaAddress);
    const numeric = tag.type === "float" || tag.type === "integer";
    const low = numeric && tag.range ? tag.range[0] : 0;
    const initial =
      tag.type === "boolean"
        ? false
        : tag.type === "text"
          ? ""
          : tag.type === "enum"
            ? Object.values(tag.states)[0]
            : tag.type === "datetime"
              ? new Date(Date.UTC(2000, 0, 1))
              : low;
    const variable: { -readonly [K in keyof SimulatorVariable]: SimulatorVariable[K] } = {
      ...where,
      dataType: tagDataTypes[tag.type],
      value: initial,
      writable: isWritable(tag),
      aliases: [name],
    };
    if (numeric && tag.unit !== undefined) variable.unit = tag.unit;
    if (numeric && tag.range !== undefined) variable.range = tag.range;
    return variable;
  });
}

/**
 * A generated address space: `count` Double variables (value = index × 0.5) in folders of `perFolder`. Every tenth
 * is a writable setpoint with a unit and an EURange (analog items cost ~2 ms each to build, so not all carry one).
 */
export function generatedVariables(count: number, perFolder = 100): SimulatorVariable[] {
  return Array.from({ length: count }, (_, index): SimulatorVariable => {
    const path = `Generated/Area${Math.floor(index / perFolder)}/Value${index}`;
    const value = index * 0.5;
    return index % 10 === 0
      ? { path, dataType: "Double", value, unit: "bar", range: [0, 100_000], writable: true }
      : { path, dataType: "Double", value };
  });
}

/** The node id a spec gets. */
export function nodeIdOf(variable: SimulatorVariable): string {
  return variable.nodeId ?? `ns=${simulatorNamespace};s=${variable.path.split("/").join(".")}`;
}

/** Builds the folder tree and variables; returns each spec's variable node by its node id. */
export function buildAddressSpace(
  ua: NodeOpcua,
  namespace: Namespace,
  objects: UAObject,
  variables: readonly SimulatorVariable[],
  currentValue: (variable: SimulatorVariable) => unknown,
  standardTypes: boolean,
  onAsynchronousWrite: (variable: SimulatorVariable, value: unknown) => void,
): Map<string, UAVariable> {
  const folders = new Map<string, UAObject>([["", objects]]);
  const folderFor = (segments: readonly string[]): UAObject => {
    const key = segments.join("/");
    const known = folders.get(key);
    if (known) return known;
    const parent = folderFor(segments.slice(0, -1));
    const folder = namespace.addFolder(parent, {
      browseName: segments[segments.length - 1] as string,
      nodeId: `s=folder:${key}`,
    });
    folders.set(key, folder);
    return folder;
  };
  const nodes = new Map<string, UAVariable>();
  for (const spec of variables) {
    const segments = spec.path.split("/").filter((segment) => segment.length > 0);
    const parent = folderFor(segments.slice(0, -1));
    const nodeId = nodeIdOf(spec);
    const access = spec.writable ? "CurrentRead | CurrentWrite" : "CurrentRead";
    const userAccess = spec.readable === false ? (spec.writable ? "CurrentWrite" : 0) : access;
    const value = currentValue(spec);
    const base = {
      organizedBy: parent,
      browseName: segments[segments.length - 1] as string,
      nodeId,
      dataType: spec.dataType,
      valueRank: Array.isArray(value) ? 1 : -1,
      accessLevel: access,
      userAccessLevel: userAccess,
      minimumSamplingInterval: 50,
      ...(spec.completesAsynchronously
        ? {
            value: {
              get: () => variantOf(ua, spec, currentValue(spec)),
              set: (variant: { value: unknown }) => {
                onAsynchronousWrite(spec, variant.value);
                return ua.StatusCodes.GoodCompletesAsynchronously;
              },
            },
          }
        : {}),
    };
    const variable =
      standardTypes && spec.range
        ? namespace.addAnalogDataItem({
            ...base,
            engineeringUnitsRange: { low: spec.range[0], high: spec.range[1] },
            // A write outside the range is refused with BadOutOfRange, as a careful device would.
            instrumentRange: { low: spec.range[0], high: spec.range[1] },
            acceptValueOutOfRange: false,
            ...(spec.unit ? { engineeringUnits: ua.makeEUInformation(spec.unit, spec.unit, spec.unit) } : {}),
          })
        : namespace.addVariable(base);
    if (standardTypes && spec.unit && !spec.range) {
      namespace.addVariable({
        propertyOf: variable,
        browseName: { name: "EngineeringUnits", namespaceIndex: 0 },
        typeDefinition: "PropertyType",
        dataType: "EUInformation",
        value: { dataType: ua.DataType.ExtensionObject, value: ua.makeEUInformation(spec.unit, spec.unit, spec.unit) },
      });
    }
    if (!spec.completesAsynchronously) variable.setValueFromSource(variantOf(ua, spec, value));
    nodes.set(nodeId, variable as UAVariable);
  }
  return nodes;
}

/** A Variant for a spec's value. */
export function variantOf(ua: NodeOpcua, spec: SimulatorVariable, value: unknown) {
  const dataType = ua.DataType[spec.dataType];
  const toWire = (item: unknown) =>
    (spec.dataType === "Int64" || spec.dataType === "UInt64") && typeof item === "number"
      ? [Math.floor(item / 4294967296), item >>> 0]
      : item;
  return Array.isArray(value)
    ? new ua.Variant({ dataType, arrayType: ua.VariantArrayType.Array, value: value.map(toWire) })
    : new ua.Variant({ dataType, arrayType: ua.VariantArrayType.Scalar, value: toWire(value) });
}
