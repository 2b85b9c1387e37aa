/**
 * Inbound payload decoding: bytes → a typed Sample for one tag. Every failure becomes a bad sample with reason
 * "decode-error" or "type-mismatch" and a detail; nothing here throws on outside input.
 */
import { badSample, goodSample, type Sample } from "../../src/sample.js";
import type { AnyTag } from "../../src/tags.js";
import type { MqttAddress } from "./mqtt-config.js";

/** Why a JSON pointer is malformed, or undefined when it is valid (RFC 6901). */
export function jsonPointerProblem(pointer: string): string | undefined {
  if (pointer !== "" && !pointer.startsWith("/")) return 'must start with "/" (e.g. "/rms")';
  if (/~[^01]|~$/.test(pointer)) return 'uses "~" other than in the escapes ~0 and ~1';
  return undefined;
}

/** Resolves a JSON pointer (RFC 6901) in a parsed document; hand-written, it is ten lines. Own properties only. */
export function resolvePointer(document: unknown, pointer: string): { found: boolean; value?: unknown } {
  if (pointer === "") return { found: true, value: document };
  let current: unknown = document;
  for (const raw of pointer.slice(1).split("/")) {
    const key = raw.replace(/~1/g, "/").replace(/~0/g, "~");
    if (Array.isArray(current)) {
      if (!/^(0|[1-9]\d*)$/.test(key) || Number(key) >= current.length) return { found: false };
      current = current[Number(key)];
    } else if (typeof current === "object" && current !== null && Object.hasOwn(current, key)) {
      current = (current as Record<string, unknown>)[key];
    } else {
      return { found: false };
    }
  }
  return { found: true, value: current };
}

/** Checks and converts a decoded value to the tag's type. Returns the value, or a reason and detail. */
export function coerceToTag(tag: AnyTag, raw: unknown): { value: unknown } | { problem: string } {
  switch (tag.type) {
    case "float":
    case "integer": {
      const value = typeof raw === "string" && raw.trim() !== "" ? Number(raw) : raw;
      if (typeof value !== "number" || !Number.isFinite(value))
        return { problem: `expected a number, got ${show(raw)}` };
      if (tag.type === "integer" && !Number.isInteger(value)) return { problem: `expected an integer, got ${value}` };
      return { value };
    }
    case "boolean":
      if (typeof raw === "boolean") return { value: raw };
      if (raw === 0 || raw === 1) return { value: raw === 1 };
      if (raw === "true" || raw === "false") return { value: raw === "true" };
      return { problem: `expected true or false, got ${show(raw)}` };
    case "enum": {
      if (typeof raw === "string" && Object.hasOwn(tag.states, raw)) return { value: raw };
      const code = typeof raw === "string" && /^-?\d+$/.test(raw.trim()) ? Number(raw) : raw;
      const state = Object.entries(tag.states).find(([, stateCode]) => stateCode === code);
      if (state) return { value: state[0] };
      return { problem: `expected one of ${Object.keys(tag.states).join(", ")} (or its code), got ${show(raw)}` };
    }
    case "text":
      if (typeof raw !== "string") return { problem: `expected text, got ${show(raw)}` };
      if (raw.length > tag.maxLength) return { problem: `text of ${raw.length} characters exceeds ${tag.maxLength}` };
      return { value: raw };
    case "datetime": {
      // ISO 8601 text (with a zone) or milliseconds since the epoch, the two shapes JSON payloads carry times in; a
      // Date is what a write or an edge node's update hands over.
      const time =
        raw instanceof Date
          ? raw
          : typeof raw === "number" && Number.isFinite(raw)
            ? new Date(raw)
            : typeof raw === "string" && /(Z|[+-]\d{2}:?\d{2})$/.test(raw.trim())
              ? new Date(raw.trim())
              : undefined;
      if (!time || Number.isNaN(time.getTime()))
        return { problem: `expected an ISO 8601 time with a zone or epoch milliseconds, got ${show(raw)}` };
      return { value: time };
    }
  }
}

function show(value: unknown): string {
  // Never String() an object from outside: a payload like {"toString": false} would throw.
  const text =
    typeof value === "string"
      ? JSON.stringify(value)
      : Array.isArray(value)
        ? "an array"
        : value !== null && typeof value === "object"
          ? "an object"
          : String(value);
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}

function parseTimestamp(raw: unknown): number | undefined {
  if (typeof raw === "number" && Number.isFinite(raw) && raw >= 0) return raw;
  if (typeof raw === "string") {
    const parsed = Date.parse(raw);
    if (Number.isFinite(parsed)) return parsed;
  }
  return undefined;
}

/** One received MQTT message, as the adapter keeps it. */
export interface ReceivedMessage {
  readonly topic: string;
  readonly payload: Buffer;
  readonly receivedTime: number;
}

/**
 * Decodes a message for one tag. Without a path the payload text is the value (a JSON scalar is unwrapped, so
 * `42`, `"AUTO"` and `42` all work); with a path the payload must be JSON.
 */
export function decodeMessage(tag: AnyTag, address: MqttAddress, message: ReceivedMessage, maxBytes: number): Sample {
  const { receivedTime, payload } = message;
  const fail = (reason: "decode-error" | "type-mismatch", detail: string) =>
    badSample(reason, `${message.topic}: ${detail}`, receivedTime);
  if (payload.length > maxBytes) return fail("decode-error", `payload of ${payload.length} bytes exceeds ${maxBytes}`);
  const text = payload.toString("utf8");
  if (text.includes("\uFFFD")) return fail("decode-error", "payload is not valid UTF-8");
  let document: unknown;
  let parsed = true;
  try {
    document = JSON.parse(text);
  } catch {
    parsed = false;
  }
  let raw: unknown;
  let sourceTime: number | undefined;
  if (address.path === undefined && address.timestampPath === undefined) {
    const scalar = parsed && (typeof document !== "object" || document === null);
    raw = scalar && (tag.type !== "text" || typeof document === "string") ? document : text;
    if (raw === null) return fail("type-mismatch", "payload is JSON null");
  } else {
    if (!parsed) return fail("decode-error", "payload is not valid JSON");
    const found = resolvePointer(document, address.path ?? "");
    if (!found.found) return fail("decode-error", `no value at ${address.path}`);
    raw = found.value;
    if (address.timestampPath !== undefined) {
      const stamp = resolvePointer(document, address.timestampPath);
      sourceTime = stamp.found ? parseTimestamp(stamp.value) : undefined;
      if (sourceTime === undefined) return fail("decode-error", `no valid timestamp at ${address.timestampPath}`);
    }
  }
  const coerced = coerceToTag(tag, raw);
  if ("problem" in coerced) return fail("type-mismatch", coerced.problem);
  return goodSample(coerced.value, receivedTime, sourceTime);
}
