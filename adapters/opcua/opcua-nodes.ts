/**
 * Finding and checking nodes: browse paths resolved segment by segment (namespace-insensitive unless a segment says
 * "2:Name"), browse results paged with continuation points, and each node's DataType, ValueRank, access level,
 * EngineeringUnits and EURange read in batches split at the server's limits.
 */
import type { BrowseResult, DataValue, NodeId, ReadValueIdOptions, ReferenceDescription } from "node-opcua";
import { chunk, mapChunks } from "./opcua-batch.js";
import { builtInTypeName } from "./opcua-codec.js";
import type { OpcuaAddress } from "./opcua-config.js";
import type { OpenSession } from "./opcua-session.js";

/** What plantwire learned about a node. */
export interface OpcuaNodeInfo {
  /** The node id, as text ("ns=1;s=Plant.Pump7.Speed"). */
  readonly nodeId: string;
  /** The built-in data type id (11 = Double) and its name. */
  readonly builtInType: number;
  readonly dataTypeName: string;
  /** -1 scalar, 1 one-dimensional array, ... */
  readonly valueRank: number;
  readonly readable: boolean;
  readonly writable: boolean;
  /** The EngineeringUnits display name, when the node has the property. */
  readonly unit?: string;
  /** The EURange property as [low, high], when present. */
  readonly engineeringRange?: readonly [number, number];
}

const concurrency = 4;

/** A stable key for an address, for caches. */
export function addressKey(address: OpcuaAddress): string {
  return address.nodeId !== undefined ? `id:${address.nodeId}` : `path:${address.path}`;
}

/** Reads many attributes, split at MaxNodesPerRead. A failed chunk throws. */
export function readChunked(open: OpenSession, nodesToRead: ReadValueIdOptions[]): Promise<DataValue[]> {
  return mapChunks(nodesToRead, open.limits.maxNodesPerRead, concurrency, (part) => open.session.read(part));
}

/**
 * The forward hierarchical children of each node. Requests carry at most MaxNodesPerBrowse nodes, and no more nodes
 * than the server keeps continuation points for (MaxBrowseContinuationPoints, per session): each node browsed may leave
 * one open until it is drained. Continuation points go back in BrowseNext requests of the same size, all of a
 * request's points together, until none is left. A node the server refuses to browse gets no children, and its status
 * goes into `problems` when given.
 */
export async function browseChildren(
  open: OpenSession,
  nodeIds: readonly string[],
  problems?: Map<string, string>,
): Promise<ReferenceDescription[][]> {
  const { ua, session, limits } = open;
  const perRequest = Math.max(1, Math.min(limits.maxNodesPerBrowse, limits.maxBrowseContinuationPoints));
  const parallel = limits.maxBrowseContinuationPoints >= concurrency * perRequest ? concurrency : 1;
  const note = (nodeId: string | undefined, result: BrowseResult | undefined) => {
    if (nodeId !== undefined && result && !result.statusCode.isGood()) problems?.set(nodeId, result.statusCode.name);
  };
  return mapChunks([...nodeIds], perRequest, parallel, async (part) => {
    const results = await session.browse(
      part.map((nodeId) => ({
        nodeId,
        browseDirection: ua.BrowseDirection.Forward,
        referenceTypeId: "HierarchicalReferences",
        includeSubtypes: true,
        nodeClassMask: 0,
        resultMask: 63,
      })),
    );
    const references = results.map((result) => [...(result.references ?? [])]);
    let pending: { index: number; point: Buffer }[] = [];
    results.forEach((result, index) => {
      note(part[index], result);
      if (result.continuationPoint && result.continuationPoint.length > 0) {
        pending.push({ index, point: result.continuationPoint });
      }
    });
    while (pending.length > 0) {
      const next: typeof pending = [];
      for (const batch of chunk(pending, perRequest)) {
        const answers: BrowseResult[] = await session.browseNext(
          batch.map((entry) => entry.point),
          false,
        );
        batch.forEach((entry, position) => {
          const answer = answers[position];
          note(part[entry.index], answer);
          references[entry.index]?.push(...(answer?.references ?? []));
          if (answer?.continuationPoint && answer.continuationPoint.length > 0) {
            next.push({ index: entry.index, point: answer.continuationPoint });
          }
        });
      }
      pending = next;
    }
    return references;
  });
}

function splitSegment(segment: string): { namespace?: number; name: string } {
  const match = /^(\d+):(.*)$/.exec(segment);
  return match ? { namespace: Number(match[1]), name: match[2] as string } : { name: segment };
}

/** Resolves browse paths ("/Objects/Plant/Speed") to node ids; a string names the missing segment. */
export async function resolvePaths(open: OpenSession, paths: readonly string[]): Promise<Map<string, string | Error>> {
  const resolved = new Map<string, string>([["", "i=84"]]);
  const children = new Map<string, ReferenceDescription[]>();
  const result = new Map<string, string | Error>();
  const segmentsOf = (path: string) => path.split("/").filter((segment) => segment.length > 0);
  const maxDepth = Math.max(0, ...paths.map((path) => segmentsOf(path).length));
  for (let depth = 1; depth <= maxDepth; depth++) {
    const parents = new Set<string>();
    for (const path of paths) {
      const segments = segmentsOf(path);
      if (segments.length < depth) continue;
      const parent = resolved.get(segments.slice(0, depth - 1).join("/"));
      if (parent !== undefined && !children.has(parent)) parents.add(parent);
    }
    const parentList = [...parents];
    const browsed = await browseChildren(open, parentList);
    for (const [index, parent] of parentList.entries()) children.set(parent, browsed[index] ?? []);
    for (const path of paths) {
      const segments = segmentsOf(path);
      if (segments.length < depth) continue;
      const parent = resolved.get(segments.slice(0, depth - 1).join("/"));
      if (parent === undefined) continue;
      const wanted = splitSegment(segments[depth - 1] as string);
      const match = (children.get(parent) ?? []).find(
        (reference) =>
          reference.browseName.name === wanted.name &&
          (wanted.namespace === undefined || reference.browseName.namespaceIndex === wanted.namespace),
      );
      if (match) resolved.set(segments.slice(0, depth).join("/"), match.nodeId.toString());
    }
  }
  for (const path of paths) {
    const segments = segmentsOf(path);
    const found = resolved.get(segments.join("/"));
    if (found !== undefined && segments.length > 0) {
      result.set(path, found);
      continue;
    }
    let depth = 0;
    while (depth < segments.length && resolved.has(segments.slice(0, depth + 1).join("/"))) depth++;
    result.set(path, new Error(`no node "${segments[depth] ?? ""}" under /${segments.slice(0, depth).join("/")}`));
  }
  return result;
}

async function builtInTypeOf(open: OpenSession, dataType: NodeId, cache: Map<string, number>): Promise<number> {
  if (dataType.namespace === 0 && typeof dataType.value === "number" && dataType.value <= 25) return dataType.value;
  const key = dataType.toString();
  const cached = cache.get(key);
  if (cached !== undefined) return cached;
  const found = Number(await open.ua.findBasicDataType(open.session, dataType));
  cache.set(key, found);
  return found;
}

/** Reads what plantwire needs to know about each node; an Error says why a node cannot carry a tag. */
export async function inspectNodes(
  open: OpenSession,
  nodeIds: readonly string[],
  typeCache: Map<string, number>,
): Promise<(OpcuaNodeInfo | Error)[]> {
  const { ua } = open;
  const { NodeClass, DataType, ValueRank, UserAccessLevel } = ua.AttributeIds;
  const attributes = [NodeClass, DataType, ValueRank, UserAccessLevel];
  const values = await readChunked(
    open,
    nodeIds.flatMap((nodeId) => attributes.map((attributeId) => ({ nodeId, attributeId }))),
  );
  const paths = nodeIds.flatMap((nodeId) => [
    ua.makeBrowsePath(nodeId, ".EngineeringUnits"),
    ua.makeBrowsePath(nodeId, ".EURange"),
  ]);
  const translated = await mapChunks(paths, open.limits.maxNodesPerTranslate, concurrency, (part) =>
    open.session.translateBrowsePath(part),
  );
  const propertyIds = translated.map((entry) =>
    entry.statusCode.isGood() && entry.targets?.[0] ? entry.targets[0].targetId.toString() : undefined,
  );
  const wanted = propertyIds.filter((id): id is string => id !== undefined);
  const propertyValues = await readChunked(
    open,
    wanted.map((nodeId) => ({ nodeId, attributeId: ua.AttributeIds.Value })),
  );
  const byId = new Map(wanted.map((id, index) => [id, propertyValues[index]?.value?.value as unknown]));
  return Promise.all(
    nodeIds.map(async (nodeId, index): Promise<OpcuaNodeInfo | Error> => {
      const [nodeClass, dataType, valueRank, access] = values.slice(index * 4, index * 4 + 4);
      if (!nodeClass?.statusCode.isGood())
        return new Error(`node ${nodeId} does not exist (${nodeClass?.statusCode.name})`);
      if (nodeClass.value.value !== ua.NodeClass.Variable) {
        return new Error(`node ${nodeId} is a ${ua.NodeClass[nodeClass.value.value as number]}, not a Variable`);
      }
      const builtInType = await builtInTypeOf(open, dataType?.value.value as NodeId, typeCache);
      const level = Number(access?.value.value ?? 0);
      const info: { -readonly [K in keyof OpcuaNodeInfo]: OpcuaNodeInfo[K] } = {
        nodeId,
        builtInType,
        dataTypeName: builtInTypeName(builtInType),
        valueRank: Number(valueRank?.value.value ?? -1),
        readable: (level & 1) !== 0,
        writable: (level & 2) !== 0,
      };
      const unitId = propertyIds[index * 2];
      const rangeId = propertyIds[index * 2 + 1];
      const unit = unitId ? (byId.get(unitId) as { displayName?: { text?: string | null } } | undefined) : undefined;
      const range = rangeId ? (byId.get(rangeId) as { low?: number; high?: number } | undefined) : undefined;
      if (unit?.displayName?.text) info.unit = unit.displayName.text;
      if (range && typeof range.low === "number" && typeof range.high === "number") {
        info.engineeringRange = [range.low, range.high];
      }
      return info;
    }),
  );
}
