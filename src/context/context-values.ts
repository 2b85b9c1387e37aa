/**
 * One value as it appears in the context: numbers at their tag's precision, booleans 0/1, text delimited and capped,
 * date-times in ISO 8601 UTC.
 */
import type { Sample } from "../sample.js";
import type { AnyTag } from "../tags.js";
import { displayDecimals, formatReading, quoteUntrusted } from "./context-text.js";

/** A good or uncertain value in context form, or undefined when the value does not fit the tag's type. */
export function formatValue(tag: AnyTag, value: unknown, maxTextLength: number): string | undefined {
  switch (tag.type) {
    case "float":
    case "integer":
      return typeof value === "number" ? formatReading(value, displayDecimals(tag)) : undefined;
    case "boolean":
      return typeof value === "boolean" ? (value ? "1" : "0") : undefined;
    case "enum":
      return typeof value === "string" && Object.hasOwn(tag.states, value) ? value : undefined;
    case "text":
      return typeof value === "string" ? quoteUntrusted(value, Math.min(maxTextLength, tag.maxLength)) : undefined;
    case "datetime":
      return value instanceof Date && !Number.isNaN(value.getTime()) ? formatDateTime(value) : undefined;
  }
}

/**
 * A date-time in ISO 8601 UTC to the second with a trailing Z, milliseconds only when they are not zero:
 * `2024-05-01T10:00:00Z`, `2024-05-01T10:00:00.250Z`. One zone for every value, so a model never converts zones.
 */
export function formatDateTime(value: Date): string {
  const iso = value.toISOString();
  return iso.endsWith(".000Z") ? `${iso.slice(0, -5)}Z` : iso;
}

/** `BAD(reason)` or `BAD(reason «detail»)`: a sample without a usable value. Its value, if any, is never shown. */
export function formatBad(sample: Sample, includeDetails: boolean, maxTextLength: number): string {
  const reason = reasonCode(sample.reason ?? (sample.value === undefined ? "no-value" : "other"));
  const detail =
    includeDetails && sample.detail ? ` ${quoteUntrusted(sample.detail, Math.min(80, maxTextLength))}` : "";
  return `BAD(${reason}${detail})`;
}

/**
 * A sample's value with its quality when that is not good: `6.12`, `6.12?` (uncertain), `6.12?(last-known-value)`
 * (uncertain, with the sample's reason), or `BAD(reason)` (bad, or a value that does not fit the tag's type).
 */
export function formatSample(tag: AnyTag, sample: Sample, includeDetails: boolean, maxTextLength: number): string {
  const shown = sample.quality === "bad" ? undefined : formatValue(tag, sample.value, maxTextLength);
  if (shown === undefined) {
    const bad = sample.quality === "bad" ? sample : { ...sample, reason: sample.reason ?? "type-mismatch" };
    return formatBad(bad, includeDetails, maxTextLength);
  }
  if (sample.quality !== "uncertain") return shown;
  return sample.reason === undefined ? `${shown}?` : `${shown}?(${reasonCode(sample.reason)})`;
}

// Reasons are short codes; anything else (a sample built outside the typed API) is shown as "other", never verbatim.
export function reasonCode(reason: string): string {
  return /^[a-z][a-z-]{0,39}$/.test(reason) ? reason : "other";
}

/** The time a sample describes: its source time when known, else when it was received. */
export function sampleTime(sample: Sample): number {
  return sample.sourceTime ?? sample.receivedTime;
}

// What each mark of a value that is not good means; a context explains only the marks it uses.
const MARKS = {
  uncertain: "x?(reason) uncertain",
  bad: "BAD(reason) no value",
  stale: "STALE last=x not current",
  staleLast: "last=x STALE not current",
} as const;

/**
 * The notation of the marks that occur in the given shown values (snapshot values, window cells, summary fields), as
 * `; mark meaning; …` to end a title line, or "" when every value is good: a context of good values does not spend
 * tokens explaining marks it does not use.
 */
export function valueNotation(shown: Iterable<string>): string {
  const used = new Set<keyof typeof MARKS>();
  for (const text of shown) {
    if (text.startsWith("BAD(")) used.add("bad");
    else if (text.startsWith("STALE ")) used.add("stale");
    if (/ STALE$/.test(text)) used.add("staleLast");
    if (/\?(\([a-z-]+\))?$/.test(text)) used.add("uncertain");
  }
  return (Object.keys(MARKS) as (keyof typeof MARKS)[])
    .filter((mark) => used.has(mark))
    .map((mark) => `; ${MARKS[mark]}`)
    .join("");
}
