/**
 * T9: secure by default. Mode None and deprecated policies are refused unless `insecure: true`; an untrusted server
 * certificate is refused and lands in the PKI's rejected folder; a user name and password never cross over None.
 */
import { createHash } from "node:crypto";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { ConfigError, ConnectionError } from "plantwire";
import { type OpcuaSimulator, opcua, startOpcuaSimulator } from "plantwire/opcua";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { temporaryFolder, trustSimulator } from "./opcua-support.js";

const folder = temporaryFolder("security");
let simulator: OpcuaSimulator;

beforeAll(async () => {
  simulator = await startOpcuaSimulator({
    port: 0,
    nodeset: "minimal",
    pkiFolder: join(folder.path, "server"),
    users: { operator: "secret" },
    acceptUserCertificates: true,
    allowAnonymous: false,
    variables: [{ path: "Plant/Speed", dataType: "Double", value: 1 }],
  });
  await trustSimulator(join(folder.path, "trusting"), simulator);
});

afterAll(async () => {
  await simulator?.close();
  folder.remove();
});

describe("opcua T9: security", () => {
  it("refuses security mode None and deprecated policies unless insecure: true", () => {
    const endpoint = "opc.tcp://127.0.0.1:4840";
    const none = () => opcua({ endpoint, securityMode: "None" });
    expect(none).toThrow(ConfigError);
    expect(none).toThrow(/securityMode: security mode None is insecure and refused by default/);
    expect(() => opcua({ endpoint, securityPolicy: "Basic256" })).toThrow(/policy Basic256 is insecure/);
    expect(() => opcua({ endpoint, securityPolicy: "Basic128Rsa15" })).toThrow(ConfigError);
    expect(() => opcua({ endpoint, securityMode: "None", insecure: true })).not.toThrow();
    expect(() => opcua({ endpoint, securityMode: "Sign", securityPolicy: "None" })).toThrow(/cannot use policy None/);
    const secure = opcua({ endpoint });
    expect(secure.name).toBe("opcua");
  });

  it("refuses an untrusted server certificate and stores it in the rejected folder", async () => {
    const pkiFolder = join(folder.path, "untrusting");
    const plc = opcua({ endpoint: simulator.endpoint, pkiFolder, connectTimeoutMs: 5000 });
    const error = await plc.connect().catch((caught: unknown) => caught);
    expect(ConnectionError.isInstance(error)).toBe(true);
    expect((error as Error).message).toMatch(/plantwire opcua trust/);
    expect(plc.status().state).toBe("disconnected");
    expect(simulator.sessionCount()).toBe(0);
    const thumbprint = createHash("sha1").update(simulator.certificate()).digest("hex");
    const rejected = readdirSync(join(pkiFolder, "rejected"));
    expect(rejected.some((file) => file.toLowerCase().includes(thumbprint))).toBe(true);
    expect(readdirSync(join(pkiFolder, "trusted", "certs")).length).toBe(0);
    await plc.close();
  });

  it("never sends a user name and password over security mode None", async () => {
    const before = simulator.userLogins;
    expect(() =>
      opcua({
        endpoint: simulator.endpoint,
        securityMode: "None",
        insecure: true,
        user: { username: "operator", password: "secret" },
      }),
    ).toThrow(/user: a user name and password would cross the network unprotected/);
    expect(simulator.userLogins).toBe(before);
  });

  it("logs in with a user name over SignAndEncrypt, and a wrong password is refused", async () => {
    const pkiFolder = join(folder.path, "trusting");
    const before = simulator.userLogins;
    const plc = opcua({ endpoint: simulator.endpoint, pkiFolder, user: { username: "operator", password: "secret" } });
    await plc.connect();
    expect(simulator.userLogins).toBe(before + 1);
    await plc.close();
    const wrong = opcua({ endpoint: simulator.endpoint, pkiFolder, user: { username: "operator", password: "nope" } });
    await expect(wrong.connect()).rejects.toThrow(ConnectionError);
    await wrong.close();
    expect(await waitForZeroSessions()).toBe(true);
  });
});

async function waitForZeroSessions(): Promise<boolean> {
  for (let attempt = 0; attempt < 100; attempt++) {
    if (simulator.sessionCount() === 0) return true;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return false;
}

describe("opcua X.509 user token", () => {
  it("opens a session with a user certificate, and names unreadable files as a config error", async () => {
    const ua = (await import("node-opcua")).default ?? (await import("node-opcua"));
    const userPki = join(folder.path, "operator");
    const manager = new ua.OPCUACertificateManager({ rootFolder: userPki, disableFileWatchers: true });
    await manager.initialize();
    const certificateFile = join(userPki, "operator.pem");
    await manager.createSelfSignedCertificate({
      subject: "/CN=operator",
      applicationUri: "urn:plantwire:operator",
      dns: [],
      startDate: new Date(),
      validity: 30,
      outputFile: certificateFile,
    });
    await manager.dispose();
    const privateKeyFile = join(userPki, "own", "private", "private_key.pem");
    const pkiFolder = join(folder.path, "trusting");
    // This simulator refuses anonymous sessions, so a session below proves the certificate token was used.
    const anonymous = opcua({ endpoint: simulator.endpoint, pkiFolder });
    await expect(anonymous.connect()).rejects.toThrow(ConnectionError);
    await anonymous.close();
    const plc = opcua({ endpoint: simulator.endpoint, pkiFolder, user: { certificateFile, privateKeyFile } });
    await plc.connect();
    expect(plc.status().state).toBe("connected");
    await plc.close();
    const missing = opcua({
      endpoint: simulator.endpoint,
      pkiFolder,
      user: { certificateFile: join(userPki, "nope.pem"), privateKeyFile },
    });
    await expect(missing.connect()).rejects.toThrow(ConfigError);
  });
});
