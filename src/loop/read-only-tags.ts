/**
 * What a loop's run sees of the tag map: the definitions with their sources' labels, but adapters reduced to their
 * name and kind. A run (and anything a model talks it into) has no path to an adapter's raw `write`; writes go
 * through `propose`, which goes through the guard.
 */
import type { Adapter, TagSource } from "../adapter.js";
import { Snapshot } from "../sample.js";
import type { AnyTag, TagDefinitions } from "../tags.js";

/** An adapter stand-in that can be named but not used. */
function sealedAdapter(adapter: Adapter): Adapter {
  const refuse = () => {
    throw new TypeError(`adapter "${adapter.name}" cannot be used from a loop run; propose writes through the guard`);
  };
  return Object.freeze({
    contractVersion: adapter.contractVersion,
    kind: adapter.kind,
    name: adapter.name,
    capabilities: Object.freeze({ subscribe: false, write: false }),
    connect: refuse,
    close: refuse,
    read: refuse,
    status: () => adapter.status(),
    onStatus: refuse,
    getInstance: () => undefined,
  });
}

/** A copy of the tag map whose sources carry sealed adapters. */
export function readOnlyTags<TTags extends TagDefinitions>(tags: TTags): TTags {
  const sealed = new Map<Adapter, Adapter>();
  const copy: Record<string, AnyTag> = {};
  for (const [name, tag] of Object.entries(tags)) {
    const adapter = tag.source.adapter;
    if (!sealed.has(adapter)) sealed.set(adapter, sealedAdapter(adapter));
    const source: TagSource = Object.freeze({ ...tag.source, adapter: sealed.get(adapter) as Adapter });
    copy[name] = Object.freeze({ ...tag, source }) as AnyTag;
  }
  return Object.freeze(copy) as unknown as TTags;
}

/** The same snapshot over the read-only tag map. */
export function readOnlySnapshot<TTags extends TagDefinitions>(
  snapshot: Snapshot<TTags>,
  tags: TTags,
): Snapshot<TTags> {
  return new Snapshot(tags, new Map(snapshot.entries()), snapshot.time);
}
