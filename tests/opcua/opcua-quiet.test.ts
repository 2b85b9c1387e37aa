/**
 * Quiet by default: the CLI commands that touch OPC UA (browse refused by an untrusted certificate, trust, browse,
 * read on an OPC UA site) print what plantwire says and none of node-opcua's own lines, run as the real CLI in a
 * child process against the OPC UA simulator. With --verbose (PLANTWIRE_LOG=debug) the library's lines come back,
 * on stderr, marked as debug: they are routed, not thrown away. An adapter given a logger receives them there.
 */
import { execFile } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { createPlant, defineTags, float, type Logger } from "plantwire";
import { type OpcuaSimulator, opcua, startOpcuaSimulator } from "plantwire/opcua";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { noiseIn } from "./opcua-quiet-noise.js";
import { temporaryFolder } from "./opcua-support.js";

const root = fileURLToPath(new URL("../..", import.meta.url));
const bin = fileURLToPath(new URL("../../src/cli/bin.ts", import.meta.url));

async function cli(args: string[], env: Record<string, string> = {}) {
  const environment = { ...process.env, ...env };
  if (!("PLANTWIRE_LOG" in env)) delete environment.PLANTWIRE_LOG;
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, ["--import", "tsx", bin, ...args], {
      cwd: root,
      env: environment,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

const folder = temporaryFolder("quiet");
let simulator: OpcuaSimulator;

beforeAll(async () => {
  simulator = await startOpcuaSimulator({
    port: 0,
    pkiFolder: join(folder.path, "server"),
    variables: [{ path: "Plant/Pump7/Speed", dataType: "Double", value: 750, unit: "rpm", range: [0, 1800] }],
  });
});

afterAll(async () => {
  await simulator?.close();
  folder.remove();
});

describe("the OPC UA commands are quiet by default", () => {
  // Four CLI processes, each loading node-opcua and (the first) making a client certificate: slow on a busy machine.
  it("browse (untrusted, then trusted), trust and read print no library lines", { timeout: 240_000 }, async () => {
    const pki = join(folder.path, "cli");
    const out = join(folder.path, "tags.yaml");

    const refused = await cli(["opcua", "browse", simulator.endpoint, "--out", out, "--pki", pki]);
    expect(refused.code).toBe(1);
    // One clear line, and nothing from the library before it.
    expect(refused.stderr.trim().split("\n")).toHaveLength(1);
    expect(refused.stderr).toMatch(/cannot connect to .*BadCertificateUntrusted.*Fix: /);
    expect(noiseIn(refused.stdout + refused.stderr)).toEqual([]);

    const trusted = await cli(["opcua", "trust", simulator.endpoint, "--pki", pki, "--yes"]);
    expect(trusted.code, trusted.stderr).toBe(0);
    expect(trusted.stdout).toMatch(/SHA-256/);
    expect(noiseIn(trusted.stdout + trusted.stderr)).toEqual([]);

    const browsed = await cli(["opcua", "browse", simulator.endpoint, "--out", out, "--pki", pki]);
    expect(browsed.code, browsed.stderr).toBe(0);
    expect(browsed.stdout).toMatch(/wrote \d+ tags/);
    expect(noiseIn(browsed.stdout + browsed.stderr)).toEqual([]);

    const site = join(folder.path, "site.yaml");
    writeFileSync(
      site,
      `site: quiet\nadapters:\n  plc: { kind: opcua, endpoint: "${simulator.endpoint}", pkiFolder: "${pki}" }\n` +
        "tags:\n  speed: { type: float, unit: rpm, range: [0, 1800], source: { adapter: plc, path: /Objects/Plant/Pump7/Speed } }\n",
    );
    const read = await cli(["read", "--site", site]);
    expect(read.code, read.stdout + read.stderr).toBe(0);
    expect(read.stdout).toMatch(/speed\s+750\s+rpm\s+good/);
    expect(read.stderr).toBe("");
    expect(noiseIn(read.stdout)).toEqual([]);
  });

  it("shows the library's lines, marked debug, with --verbose", { timeout: 120_000 }, async () => {
    const pki = join(folder.path, "cli-debug");
    const refused = await cli([
      "opcua",
      "browse",
      simulator.endpoint,
      "--out",
      join(folder.path, "unused.yaml"),
      "--pki",
      pki,
      "--verbose",
    ]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(
      /^\[plantwire\] debug: node-opcua warning \(client_base_impl:\d+\): .*BadCertificateUntrusted/m,
    );
    expect(refused.stderr).toMatch(/^\[plantwire\] debug: OPC UA adapter "opcua": connecting to /m);
    // Every library line is one of ours, at debug: none printed around the logger.
    const stray = refused.stderr.split("\n").filter((line) => /^\d\d:\d\d:\d\d\.\d{3}Z :/.test(line));
    expect(stray).toEqual([]);
    expect(refused.stdout).toBe("");
  });
});

describe("an OPC UA adapter given a logger", () => {
  it("receives node-opcua's lines about a refused certificate at debug, and nothing reaches the console", async () => {
    const lines: { level: keyof Logger; message: string }[] = [];
    const at = (level: keyof Logger) => (message: string) => void lines.push({ level, message });
    const logger: Logger = { debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") };
    const printed: string[] = [];
    const original = { log: console.log, warn: console.warn, error: console.error };
    for (const name of ["log", "warn", "error"] as const) {
      console[name] = (...args: unknown[]) => void printed.push(args.map(String).join(" "));
    }
    try {
      const plc = opcua({ endpoint: simulator.endpoint, pkiFolder: join(folder.path, "adapter"), logger });
      const plant = createPlant({
        tags: defineTags({ speed: float({ unit: "rpm", source: plc.path("/Objects/Plant/Pump7/Speed") }) }),
        onError: () => {},
      });
      const sample = (await plant.read()).sample("speed");
      await plant.close();
      expect(sample.quality).toBe("bad");
      expect(sample.detail ?? "").toMatch(/BadCertificateUntrusted/);
    } finally {
      Object.assign(console, original);
    }
    const debug = lines.filter((line) => line.level === "debug").map((line) => line.message);
    expect(debug.some((line) => /^node-opcua warning \(client_base_impl:\d+\): serverCertificate =/.test(line))).toBe(
      true,
    );
    expect(lines.filter((line) => line.level !== "debug")).toEqual([]);
    expect(noiseIn(printed.join("\n"))).toEqual([]);
  });
});
