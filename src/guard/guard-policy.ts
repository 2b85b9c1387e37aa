/**
 * The guard's own copy of every tag's policy, taken when the guard is created and frozen deeply. What a loop's
 * `run()`, a tool handler or any callback holds is the plant's tag map; even where that map was not frozen (a plain
 * object passed to createPlant), changing it cannot change what the guard enforces.
 */
import { freezeTag } from "../deep-freeze.js";
import { ConfigError } from "../errors.js";
import type { AnyTag, TagDefinitions } from "../tags.js";

/**
 * Frozen copies of the tag definitions, by name (no prototype, so no inherited names). With `writable`, only those
 * tags keep their write policy: the guard writes nothing else, and locks no other device.
 */
export function frozenPolicies(tags: TagDefinitions, writable?: readonly string[]): Readonly<Record<string, AnyTag>> {
  const unknown = (writable ?? []).filter((name) => !Object.hasOwn(tags, name));
  if (unknown.length > 0) {
    throw new ConfigError(
      unknown.map((name) => ({
        path: `writable: "${name}"`,
        message: "is not a tag of this plant",
        fix: `name tags of the plant's map: ${Object.keys(tags).slice(0, 12).join(", ")}`,
      })),
    );
  }
  const copies = Object.create(null) as Record<string, AnyTag>;
  for (const [name, tag] of Object.entries(tags)) {
    const { source, write, ...rest } = tag;
    const kept = writable === undefined || writable.includes(name) ? { write } : {};
    copies[name] = freezeTag({ ...structuredClone({ ...rest, ...kept }), source } as AnyTag);
  }
  return Object.freeze(copies);
}

/** The policy of one tag, or undefined for a name that is not a tag (including `__proto__` and friends). */
export function policyOf(policies: Readonly<Record<string, AnyTag>>, name: string): AnyTag | undefined {
  return Object.hasOwn(policies, name) ? policies[name] : undefined;
}
