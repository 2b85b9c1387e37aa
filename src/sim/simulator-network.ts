/**
 * Where the plant simulator listens, what it needs installed, and how it says so: it binds loopback only unless told
 * otherwise (a simulator offers OPC UA security None and a writable setpoint), checks every package its views need
 * before it starts any, and names the view and its option when a port is taken.
 */
import { isIPv6 } from "node:net";
import { ConnectionError } from "../errors.js";
import type { NeededPackage } from "../optional-dependency.js";
import type { StationView } from "./station-tag-map-files.js";

/** The address every view listens on unless told otherwise. */
export const defaultSimulatorHost = "127.0.0.1";

/** The ports the views take by default (5020 and 1884 keep clear of a real Modbus device's 502 and a real broker's 1883). */
export const defaultSimulatorPorts = { modbus: 5020, opcua: 4840, mqtt: 1884 } as const;

/** The views that listen on a port of their own (Sparkplug B shares the broker, the historian is a file). */
export type ListeningView = keyof typeof defaultSimulatorPorts;

/** Each view's name in messages. */
export const viewTitles: Record<StationView, string> = {
  modbus: "Modbus TCP view",
  opcua: "OPC UA view",
  mqtt: "MQTT broker view",
  sparkplug: "Sparkplug B view",
  historian: "SQLite historian view",
};

/** The packages each view needs (the Modbus view is plain `net`). */
export const viewPackages: Record<StationView, readonly string[]> = {
  modbus: [],
  opcua: ["node-opcua"],
  mqtt: ["aedes"],
  sparkplug: ["mqtt", "sparkplug-payload"],
  historian: ["better-sqlite3"],
};

/** Every package the given views need, each with the view that needs it. */
export function simulatorPackages(views: readonly StationView[]): NeededPackage[] {
  return views.flatMap((view) => viewPackages[view].map((name) => ({ name, usedBy: `the ${viewTitles[view]}` })));
}

/** True for an address only this machine can reach: 127.0.0.0/8, ::1 and localhost. */
export function isLoopbackHost(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, "").toLowerCase();
  return bare === "localhost" || bare === "::1" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(bare);
}

/** True for an address that means every interface. */
export function isWildcardHost(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, "");
  return bare === "0.0.0.0" || bare === "::" || bare === "";
}

/** The host as it goes in a URL: brackets around IPv6, and a wildcard replaced by the loopback address to connect to. */
export function urlHost(host: string): string {
  if (isWildcardHost(host)) return defaultSimulatorHost;
  return isIPv6(host) ? `[${host}]` : host;
}

/**
 * The warning to print before listening on `host`, or undefined for a loopback address. Anyone who can reach a
 * non-loopback address can read the station and write its setpoints, and its OPC UA view accepts security None.
 */
export function listenWarning(host: string): string | undefined {
  if (isLoopbackHost(host)) return undefined;
  const where = isWildcardHost(host) ? "every network interface" : host;
  return (
    `WARNING: the simulator listens on ${where}, not only on this machine. Anyone who can reach it can read the ` +
    "station and WRITE its setpoints; its OPC UA view accepts security None and anonymous users. Use this only on " +
    "a network you trust, and never next to a real plant. Leave out --listen to stay on 127.0.0.1."
  );
}

function errorCode(error: unknown): string | undefined {
  for (let current = error, depth = 0; current && depth < 5; depth++) {
    const code = (current as { code?: unknown }).code;
    if (code === "EADDRINUSE" || code === "EACCES" || code === "EADDRNOTAVAIL") return code;
    const message = (current as { message?: unknown }).message;
    const named = typeof message === "string" ? /\b(EADDRINUSE|EACCES|EADDRNOTAVAIL)\b/.exec(message)?.[1] : undefined;
    if (named) return named;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

const reasons: Record<string, string> = {
  EADDRINUSE: "the port is in use by another program",
  EACCES: "this user may not listen on that port",
  EADDRNOTAVAIL: "this machine has no such address",
};

/** A view could not listen on its address and port: names the view, the port and why, in words. */
export class SimulatorListenError extends ConnectionError {
  /** The view that could not start. */
  readonly view: ListeningView;
  readonly host: string;
  readonly port: number;
  /** The system's code: EADDRINUSE, EACCES or EADDRNOTAVAIL. */
  readonly reason: string;

  constructor(view: ListeningView, host: string, port: number, reason: string, options: { cause?: unknown } = {}) {
    super(
      `The simulator's ${viewTitles[view]} cannot listen on ${urlHost(host)}:${port}: ${reasons[reason] ?? reason} (${reason}). ` +
        `Fix: stop what uses it, or give the view another port (${view}: { port: 0 } picks a free one).`,
      options,
    );
    this.view = view;
    this.host = host;
    this.port = port;
    this.reason = reason;
  }

  /** The same problem in a command line's words: the flag that moves the view, and the one that leaves it out. */
  commandLineMessage(): string {
    return (
      `The ${viewTitles[this.view]} cannot listen on ${urlHost(this.host)}:${this.port}: ${reasons[this.reason] ?? this.reason} (${this.reason}).\n` +
      `Fix: stop what uses it, or choose another port with --${this.view}-port <port> (0 picks a free one), ` +
      `or leave the view out with --no-${this.view}.`
    );
  }
}

/** Runs `start`, turning a failure to listen into a SimulatorListenError that names the view; other errors pass. */
export async function listening<T>(
  view: ListeningView,
  host: string,
  port: number,
  start: () => Promise<T>,
): Promise<T> {
  try {
    return await start();
  } catch (error) {
    const code = errorCode(error);
    if (code) throw new SimulatorListenError(view, host, port, code, { cause: error });
    throw error;
  }
}
