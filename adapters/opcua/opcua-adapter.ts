/**
 * The OPC UA adapter: one secure session, batched reads split at the server's limits, subscriptions that survive
 * reconnections, typed single-attempt writes, and tags checked against their nodes before use.
 */
import {
  ADAPTER_CONTRACT_VERSION,
  type Adapter,
  type BoundTag,
  type SampleListener,
  StatusTracker,
  type TagSource,
  type WriteResult,
} from "../../src/adapter.js";
import { withDeadline } from "../../src/deadline.js";
import { ConfigError, ConnectionError, ProtocolError, TimeoutError, ValidationError } from "../../src/errors.js";
import type { TagDefinitions } from "../../src/tags.js";
import { qualityOf, variantFor } from "./opcua-codec.js";
import {
  addressText,
  isInsecure,
  type OpcuaAddress,
  type OpcuaOptions,
  type OpcuaSourceOptions,
  parseOpcuaAddress,
  resolveOpcuaOptions,
} from "./opcua-config.js";
import { opcuaDevice } from "./opcua-device.js";
import type { OpcuaNodeInfo } from "./opcua-nodes.js";
import { readTags } from "./opcua-read.js";
import { type OpenSession, type OperationLimits, openSession } from "./opcua-session.js";
import { createOpcuaSubscription, type OpcuaSubscriptionHandle } from "./opcua-subscription.js";
import { checkTags, NodeCache, type TagCheck } from "./opcua-tag-check.js";
import { NodeTypes } from "./opcua-wire.js";

/** A write result with the OPC UA status code; `verified: false` for Good_CompletesAsynchronously. */
export interface OpcuaWriteResult extends WriteResult {
  /** The status code name the server answered with, when it answered. */
  readonly statusCode?: string;
  /** False when the server accepted the write but will complete it later (Good_CompletesAsynchronously). */
  readonly verified: boolean;
}

/** The OPC UA adapter: the adapter contract plus source builders and node checks. */
export interface OpcuaAdapter extends Adapter<OpcuaAddress> {
  /** A source for a node id in any form, e.g. `plc.node("ns=2;s=Pump7.Speed")`. */
  node(nodeId: string, options?: OpcuaSourceOptions): TagSource<OpcuaAddress>;
  /** A source for a browse path from the root, e.g. `plc.path("/Objects/Plant/Pump7/Speed")`. */
  path(browsePath: string, options?: OpcuaSourceOptions): TagSource<OpcuaAddress>;
  parseSource(raw: Readonly<Record<string, unknown>>): TagSource<OpcuaAddress>;
  /**
   * Checks tags against their nodes (exists, DataType fits, access level allows read/write) and returns what each
   * node says (DataType, EngineeringUnits, EURange). Throws a ConfigError naming every tag and node that does not fit.
   */
  verify(tags: TagDefinitions | readonly BoundTag<OpcuaAddress>[]): Promise<Map<string, OpcuaNodeInfo>>;
  write(tag: BoundTag<OpcuaAddress>, value: unknown): Promise<OpcuaWriteResult>;
  subscribe(tags: readonly BoundTag<OpcuaAddress>[], listener: SampleListener): Promise<OpcuaSubscriptionHandle>;
  /** The server's operation limits as used for splitting requests, once connected. */
  limits(): OperationLimits | undefined;
  /** Completed reconnections since connect (one per outage). */
  readonly reconnectionCount: number;
}

function bind(tags: TagDefinitions | readonly BoundTag<OpcuaAddress>[]): BoundTag<OpcuaAddress>[] {
  if (Array.isArray(tags)) return [...(tags as readonly BoundTag<OpcuaAddress>[])];
  return Object.entries(tags as TagDefinitions).map(([name, definition]) => ({
    name,
    definition,
    address: definition.source.address as OpcuaAddress,
  }));
}

/** Creates an OPC UA adapter. Nothing connects until `connect()`; node-opcua is loaded then. */
export function opcua(options: OpcuaOptions): OpcuaAdapter {
  const settings = resolveOpcuaOptions(options);
  const { name } = settings;
  const status = new StatusTracker();
  status.on((now) =>
    settings.logger.debug(`OPC UA adapter "${name}": ${now.state}${now.reason ? ` (${now.reason})` : ""}`),
  );
  const subscriptions = new Set<OpcuaSubscriptionHandle>();
  let open: OpenSession | undefined;
  let connecting: Promise<void> | undefined;
  let cache = new NodeCache();
  let linkUp = false;
  let reconnectionCount = 0;
  const nodeTypes = new NodeTypes();

  const requireOpen = (): OpenSession => {
    if (!open) throw new ConnectionError(`OPC UA adapter "${name}" is not connected. Fix: call connect() first.`);
    if (!linkUp) throw new ConnectionError(`OPC UA adapter "${name}" lost its connection and is reconnecting`);
    return open;
  };

  const checked = async (tags: readonly BoundTag<OpcuaAddress>[]): Promise<TagCheck[]> => {
    const checks = await checkTags(requireOpen(), cache, tags);
    nodeTypes.record(tags, checks);
    return checks;
  };

  // A request without an answer within requestTimeoutMs is the first sign of a half-open link; the session keep-alive
  // that breaks the connection may be many seconds away. Report it at once, and clear it on the next answer.
  const unanswered = (what: string) => {
    if (linkUp) status.set("degraded", `no answer to a ${what} within ${settings.requestTimeoutMs} ms`);
  };
  const answered = () => {
    if (linkUp && status.get().state === "degraded") status.set("connected", "the server answers again");
  };

  async function doConnect(signal?: AbortSignal): Promise<void> {
    status.set("connecting", `connecting to ${settings.endpoint}`);
    if (isInsecure(settings)) {
      settings.onWarning(
        `OPC UA adapter "${name}" connects to ${settings.endpoint} with security mode ${settings.securityMode} and policy ${settings.securityPolicy}: traffic is not fully protected (insecure: true).`,
      );
    }
    try {
      open = await openSession(
        settings,
        {
          lost(reason) {
            // The server cannot be reached at all: that is disconnected (reconnecting), not a partly working link.
            linkUp = false;
            status.set("disconnected", reason);
            for (const subscription of subscriptions) subscription.connectionLost(reason);
          },
          restored() {
            linkUp = true;
            reconnectionCount++;
            status.set("connected", "reconnected");
          },
          note(state, reason) {
            if (!linkUp) status.set("disconnected", reason);
            else if (state === "degraded") status.set("degraded", reason);
            else if (linkUp && status.get().state === "degraded") status.set("connected", reason);
          },
        },
        signal,
      );
      cache = new NodeCache();
      linkUp = true;
      status.set("connected");
    } catch (error) {
      status.set("disconnected", (error as Error).message);
      throw error;
    }
  }

  const adapter: OpcuaAdapter = {
    contractVersion: ADAPTER_CONTRACT_VERSION,
    kind: "opcua",
    name,
    capabilities: { subscribe: true, write: true },
    useLogger: (logger) => settings.logger.adopt(logger),
    get reconnectionCount() {
      return reconnectionCount;
    },
    async connect(signal) {
      if (open) return;
      connecting ??= doConnect(signal).finally(() => {
        connecting = undefined;
      });
      return connecting;
    },
    async close() {
      await connecting?.catch(() => {});
      const current = open;
      const wasUp = linkUp;
      open = undefined;
      linkUp = false;
      await Promise.allSettled([...subscriptions].map((subscription) => subscription.close(wasUp)));
      subscriptions.clear();
      await current?.close(wasUp);
      status.set("disconnected", "closed");
    },
    async read(tags, signal) {
      const session = requireOpen();
      const checks = await checked(tags);
      try {
        const samples = await readTags(session, tags, checks, signal, settings.requestTimeoutMs);
        answered();
        return samples;
      } catch (error) {
        if (TimeoutError.isInstance(error)) unanswered("read");
        throw error;
      }
    },
    async prepare(tags) {
      // During an outage the plant calls prepare() before each read; the checks run again on the first read after.
      if (open && !linkUp) return;
      await adapter.verify(tags);
    },
    checkWrite: (tag, value) => nodeTypes.checkWrite(tag, value),
    sameOnWire: (tag, written, readBack) => nodeTypes.sameOnWire(tag, written, readBack),
    async verify(tags) {
      const bound = bind(tags);
      const checks = await checked(bound);
      const issues = checks.flatMap((check) => ("issue" in check ? [check.issue] : []));
      if (issues.length > 0) throw new ConfigError(issues);
      const report = new Map<string, OpcuaNodeInfo>();
      bound.forEach((tag, index) => {
        const check = checks[index];
        if (check && "info" in check) report.set(tag.name, check.info);
      });
      return report;
    },
    async subscribe(tags, listener) {
      const session = requireOpen();
      const checks = await checked(tags);
      const issues = checks.flatMap((check) => ("issue" in check ? [check.issue] : []));
      if (issues.length > 0) throw new ConfigError(issues);
      const entries = tags.map((tag, index) => ({ tag, info: (checks[index] as { info: OpcuaNodeInfo }).info }));
      const handle = await createOpcuaSubscription(session, settings, entries, listener);
      const wrapped: OpcuaSubscriptionHandle = {
        connectionLost: (reason) => handle.connectionLost(reason),
        monitoredItemCount: handle.monitoredItemCount,
        subscriptionCount: handle.subscriptionCount,
        async close(up = linkUp) {
          subscriptions.delete(wrapped);
          await handle.close(up);
        },
      };
      subscriptions.add(wrapped);
      return wrapped;
    },
    async write(tag, value) {
      const time = () => Date.now();
      let session: OpenSession;
      let check: TagCheck | undefined;
      try {
        session = requireOpen();
        [check] = await checked([tag]);
      } catch (error) {
        return { outcome: "failed", error: error as Error, time: time(), verified: false };
      }
      if (!check || "issue" in check) {
        const issue = check?.issue;
        return { outcome: "failed", error: new ConfigError(issue ? [issue] : []), time: time(), verified: false };
      }
      if (!check.info.writable) {
        const error = new ConfigError([
          {
            path: `tags.${tag.name}.source`,
            message: `node ${check.info.nodeId} is not writable by this user`,
            fix: "grant write access on the server, or do not write this tag",
          },
        ]);
        return { outcome: "failed", error, time: time(), verified: false };
      }
      let variant: ReturnType<typeof variantFor>;
      try {
        variant = variantFor(session.ua, tag.definition, check.info, value);
      } catch (error) {
        const message = `tag "${tag.name}" (node ${check.info.nodeId}, ${check.info.dataTypeName}): ${(error as Error).message}`;
        return {
          outcome: "failed",
          error: new ValidationError(message, { field: tag.name }),
          time: time(),
          verified: false,
        };
      }
      let statusCode: import("node-opcua").StatusCode;
      try {
        statusCode = await withDeadline(
          session.session.write({
            nodeId: check.info.nodeId,
            attributeId: session.ua.AttributeIds.Value,
            value: { value: variant },
          }),
          settings.requestTimeoutMs,
          () => new TimeoutError(`no answer within ${settings.requestTimeoutMs} ms`, settings.requestTimeoutMs),
        );
        answered();
      } catch (error) {
        if (TimeoutError.isInstance(error)) unanswered("write");
        // The request may have reached the server: the outcome is unknown, and writes are never retried.
        const message = `OPC UA adapter "${name}": no answer to the write of tag "${tag.name}" (${addressText(tag.address)}): ${(error as Error).message}`;
        return {
          outcome: "unknown",
          error: new ConnectionError(message, { cause: error }),
          time: time(),
          verified: false,
        };
      }
      const code = statusCode.name;
      if (qualityOf(statusCode) === "good") {
        const asynchronous = code === "GoodCompletesAsynchronously";
        return {
          outcome: "written",
          time: time(),
          statusCode: code,
          verified: !asynchronous,
          // The guard reads this and reports the read-back as unverified instead of comparing a value not yet applied.
          ...(asynchronous
            ? { unverified: "the server will apply the write later (Good_CompletesAsynchronously)" }
            : {}),
        };
      }
      const error = new ProtocolError(
        `OPC UA adapter "${name}": the server refused the write of tag "${tag.name}" (node ${check.info.nodeId}) with ${code}`,
      );
      return { outcome: "failed", error, time: time(), statusCode: code, verified: false };
    },
    status: () => status.get(),
    onStatus: (listener) => status.on(listener),
    deviceOf: () => opcuaDevice(settings.endpoint),
    parseSource: (raw) => source(parseOpcuaAddress(raw)),
    node: (nodeId, sourceOptions) => source(parseOpcuaAddress({ ...sourceOptions, nodeId })),
    path: (browsePath, sourceOptions) => source(parseOpcuaAddress({ ...sourceOptions, path: browsePath })),
    limits: () => open?.limits,
    getInstance: () => open?.session,
  };

  function source(address: OpcuaAddress): TagSource<OpcuaAddress> {
    return { adapter, address, label: `${name}:${addressText(address)}` };
  }

  return adapter;
}
