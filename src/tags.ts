/**
 * The tag contract: one typed definition per plant value, from which everything else is derived.
 *
 * A tag says where a value lives (its `source`, supplied by an adapter), what it is (type, unit, engineering range,
 * resolution), how it may change (deadband, stale-after) and whether it may be written (`write`, read-only unless
 * given; `safety: true` tags can never be written).
 */
import type { TagSource } from "./adapter.js";
import { freezeTag } from "./deep-freeze.js";
import { markValidated, validateTagMap } from "./tag-validation.js";

/** A change threshold: a plain number or `{ absolute }` in engineering units, or `{ percent }` of the range span. */
export type Deadband = number | { readonly absolute: number } | { readonly percent: number };

/** Who must agree before a write goes out. */
export type ApprovalMode = "required" | "automatic";

/**
 * Whether and how a tag may be written. The write guard enforces it; the contract only holds it.
 * A tag without `write` is read-only.
 */
export interface WritePolicy<TValue = unknown> {
  /** Set false to keep the policy on file but forbid writes for now. @default true */
  readonly allowed?: boolean;
  /** Lowest and highest value that may be written, in engineering units. Outside it a write is rejected, never clamped. */
  readonly range?: readonly [number, number];
  /** Largest change from the current value in one write, in engineering units. */
  readonly maxStep?: number;
  /** Largest rate of change, in engineering units per second. */
  readonly maxRatePerSecond?: number;
  /** Shortest time between two writes to this tag, in milliseconds. */
  readonly minIntervalMs?: number;
  /** Whether a person must approve a model-originated write. @default "required" */
  readonly approval?: ApprovalMode;
  /**
   * How many different people must approve a write that needs approval: 2 for a two-person rule (the second approver
   * must be someone other than the first). @default 1
   */
  readonly approvals?: 1 | 2;
  /** For enum tags: the states that may be written. @default all states */
  readonly states?: readonly TValue[];
  /**
   * With `approval: "automatic"`, the narrow band [min, max] inside which a guarded write needs no person's approval;
   * values outside it still need one. @default the whole write range
   */
  readonly automaticRange?: readonly [number, number];
  /** Shadow this tag: every proposal is evaluated and audited, nothing is written. @default false */
  readonly shadow?: boolean;
}

/** Fields every tag has. */
export interface TagCommon {
  /** What the value means, in plant words. Goes into the model's context once, in the header. */
  readonly description?: string;
  /** Where the value lives: a register, a node, a topic, a column. Made by an adapter, e.g. `drive.holding(100, "uint16")`. */
  readonly source: TagSource;
  /** A sample older than this (from its source time, else its received time) is reported STALE. */
  readonly staleAfterMs?: number;
  /** Changes smaller than this are not reported by `watch()` and do not trigger loops. @default 0 */
  readonly deadband?: Deadband;
  /** A safety-class tag (trip, interlock, SIS signal): readable, never writable, whatever else is configured. */
  readonly safety?: boolean;
}

/** A numeric tag (float or integer). */
export interface NumericTag extends TagCommon {
  readonly type: "float" | "integer";
  /** Engineering unit, e.g. "bar", "rpm", "°C". */
  readonly unit?: string;
  /** Engineering range [low, high]: what the instrument can show. */
  readonly range?: readonly [number, number];
  /** Smallest meaningful step in engineering units, e.g. 0.01. Values are shown and compared at this precision. @default 1 for integers */
  readonly resolution?: number;
  readonly write?: WritePolicy<number>;
}

/** A boolean tag: a coil, a status bit, a switch. */
export interface BooleanTag extends TagCommon {
  readonly type: "boolean";
  /** Words for false and true, e.g. ["stopped", "running"]. */
  readonly labels?: readonly [string, string];
  readonly write?: WritePolicy<boolean>;
}

/** An enumerated tag: named states over integer codes, e.g. a motor's mode. Its value is the state's name. */
export interface EnumTag<TState extends string = string> extends TagCommon {
  readonly type: "enum";
  /** State name → integer code on the wire, e.g. `{ OFF: 0, AUTO: 1, MANUAL: 2 }`. */
  readonly states: Readonly<Record<TState, number>>;
  readonly write?: WritePolicy<TState>;
}

/** A text tag: an alarm message, a batch id, an operator note. Untrusted when it reaches a model. */
export interface TextTag extends TagCommon {
  readonly type: "text";
  /** Longest text accepted; longer values are bad-quality samples. */
  readonly maxLength: number;
  readonly write?: WritePolicy<string>;
}

/**
 * A date-time tag: an OPC UA DateTime, a SQL timestamp, a batch start time. Its value is a `Date` (a valid one: an
 * invalid date is a bad sample); the context shows it in ISO 8601 UTC, the audit stores it as ISO text.
 */
export interface DateTimeTag extends TagCommon {
  readonly type: "datetime";
  readonly write?: WritePolicy<Date>;
}

/** Any tag definition. */
export type AnyTag = NumericTag | BooleanTag | EnumTag | TextTag | DateTimeTag;

/** The kinds of tag. */
export type TagType = AnyTag["type"];

/** The definition type of each kind of tag: `TagDefinitionByType["boolean"]` is {@link BooleanTag}. */
export interface TagDefinitionByType {
  float: NumericTag;
  integer: NumericTag;
  boolean: BooleanTag;
  enum: EnumTag;
  text: TextTag;
  datetime: DateTimeTag;
}

/** The TypeScript type of a tag's value: number, boolean, a state name, or string. */
export type TagValue<TTag> = TTag extends NumericTag
  ? number
  : TTag extends BooleanTag
    ? boolean
    : TTag extends EnumTag<infer TState>
      ? TState
      : TTag extends TextTag
        ? string
        : TTag extends DateTimeTag
          ? Date
          : never;

/** A map of tag names to definitions. */
export type TagDefinitions = Readonly<Record<string, AnyTag>>;

/** The names of a tag map's tags. */
export type TagName<TTags extends TagDefinitions> = keyof TTags & string;

/** Every value of a tag map, by name. */
export type TagValues<TTags extends TagDefinitions> = { [K in TagName<TTags>]: TagValue<TTags[K]> };

/** A validated, frozen tag map. Its type carries every tag's value type into snapshots, prompts and writes. */
export type TagMap<TTags extends TagDefinitions = TagDefinitions> = Readonly<TTags>;

type Builder<TTag extends AnyTag> = Omit<TTag, "type">;

/** A floating-point tag, e.g. `float({ unit: "bar", range: [0, 16], resolution: 0.01, source })`. */
export function float(options: Builder<NumericTag>): NumericTag {
  return { ...options, type: "float" };
}

/** An integer tag, e.g. a counter or a step number. */
export function integer(options: Builder<NumericTag>): NumericTag {
  return { ...options, type: "integer" };
}

/** A boolean tag, e.g. a running bit or an alarm. */
export function boolean(options: Builder<BooleanTag>): BooleanTag {
  return { ...options, type: "boolean" };
}

/** An enumerated tag whose value is one of the named `states`, e.g. `{ OFF: 0, AUTO: 1, MANUAL: 2 }`. */
export function enumeration<const TStates extends Record<string, number>>(
  options: Omit<EnumTag<keyof TStates & string>, "type" | "states"> & { readonly states: TStates },
): EnumTag<keyof TStates & string> {
  return { ...options, type: "enum" } as EnumTag<keyof TStates & string>;
}

/** A text tag with a maximum length. */
export function text(options: Builder<TextTag>): TextTag {
  return { ...options, type: "text" };
}

/** A date-time tag, e.g. an OPC UA DateTime node or a SQL timestamp column. Its value is a `Date`. */
export function dateTime(options: Builder<DateTimeTag>): DateTimeTag {
  return { ...options, type: "datetime" };
}

/**
 * Validates a tag map and freezes it deeply (write policies, ranges, states and bands can never change afterwards,
 * whoever holds the map). Throws a {@link ConfigError} listing every problem, each naming its field.
 * The returned map's type flows into snapshots: `snapshot.value("speed")` is a `number`, a misspelt name does not compile.
 */
export function defineTags<const TTags extends TagDefinitions>(tags: TTags): TagMap<TTags> {
  validateTagMap(tags);
  for (const tag of Object.values(tags)) freezeTag(tag);
  const map = Object.freeze({ ...tags });
  markValidated(map);
  return map;
}

/** The deadband of a tag in engineering units (percent deadbands are taken of the range span). */
export function absoluteDeadband(tag: AnyTag): number {
  const deadband = tag.deadband;
  if (deadband === undefined) return 0;
  if (typeof deadband === "number") return deadband;
  if ("absolute" in deadband) return deadband.absolute;
  if (tag.type === "float" || tag.type === "integer") {
    const [low, high] = tag.range ?? [0, 0];
    return ((high - low) * deadband.percent) / 100;
  }
  return 0;
}

/** True when a tag may be written at all (has a write policy, is allowed, and is not safety-class). */
export function isWritable(tag: AnyTag): boolean {
  return tag.write !== undefined && tag.write.allowed !== false && tag.safety !== true;
}

/** Number of decimals that a tag's resolution justifies (0.01 → 2, 5 → 0). */
export function decimalsFor(tag: AnyTag): number | undefined {
  if (tag.type !== "float" && tag.type !== "integer") return undefined;
  const resolution = tag.resolution ?? (tag.type === "integer" ? 1 : undefined);
  if (resolution === undefined) return undefined;
  return Math.max(0, Math.ceil(-Math.log10(resolution) - 1e-9));
}
