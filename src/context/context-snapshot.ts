/**
 * Snapshot → prompt text. One shared time (the snapshot's); a value's age is written only when it is older than
 * `ageThresholdMs`; quality only when not good; a STALE value is written as `STALE last=… age=…`, never as current.
 */
import type { Snapshot } from "../sample.js";
import type { AnyTag, TagDefinitions } from "../tags.js";
import {
  CONTEXT_PREAMBLE,
  type ContextOptions,
  type EncodedContext,
  encodeHeader,
  LEGEND,
  selectTags,
} from "./context-header.js";
import { INLINE_TAGS_LINE, inlineDefinition } from "./context-inline.js";
import { formatDuration, formatTime } from "./context-text.js";
import { countTokens } from "./context-tokens.js";
import { formatBad, formatValue, sampleTime } from "./context-values.js";

/** Settings of {@link encodeSnapshot}. */
export interface SnapshotContextOptions extends ContextOptions {
  /** A value younger than this is shown without an age. @default 1000 */
  readonly ageThresholdMs?: number;
  /** Measure the o200k_base token count into `tokens` (needs gpt-tokenizer). @default false */
  readonly countTokens?: boolean;
  /**
   * "header": tag definitions in a stable header (a cacheable prompt prefix), values after. "inline": definition and
   * value on one line per tag, fewer tokens but no stable prefix. @default "header"
   */
  readonly layout?: "header" | "inline";
}

/** Encodes a snapshot as compact prompt text: the tag header, then one `name=value` line per tag. */
export function encodeSnapshot<TTags extends TagDefinitions>(
  snapshot: Snapshot<TTags>,
  options: SnapshotContextOptions = {},
): EncodedContext {
  const names = selectTags(snapshot.tags, options.tags);
  const maxTextLength = options.maxTextLength ?? 160;
  const ageThreshold = options.ageThresholdMs ?? 1000;
  const inline = options.layout === "inline";
  const header = inline
    ? [CONTEXT_PREAMBLE, LEGEND, INLINE_TAGS_LINE].join("\n")
    : encodeHeader(snapshot.tags, names, options);
  const lines = [`SNAPSHOT t=${formatTime(snapshot.time)} (age shown when older than ${formatDuration(ageThreshold)})`];
  for (const name of names) {
    const tag = snapshot.tags[name] as AnyTag;
    const sample = snapshot.sample(name);
    const age = snapshot.time - sampleTime(sample);
    const ageText = age > ageThreshold ? ` age=${formatDuration(age)}` : "";
    const definition = inline ? inlineDefinition(tag, maxTextLength) : "";
    const tail = definition === "" ? "" : ` ${definition}`;
    const shown = sample.quality === "bad" ? undefined : formatValue(tag, sample.value, maxTextLength);
    if (shown === undefined) {
      const bad = sample.quality === "bad" ? sample : { ...sample, reason: sample.reason ?? "type-mismatch" };
      lines.push(`${name}=${formatBad(bad, options.includeDetails ?? false, maxTextLength)}${ageText}${tail}`);
    } else if (sample.stale) {
      lines.push(`${name}=STALE last=${shown}${sample.quality === "uncertain" ? "?" : ""}${ageText}${tail}`);
    } else {
      lines.push(`${name}=${shown}${sample.quality === "uncertain" ? "?" : ""}${ageText}${tail}`);
    }
  }
  const body = lines.join("\n");
  const text = `${header}\n${body}`;
  return options.countTokens
    ? { kind: "snapshot", header, body, text, tokens: countTokens(text) }
    : { kind: "snapshot", header, body, text };
}
