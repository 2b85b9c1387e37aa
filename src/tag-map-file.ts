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
 *
 * A script that relies on some of the file's tags says so with `expect` (tag name → type). They are checked when the
 * file is loaded, and the map comes back typed by them: `snapshot.value("pressure")` is a `number` and a misspelt
 * name does not compile, as with a map written in code.
 */
import { extname } from "node:path";
import type { Adapter } from "./adapter.js";
import { configFormatOf, parseConfigText, readConfigText } from "./config-file.js";
import { freezeTag } from "./deep-freeze.js";
import { ConfigError, type ConfigIssue } from "./errors.js";
import { markValidated, tagMapIssues } from "./tag-validation.js";
import type { AnyTag, TagDefinitionByType, TagDefinitions, TagMap, TagType } from "./tags.js";

/** What a script expects of a tag-map file: tag name → tag type, e.g. `{ alarm: "boolean", vibration: "float" }`. */
export type TagExpectations = Readonly<Record<string, TagType>>;

/** The tag definitions that expectations promise: `{ alarm: "boolean" }` gives `{ readonly alarm: BooleanTag }`. */
export type ExpectedTags<TExpect extends TagExpectations> = {
  readonly [K in keyof TExpect & string]: TagDefinitionByType[TExpect[K]];
};

/** Options of {@link loadTagMap} and {@link parseTagMap}. */
export interface TagMapFileOptions<TExpect extends TagExpectations = TagExpectations> {
  /** The adapters that sources may name, by name. */
  adapters: Readonly<Record<string, Adapter>>;
  /**
   * The tags the script relies on, by name, with their types (`"float"`, `"integer"`, `"boolean"`, `"enum"`,
   * `"text"`, `"datetime"`). Each must be in the file with that type, else loading fails with a ConfigError listing every
   * mismatch. The file may hold other tags too: they are read like the rest, but only the expected names are typed.
   * @default no expectations: any name type-checks and values are `number | boolean | string | Date`
   */
  expect?: TExpect;
}

const tagTypes: readonly string[] = ["float", "integer", "boolean", "enum", "text", "datetime"] satisfies TagType[];

const withArticle = (type: string) => `${/^[aeiou]/.test(type) ? "an" : "a"} ${type}`;

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

/** Checks that each expected tag is in the file with the expected type. */
function expectationIssues(
  tags: Readonly<Record<string, unknown>>,
  expect: Readonly<Record<string, unknown>>,
  file: string,
): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  for (const [name, expected] of Object.entries(expect)) {
    if (typeof expected !== "string" || !tagTypes.includes(expected)) {
      issues.push({
        path: `expect.${name}`,
        message: `unknown tag type ${JSON.stringify(expected)}`,
        fix: `expect one of ${tagTypes.join(", ")}`,
      });
    } else if (!Object.hasOwn(tags, name)) {
      issues.push({
        path: `tags.${name}`,
        message: `missing: the script expects ${withArticle(expected)} tag of this name`,
        fix: `add tag ${name} of type ${expected} to ${file}`,
      });
    } else {
      const raw = tags[name];
      const found = isRecord(raw) ? raw.type : undefined;
      // A tag that is not an object, or has no known type, is already reported by the file's own checks.
      if (typeof found === "string" && tagTypes.includes(found) && found !== expected) {
        issues.push({
          path: `tags.${name}`,
          message: `is ${withArticle(found)} tag, but the script expects ${withArticle(expected)} tag`,
          fix: `change its type to ${expected}, or the script's expectation`,
        });
      }
    }
  }
  return issues;
}

/**
 * Parses tag-map text (YAML or JSON). `file` is used in error messages. Throws a ConfigError listing every problem.
 * With `expect`, each expected tag must be in the text with its type, and the map is typed by the expected tags.
 */
export function parseTagMap<const TExpect extends TagExpectations>(
  text: string,
  format: "yaml" | "json",
  options: TagMapFileOptions<TExpect> & { expect: TExpect; file?: string },
): Promise<TagMap<ExpectedTags<TExpect>>>;
/**
 * Parses tag-map text (YAML or JSON). `file` is used in error messages. Throws a ConfigError listing every problem.
 * Any string type-checks as a tag name of the result; pass `expect` to type the tags the script relies on.
 */
export function parseTagMap(
  text: string,
  format: "yaml" | "json",
  options: TagMapFileOptions & { file?: string },
): Promise<TagMap<TagDefinitions>>;
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
  if (options.expect) issues.push(...expectationIssues(document.tags, options.expect, options.file ?? "the tag map"));
  if (issues.length > 0) {
    // Report in file order, so the list reads top to bottom like the file; tags the file lacks come last.
    const order = Object.keys(document.tags);
    const position = (issue: ConfigIssue) => {
      const index = issue.path.startsWith("tags.") ? order.indexOf(issue.path.split(".")[1] ?? "") : -1;
      return index === -1 ? order.length : index;
    };
    throw new ConfigError(
      issues
        .map((issue, index) => ({ issue, index }))
        .sort((a, b) => position(a.issue) - position(b.issue) || a.index - b.index)
        .map(({ issue }) => issue),
      { file },
    );
  }
  for (const tag of Object.values(resolved)) freezeTag(tag as AnyTag);
  const map = Object.freeze(resolved) as TagMap<TagDefinitions>;
  markValidated(map);
  return map;
}

/**
 * Loads a tag map from a `.yaml`, `.yml` or `.json` file. Errors name the file, the field path and the fix.
 *
 * With `expect` (tag name → type), each expected tag must be in the file with that type, and the map is typed by
 * them: `snapshot.value("vibration")` is a `number`, and a name that is not expected does not compile. The file's
 * other tags stay in the map and are read with the rest; name them in `expect` to use them by name.
 *
 * ```ts
 * const tags = await loadTagMap("site/tags.yaml", {
 *   adapters: { plc },
 *   expect: { alarm: "boolean", alarmText: "text", vibration: "float", mode: "enum" },
 * });
 * ```
 */
export function loadTagMap<const TExpect extends TagExpectations>(
  file: string,
  options: TagMapFileOptions<TExpect> & { expect: TExpect },
): Promise<TagMap<ExpectedTags<TExpect>>>;
/**
 * Loads a tag map from a `.yaml`, `.yml` or `.json` file. Errors name the file, the field path and the fix.
 * Any string type-checks as a tag name of the result; pass `expect` to type the tags the script relies on.
 */
export function loadTagMap(file: string, options: TagMapFileOptions): Promise<TagMap<TagDefinitions>>;
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
