/**
 * Trust on confirmation: fetch a server's certificate over the discovery service (GetEndpoints needs no session and
 * sends no secrets), show its fingerprints, and put it in the PKI's trusted folder only when a person confirms.
 */
import { createHash } from "node:crypto";
import { ConnectionError } from "../../src/errors.js";
import { loadNodeOpcua, openCertificateManager } from "./opcua-session.js";

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

function fingerprint(data: Buffer, algorithm: "sha1" | "sha256"): string {
  return (createHash(algorithm).update(data).digest("hex").match(/../g) ?? []).join(":").toUpperCase();
}

/** Fetches the server certificate of an endpoint (the first endpoint that carries one). */
export async function fetchServerCertificate(endpoint: string, pkiFolder: string): Promise<ServerCertificateInfo> {
  const ua = await loadNodeOpcua();
  const manager = await openCertificateManager(ua, pkiFolder);
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
    const withCertificate = endpoints.find((description) => description.serverCertificate?.length);
    if (!withCertificate?.serverCertificate) throw new Error("the server offers no certificate");
    const certificate =
      ua.crypto_utils.split_der(withCertificate.serverCertificate)[0] ?? withCertificate.serverCertificate;
    const info = ua.crypto_utils.exploreCertificate(certificate).tbsCertificate;
    const subject = Object.entries(info.subject ?? {})
      .map(([key, value]) => `${key}=${String(value)}`)
      .join(", ");
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
    await client.disconnect().catch(() => {});
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
