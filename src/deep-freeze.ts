/**
 * Deep freezing for tag definitions. A tag's write policy is what the guard enforces, so no part of it (ranges,
 * bands, states, steps) may change after the map is defined: `Object.freeze` on the top level alone left
 * `tag.write.range[1] = 1e6` working from inside a loop's `run()`.
 */
import type { AnyTag } from "./tags.js";

/** Freezes a value and everything reachable from it (typed arrays and other binary views are left as they are). */
export function deepFreeze<T>(value: T, seen = new WeakSet<object>()): T {
  if (value === null || typeof value !== "object" || seen.has(value)) return value;
  if (ArrayBuffer.isView(value) || value instanceof ArrayBuffer) return value;
  seen.add(value);
  for (const key of Reflect.ownKeys(value)) {
    deepFreeze((value as Record<PropertyKey, unknown>)[key], seen);
  }
  return Object.freeze(value);
}

/**
 * Freezes a tag definition for good: every field, deeply, and its source object with its address. The adapter the
 * source points to is a live object (it connects, counts, reconnects) and is left alone.
 */
export function freezeTag<TTag extends AnyTag>(tag: TTag): TTag {
  const { source, ...rest } = tag;
  for (const key of Reflect.ownKeys(rest)) deepFreeze((rest as Record<PropertyKey, unknown>)[key]);
  if (source && typeof source === "object") {
    deepFreeze(source.address);
    Object.freeze(source);
  }
  return Object.freeze(tag);
}
