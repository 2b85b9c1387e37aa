/**
 * Converts between database values and tag values. A value that does not fit its tag becomes a bad sample with the
 * reason, never a crash and never a wrong value.
 */
import { type AnyTag, badSample, type Quality, type Sample, ValidationError } from "../../src/index.js";

/** A value a sink or write may send as a parameter. */
export type SqlValue = string | number | bigint | boolean | Date | null;

function asNumber(raw: unknown): number | undefined {
  if (typeof raw === "number") return raw;
  if (typeof raw === "bigint") return Number(raw);
  if (typeof raw === "string" && raw.trim() !== "" && Number.isFinite(Number(raw))) return Number(raw);
  return undefined;
}

/** The tag value of a database value, or why it does not fit. */
export function toTagValue(tag: AnyTag, raw: unknown): { value: unknown } | { problem: string } {
  if (raw === null || raw === undefined) return { problem: "the database holds NULL" };
  switch (tag.type) {
    case "float":
    case "integer": {
      const value = asNumber(raw);
      if (value === undefined || !Number.isFinite(value))
        return { problem: `not a number: ${String(raw).slice(0, 40)}` };
      if (tag.type === "integer" && !Number.isInteger(value)) return { problem: `not an integer: ${value}` };
      return { value };
    }
    case "boolean": {
      if (typeof raw === "boolean") return { value: raw };
      const text = String(raw).toLowerCase();
      if (["1", "t", "true"].includes(text)) return { value: true };
      if (["0", "f", "false"].includes(text)) return { value: false };
      return { problem: `not a boolean: ${String(raw).slice(0, 40)}` };
    }
    case "enum": {
      const code = asNumber(raw);
      const byCode = Object.entries(tag.states).find(([, stateCode]) => stateCode === code)?.[0];
      if (byCode !== undefined) return { value: byCode };
      if (typeof raw === "string" && Object.hasOwn(tag.states, raw)) return { value: raw };
      return { problem: `not a state of this tag: ${String(raw).slice(0, 40)}` };
    }
    case "text": {
      const value = typeof raw === "string" ? raw : String(raw);
      if (value.length > tag.maxLength) return { problem: `text longer than maxLength ${tag.maxLength}` };
      return { value };
    }
    case "datetime": {
      // Drivers give timestamps as Date; SQLite keeps them as epoch milliseconds or text. Text without a zone is UTC
      // (how plantwire and SQLite's own datetime() write it): JavaScript would read it as local time.
      const zoneless =
        typeof raw === "string" && /^\d{4}-\d{2}-\d{2}(?:[ T]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$/.test(raw);
      const text =
        typeof raw === "string"
          ? zoneless
            ? `${raw.replace(" ", "T")}${raw.length > 10 ? "Z" : "T00:00:00Z"}`
            : raw
          : "";
      const time =
        raw instanceof Date
          ? raw
          : typeof raw === "number" || typeof raw === "bigint"
            ? new Date(Number(raw))
            : /^\d{4}-\d{2}-\d{2}/.test(text)
              ? new Date(text)
              : undefined;
      if (!time || Number.isNaN(time.getTime())) return { problem: `not a timestamp: ${String(raw).slice(0, 40)}` };
      return { value: time };
    }
  }
}

/** Builds the sample of one database value at `sourceTime`, judging it against its tag. */
export function toSample(
  tag: { name: string; definition: AnyTag },
  raw: unknown,
  sourceTime: number | undefined,
  quality: Quality,
  receivedTime: number,
): Sample {
  const converted = toTagValue(tag.definition, raw);
  if ("problem" in converted) {
    const reason = raw === null || raw === undefined ? "other" : "type-mismatch";
    return { ...badSample(reason, `tag "${tag.name}": ${converted.problem}`, receivedTime), sourceTime };
  }
  const sample: { -readonly [K in keyof Sample]: Sample[K] } = { value: converted.value, quality, receivedTime };
  if (sourceTime !== undefined) sample.sourceTime = sourceTime;
  if (quality !== "good") {
    sample.reason = quality === "bad" ? "device-error" : "other";
    sample.detail = "quality column";
  }
  return sample;
}

/** The database value of a tag value, for writes: numbers as numbers, booleans as 0/1, enum states as their codes. */
export function fromTagValue(tag: { name: string; definition: AnyTag }, value: unknown): SqlValue {
  const definition = tag.definition;
  const fail = (why: string) =>
    new ValidationError(`tag "${tag.name}": ${why}, got ${JSON.stringify(value)}`, { field: tag.name });
  switch (definition.type) {
    case "float":
    case "integer":
      if (typeof value !== "number" || !Number.isFinite(value)) throw fail("expected a finite number");
      if (definition.type === "integer" && !Number.isInteger(value)) throw fail("expected an integer");
      return value;
    case "boolean":
      if (typeof value !== "boolean") throw fail("expected true or false");
      return value ? 1 : 0;
    case "enum": {
      const code =
        typeof value === "string" && Object.hasOwn(definition.states, value) ? definition.states[value] : undefined;
      if (code === undefined) throw fail(`expected one of ${Object.keys(definition.states).join(", ")}`);
      return code;
    }
    case "text":
      if (typeof value !== "string" || value.length > definition.maxLength)
        throw fail("expected text within maxLength");
      return value;
    case "datetime":
      if (!(value instanceof Date) || Number.isNaN(value.getTime())) throw fail("expected a valid Date");
      return value;
  }
}

/** Checks one value bound for a sink: primitives and dates only, finite numbers. */
export function assertSqlValue(value: unknown, field: string): SqlValue {
  if (value === null || value === undefined) return null;
  if (typeof value === "number") {
    if (!Number.isFinite(value)) throw new ValidationError(`${field}: ${value} cannot be stored`, { field });
    return value;
  }
  if (typeof value === "string" || typeof value === "boolean" || typeof value === "bigint") return value;
  if (value instanceof Date && Number.isFinite(value.getTime())) return value;
  throw new ValidationError(`${field}: expected text, a number, a boolean, a Date or null; got ${typeof value}`, {
    field,
  });
}
