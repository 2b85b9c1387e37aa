/**
 * JSON as the audit stores it. `toJsonValue` turns anything (BigInt, circular objects, `toJSON` values, functions)
 * into plain JSON data, so what is hashed is exactly what is written; `canonicalJson` sorts keys at every level so one
 * record always hashes the same way. Objects are rebuilt without a prototype, so a key named `__proto__` is kept as
 * data (and hashed) rather than silently dropped.
 */

/** Plain JSON data for any value: BigInt as "123n", repeated references as "[circular]", toJSON honoured. */
export function toJsonValue(value: unknown): unknown {
  const seen = new WeakSet<object>();
  const text = JSON.stringify(value, function replace(this: unknown, _key, item: unknown) {
    if (typeof item === "bigint") return `${item}n`;
    if (item && typeof item === "object") {
      if (seen.has(item)) return "[circular]";
      seen.add(item);
    }
    return item;
  });
  return text === undefined ? null : JSON.parse(text);
}

/** JSON with object keys sorted at every level. Expects plain JSON data (see {@link toJsonValue}). */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === "object") {
    const sorted = Object.create(null) as Record<string, unknown>;
    for (const key of Object.keys(value).sort()) {
      const item = (value as Record<string, unknown>)[key];
      if (item !== undefined) Object.defineProperty(sorted, key, { value: sortKeys(item), enumerable: true });
    }
    return sorted;
  }
  return value;
}
