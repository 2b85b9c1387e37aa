/**
 * An OPC UA server for tests, demos and commissioning dry runs, built on node-opcua: it serves any tag map (or a
 * generated address space) from an in-memory value source, with EngineeringUnits, EURange, writable setpoints,
 * configurable operation limits and security policies, and hooks to suspend, resume and restart it.
 *
 * ```ts
 * const simulator = await startOpcuaSimulator({ tags, port: 0 });
 * simulator.set("speed", 1200);
 * ```
 */
import { mkdtempSync, rmSync } from "node:fs";
import { isIPv6 } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { DataValue, OPCUAServer, UAVariable } from "node-opcua";
import type { TagDefinitions } from "../../src/tags.js";
import type { NodeOpcua } from "./opcua-codec.js";
import { loadNodeOpcua } from "./opcua-session.js";
import {
  buildAddressSpace,
  generatedVariables,
  nodeIdOf,
  type SimulatorVariable,
  variablesFromTags,
  variantOf,
} from "./opcua-simulator-space.js";

/** The simulator's documented default port. Tests use port 0 (an ephemeral port). */
export const defaultSimulatorPort = 4840;

/** Options of {@link startOpcuaSimulator}. */
export interface OpcuaSimulatorOptions {
  /** TCP port; 0 picks a free one. @default 4840 */
  port?: number;
  /**
   * The address to listen on (node-opcua's own default is every interface; this simulator's is loopback). "0.0.0.0"
   * or "::" listen everywhere and advertise the machine's name. @default "127.0.0.1"
   */
  host?: string;
  /** Serve these tags (their sources' node ids in ns=1, or browse paths) with the tag's unit, range and writability. */
  tags?: TagDefinitions;
  /** Serve these variables. */
  variables?: readonly SimulatorVariable[];
  /** Also serve a generated address space of this many Double variables under Objects/Generated. */
  generate?: number;
  /**
   * "standard" loads the full OPC UA nodeset (EngineeringUnits, EURange; ~1.5 s to start); "minimal" starts in
   * ~0.3 s without them (for restart-heavy tests). The minimal nodeset also lacks the audit event types: a client
   * that reaches it under another address (through a proxy or NAT) makes node-opcua's server throw while it reports
   * the URL mismatch, so use "standard" behind a proxy. @default "standard"
   */
  nodeset?: "standard" | "minimal";
  /**
   * The server's PKI folder (its certificate survives restarts). @default a new temporary folder, removed by close()
   */
  pkiFolder?: string;
  /** Security policies offered. @default None, Basic256Sha256, Aes128_Sha256_RsaOaep, Aes256_Sha256_RsaPss */
  securityPolicies?: readonly (
    | "None"
    | "Basic256Sha256"
    | "Aes128_Sha256_RsaOaep"
    | "Aes256_Sha256_RsaPss"
    | "Basic256"
    | "Basic128Rsa15"
  )[];
  /** Accept any client certificate (a test convenience; a real server keeps a trust list). @default true */
  trustAllClients?: boolean;
  /** Operation limits the server announces and enforces (0 = none). */
  operationLimits?: {
    maxNodesPerRead?: number;
    maxNodesPerWrite?: number;
    maxNodesPerBrowse?: number;
    maxMonitoredItemsPerCall?: number;
    maxNodesPerTranslateBrowsePathsToNodeIds?: number;
  };
  /** Most monitored items in one subscription. @default 100000 */
  maxMonitoredItemsPerSubscription?: number;
  /** Browse continuation points kept per session (0 = no limit); more answer BadNoContinuationPoints. @default 0 */
  maxBrowseContinuationPoints?: number;
  /** User names and passwords accepted. */
  users?: Readonly<Record<string, string>>;
  /** Whether anonymous sessions are allowed. @default true */
  allowAnonymous?: boolean;
  /** Accept X.509 user certificates (any, a test convenience; costs one key pair on first start). @default false */
  acceptUserCertificates?: boolean;
}

/** A running simulator. */
export interface OpcuaSimulator {
  /** "opc.tcp://127.0.0.1:<port>" (the host it listens on; 127.0.0.1 when it listens everywhere). */
  readonly endpoint: string;
  readonly port: number;
  /** The server certificate (DER), for tests that trust it up front. */
  certificate(): Buffer;
  /** Sets a value as the device would; `key` is a path, node id or alias (tag name). */
  set(key: string, value: unknown): void;
  /** The current value. */
  get(key: string): unknown;
  /** The node id served for a key. */
  nodeId(key: string): string;
  /** Open sessions on the server. */
  sessionCount(): number;
  /** Monitored items across all sessions and subscriptions. */
  monitoredItemCount(): number;
  /** Subscriptions across all sessions. */
  subscriptionCount(): number;
  /** User-name logins attempted (valid or not). */
  readonly userLogins: number;
  /** Stops accepting connections and cuts the open ones (the server process stays up). */
  suspend(): Promise<void>;
  /** Accepts connections again. */
  resume(): Promise<void>;
  /** Shuts the server down and starts a fresh one on the same port with the same values and certificate. */
  restart(): Promise<void>;
  close(): Promise<void>;
}

function callbackPromise(run: (done: (error?: Error | null) => void) => void): Promise<void> {
  return new Promise((resolve, reject) => run((error) => (error ? reject(error) : resolve())));
}

/** Starts an OPC UA simulator. */
export async function startOpcuaSimulator(options: OpcuaSimulatorOptions = {}): Promise<OpcuaSimulator> {
  const ua = await loadNodeOpcua();
  const variables = [
    ...(options.tags ? variablesFromTags(options.tags) : []),
    ...(options.variables ?? []),
    ...(options.generate ? generatedVariables(options.generate) : []),
  ];
  const byKey = new Map<string, SimulatorVariable>();
  for (const variable of variables) {
    for (const key of [variable.path, nodeIdOf(variable), ...(variable.aliases ?? [])]) byKey.set(key, variable);
  }
  const values = new Map<SimulatorVariable, unknown>(variables.map((variable) => [variable, variable.value]));
  const pkiFolder = options.pkiFolder ?? mkdtempSync(join(tmpdir(), "plantwire-opcua-simulator-"));
  // A folder made here is this server's alone: close() removes it, so no run leaves a key pair behind.
  const ownsPkiFolder = options.pkiFolder === undefined;
  const host = options.host ?? "127.0.0.1";
  const everywhere = host === "0.0.0.0" || host === "::";
  const endpointHost = everywhere ? "127.0.0.1" : isIPv6(host) ? `[${host}]` : host;
  let userLogins = 0;
  let port = options.port ?? defaultSimulatorPort;
  let server: OPCUAServer | undefined;
  let nodes = new Map<string, UAVariable>();

  async function start(): Promise<void> {
    const serverCertificateManager = new ua.OPCUACertificateManager({
      rootFolder: pkiFolder,
      automaticallyAcceptUnknownCertificate: options.trustAllClients ?? true,
      disableFileWatchers: true,
    });
    await serverCertificateManager.initialize();
    let userCertificateManager: InstanceType<NodeOpcua["OPCUACertificateManager"]> | undefined;
    if (options.acceptUserCertificates) {
      userCertificateManager = new ua.OPCUACertificateManager({
        rootFolder: join(pkiFolder, "users"),
        automaticallyAcceptUnknownCertificate: true,
        disableFileWatchers: true,
      });
      await userCertificateManager.initialize();
    }
    const policies = options.securityPolicies ?? [
      "None",
      "Basic256Sha256",
      "Aes128_Sha256_RsaOaep",
      "Aes256_Sha256_RsaPss",
    ];
    const limits = options.operationLimits ?? {};
    const next = new ua.OPCUAServer({
      port,
      // node-opcua binds to `host` and advertises `hostname`; without `host` it listens on every interface.
      host,
      ...(everywhere ? {} : { hostname: host }),
      serverCertificateManager,
      ...(userCertificateManager ? { userCertificateManager } : {}),
      nodeset_filename: [options.nodeset === "minimal" ? ua.get_mini_nodeset_filename() : ua.nodesets.standard],
      securityPolicies: policies.map((policy) => ua.SecurityPolicy[policy]),
      securityModes: [ua.MessageSecurityMode.None, ua.MessageSecurityMode.Sign, ua.MessageSecurityMode.SignAndEncrypt],
      allowAnonymous: options.allowAnonymous ?? true,
      userManager: {
        isValidUser(username: string, password: string) {
          userLogins++;
          return options.users?.[username] === password;
        },
      },
      serverCapabilities: {
        maxMonitoredItemsPerSubscription: options.maxMonitoredItemsPerSubscription ?? 100_000,
        maxSessions: 50,
        maxBrowseContinuationPoints: options.maxBrowseContinuationPoints ?? 0,
        operationLimits: {
          maxNodesPerRead: limits.maxNodesPerRead ?? 0,
          maxNodesPerWrite: limits.maxNodesPerWrite ?? 0,
          maxNodesPerBrowse: limits.maxNodesPerBrowse ?? 0,
          maxMonitoredItemsPerCall: limits.maxMonitoredItemsPerCall ?? 0,
          maxNodesPerTranslateBrowsePathsToNodeIds: limits.maxNodesPerTranslateBrowsePathsToNodeIds ?? 0,
        },
      },
      buildInfo: { productName: "plantwire OPC UA simulator" },
      registerServerMethod: ua.RegisterServerMethod.HIDDEN,
    });
    await next.initialize();
    const addressSpace = next.engine.addressSpace;
    if (!addressSpace) throw new Error("the OPC UA simulator has no address space");
    const namespace = addressSpace.getOwnNamespace();
    nodes = buildAddressSpace(
      ua,
      namespace,
      addressSpace.rootFolder.objects,
      variables,
      (variable) => values.get(variable),
      options.nodeset !== "minimal",
      (variable, value) => values.set(variable, value),
    );
    for (const variable of variables) {
      nodes.get(nodeIdOf(variable))?.on("value_changed", (dataValue: DataValue) => {
        values.set(variable, plain(ua, dataValue));
      });
    }
    await next.start();
    port = next.endpoints[0]?.port ?? port;
    server = next;
  }

  try {
    await start();
  } catch (error) {
    if (ownsPkiFolder) rmSync(pkiFolder, { recursive: true, force: true });
    throw error;
  }

  const find = (key: string): SimulatorVariable => {
    const variable = byKey.get(key);
    if (!variable) throw new Error(`the OPC UA simulator serves no "${key}"`);
    return variable;
  };
  const sessions = () => server?.engine.getSessions() ?? [];
  const subscriptionsOf = () =>
    sessions().flatMap(
      (session) =>
        (session.publishEngine as unknown as { subscriptions: { monitoredItemCount: number }[] }).subscriptions,
    );

  return {
    get endpoint() {
      return `opc.tcp://${endpointHost}:${port}`;
    },
    get port() {
      return port;
    },
    certificate: () => server?.getCertificate() ?? Buffer.alloc(0),
    set(key, value) {
      const variable = find(key);
      values.set(variable, value);
      if (!variable.completesAsynchronously) {
        nodes.get(nodeIdOf(variable))?.setValueFromSource(variantOf(ua, variable, value));
      }
    },
    get: (key) => values.get(find(key)),
    nodeId: (key) => nodeIdOf(find(key)),
    sessionCount: () => server?.engine.currentSessionCount ?? 0,
    monitoredItemCount: () => subscriptionsOf().reduce((sum, subscription) => sum + subscription.monitoredItemCount, 0),
    subscriptionCount: () => subscriptionsOf().length,
    get userLogins() {
      return userLogins;
    },
    async suspend() {
      const current = server;
      if (!current) return;
      await callbackPromise((done) => current.suspendEndPoints(done));
      for (const endpoint of current.endpoints) endpoint.abruptlyInterruptChannels();
    },
    async resume() {
      const current = server;
      if (current) await callbackPromise((done) => current.resumeEndPoints(done));
    },
    async restart() {
      await server?.shutdown(0);
      server = undefined;
      await start();
    },
    async close() {
      await server?.shutdown(0);
      server = undefined;
      if (ownsPkiFolder) rmSync(pkiFolder, { recursive: true, force: true });
    },
  };
}

function plain(ua: NodeOpcua, dataValue: DataValue): unknown {
  const variant = dataValue.value;
  const toNumber = (item: unknown) =>
    Array.isArray(item) &&
    item.length === 2 &&
    (variant.dataType === ua.DataType.Int64 || variant.dataType === ua.DataType.UInt64)
      ? (item[0] as number) * 4294967296 + ((item[1] as number) >>> 0)
      : item;
  if (variant.arrayType === ua.VariantArrayType.Array) return Array.from(variant.value as ArrayLike<unknown>, toNumber);
  return toNumber(variant.value);
}
