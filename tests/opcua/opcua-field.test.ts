/**
 * Issue 15, OPC UA: what foreign servers showed. Endpoint mismatches list what the server offers; the certificate hint
 * only when a certificate was stored; browse leaves out the Server object and unreadable nodes and says why; trust
 * prints a readable subject; DateTime nodes are datetime tags; continuation points go back in batches; a full outage is
 * `disconnected`. All against the in-process node-opcua simulator.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { ClientSession } from "node-opcua";
import { type BoundTag, ConnectionError, createPlant, dateTime, defineTags, loadTagMap } from "plantwire";
import { type OpcuaAddress, type OpcuaSimulator, opcua, startOpcuaSimulator } from "plantwire/opcua";
import { waitFor } from "plantwire/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { browseToTagMap, browseVariables } from "../../adapters/opcua/opcua-browse.js";
import { commands } from "../../adapters/opcua/opcua-cli.js";
import type { OpenSession } from "../../adapters/opcua/opcua-session.js";
import { temporaryFolder, trustSimulator } from "./opcua-support.js";

const folder = temporaryFolder("field");
const clientPki = join(folder.path, "client");
let simulator: OpcuaSimulator;
const batch = new Date(Date.UTC(2024, 4, 17, 6, 30, 15, 250));

function capture() {
  const output = { out: "", err: "" };
  return {
    output,
    io: {
      out(text: string) {
        output.out += text;
      },
      err(text: string) {
        output.err += text;
      },
    },
  };
}

beforeAll(async () => {
  simulator = await startOpcuaSimulator({
    port: 0,
    pkiFolder: join(folder.path, "server"),
    securityPolicies: ["None", "Basic256Sha256"],
    operationLimits: { maxNodesPerBrowse: 4 },
    maxBrowseContinuationPoints: 4,
    variables: [
      { path: "Plant/Batch/Started", dataType: "DateTime", value: batch, writable: true },
      { path: "Plant/Batch/Secret", dataType: "Double", value: 1, readable: false },
      { path: "Plant/Batch/Size", dataType: "Double", value: 2 },
      ...Array.from({ length: 12 * 15 }, (_, index) => ({
        path: `Wide/Folder${Math.floor(index / 15)}/Value${index % 15}`,
        dataType: "Int32" as const,
        value: index,
      })),
    ],
  });
  await trustSimulator(clientPki, simulator);
});

afterAll(async () => {
  await simulator?.close();
  folder.remove();
});

describe("opcua connect errors", () => {
  it("lists the endpoints the server offers, by name, and the options and flags to pick one", async () => {
    const plc = opcua({ endpoint: simulator.endpoint, pkiFolder: clientPki, securityPolicy: "Aes256_Sha256_RsaPss" });
    const error = (await plc.connect().catch((caught: unknown) => caught)) as Error;
    expect(ConnectionError.isInstance(error)).toBe(true);
    expect(error.message).toContain(
      "offers no endpoint with security mode SignAndEncrypt with policy Aes256_Sha256_RsaPss",
    );
    expect(error.message).toMatch(/It offers: .*SignAndEncrypt with Basic256Sha256/);
    expect(error.message).toMatch(/It offers: .*Sign with Basic256Sha256/);
    expect(error.message).toMatch(/It offers: .*None with None/);
    expect(error.message).toContain('securityMode: "SignAndEncrypt", securityPolicy: "Basic256Sha256" }');
    expect(error.message).toContain("--security-mode SignAndEncrypt --security-policy Basic256Sha256");
    expect(error.message).not.toMatch(/security mode: 3/);
    expect(error.message).not.toMatch(/opcua trust/);
    await plc.close();
  });

  it("gives the certificate hint only when a certificate was stored in rejected/", async () => {
    const refusedPki = join(folder.path, "refused");
    const refused = opcua({ endpoint: "opc.tcp://127.0.0.1:1", pkiFolder: refusedPki, connectTimeoutMs: 5000 });
    const portError = (await refused.connect().catch((caught: unknown) => caught)) as Error;
    expect(ConnectionError.isInstance(portError)).toBe(true);
    expect(portError.message).not.toMatch(/trust/);
    expect(portError.message).toMatch(/Fix: check the endpoint, that the server runs/);
    expect(existsSync(join(refusedPki, "rejected")) ? readdirSync(join(refusedPki, "rejected")) : []).toEqual([]);
    await refused.close();

    const untrustingPki = join(folder.path, "untrusting");
    const untrusted = opcua({ endpoint: simulator.endpoint, pkiFolder: untrustingPki, connectTimeoutMs: 5000 });
    const trustError = (await untrusted.connect().catch((caught: unknown) => caught)) as Error;
    const [stored] = readdirSync(join(untrustingPki, "rejected"));
    expect(stored).toBeDefined();
    expect(trustError.message).toContain(`plantwire opcua trust ${simulator.endpoint}`);
    expect(trustError.message).toContain(join(untrustingPki, "rejected", stored as string));
    await untrusted.close();
  });
});

describe("opcua trust", () => {
  it("prints the certificate subject readably", async () => {
    const { output, io } = capture();
    const trust = commands.find((command) => command.name === "opcua trust");
    expect(await trust?.run([simulator.endpoint, "--pki", join(folder.path, "subject")], io)).toBe(1);
    const subject = /subject: +(.*)\n/.exec(output.out)?.[1] ?? "";
    expect(subject).toMatch(/^CN=[^,]+(, [A-Z]+=[^,]+)*$/);
    expect(output.out).not.toContain("[object Object]");
    expect(output.out).not.toContain("entries=");
  });
});

describe("opcua browse", () => {
  it("leaves out the Server object and unreadable nodes, says why, and types DateTime as datetime", async () => {
    const out = join(folder.path, "objects.yaml");
    const { output, io } = capture();
    const browse = commands.find((command) => command.name === "opcua browse");
    const code = await browse?.run([simulator.endpoint, "--out", out, "--pki", clientPki, "--name", "plc"], io);
    expect(code, output.err).toBe(0);
    expect(output.out).toMatch(/left out \/Objects\/Server \(ns=0;i=2253\): the Server diagnostics object/);
    expect(output.out).toMatch(
      /left out \/Objects\/Plant\/Batch\/Secret \(ns=1;s=Plant\.Batch\.Secret\): not readable/,
    );
    const text = readFileSync(out, "utf8");
    expect(text).toMatch(/^# {3}\/Objects\/Server \(ns=0;i=2253\):/m);
    expect(text).not.toMatch(/^ {2}Server\./m);
    const tags = await loadTagMap(out, {
      adapters: { plc: opcua({ endpoint: simulator.endpoint, pkiFolder: clientPki, name: "plc" }) },
    });
    expect(tags["Plant.Batch.Started"]?.type).toBe("datetime");
    expect(tags["Plant.Batch.Secret"]).toBeUndefined();
    expect(tags["Plant.Batch.Size"]?.type).toBe("float");
    const plant = createPlant({ tags });
    const snapshot = await plant.read();
    expect(snapshot.value("Plant.Batch.Started")).toEqual(batch);
    await plant.close();
  });

  it("walks the Server object when asked", async () => {
    const result = await browseToTagMap({
      endpoint: simulator.endpoint,
      pkiFolder: clientPki,
      depth: 2,
      includeServer: true,
    });
    expect(result.variables.some((variable) => variable.path.startsWith("/Objects/Server/"))).toBe(true);
    expect(result.skipped.some((node) => node.nodeId === "ns=0;i=2253")).toBe(false);
  });

  it("sends BrowseNext continuation points in batches within MaxNodesPerBrowse and the server's continuation points", async () => {
    const plc = opcua({ endpoint: simulator.endpoint, pkiFolder: clientPki });
    await plc.connect();
    const session = plc.getInstance() as ClientSession;
    const browseNextSizes: number[] = [];
    const spied = new Proxy(session, {
      get(target, property) {
        if (property === "browseNext") {
          return (points: Buffer[], release: boolean) => {
            browseNextSizes.push(points.length);
            return target.browseNext(points, release);
          };
        }
        const value = Reflect.get(target, property, target);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    const ua = (await import("node-opcua")).default ?? (await import("node-opcua"));
    const limits = plc.limits();
    expect(limits?.maxNodesPerBrowse).toBe(4);
    expect(limits?.maxBrowseContinuationPoints).toBe(4);
    const open = { ua, session: spied, limits } as unknown as OpenSession;
    const result = await browseVariables(open, { root: "/Objects/Wide", maxReferencesPerNode: 3 });
    expect(result.variables).toHaveLength(180);
    expect(result.skipped).toEqual([]);
    expect(browseNextSizes.length).toBeGreaterThan(0);
    expect(Math.max(...browseNextSizes)).toBeLessThanOrEqual(4);
    expect(Math.max(...browseNextSizes)).toBeGreaterThan(1);
    await plc.close();
  });
});

describe("opcua DateTime tags", () => {
  it("reads a DateTime node as a Date, writes a Date, and refuses a non-date before sending", async () => {
    const plc = opcua({ endpoint: simulator.endpoint, pkiFolder: clientPki, name: "plc" });
    const tags = defineTags({
      started: dateTime({ source: plc.node("ns=1;s=Plant.Batch.Started"), write: { approval: "automatic" } }),
    });
    const bound: BoundTag<OpcuaAddress>[] = [
      { name: "started", definition: tags.started, address: tags.started.source.address as OpcuaAddress },
    ];
    await plc.connect();
    await plc.prepare?.(bound);
    const [first] = await plc.read(bound);
    expect(first?.quality).toBe("good");
    expect(first?.value).toBeInstanceOf(Date);
    expect((first?.value as Date | undefined)?.toISOString()).toBe(batch.toISOString());
    const later = new Date(Date.UTC(2025, 0, 2, 3, 4, 5, 678));
    const tag = bound[0] as BoundTag<OpcuaAddress>;
    expect(plc.checkWrite?.(tag, later)).toBeUndefined();
    expect(plc.checkWrite?.(tag, "2025-01-02")).toMatch(/DateTime needs a valid Date/);
    expect((await plc.write(tag, later)).outcome).toBe("written");
    expect((simulator.get("Plant/Batch/Started") as Date).toISOString()).toBe(later.toISOString());
    const [after] = await plc.read(bound);
    expect(plc.sameOnWire?.(tag, later, after?.value)).toBe(true);
    expect((await plc.write(tag, 1234)).outcome).toBe("failed");
    await plc.close();
  });
});

describe("opcua full outage", () => {
  it("is disconnected (reconnecting) while the server is unreachable, never degraded, and connected after", async () => {
    const plc = opcua({
      endpoint: simulator.endpoint,
      pkiFolder: clientPki,
      reconnectDelayMs: 50,
      maxReconnectDelayMs: 200,
    });
    await plc.connect();
    const states: string[] = [];
    const stop = plc.onStatus((status) => states.push(status.state));
    await simulator.suspend();
    expect(await waitFor(() => plc.status().state === "disconnected", 10_000)).toBe(true);
    expect(plc.status().reason).toMatch(/reconnecting/);
    await simulator.resume();
    expect(await waitFor(() => plc.status().state === "connected", 15_000)).toBe(true);
    stop();
    expect(states).toContain("disconnected");
    expect(states).not.toContain("degraded");
    await plc.close();
  }, 30_000);
});
