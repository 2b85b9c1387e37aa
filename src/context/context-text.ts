/**
 * Text pieces of the model context: untrusted plant strings, numbers at their tag's precision, and times.
 *
 * Plant strings (alarm text, descriptions, MQTT payload text, SQL rows) may carry instructions written by anyone who
 * can reach the device. They are shown only inside «…», with the delimiters themselves, line breaks, control and
 * direction-override characters removed from the content, so a string can neither close its delimiter nor start a
 * line that looks like part of the context. No library does this particular quoting, so it is written here.
 */
import { type AnyTag, decimalsFor } from "../tags.js";

/** Opening delimiter of an untrusted plant string. */
export const UNTRUSTED_OPEN = "«";
/** Closing delimiter of an untrusted plant string. */
export const UNTRUSTED_CLOSE = "»";

// Delimiter look-alikes (double angle quotation marks and brackets in every script and width) are mapped to the single
// angle quotes, so the meaning survives but the delimiter cannot: « » ≪ ≫ 《 》 ⟪ ⟫ ❮ ❯ ⪡ ⪢ ⫷ ⫸ ︽ ︾ ⦅ ⦆ ｟ ｠.
const OPENING_LOOKALIKES = "«\u226A\u300A\u27EA\u276E\u2AA1\u2AF7\uFE3D\u2985\uFF5F";
const CLOSING_LOOKALIKES = "»\u226B\u300B\u27EB\u276F\u2AA2\u2AF8\uFE3E\u2986\uFF60";
const DELIMITER_LOOKALIKES = new RegExp(`[${OPENING_LOOKALIKES}${CLOSING_LOOKALIKES}]`, "gu");
const OPENING = new RegExp(`[${OPENING_LOOKALIKES}]`, "u");
// What may not reach a model or a terminal from plant text, derived from Unicode properties rather than a hand list:
// controls (line breaks included), format characters (zero-width, bidi overrides and isolates, the Arabic letter mark,
// the byte-order mark, the invisible "tag" characters U+E0000–E007F that can spell out hidden instructions), line and
// paragraph separators, and every other default-ignorable code point (variation selectors, soft hyphen, Hangul
// fillers, Mongolian selectors, ...): text a model reads and a person reviewing the prompt does not see.
// The terminal escaping of the CLI uses the same class, so both stay in step. Use it with the "u" flag.
export const INVISIBLE_OR_BREAKING_CLASS = "\\p{Cc}\\p{Cf}\\p{Zl}\\p{Zp}\\p{Default_Ignorable_Code_Point}";
const INVISIBLE_OR_BREAKING = new RegExp(`[${INVISIBLE_OR_BREAKING_CLASS}]+`, "gu");

/**
 * Quotes an untrusted plant string: one line, at most `maxLength` characters of content (cut strings end in "…"),
 * inside «…». The result never contains a second « or ».
 */
export function quoteUntrusted(value: string, maxLength: number): string {
  const cleaned = value
    .replace(INVISIBLE_OR_BREAKING, " ")
    .replace(DELIMITER_LOOKALIKES, (match) => (OPENING.test(match) ? "‹" : "›"))
    .replace(/ {2,}/g, " ")
    .trim();
  const characters = [...cleaned];
  const capped =
    characters.length > maxLength ? `${characters.slice(0, Math.max(0, maxLength - 1)).join("")}…` : cleaned;
  return `${UNTRUSTED_OPEN}${capped}${UNTRUSTED_CLOSE}`;
}

/** Makes a configuration string (a unit, a state name) safe for one field of a header line. */
export function headerField(value: string): string {
  return value.replace(INVISIBLE_OR_BREAKING, " ").replace(/[|«»]/g, "/").trim();
}

/**
 * The decimals a tag's values are shown with: its resolution's when it has one, else enough for about 1/1000 of its
 * range, else undefined (four significant digits).
 */
export function displayDecimals(tag: AnyTag): number | undefined {
  const fromResolution = decimalsFor(tag);
  if (fromResolution !== undefined) return fromResolution;
  if ((tag.type === "float" || tag.type === "integer") && tag.range) {
    const span = Math.abs(tag.range[1] - tag.range[0]);
    if (span > 0) return Math.max(0, 3 - Math.floor(Math.log10(span)));
  }
  return undefined;
}

/** The largest error a shown value may carry: half of the step it is rounded to (used by the decode test and docs). */
export function displayStep(tag: AnyTag): number | undefined {
  const decimals = displayDecimals(tag);
  return decimals === undefined ? undefined : 10 ** -decimals;
}

/**
 * A reading (a value, a min, a max) at its tag's precision: exactly `decimals` decimals, trailing zeros kept, so that
 * "2.10" says the value is known to 0.01. Without decimals, four significant digits.
 */
export function formatReading(value: number, decimals: number | undefined): string {
  if (!Number.isFinite(value)) return Number.isNaN(value) ? "NaN" : value > 0 ? "Inf" : "-Inf";
  const text = decimals === undefined ? formatSignificant(value) : value.toFixed(decimals);
  // A negative value that rounds to zero is shown as zero.
  return /^-0(\.0*)?$/.test(text) ? text.slice(1) : text;
}

/** A derived number (a mean, a trend, a duration) rounded to `decimals`, without trailing zeros. */
export function formatNumber(value: number, decimals: number | undefined): string {
  let text = formatReading(value, decimals);
  if (text.includes(".") && !text.includes("e")) text = text.replace(/0+$/, "").replace(/\.$/, "");
  return text;
}

/** An engineering range: `lo..hi`, or `..hi` when it starts at zero (the most common case, two tokens fewer). */
export function formatRange(range: readonly [number, number]): string {
  const plain = (value: number) => (Object.is(value, -0) ? "0" : String(value));
  return range[0] === 0 ? `..${plain(range[1])}` : `${plain(range[0])}..${plain(range[1])}`;
}

function formatSignificant(value: number): string {
  const magnitude = Math.abs(value);
  if (magnitude !== 0 && (magnitude >= 1e9 || magnitude < 1e-4)) return value.toPrecision(4);
  const decimals = magnitude === 0 ? 0 : Math.max(0, 3 - Math.floor(Math.log10(magnitude)));
  return value.toFixed(decimals);
}

/** An ISO time to the second (milliseconds only when they are not zero), in UTC. */
export function formatTime(time: number): string {
  const iso = new Date(time).toISOString();
  return iso.endsWith(".000Z") ? `${iso.slice(0, 19)}Z` : iso;
}

/** A duration in the shortest plain form: 500ms, 5s, 2.5min, 3h. */
export function formatDuration(milliseconds: number): string {
  const magnitude = Math.abs(milliseconds);
  if (magnitude < 1000) return `${Math.round(milliseconds)}ms`;
  if (magnitude < 120_000) return `${formatNumber(milliseconds / 1000, 1)}s`;
  if (magnitude < 7_200_000) return `${formatNumber(milliseconds / 60_000, 1)}min`;
  return `${formatNumber(milliseconds / 3_600_000, 1)}h`;
}
