/**
 * The inline snapshot layout: each tag's value and definition on one line, `name=value [type] [unit] [range]
 * [writable] [«meaning»]`, with no separate tag rows. Fewer tokens than the header layout (names are written once),
 * but nothing of it is a stable prefix, so use it for one-off prompts rather than repeated calls that a provider
 * could cache. Also the reader of definition fields, which header rows share. Hand-written: no library writes or
 * reads this format.
 */

/** How the line that announces the inline layout starts (the decoder looks for it); see `tagsLine`. */
export const INLINE_TAGS_PREFIX = "TAGS name=value";

/** Splits text on spaces, keeping spaces inside «…» and (…). */
export function splitWords(text: string): string[] {
  const words: string[] = [];
  let current = "";
  let quoted = false;
  let depth = 0;
  for (const character of text) {
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
  return words.filter((word) => word !== "");
}

/** Splits an inline line into name, value text (with STALE and age) and definition fields. */
export function splitInline(line: string): { name: string; value: string; fields: string[] } {
  const equals = line.indexOf("=");
  const words = splitWords(line.slice(equals + 1));
  let count = 1;
  if (words[0] === "STALE") count = 2;
  if (words[count]?.startsWith("age=")) count++;
  return { name: line.slice(0, equals), value: words.slice(0, count).join(" "), fields: words.slice(count) };
}

/** A tag definition as read back from its fields. */
export interface ParsedDefinition {
  readonly type: string;
  readonly unit: string;
  readonly range: readonly [number, number] | undefined;
  readonly writable: boolean;
  readonly meaning: string;
}

const RANGE = /^(-?[\d.e+-]+)?\.\.(-?[\d.e+-]+)$/;

/** Reads definition fields back: type (float unless written), unit, range (`..hi` from zero), writable, meaning. */
export function parseDefinition(fields: readonly string[]): ParsedDefinition {
  let type = "float";
  let unit = "";
  let range: [number, number] | undefined;
  let writable = false;
  let meaning = "";
  for (const field of fields) {
    const bounds = RANGE.exec(field);
    if (field.startsWith("«")) meaning = field.slice(1, -1);
    else if (field === "writable") writable = true;
    else if (bounds) range = [Number(bounds[1] ?? 0), Number(bounds[2])];
    else if (field === "int") type = "integer";
    else if (
      field === "text" ||
      field === "datetime" ||
      field === "bool" ||
      field.startsWith("bool:") ||
      field.startsWith("enum:")
    )
      type = field;
    else unit = field;
  }
  return { type, unit, range, writable, meaning };
}
