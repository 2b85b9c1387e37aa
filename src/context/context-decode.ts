/**
 * Reads plantwire context text back into values: for the round-trip tests (every value within its shown step), the
 * answer-fidelity bench, and tools that post-process prompts. It parses only what the encoders write.
 */
import { ValidationError } from "../errors.js";
import { CONTEXT_PREAMBLE, GROUP_MARK } from "./context-header.js";
import { INLINE_TAGS_PREFIX, parseDefinition, splitInline, splitWords } from "./context-inline.js";

/** One tag as stated in the header (or, in the inline layout, on its value line). */
export interface DecodedTag {
  readonly name: string;
  /** "float", "integer", "text", "datetime", "bool" or "bool:0=…/1=…", "enum:A/B/C". */
  readonly type: string;
  readonly unit: string;
  readonly range: readonly [number, number] | undefined;
  readonly writable: boolean;
  /** The description, without its delimiters. */
  readonly meaning: string;
}

/**
 * One decoded value: a number, boolean, state name, text or date-time (a Date); undefined for an empty window cell or
 * a BAD value.
 */
export interface DecodedValue {
  readonly value: number | boolean | string | Date | undefined;
  readonly uncertain: boolean;
  /** The reason given for an uncertain value, e.g. "last-known-value". */
  readonly reason?: string;
  readonly stale: boolean;
  /** The reason of a BAD value. */
  readonly bad: string | undefined;
  /** For numbers: the step the value was written at, from its decimals (2.10 → 0.01, 1006 → 1). */
  readonly step?: number;
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

const EMPTY: DecodedValue = { value: undefined, uncertain: false, stale: false, bad: undefined };

function stepOf(number: string): number | undefined {
  if (!/^-?\d+(\.\d+)?$/.test(number)) return undefined;
  const decimals = number.split(".")[1]?.length ?? 0;
  return 10 ** -decimals;
}

/** A date-time as the encoder writes it: ISO 8601 UTC, seconds, milliseconds only when not zero. */
const DATE_TIME = /^[+-]?\d{4,6}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{3})?Z$/;

function parseValue(tag: DecodedTag | undefined, raw: string): DecodedValue {
  let text = raw.trim();
  if (text === "") return EMPTY;
  if (text.startsWith("BAD(")) return { ...EMPTY, bad: /^BAD\(([^ )]*)/.exec(text)?.[1] ?? "" };
  const stale = text.startsWith("STALE last=");
  if (stale) text = text.slice("STALE last=".length);
  text = text.replace(/ age=\S+$/, "");
  // A delimited text value ends at its closing », which its content cannot contain; the quality follows it.
  const split = text.startsWith("«") ? text.indexOf("»") + 1 : text.search(/\?(\([a-z-]+\))?$/);
  const shown = split > 0 ? text.slice(0, split) : text;
  const quality = /^\?(?:\(([a-z-]+)\))?$/.exec(split > 0 ? text.slice(split) : "");
  const type = tag?.type ?? "float";
  // A date-time is told by its header type, or by its shape where the header says nothing (no number looks like one).
  const value =
    type === "datetime" || (type === "float" && DATE_TIME.test(shown))
      ? new Date(shown)
      : type === "float" || type === "integer"
        ? Number(shown)
        : type.startsWith("bool")
          ? shown === "1"
          : type === "text"
            ? shown.slice(1, -1)
            : shown;
  const decoded: DecodedValue = { value, uncertain: quality !== null, stale, bad: undefined };
  const step = typeof value === "number" ? stepOf(shown) : undefined;
  return {
    ...decoded,
    ...(quality?.[1] === undefined ? {} : { reason: quality[1] }),
    ...(step === undefined ? {} : { step }),
  };
}

// A value written in whole steps back in its unit: division by a power of ten rounds to the same double as the decimals.
function unscale(decoded: DecodedValue, scale: number): DecodedValue {
  if (scale === 1 || typeof decoded.value !== "number") return decoded;
  const step = decoded.step === undefined ? {} : { step: decoded.step / scale };
  return { ...decoded, value: decoded.value / scale, ...step };
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
  const isTitle = (line: string) => line.startsWith("SNAPSHOT t=") || line.startsWith("WINDOW start=");
  // A `# fields` line gives the fields of the tag rows below it, up to the next one.
  let group: string[] = [];
  const defineTag = (name: string, fields: readonly string[]) =>
    tags.set(name, { name, ...parseDefinition([...group, ...fields]) });
  const isGroupLine = (line: string) => {
    if (line.startsWith(GROUP_MARK)) group = splitWords(line.slice(GROUP_MARK.length));
    return line.startsWith(GROUP_MARK);
  };
  let index = 2;
  for (; index < lines.length && !isTitle(lines[index] as string); index++) {
    if (isGroupLine(lines[index] as string)) continue;
    const [name = "", ...fields] = splitWords(lines[index] as string);
    defineTag(name, fields);
  }
  const title = lines[index] ?? "";
  if (title.startsWith("SNAPSHOT ")) {
    const inline = lines[1]?.startsWith(INLINE_TAGS_PREFIX) ?? false;
    const snapshot = new Map<string, DecodedValue>();
    group = [];
    for (const line of lines.slice(index + 1)) {
      if (isGroupLine(line)) continue;
      const { name, value, fields } = splitInline(line);
      if (inline) defineTag(name, fields);
      snapshot.set(name, parseValue(tags.get(name), value));
    }
    return { tags, snapshot };
  }
  // Row times count from t0 when it is written, else from the window's start.
  const t0 = Date.parse((/ t0=(\S+)/.exec(title) ?? / start=(\S+)/.exec(title))?.[1] ?? "");
  const dt = parseStep(/ time=\S+?\+t\*(\d+(?:ms|s))/.exec(title)?.[1] ?? "");
  const summaries = new Map<string, Record<string, string>>();
  const rows: { time: number; values: Map<string, DecodedValue> }[] = [];
  // A column `name*100` holds its values in whole steps (612 for 6.12).
  let columns: { name: string; scale: number }[] | undefined;
  for (const line of lines.slice(index + 1)) {
    if (line.startsWith("SUMMARY")) continue;
    if (line.startsWith("t|")) {
      columns = splitFields(line)
        .slice(1)
        .map((column) => {
          const scaled = /^(.+)\*(10+)$/.exec(column);
          return scaled ? { name: scaled[1] as string, scale: Number(scaled[2]) } : { name: column, scale: 1 };
        });
      continue;
    }
    if (!columns) {
      const [name = "", ...fields] = splitWords(line);
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
    for (const [column, { name, scale }] of columns.entries())
      values.set(name, unscale(parseValue(tags.get(name), cells[column] ?? ""), scale));
    rows.push({ time: t0 + Number(row) * dt, values });
  }
  return { tags, rows, summaries };
}
