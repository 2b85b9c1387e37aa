/**
 * `plantwire run <script>`: runs a glue script. JavaScript runs as it is; TypeScript runs through tsx when it is
 * installed (`npm i -D tsx`), so a site's script can stay a .ts file.
 */
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { MissingDependencyError } from "../errors.js";
import { type CliCommand, exitCodes } from "./cli-command.js";

type TsImport = (specifier: string, parent: string) => Promise<unknown>;

export const runCommand: CliCommand = {
  name: "run",
  summary: "Run a glue script (.js/.mjs, or .ts with tsx installed)",
  usage:
    "Usage: plantwire run <script.js|script.mjs|script.ts>\nThe script keeps running as long as its loops do; stop it with Ctrl+C (its shutdown handlers run).",
  async run(args, io) {
    const file = args[0];
    if (!file) {
      io.err(`${this.usage}\n`);
      return exitCodes.usage;
    }
    const path = resolve(file);
    if (!existsSync(path)) {
      io.err(`No script at ${path}.\n`);
      return exitCodes.failure;
    }
    const url = pathToFileURL(path).href;
    if (/\.[cm]?ts$/.test(path)) {
      let tsImport: TsImport;
      try {
        const specifier = "tsx/esm/api"; // a variable keeps bundlers from resolving it: tsx is optional
        ({ tsImport } = (await import(specifier)) as { tsImport: TsImport });
      } catch (error) {
        throw new MissingDependencyError("tsx", "Running a TypeScript script", { cause: error });
      }
      await tsImport(url, import.meta.url);
    } else {
      await import(url);
    }
    return exitCodes.ok;
  },
};
