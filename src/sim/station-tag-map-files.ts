/**
 * The station's tag-map files, one per protocol view, shipped with the package in `tag-maps/pump-station/`:
 * `await loadTagMap(stationTagMapFile("modbus"), { adapters: { drive } })`.
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { ConfigError } from "../errors.js";

/** The simulator's protocol views that come with a tag-map file. */
export const stationViews = ["modbus", "opcua", "mqtt", "sparkplug", "historian"] as const;

/** One of the simulator's protocol views. */
export type StationView = (typeof stationViews)[number];

/** The adapter name each view's file uses in its sources (`source: { adapter: drive, ... }`). */
export const stationAdapterNames = {
  modbus: "drive",
  opcua: "plc",
  mqtt: "bus",
  sparkplug: "host",
  historian: "historian",
} as const satisfies Record<StationView, string>;

let root: string | undefined;

/**
 * The package's root folder, found by walking up from this module: it sits two levels below the root in the sources
 * (src/sim) and one level below in the build (dist), and the files must be found from both.
 */
function packageRoot(): string {
  if (root) return root;
  const start = dirname(fileURLToPath(import.meta.url));
  for (let directory = start; ; directory = dirname(directory)) {
    const manifest = join(directory, "package.json");
    if (
      existsSync(manifest) &&
      (JSON.parse(readFileSync(manifest, "utf8")) as { name?: unknown }).name === "plantwire"
    ) {
      root = directory;
      return directory;
    }
    if (dirname(directory) === directory) {
      throw new ConfigError([
        {
          path: "(file)",
          message: `no plantwire package.json above ${start}`,
          fix: "load the station's tag maps from an installed plantwire package or its repository",
        },
      ]);
    }
  }
}

/** The absolute path of a view's tag-map file, e.g. `stationTagMapFile("modbus")` → …/tag-maps/pump-station/modbus.yaml. */
export function stationTagMapFile(view: StationView): string {
  if (!stationViews.includes(view)) {
    throw new ConfigError([
      { path: "view", message: `unknown view "${String(view)}"`, fix: `use one of ${stationViews.join(", ")}` },
    ]);
  }
  return join(packageRoot(), "tag-maps", "pump-station", `${view}.yaml`);
}
