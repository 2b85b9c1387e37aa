/**
 * Checks that a proposed value has exactly the tag's type. No coercion: "1e3" is not a number, -0 is not a
 * setpoint, [1] is not a value, "2024-05-01" is not a date-time, and NaN or Infinity never reach a device.
 */
import type { AnyTag } from "../tags.js";

/** Returns undefined when `value` fits the tag's type, else why it does not. */
export function valueProblem(tag: AnyTag, value: unknown): string | undefined {
  switch (tag.type) {
    case "float":
    case "integer":
      if (typeof value !== "number") return `expected a number, got ${describeValue(value)}`;
      if (!Number.isFinite(value)) return `expected a finite number, got ${String(value)}`;
      if (Object.is(value, -0)) return "expected a number, got -0 (negative zero is never a meaningful setpoint)";
      if (tag.type === "integer" && !Number.isInteger(value)) return `expected a whole number, got ${value}`;
      return undefined;
    case "boolean":
      return typeof value === "boolean" ? undefined : `expected true or false, got ${describeValue(value)}`;
    case "enum":
      if (typeof value !== "string" || !Object.hasOwn(tag.states, value)) {
        return `expected one of ${Object.keys(tag.states).join(", ")}, got ${describeValue(value)}`;
      }
      return undefined;
    case "text":
      if (typeof value !== "string") return `expected text, got ${describeValue(value)}`;
      if (value.length > tag.maxLength) return `text of ${value.length} characters exceeds maxLength ${tag.maxLength}`;
      return undefined;
    case "datetime":
      // A Date only: text such as "2024-05-01" is read differently by different parsers (local or UTC midnight).
      if (!(value instanceof Date)) return `expected a Date, got ${describeValue(value)}`;
      if (Number.isNaN(value.getTime())) return "expected a valid Date, got an invalid Date (NaN time)";
      return undefined;
  }
}

function describeValue(value: unknown): string {
  if (Array.isArray(value)) return "an array";
  if (value === null) return "null";
  if (typeof value === "string") return `the text ${JSON.stringify(value.slice(0, 40))}`;
  if (value instanceof Date) return "a Date";
  return typeof value === "object" ? "an object" : `${typeof value} ${String(value)}`;
}
