/**
 * The version an MCP server gives its clients: plantwire's own, read once from its package.json. The file is found
 * by walking up from this module, because it sits two levels below the package root in the sources (src/mcp) and one
 * level below in the build (dist).
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

let version: string | undefined;

/** plantwire's version from its package.json, e.g. "0.1.0"; "unknown" when no plantwire package.json is above. */
export function plantwireVersion(): string {
  if (version !== undefined) return version;
  version = "unknown";
  for (let directory = dirname(fileURLToPath(import.meta.url)); ; directory = dirname(directory)) {
    const manifest = join(directory, "package.json");
    if (existsSync(manifest)) {
      try {
        const parsed = JSON.parse(readFileSync(manifest, "utf8")) as { name?: unknown; version?: unknown };
        // Another package's manifest (a workspace, an app that installed plantwire) is not ours: keep walking.
        if (parsed.name === "plantwire" && typeof parsed.version === "string") {
          version = parsed.version;
          break;
        }
      } catch {
        // An unreadable manifest is not ours either.
      }
    }
    if (dirname(directory) === directory) break;
  }
  return version;
}
