/**
 * One validator for every tag map, whether written in TypeScript or loaded from a YAML/JSON file.
 * It collects every problem (not just the first) so a site file can be fixed in one pass.
 */
import type { z } from "zod";
import { configIssuesFromZod } from "./config-issues.js";
import { ConfigError, type ConfigIssue } from "./errors.js";
import { lazyZod } from "./lazy-zod.js";

function buildTagDefinitionSchema() {
  const z = lazyZod();
  const finite = z.number().refine(Number.isFinite, { message: "must be a finite number" });
  const rangeSchema = z.tuple([finite, finite]).refine(([low, high]) => low < high, {
    message: "low must be smaller than high",
    params: { fix: "write the range as [low, high] with low < high" },
  });
  const deadbandSchema = z.union([
    finite.nonnegative(),
    z.strictObject({ absolute: finite.nonnegative() }),
    z.strictObject({ percent: finite.min(0).max(100) }),
  ]);
  const writeSchema = z.strictObject({
    allowed: z.boolean().optional(),
    range: rangeSchema.optional(),
    maxStep: finite.positive().optional(),
    maxRatePerSecond: finite.positive().optional(),
    minIntervalMs: z.number().int().nonnegative().optional(),
    approval: z.enum(["required", "automatic"]).optional(),
    approvals: z.union([z.literal(1), z.literal(2)]).optional(),
    states: z.array(z.union([z.string(), z.boolean(), finite])).optional(),
    automaticRange: rangeSchema.optional(),
    shadow: z.boolean().optional(),
  });
  const common = {
    description: z.string().max(500).optional(),
    source: z.unknown(),
    staleAfterMs: z.number().int().positive().optional(),
    deadband: deadbandSchema.optional(),
    safety: z.boolean().optional(),
    write: writeSchema.optional(),
  };

  return z.discriminatedUnion(
    "type",
    [
      z.strictObject({
        type: z.enum(["float", "integer"]),
        unit: z.string().max(40).optional(),
        range: rangeSchema.optional(),
        resolution: finite.positive().optional(),
        ...common,
      }),
      z.strictObject({ type: z.literal("boolean"), labels: z.tuple([z.string(), z.string()]).optional(), ...common }),
      z.strictObject({
        type: z.literal("enum"),
        states: z
          .record(z.string().min(1), z.number().int())
          .refine((states) => Object.keys(states).length > 0, { message: "needs at least one state" })
          .refine((states) => new Set(Object.values(states)).size === Object.keys(states).length, {
            message: "two states share one code",
            params: { fix: "give every state its own integer code" },
          }),
        ...common,
      }),
      z.strictObject({ type: z.literal("text"), maxLength: z.number().int().positive().max(65_535), ...common }),
      z.strictObject({ type: z.literal("datetime"), ...common }),
    ],
    { error: () => 'unknown tag type (expected "float", "integer", "boolean", "enum", "text" or "datetime")' },
  );
}

let cachedSchema: ReturnType<typeof buildTagDefinitionSchema> | undefined;

/** The zod schema of one tag definition (without its source, which each adapter validates). Built on first use. */
export function tagDefinitionSchema(): ReturnType<typeof buildTagDefinitionSchema> {
  cachedSchema ??= buildTagDefinitionSchema();
  return cachedSchema;
}

type ParsedTag = z.infer<ReturnType<typeof buildTagDefinitionSchema>>;

/** Checks that span fields: write limits inside the engineering range, safety tags without writes, and so on. */
function crossFieldIssues(name: string, tag: ParsedTag, prefix: readonly string[]): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const at = (field: string) => [...prefix, name, field].join(".");
  if (tag.safety === true && tag.write !== undefined) {
    issues.push({
      path: at("write"),
      message: "a safety-class tag can never be written",
      fix: "remove write, or remove safety: true if this is not a safety signal",
    });
  }
  if (tag.type === "float" || tag.type === "integer") {
    if (tag.deadband !== undefined && typeof tag.deadband === "object" && "percent" in tag.deadband && !tag.range) {
      issues.push({
        path: at("deadband"),
        message: "a percent deadband needs the tag's range",
        fix: "add range: [low, high], or give the deadband in engineering units",
      });
    }
    const writeRange = tag.write?.range;
    if (writeRange && tag.range && (writeRange[0] < tag.range[0] || writeRange[1] > tag.range[1])) {
      issues.push({
        path: at("write.range"),
        message: `write range [${writeRange.join(", ")}] leaves the engineering range [${tag.range.join(", ")}]`,
        fix: "narrow the write range to lie inside the tag's range",
      });
    }
    const automatic = tag.write?.automaticRange;
    const outer = writeRange ?? tag.range;
    if (automatic && outer && (automatic[0] < outer[0] || automatic[1] > outer[1])) {
      issues.push({
        path: at("write.automaticRange"),
        message: `automatic band [${automatic.join(", ")}] leaves the write range [${outer.join(", ")}]`,
        fix: "narrow the automatic band to lie inside the write range",
      });
    }
  } else if (tag.write?.range !== undefined || tag.write?.maxStep !== undefined || tag.write?.automaticRange) {
    issues.push({
      path: at("write"),
      message: `range, maxStep and automaticRange apply to numeric tags, not to ${tag.type} tags`,
      fix: "remove them from this tag's write policy",
    });
  }
  if (tag.type === "datetime" && (tag.write?.maxRatePerSecond !== undefined || tag.write?.states !== undefined)) {
    issues.push({
      path: at("write"),
      message: "maxRatePerSecond and states do not apply to datetime tags",
      fix: "remove them from this tag's write policy (minIntervalMs, approval and shadow do apply)",
    });
  }
  if (tag.type === "enum" && tag.write?.states) {
    for (const state of tag.write.states) {
      if (typeof state !== "string" || !(state in tag.states)) {
        issues.push({
          path: at("write.states"),
          message: `"${String(state)}" is not one of the tag's states`,
          fix: `use state names from: ${Object.keys(tag.states).join(", ")}`,
        });
      }
    }
  }
  return issues;
}

/** True when a value looks like a source made by an adapter. */
function isTagSource(source: unknown): boolean {
  return typeof source === "object" && source !== null && "adapter" in source && "address" in source;
}

/**
 * Validates every tag of a map and returns the problems found. `prefix` is prepended to field paths
 * (e.g. `["tags"]` for a file). Sources must already be resolved to adapter sources.
 */
export function tagMapIssues(tags: Readonly<Record<string, unknown>>, prefix: readonly string[] = []): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  for (const [name, definition] of Object.entries(tags)) {
    if (!/^[A-Za-z_][A-Za-z0-9_.-]{0,127}$/.test(name)) {
      issues.push({
        path: [...prefix, name].join("."),
        message: "tag names must start with a letter or _ and use only letters, digits, _, . and -",
        fix: "rename the tag, e.g. pump7_speed",
      });
    }
    const parsed = tagDefinitionSchema().safeParse(definition);
    if (!parsed.success) {
      issues.push(...configIssuesFromZod(parsed.error, [...prefix, name]));
      continue;
    }
    issues.push(...crossFieldIssues(name, parsed.data, prefix));
    if (!isTagSource(parsed.data.source)) {
      issues.push({
        path: [...prefix, name, "source"].join("."),
        message: "missing or not made by an adapter",
        fix: 'give the tag a source from an adapter, e.g. drive.holding(100, "uint16")',
      });
    }
  }
  return issues;
}

const validated = new WeakSet<object>();

/** Records that a (frozen) tag map passed validation, so that it is not validated again. */
export function markValidated(tags: object): void {
  if (Object.isFrozen(tags)) validated.add(tags);
}

/** Throws a {@link ConfigError} listing every problem of a tag map. Frozen maps already validated are skipped. */
export function validateTagMap(tags: Readonly<Record<string, unknown>>, options: { file?: string } = {}): void {
  if (validated.has(tags)) return;
  const issues = tagMapIssues(tags, options.file ? ["tags"] : []);
  if (issues.length > 0) throw new ConfigError(issues, options);
}
