/**
 * Write checks that know the wire: whether a value fits the node's DataType (integer ranges and whole numbers, the
 * float32 range, a valid Date for DateTime, array or scalar), and whether a value read back equals the one written at
 * the node's precision (a Float node holds float32: 0.1 reads back 0.10000000149011612). Both need the node's DataType,
 * which the adapter learns when it checks the tags (prepare(), or the first read) and keeps per node.
 */
import type { BoundTag } from "../../src/adapter.js";
import type { AnyTag } from "../../src/tags.js";
import { builtInTypes, scalarFor } from "./opcua-codec.js";
import type { OpcuaAddress } from "./opcua-config.js";
import { addressKey, type OpcuaNodeInfo } from "./opcua-nodes.js";

/** What a write puts on the wire for a node: a scalar or an array of scalars; throws with the misfit. */
export function wireValue(
  tag: AnyTag,
  node: Pick<OpcuaNodeInfo, "builtInType" | "valueRank">,
  value: unknown,
): unknown {
  if (Array.isArray(value)) {
    if (node.valueRank === -1) throw new Error("the node holds a scalar, not an array");
    return value.map((item) => scalarFor(tag, node.builtInType, item));
  }
  if (node.valueRank > 0) throw new Error("the node holds an array: write an array of values");
  return scalarFor(tag, node.builtInType, value);
}

/** Undefined when the value fits the node, else the problem naming the node and its DataType. */
export function wireProblem(tag: AnyTag, node: OpcuaNodeInfo, value: unknown): string | undefined {
  try {
    wireValue(tag, node, value);
    return undefined;
  } catch (error) {
    return `node ${node.nodeId} (DataType ${node.dataTypeName}): ${(error as Error).message}`;
  }
}

function sameScalar(builtInType: number, written: unknown, readBack: unknown): boolean | undefined {
  if (written instanceof Date && readBack instanceof Date) return written.getTime() === readBack.getTime();
  if (builtInType === builtInTypes.Float && typeof written === "number" && typeof readBack === "number") {
    // The node stored the nearest float32; what comes back is that float32 widened to a double.
    return Math.fround(written) === Math.fround(readBack);
  }
  return undefined;
}

/**
 * Whether a read-back equals the written value at the node's precision: float32 for Float nodes, milliseconds for
 * DateTime. Undefined where the guard's own comparison is right (Double, integers, text, booleans).
 */
export function sameAtNodePrecision(node: OpcuaNodeInfo, written: unknown, readBack: unknown): boolean | undefined {
  if (Array.isArray(written) && Array.isArray(readBack)) {
    if (written.length !== readBack.length) return false;
    const each = written.map((item, index) => sameScalar(node.builtInType, item, readBack[index]));
    if (each.every((same) => same === undefined)) return undefined;
    return each.every((same, index) => same ?? Object.is(written[index], readBack[index]));
  }
  return sameScalar(node.builtInType, written, readBack);
}

/**
 * Each checked node's DataType by address, kept across sessions: the guard's checkWrite and sameOnWire are synchronous,
 * so they use what the last tag check learned. A node not checked yet answers undefined (write() still checks).
 */
export class NodeTypes {
  readonly #nodes = new Map<string, OpcuaNodeInfo>();

  /** Keeps what a tag check found. */
  record(tags: readonly BoundTag<OpcuaAddress>[], checks: readonly ({ info: OpcuaNodeInfo } | object)[]): void {
    checks.forEach((check, index) => {
      const tag = tags[index];
      if (tag && "info" in check) this.#nodes.set(addressKey(tag.address), check.info);
    });
  }

  /** The adapter's checkWrite. */
  checkWrite(tag: BoundTag<OpcuaAddress>, value: unknown): string | undefined {
    const node = this.#nodes.get(addressKey(tag.address));
    return node === undefined ? undefined : wireProblem(tag.definition, node, value);
  }

  /** The adapter's sameOnWire. */
  sameOnWire(tag: BoundTag<OpcuaAddress>, written: unknown, readBack: unknown): boolean | undefined {
    const node = this.#nodes.get(addressKey(tag.address));
    return node === undefined ? undefined : sameAtNodePrecision(node, written, readBack);
  }
}
