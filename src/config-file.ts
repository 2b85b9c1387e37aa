/** Reading and parsing config files (tag maps, site files): one place for the formats and their error messages. */
import { readFile } from "node:fs/promises";
import { extname } from "node:path";
import { ConfigError } from "./errors.js";

/** The config formats plantwire reads. */
export type ConfigFormat = "yaml" | "json";

/** The format a file's extension names, or undefined for anything but .yaml, .yml and .json. */
export function configFormatOf(file: string): ConfigFormat | undefined {
  const extension = extname(file).toLowerCase();
  return extension === ".json" ? "json" : extension === ".yaml" || extension === ".yml" ? "yaml" : undefined;
}

/** Reads a config file's text; a file that cannot be read is a ConfigError naming it. */
export async function readConfigText(file: string): Promise<string> {
  try {
    return await readFile(file, "utf8");
  } catch (error) {
    throw new ConfigError(
      [
        {
          path: "(file)",
          message: `cannot be read: ${(error as Error).message}`,
          fix: "check the path and permissions",
        },
      ],
      { file, cause: error },
    );
  }
}

/** Parses YAML or JSON text; a syntax error is a ConfigError naming the file. yaml is loaded only for YAML. */
export async function parseConfigText(text: string, format: ConfigFormat, file: string): Promise<unknown> {
  try {
    return format === "json" ? JSON.parse(text) : (await import("yaml")).parse(text);
  } catch (error) {
    throw new ConfigError(
      [
        {
          path: "(file)",
          message: `not valid ${format.toUpperCase()}: ${(error as Error).message}`,
          fix: "correct the syntax",
        },
      ],
      { file, cause: error },
    );
  }
}
