/**
 * What a server offers and why a connection failed: its endpoints (security mode and policy, by the names plantwire's
 * options use) over the discovery service, and connect errors turned into messages that name the fix — the endpoints
 * to choose from when none matches, the certificate to trust only when one was really stored in `rejected/`, and the
 * client certificate to accept on the server when the server refused this client.
 */
import { createHash } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import type { EndpointDescription, OPCUACertificateManager, StatusCode } from "node-opcua";
import type { NodeOpcua } from "./opcua-codec.js";
import { deprecatedSecurityPolicies, type OpcuaSecurityMode, type ResolvedOpcuaOptions } from "./opcua-config.js";
import type { ClientApplication } from "./opcua-session.js";

/** One endpoint a server offers, by the names of plantwire's `securityMode` and `securityPolicy` options. */
export interface OfferedEndpoint {
  readonly securityMode: OpcuaSecurityMode | `mode ${number}`;
  readonly securityPolicy: string;
  readonly description: EndpointDescription;
}

const modeNames: Record<number, OpcuaSecurityMode> = { 1: "None", 2: "Sign", 3: "SignAndEncrypt" };

/** The short name of a policy URI, e.g. "…/SecurityPolicy#Basic256Sha256" → "Basic256Sha256". */
export function policyName(uri: string | null | undefined): string {
  if (!uri) return "None";
  return uri.slice(uri.lastIndexOf("#") + 1);
}

/**
 * The endpoints of a server, over GetEndpoints (no session, nothing secret sent). `application` is the client's name
 * and URI: this client may be the first on the PKI folder, and so the one whose options shape the client certificate.
 */
export async function offeredEndpoints(
  ua: NodeOpcua,
  endpoint: string,
  manager: OPCUACertificateManager,
  application: ClientApplication,
): Promise<OfferedEndpoint[]> {
  const client = ua.OPCUAClient.create({
    applicationName: application.applicationName,
    applicationUri: application.applicationUri,
    endpointMustExist: false,
    securityMode: ua.MessageSecurityMode.None,
    securityPolicy: ua.SecurityPolicy.None,
    clientCertificateManager: manager,
    connectionStrategy: { maxRetry: 0, initialDelay: 100, maxDelay: 200 },
  });
  try {
    await client.connect(endpoint);
    const endpoints = await client.getEndpoints();
    return endpoints.map((description) => ({
      securityMode: modeNames[description.securityMode] ?? `mode ${description.securityMode}`,
      securityPolicy: policyName(description.securityPolicyUri),
      description,
    }));
  } finally {
    await client.disconnect().catch(() => {});
  }
}

const strength = (offered: OfferedEndpoint): number =>
  (offered.securityMode === "SignAndEncrypt" ? 20 : offered.securityMode === "Sign" ? 10 : 0) +
  (offered.securityPolicy === "None"
    ? 0
    : (deprecatedSecurityPolicies as readonly string[]).includes(offered.securityPolicy)
      ? 1
      : 5);

/** A message for "no endpoint matches": what the server offers, and the options and flags that select the best. */
export function noMatchingEndpoint(options: ResolvedOpcuaOptions, offered: readonly OfferedEndpoint[]): string {
  const pairs = [...new Set(offered.map((entry) => `${entry.securityMode} with ${entry.securityPolicy}`))];
  const wanted = `security mode ${options.securityMode} with policy ${options.securityPolicy}`;
  if (offered.length === 0) {
    return `the server at ${options.endpoint} offers no endpoint with ${wanted}, and lists no endpoints at all. Fix: check the endpoint URL`;
  }
  const best = [...offered].sort((a, b) => strength(b) - strength(a))[0] as OfferedEndpoint;
  const insecure =
    best.securityMode === "None" || (deprecatedSecurityPolicies as readonly string[]).includes(best.securityPolicy);
  return (
    `the server at ${options.endpoint} offers no endpoint with ${wanted}. It offers: ${pairs.join("; ")}. ` +
    `Fix: choose one of them, e.g. the strongest: { securityMode: "${best.securityMode}", securityPolicy: "${best.securityPolicy}"${insecure ? ", insecure: true" : ""} } ` +
    `(command line: --security-mode ${best.securityMode} --security-policy ${best.securityPolicy}${insecure ? " --insecure" : ""})` +
    (insecure ? "; mode None and deprecated policies need insecure: true" : "")
  );
}

/** A server certificate the client's PKI refused while connecting, with node-opcua's verdict (a status name). */
export interface RefusedCertificate {
  /** The certificate, or its chain, as the server sent it (DER). */
  readonly certificate: Buffer;
  readonly status: string;
}

/**
 * Remembers the last server certificate `manager` refuses. node-opcua checks the server certificate through
 * `checkCertificate` and its error names only the status; knowing the certificate itself tells which rejected/ file is
 * this server's without asking the server for it again — a second connection that can fail or time out, and then the
 * trust hint was missing although the certificate had been stored. The method is wrapped on this instance only.
 */
export function recordRefusals(manager: OPCUACertificateManager): () => RefusedCertificate | undefined {
  let refused: RefusedCertificate | undefined;
  type Check = (chain: Buffer | Buffer[]) => Promise<StatusCode>;
  const check = (manager.checkCertificate as unknown as Check).bind(manager);
  const recording = async (chain: Buffer | Buffer[]): Promise<StatusCode> => {
    const status = await check(chain);
    if (!status.isGood())
      refused = { certificate: Array.isArray(chain) ? Buffer.concat(chain) : chain, status: status.name };
    return status;
  };
  // node-opcua calls it with a callback or for a promise (the client awaits it): both forms are kept.
  const wrapped = (chain: Buffer | Buffer[], callback?: (error: Error | null, status?: StatusCode) => void) => {
    const verdict = recording(chain);
    if (typeof callback !== "function") return verdict;
    verdict.then((status) => callback(null, status), callback);
    return undefined;
  };
  Object.assign(manager, { checkCertificate: wrapped });
  return () => refused;
}

/** The rejected/ file holding this certificate, when the PKI stored it there. */
export async function rejectedFileOf(pkiFolder: string, certificate: Buffer | undefined): Promise<string | undefined> {
  if (!certificate || certificate.length === 0) return undefined;
  const thumbprint = createHash("sha1").update(certificate).digest("hex");
  const folder = join(pkiFolder, "rejected");
  const files = await readdir(folder).catch(() => [] as string[]);
  const file = files.find((name) => name.toLowerCase().includes(thumbprint));
  return file === undefined ? undefined : join(folder, file);
}

/** The server's own certificate (the first of its chain) from its endpoint list; undefined when it offers none. */
export function certificateOf(ua: NodeOpcua, offered: readonly OfferedEndpoint[]): Buffer | undefined {
  const withCertificate = offered.find((entry) => entry.description.serverCertificate?.length);
  const chain = withCertificate?.description.serverCertificate;
  if (!chain) return undefined;
  return ua.crypto_utils.split_der(chain)[0] ?? chain;
}

/** Where node-opcua keeps the client certificate of a PKI folder (it creates it there on first connect). */
export function clientCertificateFile(pkiFolder: string): string {
  return join(pkiFolder, "own", "certs", "client_certificate.pem");
}

/** "The server refused this client": the client certificate file and its thumbprint, for the server's administrator. */
async function serverRefusedClient(ua: NodeOpcua, pkiFolder: string, file: string, message: string): Promise<string> {
  const pem = await readFile(file, "utf8").catch(() => undefined);
  const thumbprint =
    pem === undefined ? undefined : createHash("sha1").update(ua.crypto_utils.convertPEMtoDER(pem)).digest("hex");
  const which = thumbprint === undefined ? `in ${pkiFolder}/own/certs` : `${file} (SHA-1 ${thumbprint})`;
  return `${message}: the server does not trust this client's certificate. Fix: have the server trust the client certificate ${which} — most servers keep it in their own rejected list, to be moved to trusted`;
}

/**
 * The explanation of a failed connect: the endpoints to choose from when none matched; when this client refused the
 * server's certificate, the trust hint only if that certificate is stored in rejected/ (checked by its thumbprint: the
 * certificate `refused` recorded, else fetched again over GetEndpoints); the client certificate to accept when the
 * server refused this client; else the generic checks. Never throws.
 */
export async function explainConnectFailure(
  ua: NodeOpcua,
  options: ResolvedOpcuaOptions,
  manager: OPCUACertificateManager,
  message: string,
  application: ClientApplication,
  refused?: RefusedCertificate,
): Promise<string> {
  const generic = `${message}. Fix: check the endpoint, that the server runs and is reachable, and the security mode/policy`;
  if (/Cannot find an Endpoint matching/i.test(message)) {
    try {
      return noMatchingEndpoint(options, await offeredEndpoints(ua, options.endpoint, manager, application));
    } catch (error) {
      return `the server at ${options.endpoint} offers no endpoint with security mode ${options.securityMode} and policy ${options.securityPolicy} (its endpoint list could not be read: ${(error as Error).message}). Fix: pick a mode and policy the server's configuration offers`;
    }
  }
  if (refused === undefined && /rejected by server.*(BadSecurityChecksFailed|BadCertificate)/i.test(message)) {
    return serverRefusedClient(ua, options.pkiFolder, clientCertificateFile(options.pkiFolder), message);
  }
  // "Fail to connect ... to collect server's certificate" also names a certificate: only a verification failure counts.
  if (refused === undefined && !/Certificate verification failed|BadCertificate/i.test(message)) return generic;
  // After our own deadline the message says nothing about the certificate: name the verdict first.
  const what =
    refused && !message.includes(refused.status)
      ? `the server's certificate was refused (${refused.status}); ${message}`
      : message;
  const certificate = refused
    ? (ua.crypto_utils.split_der(refused.certificate)[0] ?? refused.certificate)
    : await offeredEndpoints(ua, options.endpoint, manager, application)
        .then((offered) => certificateOf(ua, offered))
        .catch(() => undefined);
  const stored = await rejectedFileOf(options.pkiFolder, certificate);
  if (stored === undefined) {
    return `${what}. Fix: check the server certificate's validity and issuer chain in ${options.pkiFolder}`;
  }
  return `${what}. Fix: check the server certificate and trust it with "plantwire opcua trust ${options.endpoint} --pki ${options.pkiFolder}" (this client refused it and stored it in ${stored})`;
}
