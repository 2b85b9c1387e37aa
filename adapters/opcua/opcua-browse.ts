/**
 * Browse to tag map: walks a subtree of a server's address space (level by level, paged with continuation points,
 * split at MaxNodesPerBrowse with bounded concurrency) and writes a typed tag-map file — names, types, units, ranges
 * and writability from access levels — that `loadTagMap` and `createPlant` load directly.
 */
import { writeFile } from "node:fs/promises";
import { ConfigError } from "../../src/errors.js";
import { type NodeOpcua, tagTypeFor } from "./opcua-codec.js";
import { type OpcuaOptions, resolveOpcuaOptions } from "./opcua-config.js";
import { browseChildren, inspectNodes, resolvePaths } from "./opcua-nodes.js";
import { type OpenSession, openSession } from "./opcua-session.js";

/** Options of {@link browseToTagMap}. */
export interface BrowseOptions {
  /** Where to start: a node id or a browse path. @default "/Objects" */
  root?: string;
  /** How many levels below the root to walk. @default 10 */
  depth?: number;
  /** References asked per node and browse result; more come through continuation points. @default 1000 */
  maxReferencesPerNode?: number;
  /**
   * Also walk the Server object (ns=0, i=2253): the server's own diagnostics, capabilities and status, hundreds of
   * variables no tag map wants. Left out (and reported as skipped) unless asked, or unless it is the root. @default false
   */
  includeServer?: boolean;
  /** Hears progress after each level. */
  onProgress?: (progress: BrowseProgress) => void;
}

/** How far a browse has come. */
export interface BrowseProgress {
  readonly depth: number;
  readonly nodesVisited: number;
  readonly variablesFound: number;
}

/** One variable found by a browse. */
export interface BrowsedVariable {
  readonly name: string;
  readonly nodeId: string;
  readonly path: string;
  readonly type: "float" | "integer" | "boolean" | "text" | "datetime";
  readonly writable: boolean;
  readonly unit?: string;
  readonly range?: readonly [number, number];
}

/** A node a browse left out, and why. */
export interface SkippedNode {
  readonly path: string;
  readonly nodeId: string;
  readonly why: string;
}

/**
 * What a browse found. `skipped` names every node left out with its reason: the Server object (unless asked), a
 * variable the session cannot read, one whose DataType has no tag type or that holds an array, a folder the server
 * refused to browse.
 */
export interface BrowseResult {
  readonly variables: BrowsedVariable[];
  readonly skipped: SkippedNode[];
}

/** The Server object's node id (ns=0): diagnostics, capabilities, status. */
export const serverObjectId = "ns=0;i=2253";

function tagName(segments: readonly string[], taken: Set<string>): string {
  let name = segments
    .map((segment) => segment.replace(/[^A-Za-z0-9_-]+/g, "_"))
    .join(".")
    .slice(0, 120);
  if (!/^[A-Za-z_]/.test(name)) name = `_${name}`;
  let unique = name;
  for (let suffix = 2; taken.has(unique); suffix++) unique = `${name}_${suffix}`;
  taken.add(unique);
  return unique;
}

/** Walks the address space under `root` on an open session. */
export async function browseVariables(open: OpenSession, options: BrowseOptions = {}): Promise<BrowseResult> {
  const ua: NodeOpcua = open.ua;
  const rootText = options.root ?? "/Objects";
  let root = rootText;
  if (rootText.startsWith("/")) {
    const resolved = (await resolvePaths(open, [rootText])).get(rootText);
    if (resolved === undefined || resolved instanceof Error) {
      throw new ConfigError([
        {
          path: "root",
          message: `${rootText}: ${resolved?.message ?? "not found"}`,
          fix: "give an existing browse path or node id",
        },
      ]);
    }
    root = resolved;
  }
  open.session.requestedMaxReferencesPerNode = options.maxReferencesPerNode ?? 1000;
  const visited = new Set<string>([root]);
  const found: { nodeId: string; segments: string[] }[] = [];
  const skipped: SkippedNode[] = [];
  const pathOf = (segments: readonly string[]) => `${rootText.replace(/\/$/, "")}/${segments.join("/")}`;
  let frontier = [{ nodeId: root, segments: [] as string[] }];
  const maxDepth = options.depth ?? 10;
  for (let depth = 1; depth <= maxDepth && frontier.length > 0; depth++) {
    const refused = new Map<string, string>();
    const children = await browseChildren(
      open,
      frontier.map((entry) => entry.nodeId),
      refused,
    );
    const next: typeof frontier = [];
    frontier.forEach((parent, index) => {
      const status = refused.get(parent.nodeId);
      if (status !== undefined) {
        skipped.push({
          path: pathOf(parent.segments),
          nodeId: parent.nodeId,
          why: `the server refused to browse it (${status})`,
        });
      }
      for (const reference of children[index] ?? []) {
        const nodeId = reference.nodeId.toString();
        if (visited.has(nodeId)) continue;
        visited.add(nodeId);
        const segments = [...parent.segments, reference.browseName.name ?? nodeId];
        if (nodeId === serverObjectId && !options.includeServer) {
          skipped.push({
            path: pathOf(segments),
            nodeId,
            why: "the Server diagnostics object (ns=0): left out; browse it with includeServer (--include-server)",
          });
          continue;
        }
        if (reference.nodeClass === ua.NodeClass.Variable) found.push({ nodeId, segments });
        else if (reference.nodeClass === ua.NodeClass.Object) next.push({ nodeId, segments });
      }
    });
    frontier = next;
    options.onProgress?.({ depth, nodesVisited: visited.size, variablesFound: found.length });
  }
  const infos = await inspectNodes(
    open,
    found.map((entry) => entry.nodeId),
    new Map(),
  );
  const taken = new Set<string>();
  const variables: BrowsedVariable[] = [];
  for (const [index, entry] of found.entries()) {
    const info = infos[index];
    const path = pathOf(entry.segments);
    const { nodeId } = entry;
    if (!info || info instanceof Error) {
      skipped.push({ path, nodeId, why: info?.message ?? "not inspected" });
      continue;
    }
    if (!info.readable) {
      skipped.push({
        path,
        nodeId,
        why: "not readable by this session's user (its UserAccessLevel lacks CurrentRead)",
      });
      continue;
    }
    const type = tagTypeFor(info.builtInType);
    if (!type || info.valueRank !== -1) {
      skipped.push({ path, nodeId, why: type ? "an array" : `DataType ${info.dataTypeName} has no tag type` });
      continue;
    }
    const variable: { -readonly [K in keyof BrowsedVariable]: BrowsedVariable[K] } = {
      name: tagName(entry.segments, taken),
      nodeId: info.nodeId,
      path,
      type,
      writable: info.writable,
    };
    if (info.unit !== undefined && (type === "float" || type === "integer")) variable.unit = info.unit;
    const range = info.engineeringRange;
    if (range && range[0] < range[1] && (type === "float" || type === "integer")) variable.range = range;
    variables.push(variable);
  }
  return { variables, skipped };
}

/**
 * The tag-map document for browsed variables. Writable nodes get a write policy with `allowed: false` and
 * `approval: required`: the map records that the node can be written, and a person decides whether it may be.
 */
export function tagMapDocument(variables: readonly BrowsedVariable[], adapterName: string): Record<string, unknown> {
  const tags: Record<string, unknown> = {};
  for (const variable of variables) {
    const tag: Record<string, unknown> = { type: variable.type };
    if (variable.type === "text") tag.maxLength = 255;
    if (variable.unit !== undefined) tag.unit = variable.unit;
    if (variable.range !== undefined) tag.range = [...variable.range];
    if (variable.writable) tag.write = { allowed: false, approval: "required" };
    tag.source = { adapter: adapterName, nodeId: variable.nodeId };
    tags[variable.name] = tag;
  }
  return { tags };
}

/** Options of {@link browseToTagMap}: how to connect, what to walk, and where to write. */
export type BrowseToTagMapOptions = OpcuaOptions & BrowseOptions & { out?: string };

/** Connects, browses, and returns (and writes, when `out` is given) a YAML tag map. */
export async function browseToTagMap(options: BrowseToTagMapOptions): Promise<BrowseResult & { yaml: string }> {
  const { root, depth, maxReferencesPerNode, includeServer, onProgress, out, ...connection } = options;
  const settings = resolveOpcuaOptions(connection);
  if (settings.securityMode === "None" || settings.insecure) {
    settings.onWarning(
      `[plantwire] browsing ${settings.endpoint} with security mode ${settings.securityMode} (insecure)`,
    );
  }
  const open = await openSession(settings, { lost() {}, restored() {}, note() {} });
  try {
    const browseOptions: BrowseOptions = {};
    if (root !== undefined) browseOptions.root = root;
    if (depth !== undefined) browseOptions.depth = depth;
    if (maxReferencesPerNode !== undefined) browseOptions.maxReferencesPerNode = maxReferencesPerNode;
    if (onProgress !== undefined) browseOptions.onProgress = onProgress;
    if (includeServer !== undefined) browseOptions.includeServer = includeServer;
    const result = await browseVariables(open, browseOptions);
    const { stringify } = await import("yaml");
    const header = `# Tag map browsed from ${settings.endpoint} (root ${root ?? "/Objects"}) by plantwire opcua browse.\n# Writable nodes carry write: { allowed: false }: review each before allowing writes.\n`;
    const skippedLines = result.skipped.map((node) => `#   ${node.path} (${node.nodeId}): ${node.why}\n`).join("");
    const skippedHeader = skippedLines ? `# Left out:\n${skippedLines}` : "";
    const yaml = header + skippedHeader + stringify(tagMapDocument(result.variables, settings.name), { lineWidth: 0 });
    if (out !== undefined) await writeFile(out, yaml, "utf8");
    return { ...result, yaml };
  } finally {
    await open.close(true);
  }
}
