/**
 * The `mcp:` section of a site file: what an assistant (an MCP client) may see and propose for, and its limits.
 * Read-only by default: every tag can be seen, nothing can be proposed until the section lists it.
 *
 * ```yaml
 * mcp:
 *   expose: [level, pressure, flow, speedSetpoint]   # the tags an assistant sees at all (default: every tag)
 *   propose: [speedSetpoint]                          # the tags it may propose writes for (default: none)
 *   callsPerMinute: 60                                # tool calls per person (token user) per minute
 *   maxWindowSeconds: 3600                            # the largest window it may read
 * ```
 */
import { ConfigError, type ConfigIssue } from "../errors.js";
import { lazyZod } from "../lazy-zod.js";
import { type AnyTag, isWritable, type TagDefinitions } from "../tags.js";

/** What the `mcp:` section resolves to (every list checked against the tag map). */
export interface SiteMcpSettings {
  /** The tags an assistant may see at all, in tag-map order. @default every tag */
  readonly expose: readonly string[];
  /** The tags it may propose writes for: exposed, writable by their policy. @default none (read-only) */
  readonly propose: readonly string[];
  /** Tool calls (and resource reads) per person (the token's user) per minute. @default 60 */
  readonly callsPerMinute: number;
  /** The largest window it may read, in seconds. @default 3600 */
  readonly maxWindowSeconds: number;
}

/** The section's shape in the site file, for the site schema. */
export function mcpSectionSchema() {
  const z = lazyZod();
  return z.strictObject({
    expose: z.array(z.string().min(1)).optional(),
    propose: z.array(z.string().min(1)).optional(),
    callsPerMinute: z.number().int().min(1).max(10_000).optional(),
    maxWindowSeconds: z
      .number()
      .int()
      .min(1)
      .max(7 * 86_400)
      .optional(),
  });
}

/** The section as written (after the schema). */
export type McpSection = {
  expose?: string[] | undefined;
  propose?: string[] | undefined;
  callsPerMinute?: number | undefined;
  maxWindowSeconds?: number | undefined;
};

/** Fixes for the section's fields, by path (used by the site loader for schema problems). */
export const mcpFieldFixes: [RegExp, string][] = [
  [/^mcp\.expose/, "list the tag names an assistant may see, e.g. expose: [level, pressure, speedSetpoint]"],
  [/^mcp\.propose/, "list the tag names an assistant may propose writes for, e.g. propose: [speedSetpoint]"],
  [/^mcp\.callsPerMinute$/, "give a whole number of calls per person per minute between 1 and 10000, e.g. 60"],
  [/^mcp\.maxWindowSeconds$/, "give the largest window in whole seconds, at most 604800 (7 days), e.g. 3600"],
  [/^mcp$/, "give an object: mcp: { expose: [...], propose: [...], callsPerMinute: 60, maxWindowSeconds: 3600 }"],
];

/** The defaults for a site with no `mcp:` section: every tag visible, none proposable. */
export function defaultMcpSettings(tags: TagDefinitions): SiteMcpSettings {
  return { expose: Object.keys(tags), propose: [], callsPerMinute: 60, maxWindowSeconds: 3600 };
}

/**
 * Checks the section against the tag map and the guard's writable list: an unknown name, a proposable tag that is
 * not exposed, has no write policy or is outside `guard.writable` is an issue naming its place in the list.
 */
export function resolveMcpSettings(
  section: McpSection,
  tags: TagDefinitions,
  guardWritable?: readonly string[],
): SiteMcpSettings {
  const issues: ConfigIssue[] = [];
  const names = Object.keys(tags);
  const hint = `this site's tags are ${names.slice(0, 12).join(", ")}${names.length > 12 ? ", …" : ""}`;
  const known = (list: readonly string[], field: string) =>
    list.filter((name, index) => {
      if (Object.hasOwn(tags, name)) return true;
      issues.push({
        path: `mcp.${field}.${index}`,
        message: `"${name}" is not a tag of this site`,
        fix: `name a tag of the tag map (${hint})`,
      });
      return false;
    });
  const expose = section.expose ? known(section.expose, "expose") : names;
  const propose = known(section.propose ?? [], "propose");
  (section.propose ?? []).forEach((name, index) => {
    if (!Object.hasOwn(tags, name)) return; // named above
    const path = `mcp.propose.${index}`;
    if (!expose.includes(name)) {
      issues.push({ path, message: `"${name}" is not in mcp.expose`, fix: `add ${name} to mcp.expose too` });
    } else if (!isWritable(tags[name] as AnyTag)) {
      issues.push({
        path,
        message: `"${name}" is read-only (no write policy, or a safety tag)`,
        fix: `give ${name} a write policy in the tag map, or remove it from mcp.propose`,
      });
    } else if (guardWritable && !guardWritable.includes(name)) {
      issues.push({ path, message: `"${name}" is not in guard.writable`, fix: `add ${name} to guard.writable too` });
    }
  });
  if (issues.length > 0) throw new ConfigError(issues);
  // Tag-map order, each once: the tool schemas and the context follow the map, not the list's order.
  const inOrder = (list: readonly string[]) => names.filter((name) => list.includes(name));
  return Object.freeze({
    expose: Object.freeze(inOrder(expose)),
    propose: Object.freeze(inOrder(propose)),
    callsPerMinute: section.callsPerMinute ?? 60,
    maxWindowSeconds: section.maxWindowSeconds ?? 3600,
  });
}
