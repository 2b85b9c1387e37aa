/**
 * `plantwire doctor --site site.yaml`: what one site needs. Reads the site file as it is written (no adapter is made,
 * no library loaded), lists the packages its adapters need, and tries a TCP connection to each adapter's device,
 * broker or database: the only addresses doctor contacts beyond 127.0.0.1 are the ones the user's site file names.
 */
import net from "node:net";
import { configFormatOf, parseConfigText, readConfigText } from "../config-file.js";
import { ConfigError } from "../errors.js";
import { adapterPackages, type NeededPackage } from "../optional-dependency.js";

/** One adapter of the site, where it connects and whether something answered there. */
export interface SiteEndpoint {
  readonly adapter: string;
  readonly kind: string;
  /** host:port, or a note such as "serial line /dev/ttyUSB0" or "file ./plant.db" when there is no TCP peer. */
  readonly where: string;
  /** True when a TCP connection was accepted; undefined when there is nothing to connect to. */
  readonly reachable?: boolean;
  /** Why it did not answer (ECONNREFUSED, ENOTFOUND, timeout). */
  readonly error?: string;
}

/** What doctor learned about a site. */
export interface SiteCheck {
  readonly file: string;
  readonly packages: NeededPackage[];
  readonly endpoints: SiteEndpoint[];
}

const defaultPorts: Record<string, number> = {
  "modbus+tcp:": 502,
  "modbus+rtu+tcp:": 502,
  "opc.tcp:": 4840,
  "mqtt:": 1883,
  "mqtts:": 8883,
  "ws:": 80,
  "wss:": 443,
  "postgres:": 5432,
  "postgresql:": 5432,
  "mysql:": 3306,
  "mariadb:": 3306,
};

/** Where an adapter's options say it connects: a TCP host and port, or a note when it has no TCP peer. */
function endpointOf(options: Readonly<Record<string, unknown>>): { host: string; port: number } | string {
  const text = typeof options.url === "string" ? options.url : options.endpoint;
  if (typeof text !== "string") return "no url in the site file";
  if (text.startsWith("sqlite:")) return `file ${text.slice("sqlite:".length)}`;
  if (text.startsWith("modbus+rtu:")) return `serial line ${text.slice("modbus+rtu:".length).replace(/^\/\//, "")}`;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return `not a URL: ${text}`;
  }
  const port = url.port ? Number(url.port) : defaultPorts[url.protocol];
  if (!url.hostname || port === undefined) return `no host and port in ${url.protocol}`;
  return { host: url.hostname.replace(/^\[|\]$/g, ""), port };
}

function tryConnect(host: string, port: number, timeoutMs: number): Promise<{ reachable: boolean; error?: string }> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (result: { reachable: boolean; error?: string }) => {
      socket.destroy();
      resolve(result);
    };
    socket.setTimeout(timeoutMs, () => done({ reachable: false, error: `no answer within ${timeoutMs} ms` }));
    socket.once("connect", () => done({ reachable: true }));
    socket.once("error", (error: NodeJS.ErrnoException) =>
      done({ reachable: false, error: error.code ?? error.message }),
    );
  });
}

/** Reads `file` and checks each adapter's packages and peer. A file that cannot be read or has no adapters throws. */
export async function checkSite(file: string, timeoutMs = 2000): Promise<SiteCheck> {
  const document = await parseConfigText(await readConfigText(file), configFormatOf(file) ?? "yaml", file);
  const adapters = (document as { adapters?: unknown } | null)?.adapters;
  if (typeof adapters !== "object" || adapters === null || Object.keys(adapters).length === 0) {
    throw new ConfigError(
      [
        {
          path: "adapters",
          message: "the site names no adapters",
          fix: "add one, e.g. drive: { kind: modbus, url: … }",
        },
      ],
      { file },
    );
  }
  const entries = Object.entries(adapters as Record<string, Record<string, unknown>>);
  const packages = entries.flatMap(([name, options]) => adapterPackages(name, String(options?.kind), options ?? {}));
  const endpoints = await Promise.all(
    entries.map(async ([adapter, options]): Promise<SiteEndpoint> => {
      const kind = String(options?.kind);
      if (kind === "memory") return { adapter, kind, where: "in this process" };
      const target = endpointOf(options ?? {});
      if (typeof target === "string") return { adapter, kind, where: target };
      const where = `${target.host.includes(":") ? `[${target.host}]` : target.host}:${target.port}`;
      return { adapter, kind, where, ...(await tryConnect(target.host, target.port, timeoutMs)) };
    }),
  );
  return { file, packages, endpoints };
}
