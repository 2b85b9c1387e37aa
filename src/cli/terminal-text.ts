/**
 * Text from devices and models on an operator's terminal. A payload, an alarm text or a model's reason can carry
 * escape sequences (clear the screen, move the cursor, colour a line), a carriage return that overwrites what was
 * printed, or direction overrides that reverse what a line says. These are escaped as `\uXXXX`, so what is shown is
 * exactly what arrived, and nothing in it acts on the terminal.
 */
import { INVISIBLE_OR_BREAKING_CLASS } from "../context/context-text.js";

// Everything the prompt encoder removes from plant text (controls, zero-width and direction characters, invisible
// "tag" characters), and the soft hyphen.
const ACTS_ON_TERMINAL = new RegExp(`[${INVISIBLE_OR_BREAKING_CLASS}\\u00AD]`, "gu");

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
