/**
 * The tools' input schemas, generated from the tag map and the site's `mcp:` section only: tag names are enums of
 * the exposed tags, and the proposal is a union on the tag name whose value carries that tag's type, write range,
 * step and states. The schemas advertise the limits; the guard still checks every value (and records what it
 * refuses), so a client that ignores the schema gets the guard's refusal, never a write.
 */
import { lazyZod } from "../lazy-zod.js";
import type { AnyTag, TagDefinitions } from "../tags.js";
import type { SiteMcpSettings } from "./mcp-settings.js";

function proposableValue(tag: AnyTag) {
  const z = lazyZod();
  const write = tag.write;
  const approvals = write?.approvals === 2 ? "two different people approve" : "a person approves";
  switch (tag.type) {
    case "float":
    case "integer": {
      const range = write?.range ?? tag.range;
      let value = tag.type === "integer" ? z.number().int() : z.number();
      if (range) value = value.min(range[0]).max(range[1]);
      const parts = [
        tag.unit ? `in ${tag.unit}` : undefined,
        range ? `write range ${range[0]}..${range[1]}` : undefined,
        write?.maxStep !== undefined ? `at most ${write.maxStep} from the current value per write` : undefined,
        write?.minIntervalMs ? `at most one write per ${Math.round(write.minIntervalMs / 1000)} s` : undefined,
        approvals,
      ];
      return value.describe(parts.filter(Boolean).join("; "));
    }
    case "enum": {
      const states = (write?.states as readonly string[] | undefined) ?? Object.keys(tag.states);
      return z.enum(states as [string, ...string[]]).describe(`one of ${states.join(", ")}; ${approvals}`);
    }
    case "boolean":
      return z
        .boolean()
        .describe(tag.labels ? `false=${tag.labels[0]}, true=${tag.labels[1]}; ${approvals}` : approvals);
    case "text":
      return z.string().max(tag.maxLength).describe(approvals);
    case "datetime":
      return z.iso.datetime({ offset: true }).describe(`ISO 8601 with a zone; ${approvals}`);
  }
}

/** The zod schemas of the tools, for this view of the site. */
export function toolSchemas(view: TagDefinitions, settings: SiteMcpSettings) {
  const z = lazyZod();
  const names = Object.keys(view);
  const tagName = z.enum(names as [string, ...string[]]);
  const tagList = z.array(tagName).min(1).max(names.length);
  const seconds = z.number().int().min(1).max(settings.maxWindowSeconds);
  const variants = settings.propose.map((name) =>
    z.strictObject({ tag: z.literal(name), value: proposableValue(view[name] as AnyTag) }),
  );
  const reason = z.string().min(1).max(500).describe("Why, in plain words; the approver sees it as untrusted text");
  return {
    listTags: z.strictObject({}),
    readValues: z.strictObject({
      tags: tagList.optional().describe("The tags to read; every visible tag when omitted"),
    }),
    readWindow: z.strictObject({
      tags: tagList,
      seconds: seconds.describe(`How far back, in seconds (at most ${settings.maxWindowSeconds})`),
      bucketSeconds: seconds.optional().describe("One row per bucket of this many seconds (its last good value)"),
    }),
    proposeWrite:
      variants.length > 0
        ? z.strictObject({
            write: (variants.length === 1
              ? variants[0]
              : z.discriminatedUnion("tag", variants as unknown as [(typeof variants)[0], ...typeof variants])
            )?.describe("The tag and its new value"),
            reason,
          })
        : undefined,
    proposalStatus: z.strictObject({ id: z.string().min(1).max(100).describe("The id propose_write answered") }),
  };
}

/**
 * The shape a proposal is parsed with: only its structure. The value's type and limits are the guard's to check (so
 * an out-of-range value becomes an audited refusal with the guard's code, not a silent schema error).
 */
export function proposalShape() {
  const z = lazyZod();
  return z.strictObject({
    write: z.strictObject({ tag: z.string().min(1).max(200), value: z.unknown() }),
    reason: z.string().min(1).max(2000),
  });
}
