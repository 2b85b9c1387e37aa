/**
 * `plantwire run <script>`: runs a glue script. JavaScript runs as it is; TypeScript runs through tsx when it is
 * installed (`npm i -D tsx`), so a site's script can stay a .ts file.
 */
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { MissingDependencyError } from "../errors.js";
import { type CliCommand, exitCodes } from "./cli-command.js";
import { parseFlags } from "./cli-flags.js";

type TsImport = (specifier: string, parent: string) => Promise<unknown>;

export const runCommand: CliCommand = {
  name: "run",
  summary: "Run a glue script (.js/.mjs, or .ts with tsx installed)",
  usage:
    "Usage: plantwire run <script.js|script.mjs|script.ts> [-- <the script's own arguments>]\n" +
    "The script keeps running as long as its loops do; stop it with Ctrl+C or SIGTERM: shutdownOnSignals() handles\n" +
    "both, so its loops finish and its audit and adapters close. Exit 0 when the script ends, 1 when it throws or\n" +
    "the file is missing, 2 for a wrong command line.",
  async run(args, io) {
    const { positionals } = parseFlags(args, {}, { positionals: { names: ["<script>"], optional: Infinity } });
    const file = positionals[0] as string;
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
