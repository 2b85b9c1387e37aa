/**
 * `read` and `watch` as an operator sees them: a short cause per bad tag (a refused port, an unknown host) with the
 * full detail under `--verbose`, and `watch` redrawing in place on a terminal but appending otherwise. The bad tags
 * come from real sockets: a port nothing listens on, and a host name that cannot exist (`.invalid`).
 */
import { writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { MissingDependencyError } from "plantwire";
import { afterAll, describe, expect, it } from "vitest";
import { runCli } from "../../src/cli/main.js";
import { shortCause } from "../../src/cli/tag-cause.js";
import { captureIo } from "../support/capture-io.js";
import { removeFolders, temporaryFolder } from "./cli-child.js";

afterAll(removeFolders);

function site(text: string): string {
  const file = join(temporaryFolder(), "site.yaml");
  writeFileSync(file, text);
  return file;
}

/** A loopback port that refuses connections: bound to learn a free one, then closed. */
async function refusedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe("read shows why a tag is bad", () => {
  it("a short cause per bad tag in the table, and the full detail with --verbose", async () => {
    const port = await refusedPort();
    const file = site(
      `adapters:
  plc: { kind: modbus, url: "modbus+tcp://127.0.0.1:${port}", unit: 1, timeoutMs: 2000 }
  far: { kind: modbus, url: "modbus+tcp://plantwire-test-host.invalid:502", unit: 1, timeoutMs: 2000 }
  mem: { kind: memory, values: { level: 2.5 } }
tags:
  speed: { type: float, unit: rpm, source: { adapter: plc, holding: 100, dataType: uint16 } }
  flow: { type: float, unit: m3/h, source: { adapter: far, holding: 100, dataType: uint16 } }
  level: { type: float, unit: m, source: { adapter: mem, key: level } }
`,
    );
    const table = captureIo();
    expect(await runCli(["read", "--site", file], table)).toBe(1);
    expect(table.stdout).toMatch(/^speed\s+—\s+rpm\s+bad \(connection refused\)/m);
    expect(table.stdout).toMatch(/^flow\s+—\s+m3\/h\s+bad \(unknown host\)/m);
    expect(table.stdout).toMatch(/^level\s+2\.5\s+m\s+good/m);
    expect(table.stdout).not.toContain("ECONNREFUSED"); // the detail only with --verbose

    const verbose = captureIo();
    expect(await runCli(["read", "--site", file, "--verbose"], verbose)).toBe(1);
    expect(verbose.stdout).toMatch(/^ {2}speed: .*ECONNREFUSED 127\.0\.0\.1:\d+/m);
    expect(verbose.stdout).toMatch(/^ {2}flow: .*plantwire-test-host\.invalid/m);
    expect(verbose.stdout).not.toMatch(/^ {2}level:/m);
  });

  it("names a missing package, and says nothing it does not know", () => {
    const missing = new MissingDependencyError("node-opcua", 'OPC UA adapter "ua"');
    expect(shortCause({ detail: `ua: ${missing.code}: ${missing.message}` })).toBe("missing node-opcua");
    expect(shortCause({ detail: "something nobody has seen before" })).toBeUndefined();
    expect(shortCause({})).toBeUndefined();
  });
});

describe("watch", () => {
  const memorySite = () =>
    site(
      "adapters:\n  plc: { kind: memory, values: { speed: 1200 } }\n" +
        "tags:\n  speed: { type: float, unit: rpm, source: { adapter: plc, key: speed } }\n",
    );

  it("redraws in place on a terminal: cursor home, lines cleared, no timestamps appended", async () => {
    const terminal = Object.assign(captureIo(), { isTerminal: true });
    expect(await runCli(["watch", "--site", memorySite(), "--interval-ms", "100", "--count", "3"], terminal)).toBe(0);
    const frames = terminal.stdout.split("\u001b[H").filter(Boolean);
    expect(frames).toHaveLength(3);
    for (const frame of frames) {
      expect(frame.split("\n")[0]).toMatch(/^tag\s+value\s+unit\s+quality\s+age/);
      expect(frame.split("\n")[0]?.endsWith("\u001b[K")).toBe(true); // each line cleared to its end
      expect(frame).toMatch(/speed\s+1200\s+rpm\s+good/);
      expect(frame.endsWith("\u001b[J")).toBe(true);
    }
    expect(terminal.stdout).not.toMatch(/\d{4}-\d\d-\d\dT/);
  });

  it("appends each table with its time when not on a terminal", async () => {
    const piped = captureIo();
    expect(await runCli(["watch", "--site", memorySite(), "--interval-ms", "100", "--count", "2"], piped)).toBe(0);
    expect(piped.stdout.match(/^\d{4}-\d\d-\d\dT[\d:.]+Z$/gm)).toHaveLength(2);
    expect(piped.stdout).not.toContain("\u001b");
  });

  it("stops after --duration-ms", async () => {
    const io = captureIo();
    expect(await runCli(["watch", "--site", memorySite(), "--interval-ms", "100", "--duration-ms", "350"], io)).toBe(0);
    expect(io.stdout).toMatch(/speed\s+1200/);
  });
});
