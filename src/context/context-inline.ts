/**
 * The inline snapshot layout: each tag's value and definition on one line, `name=value [type] [unit] [range]
 * [writable] [«meaning»]`, with no separate header. About 30% fewer tokens than the header layout for wide snapshots,
 * but nothing of it is a stable prefix, so use it for one-off prompts rather than repeated calls that a provider
 * could cache. Hand-written: no library writes or reads this format.
 */
import { type AnyTag, isWritable } from "../tags.js";
import { formatNumber, headerField, quoteUntrusted } from "./context-text.js";

/** The line that announces the inline layout (the decoder looks for it). */
export const INLINE_TAGS_LINE =
  "TAGS inline: name=value type unit range writable «meaning» (type shown when not float)";

const word = (value: string) => headerField(value).replace(/\s+/g, "_");

/** The definition part of an inline line. */
export function inlineDefinition(tag: AnyTag, maxTextLength: number): string {
  const parts: string[] = [];
  if (tag.type === "integer") parts.push("int");
  if (tag.type === "text") parts.push("text");
  if (tag.type === "boolean")
    parts.push(tag.labels ? `bool:0=${word(tag.labels[0])}/1=${word(tag.labels[1])}` : "bool");
  if (tag.type === "enum") parts.push(`enum:${Object.keys(tag.states).map(word).join("/")}`);
  if ((tag.type === "float" || tag.type === "integer") && tag.unit) parts.push(word(tag.unit));
  if ((tag.type === "float" || tag.type === "integer") && tag.range) {
    parts.push(`${formatNumber(tag.range[0], undefined)}..${formatNumber(tag.range[1], undefined)}`);
  }
  if (isWritable(tag)) parts.push("writable");
  if (tag.description) parts.push(quoteUntrusted(tag.description, maxTextLength));
  return parts.join(" ");
}

/** Splits an inline line into name, value text and definition fields; spaces inside «…» and (…) are kept. */
export function splitInline(line: string): { name: string; value: string; fields: string[] } {
  const equals = line.indexOf("=");
  const name = line.slice(0, equals);
  const words: string[] = [];
  let current = "";
  let quoted = false;
  let depth = 0;
  for (const character of line.slice(equals + 1)) {
    if (character === "«") quoted = true;
    if (character === "»") quoted = false;
    if (!quoted && character === "(") depth++;
    if (!quoted && character === ")") depth--;
    if (character === " " && !quoted && depth === 0) {
      words.push(current);
      current = "";
    } else current += character;
  }
  words.push(current);
  let count = 1;
  if (words[0] === "STALE") count = 2;
  if (words[count]?.startsWith("age=")) count++;
  return { name, value: words.slice(0, count).join(" "), fields: words.slice(count) };
}

/** Reads the definition fields of an inline line back: type, unit, range, writable, meaning. */
export function parseInlineDefinition(fields: readonly string[]) {
  let type = "float";
  let unit = "";
  let range: [number, number] | undefined;
  let writable = false;
  let meaning = "";
  for (const field of fields) {
    if (field.startsWith("«")) meaning = field.slice(1, -1);
    else if (field === "writable") writable = true;
    else if (/^-?[\d.e+-]+\.\.-?[\d.e+-]+$/.test(field)) range = field.split("..").map(Number) as [number, number];
    else if (field === "int") type = "integer";
    else if (field === "text" || field.startsWith("bool") || field.startsWith("enum:")) type = field;
    else unit = field;
  }
  return { type, unit, range, writable, meaning };
}
