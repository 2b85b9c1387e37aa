/**
 * Missing peer packages, as a newcomer meets them: a copy of the project whose node_modules lacks the simulator's
 * peers runs the real CLI. `sim` names every missing package at once with one install line and the flags that leave
 * the views out; `doctor` reports the same, per feature, and fails; what is installed is read from the packages
 * themselves, never assumed.
 */
import { readFileSync, writeFileSync } from "node:fs";
import net from "node:net";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { startModbusSimulator } from "plantwire/modbus";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DoctorReport, doctorFeatures, supportedNode } from "../../src/cli/doctor-command.js";
import { MissingDependencyError } from "../../src/errors.js";
import {
  installCommand,
  loadOptionalDependency,
  missingPackages,
  packageNameOf,
  packageStatus,
  peerPackages,
  requireOptionalDependencies,
  satisfiesCaret,
} from "../../src/optional-dependency.js";
import { startCli } from "../support/cli-child.js";
import { type ProjectCopy, projectWithout } from "../support/project-without.js";

const root = fileURLToPath(new URL("../..", import.meta.url));
const manifest = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as {
  engines: { node: string };
  peerDependencies: Record<string, string>;
};
/** The simulator's peers: the four a newcomer's `plantwire sim` failed on, one at a time. */
const simulatorPeers = ["node-opcua", "aedes", "better-sqlite3", "sparkplug-payload"];

describe("checking peers without loading them", () => {
  it("knows every peer of package.json with its range, and the Node.js versions of engines", () => {
    expect(peerPackages).toEqual(manifest.peerDependencies);
    expect(supportedNode.range).toBe(manifest.engines.node);
  });

  it("finds what is installed, with the version its own package.json gives, ESM-only packages included", () => {
    for (const name of ["aedes", "node-opcua", "zod"]) {
      const installed = JSON.parse(readFileSync(join(root, "node_modules", name, "package.json"), "utf8")) as {
        version: string;
      };
      expect(packageStatus(name), name).toMatchObject({ installed: true, version: installed.version });
    }
    expect(packageStatus("plantwire-no-such-package")).toMatchObject({ installed: false });
    expect(missingPackages(["zod", "plantwire-no-such-package", "plantwire-no-such-package"])).toEqual([
      "plantwire-no-such-package",
    ]);
  });

  it("names the package, not the module path, when a subpath of a missing package is loaded", async () => {
    for (const [specifier, name] of [
      ["plantwire-no-such-package/sub/path.js", "plantwire-no-such-package"],
      ["@plantwire-no-such-scope/package/server/index.js", "@plantwire-no-such-scope/package"],
    ] as const) {
      expect(packageNameOf(specifier)).toBe(name);
      const error = await loadOptionalDependency(specifier, "The part").then(
        () => undefined,
        (caught: unknown) => caught,
      );
      expect(MissingDependencyError.isInstance(error), String(error)).toBe(true);
      expect((error as MissingDependencyError).packageNames).toEqual([name]);
      expect((error as Error).message).toMatch(new RegExp(`Fix: npm i ${name.replace("/", "\\/")}$`));
    }
  });

  it("compares versions with caret ranges", () => {
    expect(satisfiesCaret("12.11.1", "^12.0.0")).toBe(true);
    expect(satisfiesCaret("13.0.0", "^12.0.0")).toBe(false);
    expect(satisfiesCaret("2.181.9", "^2.182.0")).toBe(false);
    expect(satisfiesCaret("0.3.1", "^0.2.0")).toBe(false);
    expect(satisfiesCaret("1.0.0", ">=1")).toBeUndefined();
  });

  it("throws one error naming every missing package, what needs it, and one install line", () => {
    let caught: unknown;
    try {
      requireOptionalDependencies(
        [
          { name: "zod", usedBy: "the core" },
          { name: "plantwire-missing-a", usedBy: "the first part" },
          { name: "plantwire-missing-b", usedBy: "the second part" },
          { name: "plantwire-missing-a", usedBy: "the third part" },
        ],
        "The thing",
      );
    } catch (error) {
      caught = error;
    }
    expect(MissingDependencyError.isInstance(caught)).toBe(true);
    const error = caught as MissingDependencyError;
    expect(error.packageNames).toEqual(["plantwire-missing-a", "plantwire-missing-b"]);
    expect(error.message).toBe(
      "The thing needs 2 packages that are not installed: plantwire-missing-a (the first part, the third part), " +
        "plantwire-missing-b (the second part). Fix: npm i plantwire-missing-a plantwire-missing-b",
    );
    expect(installCommand(["better-sqlite3", "aedes"])).toBe(
      `npm i better-sqlite3@${manifest.peerDependencies["better-sqlite3"]} aedes@${manifest.peerDependencies.aedes}`,
    );
  });
});

describe("a project without the simulator's peers", () => {
  let project: ProjectCopy;
  beforeAll(() => {
    project = projectWithout(simulatorPeers);
  });
  afterAll(() => project?.remove());

  it("plantwire sim names all four missing packages at once, with one npm i line and the flags to leave them out", async () => {
    const child = startCli(["sim", "--no-input", "--modbus-port", "0"], { bin: project.bin, cwd: project.folder });
    expect(await child.exited).toBe(1);
    const stderr = child.stderr();
    expect(stderr).toContain("The simulator needs 4 packages that are not installed:");
    for (const name of simulatorPeers) expect(stderr).toContain(name);
    const installLines = stderr.split("\n").filter((line) => line.includes("npm i "));
    expect(installLines).toHaveLength(1);
    for (const name of simulatorPeers) {
      expect(installLines[0]).toContain(`${name}@${manifest.peerDependencies[name]}`);
    }
    expect(stderr).toContain("plantwire sim --no-opcua --no-mqtt --no-sparkplug --no-historian");
    expect(child.stdout()).toBe("");
  }, 60_000);

  it("plantwire sim runs in that project with those views left out", async () => {
    const child = startCli(
      ["sim", "--no-input", "--modbus-port", "0", "--no-opcua", "--no-mqtt", "--no-historian", "--duration-ms", "200"],
      { bin: project.bin, cwd: project.folder },
    );
    expect(await child.exited, child.stderr()).toBe(0);
    expect(child.stdout()).toContain("modbus+tcp://127.0.0.1:");
  }, 60_000);

  it("a site's commands name every package its adapters lack at once (read, before touching any device)", async () => {
    writeFileSync(
      join(project.folder, "site.yaml"),
      [
        "adapters:",
        '  drive: { kind: modbus, url: "modbus+tcp://127.0.0.1:1", unit: 1 }',
        '  plc: { kind: opcua, endpoint: "opc.tcp://127.0.0.1:1" }',
        '  historian: { kind: sql, url: "sqlite:./historian.db" }',
        "tags: {}",
        "",
      ].join("\n"),
    );
    const child = startCli(["read", "--site", "site.yaml"], { bin: project.bin, cwd: project.folder });
    expect(await child.exited).toBe(1);
    expect(child.stderr()).toContain(
      'The site site.yaml needs 2 packages that are not installed: node-opcua (the opcua adapter "plc"), ' +
        'better-sqlite3 (the sql adapter "historian"). Fix: npm i ' +
        `node-opcua@${manifest.peerDependencies["node-opcua"]} better-sqlite3@${manifest.peerDependencies["better-sqlite3"]}`,
    );
  }, 60_000);

  it("plantwire doctor --site names the site's missing packages and tries each device it names", async () => {
    const device = await startModbusSimulator({ port: 0 });
    const closed = net.createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const closedPort = (closed.address() as net.AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    try {
      writeFileSync(
        join(project.folder, "doctor-site.yaml"),
        [
          "adapters:",
          `  drive: { kind: modbus, url: "${device.url}", unit: 1 }`,
          `  plc: { kind: opcua, endpoint: "opc.tcp://127.0.0.1:${closedPort}" }`,
          '  historian: { kind: sql, url: "sqlite:./historian.db" }',
          "tags: {}",
          "",
        ].join("\n"),
      );
      const child = startCli(["doctor", "--site", "doctor-site.yaml", "--json"], {
        bin: project.bin,
        cwd: project.folder,
      });
      expect(await child.exited, child.stderr()).toBe(1);
      const report = JSON.parse(child.stdout()) as DoctorReport;
      expect(report.features.map((feature) => feature.name)).toEqual(["core"]);
      expect(report.site?.packages.map((item) => [item.name, item.installed, item.usedBy])).toEqual([
        ["modbus-serial", true, 'the modbus adapter "drive"'],
        ["node-opcua", false, 'the opcua adapter "plc"'],
        ["better-sqlite3", false, 'the sql adapter "historian"'],
      ]);
      expect(report.missing).toEqual(["node-opcua", "better-sqlite3"]);
      expect(report.site?.endpoints).toEqual([
        { adapter: "drive", kind: "modbus", where: `127.0.0.1:${device.port}`, reachable: true },
        {
          adapter: "plc",
          kind: "opcua",
          where: `127.0.0.1:${closedPort}`,
          reachable: false,
          error: "ECONNREFUSED",
        },
        { adapter: "historian", kind: "sql", where: "file ./historian.db" },
      ]);
    } finally {
      await device.close();
    }
  }, 60_000);

  it("plantwire doctor reports the same packages missing, per feature, and fails; a feature that has all passes", async () => {
    const child = startCli(["doctor", "--json"], { bin: project.bin, cwd: project.folder });
    expect(await child.exited, child.stderr()).toBe(1);
    const report = JSON.parse(child.stdout()) as DoctorReport;
    expect(report.ok).toBe(false);
    expect([...report.missing].sort()).toEqual([...simulatorPeers].sort());
    expect(report.install).toContain(`node-opcua@${manifest.peerDependencies["node-opcua"]}`);
    const failing = report.features.filter((feature) => !feature.ok).map((feature) => feature.name);
    expect(failing.sort()).toEqual(["broker", "opcua", "sim", "sparkplug", "sqlite"]);
    expect(report.features.map((feature) => feature.name)).toEqual(doctorFeatures.map((feature) => feature.name));

    const text = startCli(["doctor"], { bin: project.bin, cwd: project.folder });
    expect(await text.exited).toBe(1);
    expect(
      text
        .stdout()
        .split("\n")
        .filter((line) => line.trim().startsWith("npm i ")),
    ).toEqual([`  ${report.install}`]);
    expect(text.stdout()).toContain("Not ready");

    const modbusOnly = startCli(["doctor", "modbus", "mqtt"], { bin: project.bin, cwd: project.folder });
    expect(await modbusOnly.exited, modbusOnly.stdout()).toBe(0);
    expect(modbusOnly.stdout()).toContain("Ready.");
  }, 90_000);
});

describe("plantwire doctor here", () => {
  it("finds every peer this project installs, in a supported version, and reports the simulator's ports", async () => {
    const child = startCli(["doctor", "--json", "--services"]);
    const code = await child.exited;
    const report = JSON.parse(child.stdout()) as DoctorReport;
    expect(report.missing).toEqual([]);
    expect(report.unsupported).toEqual([]);
    expect(code).toBe(report.node.ok ? 0 : 1);
    expect(report.node.version).toBe(process.versions.node);
    expect(report.simulatorPorts.map((item) => [item.view, item.host, item.flag])).toEqual([
      ["modbus", "127.0.0.1", "--modbus-port"],
      ["opcua", "127.0.0.1", "--opcua-port"],
      ["mqtt", "127.0.0.1", "--mqtt-port"],
    ]);
    expect(report.services?.map((item) => item.host)).toEqual(["127.0.0.1", "127.0.0.1", "127.0.0.1"]);
  }, 60_000);

  it("refuses an unknown feature as a usage error", async () => {
    const child = startCli(["doctor", "modbsu"]);
    expect(await child.exited).toBe(2);
    expect(child.stderr()).toContain('Unknown feature "modbsu"');
  }, 60_000);
});
