/**
 * One OPC UA client and one session per adapter: the PKI (own certificate, trusted and rejected server
 * certificates), the user token, the server's operation limits, and reconnection. node-opcua's reconnection repairs
 * the session in place (reactivates it, or creates a new one and transfers or recreates its subscriptions), so the
 * server never holds a leaked session of ours; this file turns its events into plantwire status.
 */
import { readFile } from "node:fs/promises";
import { hostname } from "node:os";
import type { ClientSession, OPCUACertificateManager, OPCUAClient, UserIdentityInfo } from "node-opcua";
import { ConfigError, ConnectionError } from "../../src/errors.js";
import { loadOptionalDependency } from "../../src/optional-dependency.js";
import type { NodeOpcua } from "./opcua-codec.js";
import type { ResolvedOpcuaOptions } from "./opcua-config.js";
import { clientCertificateFile, explainConnectFailure, recordRefusals } from "./opcua-endpoints.js";
import { hearLibraryLog, routeLibraryLog } from "./opcua-library-log.js";

/** The server's operation limits (0 in OPC UA means "no limit"; plantwire then uses its own cap). */
export interface OperationLimits {
  maxNodesPerRead: number;
  maxNodesPerWrite: number;
  maxNodesPerBrowse: number;
  maxNodesPerTranslate: number;
  maxMonitoredItemsPerCall: number;
  maxMonitoredItemsPerSubscription: number;
  /** Continuation points the server keeps per session (a ServerCapability, not an operation limit). */
  maxBrowseContinuationPoints: number;
}

/** Hooks the session reports to. */
export interface SessionEvents {
  /** The link dropped; node-opcua is reconnecting. */
  lost(reason: string): void;
  /** The session (and its subscriptions) is working again after an outage. */
  restored(): void;
  /** Anything worth a status reason: backoff attempts, keep-alive failures. */
  note(state: "degraded" | "connected", reason: string): void;
}

/** An open session. */
export interface OpenSession {
  readonly ua: NodeOpcua;
  readonly client: OPCUAClient;
  readonly session: ClientSession;
  readonly limits: OperationLimits;
  /**
   * Closes the session (deleting its subscriptions on the server) and the connection. With `linkUp` false the
   * server is unreachable: the session is left to time out there, and only the connection is dropped.
   */
  close(linkUp: boolean): Promise<void>;
}

/**
 * Loads node-opcua; only adapters, the simulator and the CLI call this, at connect time. Its console output is routed
 * to plantwire's loggers at debug from the moment it loads (opcua-library-log.ts).
 */
export async function loadNodeOpcua(): Promise<NodeOpcua> {
  const ua = await loadOptionalDependency<NodeOpcua>("node-opcua", "The OPC UA adapter");
  routeLibraryLog(ua);
  return ua;
}

/** Who this client says it is: the name and URI given to the server, matching the client certificate. */
export interface ClientApplication {
  readonly applicationName: string;
  readonly applicationUri: string;
}

/**
 * The application URI must equal the URI in the client certificate (OPC UA Part 4, CreateSession: a server refuses a
 * mismatch with BadCertificateUriInvalid; node-opcua warns NODE-OPCUA-W06 when its client's URI differs). node-opcua
 * makes that certificate on first use of a PKI folder from the options of whichever client comes first — `opcua trust`
 * used to make one as "NodeOPCUA-Client" that the sessions, as "plantwire", then contradicted — so every client
 * plantwire creates on a PKI folder (session, GetEndpoints for `opcua trust` and for error messages) passes the same
 * name and URI. A certificate that already exists is the identity servers have trusted: its URI wins, even when it
 * was made under another application name.
 */
export async function clientApplication(
  ua: NodeOpcua,
  pkiFolder: string,
  applicationName: string,
): Promise<ClientApplication> {
  const made = ua.makeApplicationUrn(hostname(), applicationName);
  const pem = await readFile(clientCertificateFile(pkiFolder), "utf8").catch(() => undefined);
  if (pem === undefined) return { applicationName, applicationUri: made };
  try {
    const certificate = ua.crypto_utils.convertPEMtoDER(pem);
    const uris =
      ua.crypto_utils.exploreCertificate(certificate).tbsCertificate.extensions?.subjectAltName
        ?.uniformResourceIdentifier;
    return { applicationName, applicationUri: uris?.[0] ?? made };
  } catch {
    // An unreadable certificate fails the connect with node-opcua's own message; the URI does not matter then.
    return { applicationName, applicationUri: made };
  }
}

/** Creates (on first use) and opens the PKI folder. Unknown certificates are refused, never trusted automatically. */
export async function openCertificateManager(ua: NodeOpcua, pkiFolder: string): Promise<OPCUACertificateManager> {
  const manager = new ua.OPCUACertificateManager({
    rootFolder: pkiFolder,
    automaticallyAcceptUnknownCertificate: false,
    disableFileWatchers: true,
  });
  await manager.initialize();
  return manager;
}

async function userIdentity(ua: NodeOpcua, options: ResolvedOpcuaOptions): Promise<UserIdentityInfo> {
  const user = options.user;
  if (!user) return { type: ua.UserTokenType.Anonymous };
  if ("username" in user) return { type: ua.UserTokenType.UserName, userName: user.username, password: user.password };
  try {
    const certificateData = ua.crypto_utils.convertPEMtoDER(await readFile(user.certificateFile, "utf8"));
    const privateKey = await readFile(user.privateKeyFile, "utf8");
    return { type: ua.UserTokenType.Certificate, certificateData, privateKey } as UserIdentityInfo;
  } catch (error) {
    throw new ConfigError(
      [
        {
          path: "user",
          message: `cannot read the user certificate or key: ${(error as Error).message}`,
          fix: "give PEM files for certificateFile and privateKeyFile",
        },
      ],
      { cause: error },
    );
  }
}

const limitIds = {
  maxNodesPerRead: "Server_ServerCapabilities_OperationLimits_MaxNodesPerRead",
  maxNodesPerWrite: "Server_ServerCapabilities_OperationLimits_MaxNodesPerWrite",
  maxNodesPerBrowse: "Server_ServerCapabilities_OperationLimits_MaxNodesPerBrowse",
  maxNodesPerTranslate: "Server_ServerCapabilities_OperationLimits_MaxNodesPerTranslateBrowsePathsToNodeIds",
  maxMonitoredItemsPerCall: "Server_ServerCapabilities_OperationLimits_MaxMonitoredItemsPerCall",
  maxMonitoredItemsPerSubscription: "Server_ServerCapabilities_MaxMonitoredItemsPerSubscription",
  maxBrowseContinuationPoints: "Server_ServerCapabilities_MaxBrowseContinuationPoints",
} as const;

/**
 * Reads the operation limits one node per request: a server with a tiny MaxNodesPerRead would refuse them batched.
 * Missing or zero limits fall back to `cap`.
 */
export async function readLimits(ua: NodeOpcua, session: ClientSession, cap: number): Promise<OperationLimits> {
  const entries = await Promise.all(
    Object.entries(limitIds).map(async ([key, id]) => {
      const nodeId = (ua.VariableIds as unknown as Record<string, number>)[id];
      if (nodeId === undefined) return [key, cap] as const;
      try {
        const dataValue = await session.read({ nodeId, attributeId: ua.AttributeIds.Value });
        const value = Number(dataValue.value?.value);
        return [key, dataValue.statusCode.isGood() && value > 0 ? Math.min(value, cap) : cap] as const;
      } catch {
        return [key, cap] as const;
      }
    }),
  );
  return Object.fromEntries(entries) as unknown as OperationLimits;
}

/** Waits for `promise` to settle, or `ms` at most; never rejects. */
export async function settleWithin(promise: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([promise.catch(() => {}), new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))]);
  clearTimeout(timer);
}

function withDeadline<T>(promise: Promise<T>, ms: number, signal: AbortSignal | undefined, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new ConnectionError(`${what} did not complete within ${ms} ms`)), ms);
    const onAbort = () => reject(new ConnectionError(`${what} was aborted`, { cause: signal?.reason }));
    if (signal?.aborted) onAbort();
    signal?.addEventListener("abort", onAbort, { once: true });
    promise.then(resolve, reject).finally(() => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
    });
  });
}

/** Connects, verifies the server certificate against the PKI, and opens the one session. */
export async function openSession(
  options: ResolvedOpcuaOptions,
  events: SessionEvents,
  signal?: AbortSignal,
): Promise<OpenSession> {
  // node-opcua's lines while this session lives (a refused certificate, limits it could not read) go to its logger.
  const stopHearing = hearLibraryLog(options.logger);
  const log = options.logger;
  let ua: NodeOpcua;
  let identity: UserIdentityInfo;
  let certificateManager: OPCUACertificateManager;
  let application: ClientApplication;
  try {
    ua = await loadNodeOpcua();
    identity = await userIdentity(ua, options);
    certificateManager = await openCertificateManager(ua, options.pkiFolder);
    application = await clientApplication(ua, options.pkiFolder, options.applicationName);
  } catch (error) {
    stopHearing();
    throw error;
  }
  const refusal = recordRefusals(certificateManager);
  const client = ua.OPCUAClient.create({
    applicationName: application.applicationName,
    applicationUri: application.applicationUri,
    endpointMustExist: false,
    securityMode: ua.MessageSecurityMode[options.securityMode],
    securityPolicy: ua.SecurityPolicy[options.securityPolicy],
    clientCertificateManager: certificateManager,
    // No retries on the first connect (a wrong endpoint should fail now); set to endless once connected.
    connectionStrategy: { maxRetry: 0, initialDelay: options.reconnectDelayMs, maxDelay: options.maxReconnectDelayMs },
    keepSessionAlive: true,
    // How long node-opcua trusts a silent socket, and so how long a reconnection attempt waits for the server's first
    // answer (HEL/ACK). Its default, 60 s, let one half-open link met while reconnecting stall recovery for a minute.
    // An idle session is pinged every ⅔ of its timeout (at most 20 s): twice that never cuts a working link.
    transportTimeout: Math.max(options.connectTimeoutMs, 2 * Math.min((options.sessionTimeoutMs * 2) / 3, 20_000)),
    requestedSessionTimeout: options.sessionTimeoutMs,
    defaultTransactionTimeout: options.requestTimeoutMs,
  });
  let session: ClientSession | undefined;
  const label = `OPC UA adapter "${options.name}"`;
  log.debug(`${label}: connecting to ${options.endpoint} (${options.securityMode}, ${options.securityPolicy})`);
  try {
    await withDeadline(client.connect(options.endpoint), options.connectTimeoutMs, signal, `${label}: connect`);
    session = await withDeadline(client.createSession(identity), options.connectTimeoutMs, signal, `${label}: session`);
  } catch (error) {
    await client.disconnect().catch(() => {});
    // Our own deadline or abort: the reason is already plain, unless the server's certificate was refused before it.
    const refused = refusal();
    if (ConnectionError.isInstance(error) && refused === undefined) {
      await certificateManager.dispose().catch(() => {});
      stopHearing();
      throw error;
    }
    const message = ((error as Error).message ?? String(error)).replace(`${label}: `, "").trim();
    const explained = await explainConnectFailure(ua, options, certificateManager, message, application, refused).catch(
      () => `${message}. Fix: check the endpoint, that the server runs, and the security mode/policy`,
    );
    await certificateManager.dispose().catch(() => {});
    stopHearing();
    throw new ConnectionError(`${label} cannot connect to ${options.endpoint}: ${explained}.`, { cause: error });
  }
  client.connectionStrategy.maxRetry = -1;
  const openedSession = session;
  client.on("connection_lost", () => {
    log.debug(`${label}: connection lost; reconnecting`);
    events.lost("connection lost; reconnecting");
  });
  client.on("backoff", (count: number, delay: number) => {
    log.debug(`${label}: reconnection attempt ${count + 1} failed; next in ${delay} ms`);
    events.note("degraded", `reconnecting: attempt ${count + 1}, next in ${delay} ms`);
  });
  client.on("connection_reestablished", () => {
    log.debug(`${label}: connection re-established`);
    events.restored();
  });
  openedSession.on("keepalive_failure", () => events.note("degraded", "keep-alive failed"));
  openedSession.on("keepalive", () => events.note("connected", "keep-alive"));
  const limits = await readLimits(ua, openedSession, options.maxNodesPerRequest);
  log.debug(
    `${label}: session open on ${options.endpoint}; limits: ${limits.maxNodesPerRead} nodes per read, ${limits.maxMonitoredItemsPerSubscription} items per subscription`,
  );
  return {
    ua,
    client,
    session: openedSession,
    limits,
    async close(linkUp: boolean) {
      client.removeAllListeners();
      openedSession.removeAllListeners();
      // Each step is bounded: close() must never hang on a server that stopped answering.
      if (linkUp) await settleWithin(openedSession.close(true), options.requestTimeoutMs);
      await settleWithin(client.disconnect(), options.requestTimeoutMs);
      await settleWithin(certificateManager.dispose(), options.requestTimeoutMs);
      log.debug(`${label}: session closed`);
      stopHearing();
    },
  };
}
