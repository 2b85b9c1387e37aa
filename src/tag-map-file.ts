/**
 * Loads a tag map from a YAML or JSON file. One file per site: the tags, their types, ranges and write policies,
 * and each tag's source written as `{ adapter: <name>, ...address }`, resolved by the named adapter.
 *
 * ```yaml
 * tags:
 *   pressure:
 *     type: float
 *     unit: bar
 *     range: [0, 16]
 *     source: { adapter: drive, input: 10, dataType: float32 }
 * ```
 */
import { extname } from "node:path";
import type { Adapter } from "./adapter.js";
import { configFormatOf, parseConfigText, readConfigText } from "./config-file.js";
import { ConfigError, type ConfigIssue } from "./errors.js";
import { markValidated, tagMapIssues } from "./tag-validation.js";
import type { TagDefinitions, TagMap } from "./tags.js";

/** Options of {@link loadTagMap} and {@link parseTagMap}. */
export interface TagMapFileOptions {
  /** The adapters that sources may name, by name. */
  adapters: Readonly<Record<string, Adapter>>;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function resolveSource(
  name: string,
  raw: unknown,
  adapters: Readonly<Record<string, Adapter>>,
  issues: ConfigIssue[],
): unknown {
  const path = `tags.${name}.source`;
  const known = Object.keys(adapters).join(", ") || "(none given)";
  if (!isRecord(raw)) {
    issues.push({
      path,
      message: "missing or not an object",
      fix: `write source: { adapter: <one of ${known}>, ... }`,
    });
    return undefined;
  }
  const { adapter: adapterName, ...address } = raw;
  const adapter = typeof adapterName === "string" ? adapters[adapterName] : undefined;
  if (!adapter) {
    issues.push({
      path: `${path}.adapter`,
      message: `unknown adapter "${String(adapterName)}"`,
      fix: `name one of the adapters passed to loadTagMap: ${known}`,
    });
    return undefined;
  }
  if (!adapter.parseSource) {
    issues.push({
      path,
      message: `adapter "${adapter.name}" cannot read sources from files`,
      fix: "define this tag in code",
    });
    return undefined;
  }
  try {
    return adapter.parseSource(address);
  } catch (error) {
    if (!ConfigError.isInstance(error)) throw error;
    for (const issue of error.issues) issues.push({ ...issue, path: issue.path ? `${path}.${issue.path}` : path });
    return undefined;
  }
}

/** Parses tag-map text (YAML or JSON). `file` is used in error messages. Throws a ConfigError listing every problem. */
export async function parseTagMap(
  text: string,
  format: "yaml" | "json",
  options: TagMapFileOptions & { file?: string },
): Promise<TagMap<TagDefinitions>> {
  const file = options.file ?? `<${format}>`;
  const document = await parseConfigText(text, format, file);
  if (!isRecord(document) || !isRecord(document.tags)) {
    throw new ConfigError(
      [{ path: "tags", message: "missing", fix: "put the tag definitions under a top-level tags: key" }],
      {
        file,
      },
    );
  }
  const issues: ConfigIssue[] = [];
  const resolved: Record<string, unknown> = {};
  for (const [name, raw] of Object.entries(document.tags)) {
    if (!isRecord(raw)) {
      issues.push({
        path: `tags.${name}`,
        message: "must be an object",
        fix: "give the tag's fields: type, unit, range, source ...",
      });
      continue;
    }
    const source = resolveSource(name, raw.source, options.adapters, issues);
    resolved[name] = { ...raw, source: source ?? { adapter: {}, address: undefined } };
  }
  issues.push(
    ...tagMapIssues(resolved, ["tags"]).filter((issue) => !issues.some((seen) => issue.path.startsWith(seen.path))),
  );
  if (issues.length > 0) {
    // Report in file order, so the list reads top to bottom like the file.
    const order = Object.keys(document.tags);
    const position = (issue: ConfigIssue) => order.indexOf(issue.path.split(".")[1] ?? "");
    throw new ConfigError(
      issues
        .map((issue, index) => ({ issue, index }))
        .sort((a, b) => position(a.issue) - position(b.issue) || a.index - b.index)
        .map(({ issue }) => issue),
      { file },
    );
  }
  for (const tag of Object.values(resolved)) Object.freeze(tag);
  const map = Object.freeze(resolved) as TagMap<TagDefinitions>;
  markValidated(map);
  return map;
}

/** Loads a tag map from a `.yaml`, `.yml` or `.json` file. Errors name the file, the field path and the fix. */
export async function loadTagMap(file: string, options: TagMapFileOptions): Promise<TagMap<TagDefinitions>> {
  const format = configFormatOf(file);
  if (!format) {
    throw new ConfigError(
      [
        {
          path: "(file)",
          message: `unsupported extension "${extname(file).toLowerCase()}"`,
          fix: "use .yaml, .yml or .json",
        },
      ],
      { file },
    );
  }
  const text = await readConfigText(file);
  return parseTagMap(text, format, { ...options, file });
}
