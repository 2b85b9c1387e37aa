/** Which devices a guard writes: the identities its device locks are taken on. */
import type { AnyTag } from "../tags.js";
import { isWritable } from "../tags.js";

/**
 * The device of every tag the guard may write (writable, not shadowed), as its adapter names it; an adapter that
 * cannot say falls back to "<kind>:<name>", so two guards sharing an adapter name still exclude each other.
 */
export function devicesToLock(policies: Readonly<Record<string, AnyTag>>): string[] {
  const devices = new Set<string>();
  for (const [name, definition] of Object.entries(policies)) {
    if (!isWritable(definition) || definition.write?.shadow === true) continue;
    const { adapter, address } = definition.source;
    const device = adapter.deviceOf?.({ name, definition, address });
    devices.add(typeof device === "string" && device.length > 0 ? device : `${adapter.kind}:${adapter.name}`);
  }
  return [...devices].sort();
}
