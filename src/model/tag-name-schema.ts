/**
 * A zod schema for tag names in a model's answer, from the tag map: an answer that names a tag (which tag is out of
 * range, which setpoint to change) can then only name one that exists, and an invented name is a ModelOutputError
 * like any other schema failure, never a lookup that fails later.
 */
import type { z } from "zod";
import { ConfigError } from "../errors.js";
import { lazyZod } from "../lazy-zod.js";
import { type AnyTag, isWritable, type TagDefinitions, type TagName } from "../tags.js";

/** Settings of {@link tagNameSchema}. */
export interface TagNameSchemaOptions<TTags extends TagDefinitions> {
  /** Only these tags. @default every tag */
  readonly only?: readonly TagName<TTags>[];
  /** Only tags whose write policy allows writes (`isWritable`). @default false */
  readonly writable?: boolean;
}

/** `z.enum` of the tag map's names (or the chosen ones), typed by the tag map. */
export function tagNameSchema<TTags extends TagDefinitions>(
  tags: TTags,
  options: TagNameSchemaOptions<TTags> = {},
): z.ZodEnum<{ [K in TagName<TTags>]: K }> {
  const chosen = options.only ?? (Object.keys(tags) as TagName<TTags>[]);
  const unknown = chosen.filter((name) => !Object.hasOwn(tags, name));
  const names = chosen.filter((name) => !options.writable || isWritable(tags[name] as AnyTag));
  if (unknown.length > 0)
    throw new ConfigError([
      { path: "only", message: `not tags of this map: ${unknown.join(", ")}`, fix: "name tags of the tag map" },
    ]);
  if (names.length === 0) {
    const field = chosen.length === 0 ? "only" : "writable";
    throw new ConfigError([
      { path: field, message: "no tag left to name", fix: "include at least one (writable) tag" },
    ]);
  }
  return lazyZod().enum(names as [string, ...string[]]) as unknown as z.ZodEnum<{ [K in TagName<TTags>]: K }>;
}
