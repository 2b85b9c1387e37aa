/**
 * `plantwire doctor`: what this machine has and lacks for plantwire, checked without loading any protocol library:
 * the Node.js version, the peer packages each feature needs (with one `npm i` line for every missing one), the ports
 * the simulator would take, and, when asked, which loopback services answer. Exit 0 when everything the chosen
 * features need is there, 1 when something is missing.
 */
import net from "node:net";
import { installCommand, type PackageStatus, packageStatus } from "../optional-dependency.js";
import { defaultSimulatorHost, defaultSimulatorPorts, viewPackages } from "../sim/simulator-network.js";
import { type CliCommand, type CliIo, exitCodes } from "./cli-command.js";
import { booleanFlag, CliUsageError, parseFlags, stringFlag } from "./cli-flags.js";
import { checkSite, type SiteEndpoint } from "./doctor-site.js";

/** The Node.js versions plantwire runs on (package.json `engines.node`, kept equal by a test). */
export const supportedNode = { range: ">=20", major: 20 } as const;

/** One feature and the packages it needs beyond plantwire's own dependencies. */
export interface DoctorFeature {
  readonly name: string;
  readonly description: string;
  readonly packages: readonly string[];
}

/** Every feature `doctor` knows, in the order it reports them. */
export const doctorFeatures: readonly DoctorFeature[] = [
  { name: "core", description: "tag maps, context, guard, audit, loops (always)", packages: ["zod"] },
  { name: "modbus", description: "Modbus TCP/RTU adapter (plantwire/modbus)", packages: ["modbus-serial"] },
  { name: "opcua", description: "OPC UA adapter, browse and trust (plantwire/opcua)", packages: ["node-opcua"] },
  { name: "mqtt", description: "MQTT adapter and mqtt watch (plantwire/mqtt)", packages: ["mqtt"] },
  { name: "sparkplug", description: "Sparkplug B host and edge node", packages: ["mqtt", "sparkplug-payload"] },
  { name: "broker", description: "the embedded MQTT broker (plantwire mqtt broker)", packages: ["aedes"] },
  { name: "postgres", description: "SQL adapter on PostgreSQL", packages: ["pg"] },
  { name: "mysql", description: "SQL adapter on MySQL or MariaDB", packages: ["mysql2"] },
  { name: "sqlite", description: "SQL adapter on SQLite", packages: ["better-sqlite3"] },
  { name: "openai", description: "openaiModel (OpenAI, Azure, Ollama, vLLM, llama.cpp)", packages: ["openai"] },
  { name: "tokenizer", description: "countTokens (o200k, offline)", packages: ["gpt-tokenizer"] },
  { name: "metrics", description: "the loops' Prometheus metrics", packages: ["prom-client"] },
  { name: "testing", description: "the adapter conformance suite (plantwire/testing)", packages: ["vitest"] },
  {
    name: "sim",
    description: "plantwire sim, every view (Modbus needs nothing more)",
    packages: [...new Set(Object.values(viewPackages).flat())],
  },
  { name: "console", description: "plantwire serve and its console (nothing more to install)", packages: [] },
  {
    name: "mcp",
    description: "the MCP server: read and propose tools for assistants",
    packages: ["@modelcontextprotocol/sdk"],
  },
];

/** The loopback services `doctor --services` looks for; loopback only, never another address. */
export const doctorServices = [
  { name: "PostgreSQL", port: 5432 },
  { name: "MariaDB/MySQL", port: 3306 },
  { name: "MQTT broker (Mosquitto)", port: 1883 },
] as const;

/** What `doctor --json` prints. */
export interface DoctorReport {
  ok: boolean;
  node: { version: string; required: string; ok: boolean };
  features: { name: string; description: string; ok: boolean; packages: PackageStatus[] }[];
  missing: string[];
  unsupported: string[];
  install?: string;
  simulatorPorts: { view: string; host: string; port: number; free: boolean; flag: string }[];
  services?: { name: string; host: string; port: number; reachable: boolean }[];
  /** With `--site`: the site's packages (each with what needs it) and whether each adapter's peer answered. */
  site?: { file: string; packages: (PackageStatus & { usedBy: string })[]; endpoints: SiteEndpoint[] };
}

/** The feature names, a few to a line, for the usage text. */
function featureList(): string {
  const names = doctorFeatures.map((feature) => feature.name);
  const lines: string[] = [];
  for (let index = 0; index < names.length; index += 8) lines.push(names.slice(index, index + 8).join(", "));
  return lines.join(",\n                ");
}

const usage = `Usage: plantwire doctor [<feature>...] [--site site.yaml] [--services] [--json]
  <feature>     check only these (default: all):
                ${featureList()}
  --site <file> what this site needs: its adapters' packages, and a TCP connection to each device, broker and
                database it names (the only addresses beyond 127.0.0.1 doctor contacts); fails when one does not
                answer. Checks the core and the site only, unless features are named too
  --services    also see which loopback services answer (PostgreSQL 5432, MariaDB 3306, MQTT 1883 on 127.0.0.1)
  --json        print the report as JSON
No library is loaded, and nothing but 127.0.0.1 is contacted without --site. Exit 0 when everything the chosen features need is
installed (in a supported version) and Node.js is new enough; 1 when something is missing, with one npm i line for
all of it. A simulator port in use is reported with the flag that moves the view; it does not fail the check.`;

/** Whether something on this machine already listens on 127.0.0.1:`port` (tried by listening there briefly). */
function portFree(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once("error", () => resolve(false));
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/** Whether a TCP connection to 127.0.0.1:`port` is accepted within `timeoutMs`. */
function reachable(host: string, port: number, timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (up: boolean) => {
      socket.destroy();
      resolve(up);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once("connect", () => done(true));
    socket.once("error", () => done(false));
  });
}

/** Runs every check for `features` (all when empty) and returns the report. */
export async function doctorReport(
  features: readonly string[] = [],
  options: { services?: boolean; site?: string } = {},
): Promise<DoctorReport> {
  // With a site, what it needs is the question: the core and its adapters, unless features are named as well.
  const wanted = features.length === 0 && options.site ? ["core"] : features;
  const chosen = wanted.length === 0 ? doctorFeatures : doctorFeatures.filter((f) => wanted.includes(f.name));
  const major = Number(process.versions.node.split(".")[0]);
  const node = { version: process.versions.node, required: supportedNode.range, ok: major >= supportedNode.major };
  const statuses = new Map<string, PackageStatus>();
  const statusOf = (name: string) => {
    const known = statuses.get(name) ?? packageStatus(name);
    statuses.set(name, known);
    return known;
  };
  const rows = chosen.map((feature) => {
    const packages = feature.packages.map(statusOf);
    const ok = packages.every((item) => item.installed && item.supported !== false);
    return { name: feature.name, description: feature.description, ok, packages };
  });
  const siteCheck = options.site ? await checkSite(options.site) : undefined;
  const site = siteCheck && {
    file: siteCheck.file,
    packages: siteCheck.packages.map((needed) => ({ ...statusOf(needed.name), usedBy: needed.usedBy })),
    endpoints: siteCheck.endpoints,
  };
  const missing = [...statuses.values()].filter((item) => !item.installed).map((item) => item.name);
  const unsupported = [...statuses.values()]
    .filter((item) => item.installed && item.supported === false)
    .map((item) => item.name);
  const host = defaultSimulatorHost;
  const simulatorPorts = await Promise.all(
    Object.entries(defaultSimulatorPorts).map(async ([view, port]) => ({
      view,
      host,
      port,
      free: await portFree(host, port),
      flag: `--${view}-port`,
    })),
  );
  const services = options.services
    ? await Promise.all(
        doctorServices.map(async ({ name, port }) => ({ name, host, port, reachable: await reachable(host, port) })),
      )
    : undefined;
  const toInstall = [...missing, ...unsupported];
  const unreachable = site?.endpoints.some((endpoint) => endpoint.reachable === false) ?? false;
  return {
    ok: node.ok && toInstall.length === 0 && !unreachable,
    node,
    features: rows,
    missing,
    unsupported,
    ...(toInstall.length > 0 ? { install: installCommand(toInstall) } : {}),
    simulatorPorts,
    ...(services ? { services } : {}),
    ...(site ? { site } : {}),
  };
}

function packageCell(item: PackageStatus): string {
  if (!item.installed) return `${item.name} MISSING`;
  const version = item.version ? ` ${item.version}` : "";
  if (item.supported === false) return `${item.name}${version} UNSUPPORTED (needs ${item.range})`;
  return `${item.name}${version}`;
}

/** The report as plain lines for a terminal or a log. */
export function doctorText(report: DoctorReport): string {
  const lines: string[] = [];
  const node = report.node;
  lines.push(
    `Node.js   ${node.version} ${node.ok ? "ok" : `TOO OLD: plantwire needs ${node.required}. Fix: install Node.js ${node.required}`}`,
  );
  lines.push("", "Features and the packages they need:");
  const width = Math.max(...report.features.map((feature) => feature.name.length));
  for (const feature of report.features) {
    const packages = feature.packages.length ? feature.packages.map(packageCell).join(", ") : "nothing more";
    lines.push(`  ${feature.ok ? "ok     " : "MISSING"}  ${feature.name.padEnd(width)}  ${packages}`);
    lines.push(`  ${" ".repeat(7)}  ${" ".repeat(width)}  ${feature.description}`);
  }
  if (report.site) {
    lines.push("", `Site ${report.site.file}:`);
    for (const item of report.site.packages)
      lines.push(`  ${item.installed ? "ok     " : "MISSING"}  ${packageCell(item)} (${item.usedBy})`);
    for (const endpoint of report.site.endpoints) {
      const state =
        endpoint.reachable === undefined
          ? ""
          : endpoint.reachable
            ? "  answers"
            : `  DOES NOT ANSWER (${endpoint.error ?? "no connection"})`;
      lines.push(`  ${endpoint.adapter} (${endpoint.kind})  ${endpoint.where}${state}`);
    }
  }
  if (report.install) {
    const what = [...report.missing, ...report.unsupported].join(", ");
    lines.push("", `To install (${what}), run:`, `  ${report.install}`);
  } else lines.push("", "Every package the checked features need is installed.");
  lines.push("", "Ports the simulator takes by default (plantwire sim):");
  for (const item of report.simulatorPorts) {
    const state = item.free ? "free" : `IN USE: run plantwire sim ${item.flag} <port> (0 picks a free one)`;
    lines.push(`  ${item.view.padEnd(7)} ${item.host}:${item.port}  ${state}`);
  }
  if (report.services) {
    lines.push("", "Loopback services:");
    for (const item of report.services) {
      lines.push(`  ${item.name.padEnd(24)} ${item.host}:${item.port}  ${item.reachable ? "answers" : "not running"}`);
    }
  }
  lines.push("", report.ok ? "Ready." : "Not ready: see above.");
  return `${lines.join("\n")}\n`;
}

export const doctorCommand: CliCommand = {
  name: "doctor",
  summary: "Check Node.js, the packages each feature needs (one npm i line), simulator ports and loopback services",
  usage,
  async run(args: readonly string[], io: CliIo) {
    const { values, positionals } = parseFlags(
      args,
      { services: booleanFlag(), json: booleanFlag(), site: stringFlag({ nonBlank: true, hint: "site.yaml" }) },
      { positionals: { names: [], optional: Number.POSITIVE_INFINITY } },
    );
    const known = doctorFeatures.map((feature) => feature.name);
    const unknown = positionals.find((name) => !known.includes(name));
    if (unknown !== undefined) {
      throw new CliUsageError(`Unknown feature "${unknown}". Fix: name one or more of ${known.join(", ")}.`);
    }
    const report = await doctorReport(positionals, {
      services: values.services,
      ...(values.site ? { site: values.site } : {}),
    });
    io.out(values.json ? `${JSON.stringify(report, null, 2)}\n` : doctorText(report));
    return report.ok ? exitCodes.ok : exitCodes.failure;
  },
};
