/**
 * Per-tag publishing for a unified namespace: one topic per tag (from a template or a map), one message per tag that
 * changed past its deadband or changed quality, in the payload shape UNS consumers read: `{value, unit, time,
 * quality}` JSON, or the bare value. Every topic is checked against the adapter's side-door refusals before anything
 * of the call is sent.
 */
import { isChange } from "../../src/change-detection.js";
import { ValidationError } from "../../src/errors.js";
import type { Sample, Snapshot } from "../../src/sample.js";
import { type AnyTag, decimalsFor, type TagDefinitions } from "../../src/tags.js";
import type { PublishOptions, PublishReceipt } from "./mqtt-connection.js";

/** Options of `publishTags`. */
export interface TagPublishOptions extends PublishOptions {
  /**
   * Each tag's topic: a template where `{tag}` is the tag's name (`"site/area1/pump7/{tag}"`), or a map from tag name
   * to topic (tags not in the map are not published).
   */
  topic: string | Readonly<Record<string, string>>;
  /**
   * `"json"`: `{"value":12.3,"unit":"bar","time":1700000000000,"quality":"good"}` (plus `reason` when not good;
   * `unit` only when the tag has one; `time` is the source time, ms since the epoch). `"value"`: the bare value as
   * JSON (`12.3`, `true`, `"AUTO"`, ISO text for a date-time), and `null` while the tag is bad. @default "json"
   */
  payload?: "json" | "value";
  /** Publish every tag, changed or not (a first full publication after start). @default false */
  all?: boolean;
}

/** What `publishTags` did, per tag that was published. */
export interface TagPublishOutcome {
  /** Tag name → the receipt of its message (sent, queued, dropped). Unchanged tags are absent. */
  readonly published: Readonly<Record<string, PublishReceipt>>;
  /** Tags left out because they had not changed past their deadband nor in quality. */
  readonly unchanged: number;
}

/** The message of one tag in the `"json"` shape. */
export interface TagMessage {
  value: number | boolean | string | null;
  unit?: string;
  time: number;
  quality: Sample["quality"];
  reason?: string;
}

/** What per-tag publishing sends through: the adapter's gated publish, and its side-door check. */
export interface TagPublisherLink {
  publish(topic: string, payload: Buffer | string, options?: PublishOptions): Promise<PublishReceipt>;
  /** Throws for a topic that must not be published (a command topic, the Sparkplug commands, a wildcard). */
  assertPublishable?(topic: string): void;
  readonly protocolVersion: 5 | 4;
}

function wireValue(tag: AnyTag | undefined, value: unknown): number | boolean | string | null {
  if (value === undefined || value === null) return null;
  if (value instanceof Date) return value.toISOString();
  if (typeof value === "number" && tag) {
    const decimals = decimalsFor(tag);
    return decimals === undefined ? value : Number(value.toFixed(decimals));
  }
  return value as number | boolean | string;
}

/** One tag's message in the `"json"` shape. */
export function tagMessage(tag: AnyTag | undefined, sample: Sample): TagMessage {
  const message: TagMessage = {
    value: sample.quality === "bad" ? null : wireValue(tag, sample.value),
    time: sample.sourceTime ?? sample.receivedTime,
    quality: sample.quality,
  };
  if (tag && (tag.type === "float" || tag.type === "integer") && tag.unit) message.unit = tag.unit;
  if (sample.reason !== undefined) message.reason = sample.reason;
  return message;
}

/** Builds `publishTags` over a link; it remembers what it last published per topic for change detection. */
export function createTagPublisher(link: TagPublisherLink) {
  const lastPublished = new Map<string, Sample>();

  return async function publishTags<TTags extends TagDefinitions>(
    snapshot: Snapshot<TTags>,
    options: TagPublishOptions,
  ): Promise<TagPublishOutcome> {
    const { topic, payload: shape = "json", all = false, ...publishOptions } = options;
    const definitions: TagDefinitions = snapshot.tags;
    const planned: { name: string; topic: string; sample: Sample; body: string }[] = [];
    let unchanged = 0;
    for (const [name, sample] of snapshot.entries()) {
      const target = typeof topic === "string" ? topic.split("{tag}").join(name) : topic[name];
      if (target === undefined) continue;
      const definition = definitions[name];
      if (!all && definition && !isChange(definition, lastPublished.get(target), sample)) {
        unchanged++;
        continue;
      }
      const message = tagMessage(definition, sample);
      planned.push({ name, topic: target, sample, body: JSON.stringify(shape === "value" ? message.value : message) });
    }
    if (typeof topic === "string" && !topic.includes("{tag}") && planned.length > 1) {
      throw new ValidationError(
        `publishTags: the topic "${topic}" has no {tag}, so every tag would go to one topic. Fix: write a template like "site/pump7/{tag}"`,
      );
    }
    // All topics are checked before the first message leaves: a refused one sends nothing of the call.
    for (const entry of planned) link.assertPublishable?.(entry.topic);
    const properties =
      link.protocolVersion === 5 && shape === "json"
        ? { contentType: "application/json", ...(publishOptions.properties ?? {}) }
        : publishOptions.properties;
    const published: Record<string, PublishReceipt> = {};
    for (const entry of planned) {
      published[entry.name] = await link.publish(entry.topic, entry.body, {
        ...publishOptions,
        ...(properties ? { properties } : {}),
      });
      lastPublished.set(entry.topic, entry.sample);
    }
    return { published, unchanged };
  };
}
