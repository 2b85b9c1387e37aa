/**
 * Loads an optional peer dependency (a protocol client or database driver) only when an adapter needs it, so that
 * `import "plantwire"` stays light and a missing package fails with "npm i <name>" instead of a stack trace. It can
 * also check a list of peers up front, without loading any of them, so a command that needs several names every
 * missing one at once, with one install line.
 */
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { MissingDependencyError } from "./errors.js";

/** The peer packages plantwire uses, with the versions it supports (kept equal to package.json by a test). */
export const peerPackages = {
  zod: "^4.0.0",
  "modbus-serial": "^8.0.25",
  "node-opcua": "^2.182.0",
  mqtt: "^5.16.0",
  aedes: "^1.2.0",
  "sparkplug-payload": "^1.0.3",
  pg: "^8.0.0",
  mysql2: "^3.0.0",
  "better-sqlite3": "^12.0.0",
  openai: "^6.0.0",
  "gpt-tokenizer": "^4.0.0",
  "prom-client": "^15.0.0",
  "@modelcontextprotocol/sdk": "^1.32.0",
  vitest: "^4.0.0",
} as const satisfies Record<string, string>;

/** The name of a peer package plantwire knows. */
export type PeerPackage = keyof typeof peerPackages;

/** One package a feature needs, and what in that feature needs it (for the message). */
export interface NeededPackage {
  /** The npm package name. */
  readonly name: string;
  /** What needs it, e.g. "the OPC UA view". */
  readonly usedBy: string;
}

/** What is installed of one package, seen without loading it. */
export interface PackageStatus {
  readonly name: string;
  readonly installed: boolean;
  /** The installed version, when its package.json could be read. */
  readonly version?: string;
  /** The versions plantwire supports, for a known peer. */
  readonly range?: string;
  /** False when the installed version is outside `range`; undefined when not known. */
  readonly supported?: boolean;
}

// Resolved from plantwire's own location (its sources or its build), as the dynamic import below resolves.
const resolver = createRequire(import.meta.url);

function packageFolder(name: string): string | undefined {
  for (const folder of resolver.resolve.paths(name) ?? []) {
    if (existsSync(join(folder, name, "package.json"))) return join(folder, name);
  }
  return undefined;
}

/** True when resolution finds the package (Yarn PnP and other layouts with no node_modules folder to look in). */
function resolvable(name: string): boolean {
  try {
    resolver.resolve(name);
    return true;
  } catch (error) {
    // Installed, but it exports nothing for `require` (ESM-only packages such as aedes): still there.
    return (error as { code?: string }).code === "ERR_PACKAGE_PATH_NOT_EXPORTED";
  }
}

/** Whether `version` satisfies a caret range `^x.y.z` (the only form peerPackages uses); undefined for other forms. */
export function satisfiesCaret(version: string, range: string): boolean | undefined {
  const want = /^\^(\d+)\.(\d+)\.(\d+)$/.exec(range)?.slice(1).map(Number);
  const have = /^(\d+)\.(\d+)\.(\d+)/.exec(version)?.slice(1).map(Number);
  if (!want || !have) return undefined;
  const [major = 0, minor = 0, patch = 0] = want;
  const [haveMajor = 0, haveMinor = 0, havePatch = 0] = have;
  if (haveMajor !== major || (major === 0 && haveMinor !== minor)) return false;
  return haveMinor > minor || (haveMinor === minor && havePatch >= patch);
}

/** What is installed of `name`, found the way Node would find it from plantwire, without running any of its code. */
export function packageStatus(name: string): PackageStatus {
  const range = (peerPackages as Record<string, string>)[name];
  const folder = packageFolder(name);
  const installed = folder !== undefined || resolvable(name);
  let version: string | undefined;
  if (folder) {
    try {
      version = (JSON.parse(readFileSync(join(folder, "package.json"), "utf8")) as { version?: unknown }).version as
        | string
        | undefined;
    } catch {
      version = undefined; // an unreadable manifest: installed, version unknown
    }
  }
  const supported = version && range ? satisfiesCaret(version, range) : undefined;
  return {
    name,
    installed,
    ...(typeof version === "string" ? { version } : {}),
    ...(range ? { range } : {}),
    ...(supported === undefined ? {} : { supported }),
  };
}

/** The packages of `names` that are not installed, in the order given, each once. */
export function missingPackages(names: readonly string[]): string[] {
  return [...new Set(names)].filter((name) => !packageStatus(name).installed);
}

/**
 * The one command that installs `names`, each with the versions plantwire supports (a plain `npm i better-sqlite3`
 * would take a release outside the peer range, which npm then refuses).
 */
export function installCommand(names: readonly string[]): string {
  const specs = [...new Set(names)].map((name) => {
    const range = (peerPackages as Record<string, string>)[name];
    return range ? `${name}@${range}` : name;
  });
  return `npm i ${specs.join(" ")}`;
}

/**
 * Checks up front, without loading anything, that every package in `needed` is installed; throws one
 * MissingDependencyError naming all the missing ones (and what needs each) with one install line.
 * `usedBy` names the whole, e.g. "The simulator".
 */
export function requireOptionalDependencies(needed: readonly NeededPackage[], usedBy: string): void {
  const missing = missingPackages(needed.map((item) => item.name));
  if (missing.length === 0) return;
  throw new MissingDependencyError(missing, usedBy, {
    install: installCommand(missing),
    neededBy: Object.fromEntries(
      missing.map((name) => [
        name,
        needed
          .filter((item) => item.name === name)
          .map((item) => item.usedBy)
          .join(", "),
      ]),
    ),
  });
}

/**
 * The packages an adapter needs, by the kind a site file gives it (`kind: opcua`) and its options (a SQL adapter's
 * driver follows its URL), so that a site's every missing package is named before any adapter is made.
 */
export function adapterPackages(
  name: string,
  kind: string,
  options: Readonly<Record<string, unknown>>,
): NeededPackage[] {
  const usedBy = `the ${kind} adapter "${name}"`;
  const fixed: Record<string, string> = { modbus: "modbus-serial", opcua: "node-opcua", mqtt: "mqtt" };
  const known = fixed[kind];
  if (known) return [{ name: known, usedBy }];
  if (kind !== "sql" || typeof options.url !== "string") return [];
  const scheme = /^([a-z0-9+]+):/i.exec(options.url)?.[1]?.toLowerCase();
  const driver =
    scheme === "sqlite"
      ? "better-sqlite3"
      : scheme === "postgres" || scheme === "postgresql"
        ? "pg"
        : scheme === "mysql" || scheme === "mariadb"
          ? "mysql2"
          : undefined;
  return driver ? [{ name: driver, usedBy }] : [];
}

/** The package a module specifier is in: "@scope/name/sub/path.js" → "@scope/name", "name/sub" → "name". */
export function packageNameOf(specifier: string): string {
  const parts = specifier.split("/");
  return specifier.startsWith("@") ? parts.slice(0, 2).join("/") : (parts[0] ?? specifier);
}

function isMissing(error: unknown, packageName: string): boolean {
  const code = (error as { code?: string } | undefined)?.code;
  const message = (error as Error | undefined)?.message ?? "";
  // Node names the package, not the subpath, when a package is missing: "Cannot find package '@scope/name'".
  return (
    (code === "ERR_MODULE_NOT_FOUND" || code === "MODULE_NOT_FOUND") && message.includes(packageNameOf(packageName))
  );
}

/**
 * Peers that ship only CommonJS for Node: these are required, not imported. `import()` of a CommonJS package starts
 * Node's ESM loader and has it parse the package's files again to find their named exports; for mqtt and
 * modbus-serial that cost a glue script about 10 MB of RSS (bench/import-cost.bench.ts), for the same module
 * objects `require` returns. Dual packages (openai, pg, the MCP SDK) stay on `import()`, so a script that imports
 * them too shares one copy.
 */
const commonJsPeers: ReadonlySet<string> = new Set(["modbus-serial", "mqtt", "node-opcua", "mysql2", "better-sqlite3"]);

/**
 * Imports `packageName` on first use. `usedBy` names the adapter in the error, e.g. "The Modbus adapter".
 * Returns the module's default export when it has one (CommonJS packages), else the namespace; pass
 * `{ namespace: true }` for ESM packages whose default export is not the API (aedes).
 */
export async function loadOptionalDependency<TModule>(
  packageName: string,
  usedBy: string,
  options: { namespace?: boolean } = {},
): Promise<TModule> {
  try {
    if (!options.namespace && commonJsPeers.has(packageName)) return resolver(packageName) as TModule;
    const loaded = (await import(packageName)) as { default?: unknown };
    return (options.namespace ? loaded : (loaded.default ?? loaded)) as TModule;
  } catch (error) {
    if (isMissing(error, packageName)) {
      const name = packageNameOf(packageName);
      throw new MissingDependencyError(name, usedBy, { cause: error, install: installCommand([name]) });
    }
    throw error;
  }
}
