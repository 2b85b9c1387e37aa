/**
 * Parses and validates a model's answer. Nothing is repaired: truncated JSON, a wrong type or a field the schema
 * does not name is a {@link ModelOutputError} carrying the raw text.
 */
import type { z } from "zod";
import { lazyZod } from "../lazy-zod.js";
import { ModelOutputError } from "./model-errors.js";

type JsonSchema = Record<string, unknown>;

/** The JSON schema of a zod schema (zod 4's `toJSONSchema`), without `$schema`, which some servers reject. */
export function jsonSchemaOf(schema: z.ZodType): JsonSchema {
  const { $schema: _ignored, ...rest } = lazyZod().toJSONSchema(schema, {
    io: "output",
    unrepresentable: "any",
  }) as JsonSchema;
  return rest;
}

/**
 * True when a JSON schema meets OpenAI's strict structured-output rules (every object closed, every property
 * required), so `strict: true` can be asked for; otherwise the schema is sent non-strict and validation does the rest.
 */
export function isStrictCompatible(schema: unknown): boolean {
  if (Array.isArray(schema)) return schema.every(isStrictCompatible);
  if (typeof schema !== "object" || schema === null) return true;
  const node = schema as JsonSchema;
  if (node.type === "object" || node.properties !== undefined) {
    const properties = Object.keys((node.properties as JsonSchema | undefined) ?? {});
    const required = new Set((node.required as string[] | undefined) ?? []);
    if (node.additionalProperties !== false || properties.some((name) => !required.has(name))) return false;
  }
  return Object.values(node).every(isStrictCompatible);
}

// The JSON type of a parsed value, as JSON schema names it.
function jsonType(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  if (typeof value === "number") return Number.isInteger(value) ? "integer" : "number";
  return typeof value;
}

/**
 * Whether a value could be meant for a union branch: its JSON type fits, the branch's required fields are there, and
 * fields the branch fixes (`const`, `enum`: a discriminator) have one of its values. Only the fitting branches are
 * searched for extra fields, so a nullable object or a tagged union of actions is checked as strictly as an object.
 */
function branchFits(value: unknown, schema: unknown): boolean {
  if (typeof schema !== "object" || schema === null) return true;
  const node = schema as JsonSchema;
  for (const key of ["anyOf", "oneOf"]) {
    const options = node[key];
    if (Array.isArray(options) && !options.some((option) => branchFits(value, option))) return false;
  }
  const type = jsonType(value);
  const types = [node.type ?? []].flat() as string[];
  if (types.length > 0 && !types.includes(type) && !(type === "integer" && types.includes("number"))) return false;
  if ("const" in node && node.const !== value) return false;
  if (Array.isArray(node.enum) && !node.enum.includes(value)) return false;
  if (type !== "object") return true;
  const record = value as JsonSchema;
  const properties = (node.properties as JsonSchema | undefined) ?? {};
  // zod lists a field with a default as required in its output schema; an answer may leave it out.
  const hasDefault = (key: string) => typeof properties[key] === "object" && "default" in (properties[key] as object);
  const required = (node.required as string[] | undefined) ?? [];
  if (required.some((key) => !(key in record) && !hasDefault(key))) return false;
  return Object.entries(properties).every(([key, child]) => {
    const fixed = child as JsonSchema;
    if (!(key in record) || (!("const" in fixed) && !Array.isArray(fixed.enum))) return true;
    return branchFits(record[key], fixed);
  });
}

// zod objects strip unknown keys silently; an answer with fields the schema does not name is rejected instead,
// because a model that invents fields is not answering the question asked. Walks the JSON schema by hand since
// zod 4 has no deep-strict parse. Objects, records, arrays, tuples and unions (nullable, tagged or plain) are
// followed at any depth; an intersection that zod leaves as `allOf` only when it has one part, and `$ref` (recursive
// schemas) not at all.
function extraFields(value: unknown, schema: unknown, path: string, found: string[]): void {
  if (typeof schema !== "object" || schema === null || typeof value !== "object" || value === null) return;
  const node = schema as JsonSchema;
  if (Array.isArray(value)) {
    // A tuple's positions have their own schemas (prefixItems); the rest, and plain arrays, share `items`.
    const positions = Array.isArray(node.prefixItems) ? node.prefixItems : [];
    for (const [index, item] of value.entries()) {
      const itemSchema = index < positions.length ? positions[index] : node.items;
      if (itemSchema) extraFields(item, itemSchema, `${path}[${index}]`, found);
    }
    for (const key of ["anyOf", "oneOf"]) followUnion(value, node[key], path, found);
    return;
  }
  const allOf = node.allOf;
  if (Array.isArray(allOf) && allOf.length === 1) extraFields(value, allOf[0], path, found);
  for (const key of ["anyOf", "oneOf"]) followUnion(value, node[key], path, found);
  // Named fields have their own schemas; other keys are refused (a closed object), or follow the schema every value
  // of a record shares.
  const properties = (node.properties as JsonSchema | undefined) ?? {};
  const rest = node.additionalProperties;
  for (const [key, child] of Object.entries(value)) {
    if (Object.hasOwn(properties, key)) extraFields(child, properties[key], `${path}.${key}`, found);
    else if (rest === false) found.push(`${path}.${key}: not a field of the output schema`);
    else if (typeof rest === "object" && rest !== null) extraFields(child, rest, `${path}.${key}`, found);
  }
}

/** A union: the extra fields of the fitting branch that has the fewest (none found when no branch fits). */
function followUnion(value: unknown, options: unknown, path: string, found: string[]): void {
  if (!Array.isArray(options)) return;
  let fewest: string[] | undefined;
  for (const option of options) {
    if (!branchFits(value, option)) continue;
    const extra: string[] = [];
    extraFields(value, option, path, extra);
    if (fewest === undefined || extra.length < fewest.length) fewest = extra;
  }
  found.push(...(fewest ?? []));
}

/** Validates an already-parsed answer against `schema`; `rawText` is kept on the error. */
export function validateOutput<TOutput>(schema: z.ZodType<TOutput>, value: unknown, rawText: string): TOutput {
  const extra: string[] = [];
  extraFields(value, jsonSchemaOf(schema), "$", extra);
  const parsed = schema.safeParse(value);
  const issues = [
    ...extra,
    ...(parsed.success
      ? []
      : parsed.error.issues.map(
          (issue) => `$${issue.path.map((part) => `.${String(part)}`).join("")}: ${issue.message}`,
        )),
  ];
  if (issues.length > 0 || !parsed.success) {
    throw new ModelOutputError(
      "The model's answer does not match the output schema; nothing was acted on",
      rawText,
      issues,
    );
  }
  return parsed.data;
}

/** Parses a model's text as JSON and validates it. Throws a ModelOutputError with the raw text on any failure. */
export function parseOutput<TOutput>(schema: z.ZodType<TOutput>, rawText: string): TOutput {
  let value: unknown;
  try {
    value = JSON.parse(stripFence(rawText));
  } catch (error) {
    throw new ModelOutputError(
      `The model's answer is not valid JSON (${(error as Error).message}); nothing was acted on. ` +
        "Fix: use an endpoint with structured output, or raise the completion token limit if the answer was cut off",
      rawText,
      [],
      { cause: error },
    );
  }
  return validateOutput(schema, value, rawText);
}

// Small local models wrap JSON in a ```json fence even in JSON mode; the fence is framing, not content.
function stripFence(text: string): string {
  const match = /^\s*```(?:json)?\s*\n([\s\S]*?)\n\s*```\s*$/.exec(text);
  return match ? (match[1] as string) : text;
}
