/**
 * Publishing plant data as JSON: snapshots (batched: all changed tags in one message), windows, events and model
 * results, in the shapes of mqtt-schemas.ts. Every publication chooses its QoS, retain and expiry; while
 * disconnected, QoS 1/2 publications wait in the store-and-forward outbox.
 */
import { isChange } from "../../src/change-detection.js";
import type { Sample, Snapshot, TimedSample, Window } from "../../src/sample.js";
import { type AnyTag, decimalsFor, type TagDefinitions } from "../../src/tags.js";
import type { MqttConnection, PublishOptions, PublishReceipt } from "./mqtt-connection.js";
import type { EventMessage, ResultMessage, SnapshotMessage, WindowMessage } from "./mqtt-schemas.js";
import { createTagPublisher, type TagPublishOptions, type TagPublishOutcome } from "./mqtt-tag-publisher.js";

/** Options of `publishSnapshot`. */
export interface SnapshotPublishOptions extends PublishOptions {
  /** Include only tags that changed past their deadband since the last snapshot published to this topic. @default false */
  changedOnly?: boolean;
}

/** What a publication did. */
export interface PublishOutcome {
  /** sent, queued (store-and-forward), dropped (QoS 0 while offline), or skipped (nothing changed). */
  readonly receipt: PublishReceipt | "skipped";
  /** Number of tags in the message. */
  readonly tags: number;
  /** Size of the payload in bytes. */
  readonly bytes: number;
}

/** The publishing methods the MQTT adapter offers. */
export interface MqttPublisher {
  /** Publishes a snapshot as one message: `{ kind: "snapshot", time, tags: { name: { v, q, r?, t? } } }`. */
  publishSnapshot<TTags extends TagDefinitions>(
    topic: string,
    snapshot: Snapshot<TTags>,
    options?: SnapshotPublishOptions,
  ): Promise<PublishOutcome>;
  /** Publishes a window: `{ kind: "window", from, to, series: { name: [[time, value, quality?], ...] } }`. */
  publishWindow<TTags extends TagDefinitions>(
    topic: string,
    window: Window<TTags>,
    options?: PublishOptions,
  ): Promise<PublishOutcome>;
  /** Publishes an event: `{ kind: "event", time, type, severity, message?, tags?, data? }`. */
  publishEvent(
    topic: string,
    event: Omit<EventMessage, "kind" | "time"> & { time?: number },
    options?: PublishOptions,
  ): Promise<PublishOutcome>;
  /**
   * Publishes each tag on its own topic, for a unified namespace: a topic template (`"site/pump7/{tag}"`) or a map,
   * payload `{value, unit, time, quality}` JSON or the bare value. Only tags that changed past their deadband or
   * changed quality since the last publication on their topic are sent (`all: true` sends every one). A topic that is
   * a command topic or in the Sparkplug command namespace refuses the whole call before anything is sent.
   */
  publishTags<TTags extends TagDefinitions>(
    snapshot: Snapshot<TTags>,
    options: TagPublishOptions,
  ): Promise<TagPublishOutcome>;
  /** Publishes a model result: `{ kind: "result", time, source?, result, reason? }`. */
  publishResult(
    topic: string,
    result: Omit<ResultMessage, "kind" | "time"> & { time?: number },
    options?: PublishOptions,
  ): Promise<PublishOutcome>;
}

function rounded(tag: AnyTag | undefined, value: unknown): unknown {
  if (typeof value !== "number" || !tag) return value;
  const decimals = decimalsFor(tag);
  return decimals === undefined ? value : Number(value.toFixed(decimals));
}

/** A sample as a compact message entry. */
export function sampleEntry(tag: AnyTag | undefined, sample: Sample | TimedSample): SnapshotMessage["tags"][string] {
  const entry: SnapshotMessage["tags"][string] = { q: sample.quality };
  if (sample.value !== undefined) entry.v = rounded(tag, sample.value) as number | boolean | string;
  if (sample.reason !== undefined) entry.r = sample.reason;
  if (sample.sourceTime !== undefined) entry.t = sample.sourceTime;
  if ("stale" in sample && sample.stale) entry.stale = true;
  return entry;
}

/**
 * What the publishing methods send through: a connection, or (in the MQTT adapter) its gated publish, which refuses
 * command topics and the Sparkplug command namespace before anything is queued or sent.
 */
export type PublisherLink = Pick<MqttConnection, "publish" | "protocolVersion"> & {
  /** Throws for a topic that must not be published; per-tag publishing checks every topic before sending any. */
  assertPublishable?(topic: string): void;
};

/** Builds the publishing methods over a connection or a gated link; every method sends through `link.publish`. */
export function createPublisher(connection: PublisherLink): MqttPublisher {
  const lastPublished = new Map<string, Map<string, Sample>>();

  async function send(topic: string, message: unknown, tags: number, options: PublishOptions = {}) {
    const payload = Buffer.from(JSON.stringify(message));
    const properties =
      connection.protocolVersion === 5 ? { contentType: "application/json", ...(options.properties ?? {}) } : undefined;
    const receipt = await connection.publish(topic, payload, { ...options, ...(properties ? { properties } : {}) });
    return { receipt, tags, bytes: payload.length };
  }

  const publishTags = createTagPublisher({
    publish: (topic, payload, options) => connection.publish(topic, payload, options),
    ...(connection.assertPublishable
      ? { assertPublishable: (topic: string) => connection.assertPublishable?.(topic) }
      : {}),
    get protocolVersion() {
      return connection.protocolVersion;
    },
  });

  return {
    publishTags,
    async publishSnapshot<TTags extends TagDefinitions>(
      topic: string,
      snapshot: Snapshot<TTags>,
      options: SnapshotPublishOptions = {},
    ): Promise<PublishOutcome> {
      const { changedOnly, ...publishOptions } = options;
      const previous = lastPublished.get(topic) ?? new Map<string, Sample>();
      const tags: SnapshotMessage["tags"] = {};
      const definitions: TagDefinitions = snapshot.tags;
      for (const [name, sample] of snapshot.entries()) {
        const definition = definitions[name];
        if (changedOnly && definition && !isChange(definition, previous.get(name), sample)) continue;
        tags[name] = sampleEntry(definition, sample);
      }
      const count = Object.keys(tags).length;
      if (count === 0) return { receipt: "skipped", tags: 0, bytes: 0 };
      const outcome = await send(topic, { kind: "snapshot", time: snapshot.time, tags }, count, publishOptions);
      for (const [name, sample] of snapshot.entries()) if (name in tags) previous.set(name, sample);
      lastPublished.set(topic, previous);
      return outcome;
    },
    publishWindow<TTags extends TagDefinitions>(topic: string, window: Window<TTags>, options?: PublishOptions) {
      const series: WindowMessage["series"] = {};
      const definitions: TagDefinitions = window.tags;
      for (const name of window.names) {
        series[name] = window.series(name).map((sample) => {
          const time = sample.sourceTime ?? sample.receivedTime;
          const value = (rounded(definitions[name], sample.value) ?? null) as number | boolean | string | null;
          return sample.quality === "good" ? [time, value] : [time, value, sample.reason ?? sample.quality];
        });
      }
      const to = Number.isFinite(window.to) ? window.to : Date.now();
      const from = Number.isFinite(window.from) ? window.from : to;
      return send(topic, { kind: "window", from, to, series }, window.names.length, options);
    },
    publishEvent(topic, event, options) {
      const message = { kind: "event", severity: "info", ...event, time: event.time ?? Date.now() };
      return send(topic, message, event.tags?.length ?? 0, options);
    },
    publishResult(topic, result, options) {
      return send(topic, { kind: "result", ...result, time: result.time ?? Date.now() }, 0, options);
    },
  };
}
