/**
 * What a server offers and why a connection failed: its endpoints (security mode and policy, by the names plantwire's
 * options use) over the discovery service, and connect errors turned into messages that name the fix — the endpoints
 * to choose from when none matches, and the certificate to trust only when one was really stored in `rejected/`.
 */
import { createHash } from "node:crypto";
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import type { EndpointDescription, OPCUACertificateManager } from "node-opcua";
import type { NodeOpcua } from "./opcua-codec.js";
import { deprecatedSecurityPolicies, type OpcuaSecurityMode, type ResolvedOpcuaOptions } from "./opcua-config.js";

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

/** The endpoints of a server, over GetEndpoints (no session, nothing secret sent). */
export async function offeredEndpoints(
  ua: NodeOpcua,
  endpoint: string,
  manager: OPCUACertificateManager,
): Promise<OfferedEndpoint[]> {
  const client = ua.OPCUAClient.create({
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

/**
 * The explanation of a failed connect: the endpoints to choose from when none matched, the certificate to trust when
 * the server's was refused and is stored in rejected/ (checked by its thumbprint, fetched again over GetEndpoints),
 * else the generic checks. Never throws.
 */
export async function explainConnectFailure(
  ua: NodeOpcua,
  options: ResolvedOpcuaOptions,
  manager: OPCUACertificateManager,
  message: string,
): Promise<string> {
  const generic = `${message}. Fix: check the endpoint, that the server runs and is reachable, and the security mode/policy`;
  if (/Cannot find an Endpoint matching/i.test(message)) {
    try {
      return noMatchingEndpoint(options, await offeredEndpoints(ua, options.endpoint, manager));
    } catch (error) {
      return `the server at ${options.endpoint} offers no endpoint with security mode ${options.securityMode} and policy ${options.securityPolicy} (its endpoint list could not be read: ${(error as Error).message}). Fix: pick a mode and policy the server's configuration offers`;
    }
  }
  // "Fail to connect ... to collect server's certificate" also names a certificate: only a verification failure counts.
  if (!/Certificate verification failed|BadCertificate/i.test(message)) return generic;
  const certificate = await offeredEndpoints(ua, options.endpoint, manager)
    .then((offered) => certificateOf(ua, offered))
    .catch(() => undefined);
  const stored = await rejectedFileOf(options.pkiFolder, certificate);
  if (stored === undefined) {
    return `${message}. Fix: check the server certificate's validity and issuer chain in ${options.pkiFolder}`;
  }
  return `${message}. Fix: check the server certificate and trust it with "plantwire opcua trust ${options.endpoint} --pki ${options.pkiFolder}" (this client refused it and stored it in ${stored})`;
}
