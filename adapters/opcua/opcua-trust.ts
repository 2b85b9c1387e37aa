/**
 * Trust on confirmation: fetch a server's certificate over the discovery service (GetEndpoints needs no session and
 * sends no secrets), show its fingerprints, and put it in the PKI's trusted folder only when a person confirms.
 */
import { createHash } from "node:crypto";
import { ConnectionError } from "../../src/errors.js";
import { certificateOf, offeredEndpoints } from "./opcua-endpoints.js";
import { clientApplication, loadNodeOpcua, openCertificateManager } from "./opcua-session.js";

/** A server certificate as shown to a person before trusting it. */
export interface ServerCertificateInfo {
  readonly certificate: Buffer;
  /** SHA-1 thumbprint (what OPC UA tools show), hex with colons. */
  readonly sha1: string;
  readonly sha256: string;
  readonly subject: string;
  readonly validFrom: string;
  readonly validTo: string;
  /** The application URI of the server's endpoint description. */
  readonly applicationUri: string;
}

// X.500 attribute names as certificate viewers show them, most specific first.
const attributeNames: readonly [string, string][] = [
  ["commonName", "CN"],
  ["organizationalUnitName", "OU"],
  ["organizationName", "O"],
  ["localityName", "L"],
  ["stateOrProvinceName", "ST"],
  ["countryName", "C"],
  ["domainComponent", "DC"],
];

/**
 * A certificate subject as one readable line, e.g. "CN=NodeOPCUA@vm, O=Sterfive, L=Orleans, C=FR". node-opcua's parsed
 * subject carries the raw attribute list (`entries`) beside the named fields: only text values are shown.
 */
export function subjectText(subject: Readonly<Record<string, unknown>> | undefined): string {
  if (!subject) return "(none)";
  const known = new Set(attributeNames.map(([key]) => key));
  const parts = attributeNames.flatMap(([key, short]) => {
    const value = subject[key];
    return typeof value === "string" && value.length > 0 ? [`${short}=${value}`] : [];
  });
  for (const [key, value] of Object.entries(subject)) {
    if (!known.has(key) && (typeof value === "string" || typeof value === "number")) parts.push(`${key}=${value}`);
  }
  return parts.length > 0 ? parts.join(", ") : "(none)";
}

function fingerprint(data: Buffer, algorithm: "sha1" | "sha256"): string {
  return (createHash(algorithm).update(data).digest("hex").match(/../g) ?? []).join(":").toUpperCase();
}

/**
 * Fetches the server certificate of an endpoint (the first endpoint that carries one). On a new PKI folder this makes
 * the client certificate, for `applicationName` (the adapters' `applicationName` option, @default "plantwire"), so it
 * is the same certificate the adapter's sessions will show.
 */
export async function fetchServerCertificate(
  endpoint: string,
  pkiFolder: string,
  applicationName = "plantwire",
): Promise<ServerCertificateInfo> {
  const ua = await loadNodeOpcua();
  const manager = await openCertificateManager(ua, pkiFolder);
  try {
    const application = await clientApplication(ua, pkiFolder, applicationName);
    const offered = await offeredEndpoints(ua, endpoint, manager, application);
    const certificate = certificateOf(ua, offered);
    const withCertificate = offered.find((entry) => entry.description.serverCertificate?.length)?.description;
    if (!certificate || !withCertificate) throw new Error("the server offers no certificate");
    const info = ua.crypto_utils.exploreCertificate(certificate).tbsCertificate;
    const subject = subjectText(info.subject as unknown as Record<string, unknown>);
    return {
      certificate,
      sha1: fingerprint(certificate, "sha1"),
      sha256: fingerprint(certificate, "sha256"),
      subject,
      validFrom: info.validity.notBefore.toISOString(),
      validTo: info.validity.notAfter.toISOString(),
      applicationUri: withCertificate.server.applicationUri ?? "",
    };
  } catch (error) {
    throw new ConnectionError(`cannot fetch the certificate of ${endpoint}: ${(error as Error).message}`, {
      cause: error,
    });
  } finally {
    await manager.dispose().catch(() => {});
  }
}

/** Puts a server certificate in the PKI's trusted folder (and out of rejected). */
export async function trustServerCertificate(pkiFolder: string, certificate: Buffer): Promise<void> {
  const ua = await loadNodeOpcua();
  const manager = await openCertificateManager(ua, pkiFolder);
  try {
    await manager.trustCertificate(certificate);
  } finally {
    await manager.dispose().catch(() => {});
  }
}
