/**
 * Turns zod issues into plantwire config issues: a dotted field path, what is wrong, and how to fix it.
 * Integrators read these on a plant floor, so every issue carries a fix in plain words.
 */
import type { z } from "zod";
import type { ConfigIssue } from "./errors.js";

/** Fix hints for well-known fields, by field name. */
const fieldFixes: Record<string, string> = {
  type: 'set type to one of "float", "integer", "boolean", "enum", "text", "datetime"',
  unit: 'give the engineering unit as text, e.g. "bar"',
  range: "write the range as [low, high] with low < high, in engineering units",
  resolution: "give the smallest meaningful step as a positive number, e.g. 0.01",
  deadband: "give a number (engineering units), { absolute: n } or { percent: p } with 0 ≤ p ≤ 100",
  staleAfterMs: "give a positive whole number of milliseconds, e.g. 5000",
  description: "give a short plain-text description (at most 500 characters)",
  maxLength: "give the longest accepted text length as a positive whole number",
  states: "map each state name to its integer code, e.g. { OFF: 0, AUTO: 1 }",
  labels: 'give two words for false and true, e.g. ["stopped", "running"]',
  safety: "set safety to true or false",
  source: "give the tag a source from an adapter, e.g. { adapter: drive, holding: 100, dataType: uint16 }",
  allowed: "set allowed to true or false",
  maxStep: "give the largest change per write as a positive number",
  maxRatePerSecond: "give the largest rate of change as a positive number of units per second",
  minIntervalMs: "give the shortest time between writes as a whole number of milliseconds",
  approval: 'set approval to "required" or "automatic"',
  automaticRange: "write the automatic band as [low, high] inside the write range",
  shadow: "set shadow to true or false",
  write: "give a write policy object, e.g. { range: [600, 1500], maxStep: 50 }, or remove it to keep the tag read-only",
};

function pathText(prefix: readonly (string | number)[], path: readonly PropertyKey[]): string {
  return [...prefix, ...path].map((part) => String(part)).join(".");
}

function lastFieldName(path: readonly PropertyKey[]): string | undefined {
  for (let index = path.length - 1; index >= 0; index--) {
    const part = path[index];
    if (typeof part === "string") return part;
  }
  return undefined;
}

/** Converts a zod error into config issues whose paths start with `prefix`. */
export function configIssuesFromZod(error: z.ZodError, prefix: readonly (string | number)[] = []): ConfigIssue[] {
  return error.issues.flatMap((issue) => {
    if (issue.code === "unrecognized_keys") {
      return issue.keys.map((key) => ({
        path: pathText(prefix, [...issue.path, key]),
        message: `unknown field "${key}"`,
        fix: "remove it or correct its spelling",
      }));
    }
    const field = lastFieldName(issue.path);
    const custom = issue.code === "custom" ? (issue.params as { fix?: string } | undefined)?.fix : undefined;
    const fix = custom ?? (field !== undefined ? fieldFixes[field] : undefined) ?? "correct the value";
    return [{ path: pathText(prefix, issue.path), message: issue.message, fix }];
  });
}
