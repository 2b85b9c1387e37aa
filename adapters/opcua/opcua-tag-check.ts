/**
 * Checks each tag against its node before use: the node exists, its DataType fits the tag's type, and its access
 * level allows what the tag asks (read; write when the tag has a write policy). Results are cached per session.
 */
import type { BoundTag } from "../../src/adapter.js";
import type { ConfigIssue } from "../../src/errors.js";
import { isWritable } from "../../src/tags.js";
import { acceptedTypes, builtInTypeName } from "./opcua-codec.js";
import { addressText, type OpcuaAddress } from "./opcua-config.js";
import { addressKey, inspectNodes, type OpcuaNodeInfo, resolvePaths } from "./opcua-nodes.js";
import type { OpenSession } from "./opcua-session.js";

/** The outcome of checking one tag: its node, or the config issue that stops it. */
export type TagCheck = { readonly info: OpcuaNodeInfo } | { readonly issue: ConfigIssue };

/** Per-session caches of node lookups, and of the checks of tag lists that are read again and again. */
export class NodeCache {
  readonly nodes = new Map<string, OpcuaNodeInfo | Error>();
  readonly types = new Map<string, number>();
  /** Checks by tag list: the plant reads the same list every cycle, so it is checked once per session. */
  readonly lists = new WeakMap<readonly BoundTag[], TagCheck[]>();
  /** The server's namespace array, read when a node id names its namespace by URI ("nsu="). */
  namespaces: string[] | undefined;
}

/** Turns "nsu=<uri>;s=..." into "ns=<index>;s=..." using the server's namespace array. */
async function withNamespaceIndex(open: OpenSession, cache: NodeCache, nodeId: string): Promise<string> {
  const match = /^nsu=([^;]+);(.+)$/.exec(nodeId);
  if (!match) return nodeId;
  cache.namespaces ??= await open.ua.readNamespaceArray(open.session);
  const index = cache.namespaces.indexOf(match[1] as string);
  if (index < 0) throw new Error(`the server has no namespace "${match[1]}"`);
  return `ns=${index};${match[2]}`;
}

function issueFor(tag: BoundTag<OpcuaAddress>, found: OpcuaNodeInfo | Error): TagCheck {
  const path = `tags.${tag.name}.source`;
  const where = addressText(tag.address);
  if (found instanceof Error) {
    return {
      issue: {
        path,
        message: `tag "${tag.name}": ${found.message}`,
        fix: `check the node id or browse path "${where}" (plantwire opcua browse lists the server's nodes)`,
      },
    };
  }
  const definition = tag.definition;
  if (!acceptedTypes(definition).includes(found.builtInType)) {
    const fits = acceptedTypes(definition).map(builtInTypeName).join(", ");
    return {
      issue: {
        path,
        message: `tag "${tag.name}" is of type ${definition.type} but node ${found.nodeId} has DataType ${found.dataTypeName}`,
        fix: `point the tag at a node of DataType ${fits}, or change the tag's type`,
      },
    };
  }
  if (!found.readable) {
    return {
      issue: {
        path,
        message: `tag "${tag.name}": node ${found.nodeId} is not readable by this user`,
        fix: "grant read access on the server, or connect as a user who has it",
      },
    };
  }
  if (isWritable(definition) && !found.writable) {
    return {
      issue: {
        path,
        message: `tag "${tag.name}" has a write policy but node ${found.nodeId} is not writable by this user`,
        fix: "remove the tag's write policy, or grant write access on the server",
      },
    };
  }
  return { info: found };
}

/** Checks tags against their nodes, looking up only nodes not yet in the cache. */
export async function checkTags(
  open: OpenSession,
  cache: NodeCache,
  tags: readonly BoundTag<OpcuaAddress>[],
): Promise<TagCheck[]> {
  const known = cache.lists.get(tags);
  if (known) return known;
  const missing = new Map<string, OpcuaAddress>();
  for (const tag of tags) {
    const key = addressKey(tag.address);
    if (!cache.nodes.has(key)) missing.set(key, tag.address);
  }
  if (missing.size > 0) {
    const paths = [...missing.values()].flatMap((address) => (address.path !== undefined ? [address.path] : []));
    const resolvedPaths = paths.length > 0 ? await resolvePaths(open, paths) : new Map<string, string | Error>();
    const nodeIds = new Map<string, string>();
    for (const [key, address] of missing) {
      const resolved = address.nodeId ?? resolvedPaths.get(address.path ?? "");
      if (resolved instanceof Error || resolved === undefined) {
        cache.nodes.set(key, resolved ?? new Error(`browse path ${address.path} was not resolved`));
        continue;
      }
      try {
        nodeIds.set(key, open.ua.resolveNodeId(await withNamespaceIndex(open, cache, resolved)).toString());
      } catch (error) {
        cache.nodes.set(key, new Error(`"${resolved}" is not a valid node id: ${(error as Error).message}`));
      }
    }
    const keys = [...nodeIds.keys()];
    const infos = await inspectNodes(open, [...nodeIds.values()], cache.types);
    for (const [index, key] of keys.entries()) cache.nodes.set(key, infos[index] ?? new Error("not inspected"));
  }
  const checks = tags.map((tag) =>
    issueFor(tag, cache.nodes.get(addressKey(tag.address)) ?? new Error("not inspected")),
  );
  cache.lists.set(tags, checks);
  return checks;
}
