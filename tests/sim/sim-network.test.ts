/**
 * `plantwire sim` as a separate process, as plant staff run it: every view listens on loopback only (seen in the
 * kernel's socket tables, not taken from its own output), `--listen` moves every view (with a warning when the
 * address is not loopback), a taken port names the view and its flag, SIGTERM stops it as Ctrl+C does, and it
 * removes the OPC UA simulator's PKI folder when it stops.
 */
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { isLoopbackHost, listenWarning } from "../../src/sim/simulator-network.js";
import { type CliChild, startCli } from "../support/cli-child.js";
import { listeningAddresses, socketTablesSkipReason } from "../support/listening-sockets.js";

const scratch = mkdtempSync(join(tmpdir(), "plantwire-sim-network-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
/** Every simulator started, killed after its test even when the test timed out before its own cleanup. */
const children: CliChild[] = [];
afterEach(async () => {
  for (const child of children.splice(0)) await child.kill();
});

/** Every view on a free port (unless `extra` gives one), the historian in the scratch folder, a temp dir of its own. */
function startSim(name: string, extra: string[] = []): { child: CliChild; temp: string } {
  const temp = mkdtempSync(join(scratch, `${name}-temp-`));
  // A flag given twice is refused (the CLI's shared parser), so a port in `extra` replaces the free one.
  const freePorts = ["modbus", "opcua", "mqtt"]
    .filter((view) => !extra.includes(`--${view}-port`))
    .flatMap((view) => [`--${view}-port`, "0"]);
  const child = startCli(["sim", ...freePorts, "--historian", join(scratch, `${name}.db`), "--no-input", ...extra], {
    env: { TMPDIR: temp, TMP: temp, TEMP: temp },
  });
  children.push(child);
  return { child, temp };
}

/** The port of each listening view, from the URLs it printed. */
function printedPorts(stdout: string): Record<string, number> {
  const ports: Record<string, number> = {};
  for (const [, view, port] of stdout.matchAll(/^\s+(modbus|opcua|mqtt)\s+\S+:\/\/[^\s]*:(\d+)/gm)) {
    ports[view as string] = Number(port);
  }
  return ports;
}

describe.skipIf(socketTablesSkipReason !== undefined)(
  `plantwire sim on the network${socketTablesSkipReason ? ` (${socketTablesSkipReason})` : ""}`,
  () => {
    it("listens on 127.0.0.1 only in every view, stops on SIGTERM and removes its PKI folder", async () => {
      const { child, temp } = startSim("default");
      try {
        expect(await child.printed("tag maps", 60_000), child.stderr()).toBe(true);
        const ports = printedPorts(child.stdout());
        expect(Object.keys(ports).sort()).toEqual(["modbus", "mqtt", "opcua"]);
        for (const [view, port] of Object.entries(ports)) {
          expect(listeningAddresses(port), `${view} on port ${port}`).toEqual(["127.0.0.1"]);
        }
        // The OPC UA view keeps its key pair in a PKI folder in the temp dir while it runs...
        expect(readdirSync(temp).filter((name) => name.startsWith("plantwire-opcua-simulator-"))).toHaveLength(1);
        child.process.kill("SIGTERM");
        expect(await child.exited, child.stderr()).toBe(0);
        expect(child.stdout().endsWith("simulator stopped\n")).toBe(true);
        // ...and removes it when it stops; no view listens any more.
        expect(readdirSync(temp).filter((name) => name.startsWith("plantwire-opcua-simulator-"))).toEqual([]);
        for (const port of Object.values(ports)) expect(listeningAddresses(port)).toEqual([]);
        expect(child.stderr()).toBe("");
      } finally {
        await child.kill();
      }
    }, 120_000);

    it("moves every view to the --listen address, without a warning for another loopback address", async () => {
      const { child } = startSim("listen", ["--listen", "127.0.0.2"]);
      try {
        expect(await child.printed("tag maps", 60_000), child.stderr()).toBe(true);
        const ports = printedPorts(child.stdout());
        expect(Object.keys(ports)).toHaveLength(3);
        for (const [view, port] of Object.entries(ports)) {
          expect(listeningAddresses(port), `${view} on port ${port}`).toEqual(["127.0.0.2"]);
        }
        expect(child.stdout()).toContain("modbus+tcp://127.0.0.2:");
        expect(child.stdout()).toContain("opc.tcp://127.0.0.2:");
        expect(child.stdout()).toContain("mqtt://127.0.0.2:");
        child.process.kill("SIGINT");
        expect(await child.exited, child.stderr()).toBe(0);
        expect(child.stderr()).not.toContain("WARNING");
      } finally {
        await child.kill();
      }
    }, 120_000);

    it("names the view and its flag when a port is taken, and removes what it had made", async () => {
      const blocker = net.createServer();
      await new Promise<void>((resolve) => blocker.listen(0, "127.0.0.1", resolve));
      const taken = (blocker.address() as net.AddressInfo).port;
      try {
        for (const view of ["modbus", "opcua", "mqtt"] as const) {
          // Only the view under test, so each run is short.
          const others = (["modbus", "opcua", "mqtt"] as const).filter((other) => other !== view);
          const alone = [...others.map((other) => `--no-${other}`), "--no-historian"];
          const { child, temp } = startSim(`taken-${view}`, [...alone, `--${view}-port`, String(taken)]);
          try {
            expect(await child.exited, `${view}: ${child.stderr()}`).toBe(1);
            const title = { modbus: "Modbus TCP view", opcua: "OPC UA view", mqtt: "MQTT broker view" }[view];
            expect(child.stderr()).toContain(`The ${title} cannot listen on 127.0.0.1:${taken}`);
            expect(child.stderr()).toContain("the port is in use");
            expect(child.stderr()).toContain(`--${view}-port <port>`);
            expect(child.stderr()).toContain(`--no-${view}`);
            expect(readdirSync(temp).filter((name) => name.startsWith("plantwire-opcua-simulator-"))).toEqual([]);
          } finally {
            await child.kill();
          }
        }
      } finally {
        await new Promise((resolve) => blocker.close(resolve));
      }
    }, 180_000);
  },
);

describe("the --listen warning", () => {
  it("warns for every address that is not loopback, and only for those", () => {
    for (const host of ["127.0.0.1", "127.0.0.2", "::1", "[::1]", "localhost"]) {
      expect(isLoopbackHost(host), host).toBe(true);
      expect(listenWarning(host), host).toBeUndefined();
    }
    for (const host of ["0.0.0.0", "::", "192.168.1.20", "plant-gateway.local"]) {
      expect(isLoopbackHost(host), host).toBe(false);
      expect(listenWarning(host), host).toContain("WRITE its setpoints");
    }
    expect(listenWarning("0.0.0.0")).toContain("every network interface");
  });

  it("refuses an address that is no address", async () => {
    const child = startCli(["sim", "--listen", "not an address", "--no-input"]);
    expect(await child.exited).toBe(2);
    expect(child.stderr()).toContain('--listen "not an address": give an IP address or a host name');
  });
});
