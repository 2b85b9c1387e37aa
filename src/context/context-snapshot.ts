/**
 * Snapshot → prompt text. One shared time (the snapshot's); a value's age is written only when it is older than
 * `ageThresholdMs`; quality only when not good, with its reason when the sample has one; a STALE value is written as
 * `STALE last=… age=…`, never as current.
 */
import type { Snapshot } from "../sample.js";
import type { AnyTag, TagDefinitions } from "../tags.js";
import {
  CONTEXT_PREAMBLE,
  type ContextOptions,
  type DefinitionRow,
  definitionRows,
  type EncodedContext,
  encodeHeader,
  groupLine,
  selectTags,
  tagsLine,
} from "./context-header.js";
import { formatDuration, formatTime } from "./context-text.js";
import { countTokens } from "./context-tokens.js";
import { formatSample, sampleTime, valueNotation } from "./context-values.js";

/** Settings of {@link encodeSnapshot}. */
export interface SnapshotContextOptions extends ContextOptions {
  /** A value younger than this is shown without an age. @default 1000 */
  readonly ageThresholdMs?: number;
  /** Measure the o200k_base token count into `tokens` (needs gpt-tokenizer). @default false */
  readonly countTokens?: boolean;
  /**
   * "header": tag definitions in a stable header (a cacheable prompt prefix), values after, in tag order. "inline":
   * definition and value on one line per tag (tags sharing type, unit, range and writability grouped under one
   * `# fields` line), fewer tokens but no stable prefix. @default "header"
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
  const includeDetails = options.includeDetails ?? false;
  const inline = options.layout === "inline";
  const header = inline
    ? `${CONTEXT_PREAMBLE}\n${tagsLine(snapshot.tags, names, "inline")}`
    : encodeHeader(snapshot.tags, names, options);
  const lines: string[] = [];
  const shownValues: string[] = [];
  // The header layout lists values in tag order; the inline one follows the grouped definition rows.
  const rows: DefinitionRow[] = inline
    ? definitionRows(snapshot.tags, names, maxTextLength)
    : names.map((name) => ({ name, fields: "" }));
  for (const row of rows) {
    if ("group" in row) {
      lines.push(groupLine(row.group));
      continue;
    }
    const tag = snapshot.tags[row.name] as AnyTag;
    const sample = snapshot.sample(row.name);
    const age = snapshot.time - sampleTime(sample);
    const ageText = age > ageThreshold ? ` age=${formatDuration(age)}` : "";
    const tail = row.fields === "" ? "" : ` ${row.fields}`;
    const shown = formatSample(tag, sample, includeDetails, maxTextLength);
    // A stale value is only ever the last one seen, never the current one.
    const value = sample.stale && !shown.startsWith("BAD(") ? `STALE last=${shown}` : shown;
    shownValues.push(value);
    lines.push(`${row.name}=${value}${ageText}${tail}`);
  }
  const title = `SNAPSHOT t=${formatTime(snapshot.time)} ages>${formatDuration(ageThreshold)} shown`;
  lines.unshift(`${title}${valueNotation(shownValues)}`);
  const body = lines.join("\n");
  const text = `${header}\n${body}`;
  return options.countTokens
    ? { kind: "snapshot", header, body, text, tokens: countTokens(text) }
    : { kind: "snapshot", header, body, text };
}
