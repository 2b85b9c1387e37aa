/**
 * Reads plantwire context text back into values: for the round-trip tests (every value within its shown step), the
 * answer-fidelity bench, and tools that post-process prompts. It parses only what the encoders write.
 */
import { ValidationError } from "../errors.js";
import { CONTEXT_PREAMBLE } from "./context-header.js";
import { INLINE_TAGS_LINE, parseInlineDefinition, splitInline } from "./context-inline.js";

/** One tag as stated in the header. */
export interface DecodedTag {
  readonly name: string;
  readonly type: string;
  readonly unit: string;
  readonly range: readonly [number, number] | undefined;
  readonly step: number | undefined;
  readonly writable: boolean;
  /** The description, without its delimiters. */
  readonly meaning: string;
}

/** One decoded value: a number, boolean, state name or text; undefined for an empty window cell. */
export interface DecodedValue {
  readonly value: number | boolean | string | undefined;
  readonly uncertain: boolean;
  readonly stale: boolean;
  /** The reason of a BAD value ("" in window cells, which carry no reason). */
  readonly bad: string | undefined;
}

/** A decoded context. */
export interface DecodedContext {
  readonly tags: ReadonlyMap<string, DecodedTag>;
  /** Snapshot values by tag name (snapshots only). */
  readonly snapshot?: ReadonlyMap<string, DecodedValue>;
  /** Window rows: time and values by tag name (windows only). */
  readonly rows?: readonly { readonly time: number; readonly values: ReadonlyMap<string, DecodedValue> }[];
  /** Window summary fields by tag name, e.g. `{ min: "1", max: "9" }` (windows with summaries only). */
  readonly summaries?: ReadonlyMap<string, Readonly<Record<string, string>>>;
}

/** Splits a `|`-separated line, leaving `|` inside «…» alone. */
export function splitFields(line: string): string[] {
  const fields: string[] = [];
  let current = "";
  let quoted = false;
  for (const character of line) {
    if (character === "«") quoted = true;
    if (character === "»") quoted = false;
    if (character === "|" && !quoted) {
      fields.push(current);
      current = "";
    } else current += character;
  }
  fields.push(current);
  return fields;
}

const unquote = (text: string) => (text.startsWith("«") && text.endsWith("»") ? text.slice(1, -1) : text);

function parseValue(tag: DecodedTag | undefined, raw: string): DecodedValue {
  let text = raw.trim();
  if (text === "") return { value: undefined, uncertain: false, stale: false, bad: undefined };
  if (text.startsWith("BAD"))
    return { value: undefined, uncertain: false, stale: false, bad: /^BAD\(([^ )]*)/.exec(text)?.[1] ?? "" };
  let stale = false;
  if (text.startsWith("STALE last=")) {
    stale = true;
    text = text.slice("STALE last=".length);
  }
  text = text.replace(/ age=\S+$/, "");
  const uncertain = text.endsWith("?") && !text.startsWith("«");
  if (uncertain) text = text.slice(0, -1);
  const type = tag?.type ?? "float";
  const value =
    type === "float" || type === "integer"
      ? Number(text)
      : type.startsWith("bool")
        ? text === "1"
        : type === "text"
          ? unquote(text)
          : text;
  return { value, uncertain, stale, bad: undefined };
}

function parseStep(text: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s)$/.exec(text);
  if (!match) throw new ValidationError(`Cannot read the grid step "${text}"`);
  return Number(match[1]) * (match[2] === "s" ? 1000 : 1);
}

/** Decodes context text made by `encodeSnapshot` or `encodeWindow`. Throws a ValidationError on anything else. */
export function decodeContext(text: string): DecodedContext {
  const lines = text.split("\n");
  if (lines[0] !== CONTEXT_PREAMBLE) throw new ValidationError("Not plantwire context text (the preamble is missing)");
  const tags = new Map<string, DecodedTag>();
  let index = lines.findIndex((line) => line.startsWith("TAGS ")) + 1;
  for (; index < lines.length && !/^(SNAPSHOT|WINDOW) /.test(lines[index] as string); index++) {
    const [name = "", type = "", unit = "", range = "", step = "", write = "", meaning = ""] = splitFields(
      lines[index] as string,
    );
    const bounds = range ? (range.split("..").map(Number) as [number, number]) : undefined;
    tags.set(name, {
      name,
      type,
      unit,
      range: bounds,
      step: step ? Number(step) : undefined,
      writable: write === "w",
      meaning: unquote(meaning),
    });
  }
  const title = lines[index] ?? "";
  if (title.startsWith("SNAPSHOT ") && lines.includes(INLINE_TAGS_LINE)) {
    const snapshot = new Map<string, DecodedValue>();
    for (const line of lines.slice(index + 1)) {
      const { name, value, fields } = splitInline(line);
      const definition = parseInlineDefinition(fields);
      const tag: DecodedTag = { name, ...definition, step: undefined };
      tags.set(name, tag);
      snapshot.set(name, parseValue(tag, value));
    }
    return { tags, snapshot };
  }
  if (title.startsWith("SNAPSHOT ")) {
    const snapshot = new Map<string, DecodedValue>();
    for (const line of lines.slice(index + 1)) {
      const equals = line.indexOf("=");
      const name = line.slice(0, equals);
      snapshot.set(name, parseValue(tags.get(name), line.slice(equals + 1)));
    }
    return { tags, snapshot };
  }
  const t0 = Date.parse(/ t0=(\S+)/.exec(title)?.[1] ?? "");
  const dt = parseStep(/ dt=(\S+)/.exec(title)?.[1] ?? "");
  const summaries = new Map<string, Record<string, string>>();
  const rows: { time: number; values: Map<string, DecodedValue> }[] = [];
  let columns: string[] | undefined;
  for (const line of lines.slice(index + 1)) {
    if (line.startsWith("SUMMARY")) continue;
    if (line.startsWith("t|")) {
      columns = splitFields(line).slice(1);
      continue;
    }
    if (!columns) {
      const [name = "", ...fields] = line.split(" ");
      const summary: Record<string, string> = {};
      for (const field of fields) {
        const equals = field.indexOf("=");
        if (equals > 0) summary[field.slice(0, equals)] = field.slice(equals + 1);
      }
      summaries.set(name, summary);
      continue;
    }
    const [row = "", ...cells] = splitFields(line);
    const values = new Map<string, DecodedValue>();
    for (const [column, name] of columns.entries()) values.set(name, parseValue(tags.get(name), cells[column] ?? ""));
    rows.push({ time: t0 + Number(row) * dt, values });
  }
  return { tags, rows, summaries };
}
