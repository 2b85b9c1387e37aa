/**
 * Text from devices and models on an operator's terminal. A payload, an alarm text or a model's reason can carry
 * escape sequences (clear the screen, move the cursor, colour a line), a carriage return that overwrites what was
 * printed, or direction overrides that reverse what a line says. These are escaped as `\uXXXX`, so what is shown is
 * exactly what arrived, and nothing in it acts on the terminal.
 */

// C0 and C1 controls (line breaks included), soft hyphen, the Arabic letter mark, zero-width and direction marks,
// line/paragraph separators, direction embeddings, overrides and isolates, the byte-order mark, and the invisible
// "tag" characters (U+E0000–E007F, which can spell hidden text).
const ACTS_ON_TERMINAL =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point.
  /[\u0000-\u001F\u007F-\u009F\u00AD\u061C\u200B-\u200F\u2028-\u202E\u2060-\u2069\uFEFF\u{E0000}-\u{E007F}]/gu;

const asEscape = (character: string) => {
  const code = character.codePointAt(0) as number;
  return code > 0xffff ? `\\u{${code.toString(16)}}` : `\\u${code.toString(16).padStart(4, "0")}`;
};

/** Text shown as it is, except that every character a terminal would act on is written as `\uXXXX`. */
export function terminalSafe(text: string): string {
  return text.replace(ACTS_ON_TERMINAL, asEscape);
}

/**
 * Untrusted text for one terminal line: a string quoted (JSON style), anything else as JSON (numbers and booleans
 * bare), capped at `maxLength` characters, with every character a terminal would act on escaped.
 */
export function terminalText(value: unknown, maxLength = 160): string {
  const json = typeof value === "string" ? undefined : JSON.stringify(value);
  const text = typeof value === "string" ? value : (json ?? String(value));
  // Only the start of a long text is ever shown: spread just enough of it into characters.
  const characters = [...text.slice(0, maxLength * 2 + 2)];
  const capped =
    characters.length > maxLength || text.length > maxLength * 2 + 2
      ? `${characters.slice(0, maxLength - 1).join("")}…`
      : text;
  return terminalSafe(typeof value === "string" || json === undefined ? JSON.stringify(capped) : capped);
}
