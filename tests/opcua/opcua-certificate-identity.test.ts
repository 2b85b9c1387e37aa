/**
 * The client's certificate identity and the certificate hints, against the OPC UA simulator over real sockets.
 * - One application URI: the client certificate (made by whichever plantwire client meets a new PKI folder first,
 *   `opcua trust` included) carries the URI the sessions give, so node-opcua never warns NODE-OPCUA-W06 and the
 *   server sees the name the adapter's `applicationName` asks for.
 * - The `plantwire opcua trust` hint appears exactly when the refused server certificate was stored in rejected/:
 *   also when the server cannot be asked for its certificate a second time, and never for a refused port, a
 *   certificate that is not valid yet, or a server that refuses this client (that message names our certificate).
 */
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import net from "node:net";
import { hostname } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { ConnectionError, type Logger } from "plantwire";
import {
  fetchServerCertificate,
  type OpcuaSimulator,
  opcua,
  startOpcuaSimulator,
  trustServerCertificate,
} from "plantwire/opcua";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { temporaryFolder, trustSimulator } from "./opcua-support.js";

type NodeOpcua = typeof import("node-opcua");
const folder = temporaryFolder("identity");
let ua: NodeOpcua;
let simulator: OpcuaSimulator;
let strict: OpcuaSimulator;

beforeAll(async () => {
  ua = ((await import("node-opcua")) as unknown as { default?: NodeOpcua }).default ?? (await import("node-opcua"));
  // Standard nodeset: one test reaches this server through a proxy (see the simulator's `nodeset` option).
  simulator = await startOpcuaSimulator({
    port: 0,
    pkiFolder: join(folder.path, "server"),
    variables: [{ path: "Plant/Speed", dataType: "Double", value: 1 }],
  });
  // A server that keeps a trust list: unknown client certificates are refused and stored in its rejected/.
  strict = await startOpcuaSimulator({
    port: 0,
    nodeset: "minimal",
    pkiFolder: join(folder.path, "strict-server"),
    trustAllClients: false,
    variables: [{ path: "Plant/Speed", dataType: "Double", value: 1 }],
  });
}, 120_000);

afterAll(async () => {
  await simulator?.close();
  await strict?.close();
  folder.remove();
});

/** A logger that keeps every line, by level. */
function keepingLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const keep = (message: string) => void lines.push(message);
  return { lines, debug: keep, info: keep, warn: keep, error: keep };
}

const sha1 = (data: Buffer) => createHash("sha1").update(data).digest("hex");

/** The URI in a certificate's subjectAltName. */
function uriOf(certificate: Buffer): string | undefined {
  return ua.crypto_utils.exploreCertificate(certificate).tbsCertificate.extensions?.subjectAltName
    ?.uniformResourceIdentifier?.[0];
}

function clientCertificate(pkiFolder: string): Buffer {
  return ua.crypto_utils.convertPEMtoDER(
    readFileSync(join(pkiFolder, "own", "certs", "client_certificate.pem"), "utf8"),
  );
}

/** The certificates a server PKI folder keeps in one of its lists, as DER. */
function certificatesIn(folderPath: string): Buffer[] {
  if (!existsSync(folderPath)) return [];
  return readdirSync(folderPath).map((file) =>
    ua.crypto_utils.convertPEMtoDER(readFileSync(join(folderPath, file), "utf8")),
  );
}

/** A TCP relay to `port` that lets the first connection through and resets every later one. */
async function oneConnectionRelay(
  port: number,
): Promise<{ endpoint: string; accepted(): number; close(): Promise<void> }> {
  let accepted = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    accepted += 1;
    sockets.add(client);
    client.on("close", () => sockets.delete(client));
    client.on("error", () => {});
    if (accepted > 1) {
      client.resetAndDestroy();
      return;
    }
    const upstream = net.connect(port, "127.0.0.1");
    sockets.add(upstream);
    upstream.on("error", () => client.destroy());
    client.on("error", () => upstream.destroy());
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address() as net.AddressInfo;
  return {
    endpoint: `opc.tcp://127.0.0.1:${address.port}`,
    accepted: () => accepted,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

describe("one application URI for the client certificate and the sessions", () => {
  it("a certificate made by `opcua trust` carries the adapter's URI, the server sees it, no W06", async () => {
    const pkiFolder = join(folder.path, "trust-first");
    // What `plantwire opcua trust <endpoint> --yes` does: on a new folder, this is the first client and makes the
    // client certificate.
    const info = await fetchServerCertificate(simulator.endpoint, pkiFolder);
    await trustServerCertificate(pkiFolder, info.certificate);
    const expected = ua.makeApplicationUrn(hostname(), "plantwire");
    const ours = clientCertificate(pkiFolder);
    expect(uriOf(ours)).toBe(expected);

    const logger = keepingLogger();
    const plc = opcua({ endpoint: simulator.endpoint, pkiFolder, logger });
    await plc.connect();
    expect(plc.status().state).toBe("connected");
    await plc.close();
    expect(logger.lines.filter((line) => line.includes("NODE-OPCUA-W06"))).toEqual([]);
    // The server accepted this client's certificate into its trusted list: the certificate it saw carries the URI.
    const seen = certificatesIn(join(folder.path, "server", "trusted", "certs")).find((der) => der.equals(ours));
    expect(seen && uriOf(seen)).toBe(expected);
  });

  it("a PKI folder made under another application name keeps its certificate's URI (no W06)", async () => {
    const pkiFolder = join(folder.path, "renamed");
    await trustSimulator(pkiFolder, simulator);
    const first = opcua({ endpoint: simulator.endpoint, pkiFolder, applicationName: "line3" });
    await first.connect();
    await first.close();
    const made = uriOf(clientCertificate(pkiFolder));
    expect(made).toBe(ua.makeApplicationUrn(hostname(), "line3"));

    const logger = keepingLogger();
    const plc = opcua({ endpoint: simulator.endpoint, pkiFolder, logger });
    await plc.connect();
    expect(plc.status().state).toBe("connected");
    await plc.close();
    expect(logger.lines.filter((line) => line.includes("NODE-OPCUA-W06"))).toEqual([]);
    expect(uriOf(clientCertificate(pkiFolder))).toBe(made);
  });
});

describe("the trust hint appears exactly when the refused certificate was stored", () => {
  it("names the stored file even when the server cannot be asked again", async () => {
    const relay = await oneConnectionRelay(simulator.port);
    try {
      const pkiFolder = join(folder.path, "one-connection");
      const logger = keepingLogger();
      const plc = opcua({ endpoint: relay.endpoint, pkiFolder, logger, connectTimeoutMs: 20_000 });
      const error = await plc.connect().catch((caught: unknown) => caught);
      await plc.close();
      expect(ConnectionError.isInstance(error)).toBe(true);
      const message = (error as Error).message;
      expect(message).toMatch(/BadCertificateUntrusted/);
      expect(message).toContain(`plantwire opcua trust ${relay.endpoint} --pki ${pkiFolder}`);
      const stored = /stored it in (.+\.pem)\)/.exec(message)?.[1];
      expect(stored).toBeDefined();
      const der = ua.crypto_utils.convertPEMtoDER(readFileSync(stored as string, "utf8"));
      expect(sha1(der)).toBe(sha1(simulator.certificate()));
      // One connection: the certificate the client refused is the one looked up, the server is not asked again.
      expect(relay.accepted()).toBe(1);
      expect(logger.lines.filter((line) => line.includes("NODE-OPCUA-W06"))).toEqual([]);
    } finally {
      await relay.close();
    }
  });

  it("gives no trust hint for a refused port, and stores nothing", async () => {
    const closed = net.createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const port = (closed.address() as net.AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const pkiFolder = join(folder.path, "refused-port");
    const plc = opcua({ endpoint: `opc.tcp://127.0.0.1:${port}`, pkiFolder, connectTimeoutMs: 20_000 });
    const error = await plc.connect().catch((caught: unknown) => caught);
    await plc.close();
    expect(ConnectionError.isInstance(error)).toBe(true);
    expect((error as Error).message).not.toMatch(/opcua trust|rejected/);
    expect(readdirSync(join(pkiFolder, "rejected"))).toEqual([]);
  });

  it("gives no trust hint for a trusted server certificate that is not valid yet (refused, not stored)", async () => {
    // The server's own certificate, made before it starts: valid only from tomorrow.
    const serverPki = join(folder.path, "future-server");
    const manager = new ua.OPCUACertificateManager({ rootFolder: serverPki, disableFileWatchers: true });
    await manager.initialize();
    await manager.createSelfSignedCertificate({
      subject: "/CN=future",
      applicationUri: "urn:plantwire:future",
      dns: [],
      startDate: new Date(Date.now() + 24 * 3600_000),
      validity: 30,
      outputFile: join(serverPki, "own", "certs", "certificate.pem"),
    });
    await manager.dispose();
    const future = await startOpcuaSimulator({ port: 0, nodeset: "minimal", pkiFolder: serverPki });
    try {
      // Trusted already (an unknown certificate is refused as untrusted before its dates are looked at).
      const pkiFolder = join(folder.path, "not-valid-yet");
      await trustSimulator(pkiFolder, future);
      const plc = opcua({ endpoint: future.endpoint, pkiFolder, connectTimeoutMs: 20_000 });
      const error = await plc.connect().catch((caught: unknown) => caught);
      await plc.close();
      expect(ConnectionError.isInstance(error)).toBe(true);
      const message = (error as Error).message;
      expect(message).toMatch(/BadCertificateTimeInvalid/);
      expect(message).not.toMatch(/opcua trust/);
      expect(message).toContain(`check the server certificate's validity and issuer chain in ${pkiFolder}`);
      expect(readdirSync(join(pkiFolder, "rejected"))).toEqual([]);
    } finally {
      await future.close();
    }
  });

  it("names this client's certificate, not the trust command, when the server refuses the client", async () => {
    const pkiFolder = join(folder.path, "refused-client");
    await trustSimulator(pkiFolder, strict);
    const plc = opcua({ endpoint: strict.endpoint, pkiFolder, connectTimeoutMs: 20_000 });
    const error = await plc.connect().catch((caught: unknown) => caught);
    await plc.close();
    expect(ConnectionError.isInstance(error)).toBe(true);
    const message = (error as Error).message;
    expect(message).toMatch(/BadSecurityChecksFailed/);
    expect(message).not.toMatch(/opcua trust/);
    const ours = clientCertificate(pkiFolder);
    expect(message).toContain(`the server does not trust this client's certificate`);
    expect(message).toContain(`(SHA-1 ${sha1(ours)})`);
    // The certificate the message names is the one the server stored in its rejected list.
    const rejected = certificatesIn(join(folder.path, "strict-server", "rejected"));
    expect(rejected.some((der) => der.equals(ours))).toBe(true);
  });
});

const root = fileURLToPath(new URL("../..", import.meta.url));
const bin = fileURLToPath(new URL("../../src/cli/bin.ts", import.meta.url));

describe("plantwire opcua browse, as a person runs it", () => {
  it("prints the trust hint with the stored file, and trusting it lets browse through", {
    timeout: 180_000,
  }, async () => {
    const pkiFolder = join(folder.path, "cli");
    const out = join(folder.path, "cli-tags.yaml");
    const environment = { ...process.env };
    delete environment.PLANTWIRE_LOG;
    const run = (args: string[]) =>
      promisify(execFile)(process.execPath, ["--import", "tsx", bin, ...args], { cwd: root, env: environment }).then(
        ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
        (failed: { code: number; stdout: string; stderr: string }) => failed,
      );
    const refused = await run(["opcua", "browse", simulator.endpoint, "--out", out, "--pki", pkiFolder]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`plantwire opcua trust ${simulator.endpoint} --pki ${pkiFolder}`);
    const stored = /stored it in (.+\.pem)\)/.exec(refused.stderr)?.[1];
    expect(stored && existsSync(stored)).toBe(true);
    expect(stored).toContain(sha1(simulator.certificate()));
    const trusted = await run(["opcua", "trust", simulator.endpoint, "--pki", pkiFolder, "--yes"]);
    expect(trusted.code, trusted.stderr).toBe(0);
    const browsed = await run(["opcua", "browse", simulator.endpoint, "--out", out, "--pki", pkiFolder]);
    expect(browsed.code, browsed.stderr).toBe(0);
    expect(uriOf(clientCertificate(pkiFolder))).toBe(ua.makeApplicationUrn(hostname(), "plantwire"));
  });
});
