/**
 * Imports a site's loops module (`loops: ./loops.ts` in the site file). JavaScript is imported as it is; TypeScript
 * through tsx when it is installed, as `plantwire run` does. Each import after the first asks for a fresh copy, so a
 * reload picks up a changed module.
 */
import { existsSync } from "node:fs";
import { pathToFileURL } from "node:url";
import { ConfigError, type ConfigIssue } from "../errors.js";
import type { SiteLoops } from "../loop/site-loops.js";

type TsImport = (specifier: string, parent: string) => Promise<unknown>;

let imports = 0;

const issue = (message: string, fix: string): ConfigIssue => ({ path: "loops", message, fix });

/** Imports the module and returns its default export; every problem is a ConfigError on the `loops` field. */
export async function importLoopsModule(path: string): Promise<SiteLoops> {
  if (!existsSync(path)) {
    throw new ConfigError([issue(`there is no loops module at ${path}`, "create it, or correct the path in loops:")]);
  }
  imports++;
  // A query makes each import after the first a new module instance: the file may have changed since.
  const url = `${pathToFileURL(path).href}${imports > 1 ? `?reload=${imports}` : ""}`;
  let loaded: unknown;
  try {
    if (/\.[cm]?ts$/.test(path)) {
      let tsImport: TsImport;
      try {
        const specifier = "tsx/esm/api"; // a variable keeps bundlers from resolving it: tsx is optional
        ({ tsImport } = (await import(specifier)) as { tsImport: TsImport });
      } catch {
        throw new ConfigError([
          issue("is a TypeScript module and tsx is not installed", "npm i -D tsx, or name a compiled .js module"),
        ]);
      }
      loaded = await tsImport(url, import.meta.url);
    } else {
      loaded = await import(url);
    }
  } catch (error) {
    if (ConfigError.isInstance(error)) throw error;
    const first = (error instanceof Error ? error.message : String(error)).split("\n")[0];
    throw new ConfigError([issue(`could not be imported: ${first}`, "fix the module so that it loads")], {
      cause: error,
    });
  }
  let factory = (loaded as { default?: unknown } | undefined)?.default;
  // tsx may wrap a CommonJS-style module once more.
  if (typeof factory === "object" && factory !== null && "default" in factory) {
    factory = (factory as { default: unknown }).default;
  }
  if (typeof factory !== "function") {
    throw new ConfigError([
      issue(
        "has no default export function",
        "export default ({ plant, guard }) => [createLoop(plant, { name, guard, trigger, run })]",
      ),
    ]);
  }
  return factory as SiteLoops;
}
