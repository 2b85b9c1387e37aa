/**
 * The plant as an assistant sees it: only the exposed tags, and a write policy only on the tags it may propose for,
 * so the compact context marks `writable` exactly what the assistant can ask for, and a hidden tag never appears.
 */
import { type Sample, Snapshot, Window } from "../sample.js";
import type { AnyTag, TagDefinitions } from "../tags.js";
import type { SiteMcpSettings } from "./mcp-settings.js";

/** The exposed tags, in tag-map order; tags the assistant may not propose for lose their write policy. */
export function assistantTags(tags: TagDefinitions, settings: SiteMcpSettings): TagDefinitions {
  const view: Record<string, AnyTag> = {};
  for (const name of settings.expose) {
    const tag = tags[name];
    if (!tag) continue;
    if (settings.propose.includes(name)) {
      view[name] = tag;
    } else {
      const { write: _write, ...readOnly } = tag as AnyTag & { write?: unknown };
      view[name] = readOnly as AnyTag;
    }
  }
  return Object.freeze(view);
}

/** A snapshot of the plant's tags narrowed to the assistant's view. */
export function assistantSnapshot(view: TagDefinitions, snapshot: Snapshot): Snapshot {
  const samples = new Map<string, Sample>();
  for (const [name, sample] of snapshot.entries()) if (Object.hasOwn(view, name)) samples.set(name, sample);
  return new Snapshot(view, samples, snapshot.time);
}

/**
 * A window of `names` over [from, to] from the kept history, one sample per bucket when `bucketMs` is given: the
 * bucket's last good sample (else its last sample), stamped at the bucket's end, so the encoder's grid follows it.
 */
export function assistantWindow(
  view: TagDefinitions,
  names: readonly string[],
  history: (name: string, range: { from: number; to: number }) => readonly Sample[],
  range: { from: number; to: number },
  bucketMs?: number,
): Window {
  const chosen: Record<string, AnyTag> = {};
  const series = new Map<string, readonly Sample[]>();
  for (const name of names) {
    chosen[name] = view[name] as AnyTag;
    const samples = history(name, range);
    series.set(name, bucketMs ? bucketed(samples, range, bucketMs) : samples);
  }
  return new Window(chosen, series, range.from, range.to);
}

function bucketed(samples: readonly Sample[], range: { from: number; to: number }, bucketMs: number): Sample[] {
  const { from, to } = range;
  const kept = new Map<number, Sample>();
  for (const sample of samples) {
    const time = sample.sourceTime ?? sample.receivedTime;
    const bucket = Math.floor((time - from) / bucketMs);
    const held = kept.get(bucket);
    // A good sample wins over a bad one in its bucket; among equals, the later one.
    if (!held || sample.quality === "good" || held.quality !== "good") kept.set(bucket, sample);
  }
  return [...kept.entries()]
    .sort(([a], [b]) => a - b)
    .map(([bucket, sample]) => {
      const end = Math.min(to, from + (bucket + 1) * bucketMs);
      return { ...sample, sourceTime: end, receivedTime: end };
    });
}
