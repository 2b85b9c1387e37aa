import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { createPlant, loadTagMap } from "plantwire";
import { type OpcuaSimulator, opcua, startOpcuaSimulator } from "plantwire/opcua";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { browseToTagMap } from "../../adapters/opcua/opcua-browse.js";
import { commands } from "../../adapters/opcua/opcua-cli.js";
import type { CliIo } from "../../src/cli/cli-command.js";
import { runCli } from "../../src/cli/main.js";
import { temporaryFolder, trustSimulator } from "./opcua-support.js";

const folder = temporaryFolder("browse");
const clientPki = join(folder.path, "client");
let simulator: OpcuaSimulator;

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

// Through the CLI's entry point, which turns a wrong command line (a usage error thrown by the command) into exit 2.
function command(name: string) {
  if (!commands.some((candidate) => candidate.name === name)) throw new Error(`no command ${name}`);
  return { run: (args: string[], io: CliIo) => runCli([...name.split(" "), ...args], io) };
}

beforeAll(async () => {
  simulator = await startOpcuaSimulator({
    port: 0,
    pkiFolder: join(folder.path, "server"),
    generate: 2000,
    users: { operator: "secret" },
    operationLimits: { maxNodesPerBrowse: 25, maxNodesPerRead: 500 },
    variables: [
      { path: "Plant/Pump7/Speed", dataType: "Double", value: 750, unit: "rpm", range: [0, 1800], writable: true },
      { path: "Plant/Pump7/Running", dataType: "Boolean", value: true },
      { path: "Plant/Pump7/Batch", dataType: "String", value: "B-17" },
      { path: "Plant/Pump7/Starts", dataType: "UInt32", value: 12 },
      { path: "Plant/Pump7/Curve", dataType: "Double", value: [1, 2, 3] },
    ],
  });
  await trustSimulator(clientPki, simulator);
});

afterAll(async () => {
  await simulator?.close();
  folder.remove();
});

describe("opcua browse to tag map", () => {
  it("walks 2000 generated variables (continuation points, split browses) into a tag map that reads back", async () => {
    const out = join(folder.path, "generated.yaml");
    const progress: number[] = [];
    const result = await browseToTagMap({
      endpoint: simulator.endpoint,
      pkiFolder: clientPki,
      name: "plc",
      root: "/Objects/Generated",
      maxReferencesPerNode: 30,
      out,
      onProgress: (step) => progress.push(step.variablesFound),
    });
    expect(result.variables).toHaveLength(2000);
    expect(progress.at(-1)).toBe(2000);
    const adapter = opcua({ endpoint: simulator.endpoint, pkiFolder: clientPki, name: "plc" });
    const tags = await loadTagMap(out, { adapters: { plc: adapter } });
    expect(Object.keys(tags)).toHaveLength(2000);
    expect(tags["Area0.Value0"]).toMatchObject({ type: "float", unit: "bar", range: [0, 100000] });
    expect(tags["Area0.Value0"]?.write).toEqual({ allowed: false, approval: "required" });
    expect(tags["Area0.Value1"]?.write).toBeUndefined();
    expect(tags["Area0.Value1"]).not.toHaveProperty("unit");
    const plant = createPlant({ tags });
    const snapshot = await plant.read();
    for (const name of snapshot.names) {
      const index = Number(/Value(\d+)$/.exec(name)?.[1]);
      expect(snapshot.sample(name).quality, name).toBe("good");
      expect(snapshot.value(name)).toBe(index * 0.5);
    }
    await plant.close();
  });

  it("runs as `plantwire opcua browse`, typing booleans, text and integers and skipping arrays", async () => {
    const out = join(folder.path, "plant.yaml");
    const { output, io } = capture();
    const code = await command("opcua browse").run(
      [
        simulator.endpoint,
        "--root",
        "/Objects/Plant",
        "--depth",
        "3",
        "--out",
        out,
        "--pki",
        clientPki,
        "--name",
        "plc",
      ],
      io,
    );
    expect(code, output.err).toBe(0);
    expect(output.out).toMatch(
      /wrote 4 tags to .*plant\.yaml \(1 nodes left out\)\n {2}left out \/Objects\/Plant\/Pump7\/Curve \(ns=1;s=Plant\.Pump7\.Curve\): an array/,
    );
    expect(output.err).toMatch(/level 1: .* variables/);
    const text = readFileSync(out, "utf8");
    const adapter = opcua({ endpoint: simulator.endpoint, pkiFolder: clientPki, name: "plc" });
    const tags = await loadTagMap(out, { adapters: { plc: adapter } });
    expect(Object.fromEntries(Object.entries(tags).map(([name, tag]) => [name, tag.type]))).toEqual({
      "Pump7.Speed": "float",
      "Pump7.Running": "boolean",
      "Pump7.Batch": "text",
      "Pump7.Starts": "integer",
    });
    expect(text).toMatch(/nodeId: ns=1;s=Plant\.Pump7\.Speed/);
    const plant = createPlant({ tags });
    const snapshot = await plant.read();
    expect(snapshot.value("Pump7.Batch")).toBe("B-17");
    expect(snapshot.value("Pump7.Starts")).toBe(12);
    await plant.close();
  });

  it("logs in as a user whose password comes from the environment, and says what to set when it is missing", async () => {
    const out = join(folder.path, "as-operator.yaml");
    const args = [simulator.endpoint, "--root", "/Objects/Plant", "--out", out, "--pki", clientPki];
    const saved = process.env.PLANTWIRE_OPCUA_PASSWORD;
    try {
      delete process.env.PLANTWIRE_OPCUA_PASSWORD;
      const missing = capture();
      expect(await command("opcua browse").run([...args, "--user", "operator"], missing.io)).toBe(3);
      expect(missing.output.err).toContain("PLANTWIRE_OPCUA_PASSWORD");
      process.env.PLANTWIRE_OPCUA_PASSWORD = "nope";
      const wrong = capture();
      expect(await command("opcua browse").run([...args, "--user", "operator"], wrong.io)).toBe(1);
      process.env.PLANTWIRE_OPCUA_PASSWORD = "secret";
      const before = simulator.userLogins;
      const right = capture();
      const code = await command("opcua browse").run([...args, "--user", "operator"], right.io);
      expect(code, right.output.err).toBe(0);
      expect(simulator.userLogins).toBeGreaterThan(before);
      expect(right.output.out).toMatch(/wrote 4 tags/);
      const both = capture();
      const mixed = [...args, "--user", "operator", "--user-cert", "c.pem", "--user-key", "k.pem"];
      expect(await command("opcua browse").run(mixed, both.io)).toBe(3);
      expect(both.output.err).toContain("give one of them");
      const half = capture();
      expect(await command("opcua browse").run([...args, "--user-cert", "c.pem"], half.io)).toBe(3);
      expect(half.output.err).toContain("--user-key");
    } finally {
      if (saved === undefined) delete process.env.PLANTWIRE_OPCUA_PASSWORD;
      else process.env.PLANTWIRE_OPCUA_PASSWORD = saved;
    }
  });

  it("rejects bad command lines with the usage", async () => {
    const { output, io } = capture();
    expect(await command("opcua browse").run([simulator.endpoint], io)).toBe(2);
    expect(output.err).toMatch(/--out/);
    expect(await command("opcua browse").run([simulator.endpoint, "--out", "x.yaml", "--depth", "-1"], io)).toBe(2);
  });
});

describe("opcua trust", () => {
  it("shows the fingerprint, trusts only with --yes, and the adapter then connects", async () => {
    const pki = join(folder.path, "fresh");
    const sha1 = (createHash("sha1").update(simulator.certificate()).digest("hex").match(/../g) ?? []).join(":");
    const first = capture();
    expect(await command("opcua trust").run([simulator.endpoint, "--pki", pki], first.io)).toBe(1);
    expect(first.output.out.toLowerCase()).toContain(sha1);
    expect(first.output.out).toMatch(/run again with --yes/);
    expect(readdirSync(join(pki, "trusted", "certs"))).toHaveLength(0);
    const adapter = opcua({ endpoint: simulator.endpoint, pkiFolder: pki, connectTimeoutMs: 5000 });
    await expect(adapter.connect()).rejects.toThrow(/trust/);
    const second = capture();
    expect(await command("opcua trust").run([simulator.endpoint, "--pki", pki, "--yes"], second.io)).toBe(0);
    expect(readdirSync(join(pki, "trusted", "certs"))).toHaveLength(1);
    await adapter.connect();
    expect(adapter.status().state).toBe("connected");
    await adapter.close();
  });
});
