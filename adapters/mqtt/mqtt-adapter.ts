/**
 * The MQTT adapter: tags read from topics (retained messages give initial values), pushed to subscribers as they
 * arrive, written through command topics. Publishing (snapshots, windows, events, results) is in mqtt-publisher.ts,
 * Sparkplug B in mqtt-sparkplug-*.ts; they share this adapter's connection.
 */
import {
  ADAPTER_CONTRACT_VERSION,
  type Adapter,
  type AdapterSubscription,
  type BoundTag,
  type SampleListener,
  type TagSource,
  type WriteResult,
} from "../../src/adapter.js";
import { ConfigError } from "../../src/errors.js";
import { switchableLogger } from "../../src/logger.js";
import type { OutputChannel } from "../../src/output-channel.js";
import { badSample, type Sample } from "../../src/sample.js";
import type { AnyTag } from "../../src/tags.js";
import { decodeMessage, jsonPointerProblem, type ReceivedMessage } from "./mqtt-codec.js";
import { CommandWriter } from "./mqtt-command.js";
import { CommandTopics, connectionView, type MqttConnectionView } from "./mqtt-command-topics.js";
import type { MqttAddress, MqttOptions, TopicSourceOptions } from "./mqtt-config.js";
import {
  type ConnectionCounters,
  MqttConnection,
  type MqttGap,
  type PublishOptions,
  type PublishReceipt,
} from "./mqtt-connection.js";
import { mqttDevice } from "./mqtt-device.js";
import { validateMqttOptions } from "./mqtt-options.js";
import { createMessageOutput, type MessageOutputOptions, type OutputMessage } from "./mqtt-output.js";
import { createPublisher, type MqttPublisher } from "./mqtt-publisher.js";
import { parseTopicSource } from "./mqtt-source-file.js";
import { topicFilterProblem, topicMatches } from "./mqtt-topic.js";
import { jsonCommandValue, sameInstant } from "./mqtt-wire-values.js";

/** Inbound counters, for metrics and tests. */
export interface InboundCounters {
  messages: number;
  decodeErrors: number;
  typeMismatches: number;
  /** Retained messages dropped because a live message for their topic had already arrived on the same connection. */
  staleRetained: number;
}

/** The MQTT adapter: the adapter contract plus topic sources, gaps and counters. */
export interface MqttAdapter extends Adapter<MqttAddress>, MqttPublisher {
  /** A tag source on a topic, e.g. `bus.topic("site/pump7/vib", { path: "/rms" })`. Wildcards allowed. */
  topic(topic: string, options?: TopicSourceOptions): TagSource<MqttAddress>;
  /**
   * Publishes raw bytes or text (QoS, retain, expiry per call); queued while disconnected. Refuses (rejects, nothing
   * sent) a wildcard topic, the command or response topic of a writable tag source of this adapter, and the
   * Sparkplug B command namespace: those go only through the write guard. So do the publish* methods.
   */
  publish(topic: string, payload: Buffer | string, options?: PublishOptions): Promise<PublishReceipt>;
  /**
   * A message output for the write guard: model-produced messages to these topics leave only through
   * `guard.send()`. Throws a ConfigError when an allowed topic reaches a command topic or the Sparkplug commands.
   */
  messageOutput(options: MessageOutputOptions): OutputChannel<OutputMessage>;
  /** The connection's state, counters and subscriptions (no publish: use `publish`, or `getInstance()` to bypass). */
  readonly connection: MqttConnectionView;
  /** Calls `listener` when messages may have been missed (a session lost on reconnect). */
  onGap(listener: (gap: MqttGap) => void): () => void;
  /** Inbound and connection counters. */
  stats(): InboundCounters &
    ConnectionCounters & { expired: number; overflowed: number; corruptQueueLines: number; queuedNow: number };
}

interface Registration {
  readonly definition: AnyTag;
  readonly address: MqttAddress;
  sample: Sample | undefined;
  /** When the device last reported live (not a retained message replayed on subscribing). */
  liveAt: number | undefined;
  readonly listeners: Map<SampleListener, Set<string>>;
}

/** Creates an MQTT adapter. Nothing connects until `connect()` (or the plant's first read). */
export function mqtt(options: MqttOptions = {}): MqttAdapter {
  validateMqttOptions(options, "mqtt");
  const name = options.name ?? "mqtt";
  const url = options.url ?? "mqtt://127.0.0.1:1884";
  const connection = new MqttConnection({ ...options, url }, `MQTT adapter "${name}"`);
  const logger = switchableLogger(options.logger);
  connection.status.on((now) =>
    logger.debug(`MQTT adapter "${name}": ${now.state}${now.reason ? ` (${now.reason})` : ""}`),
  );
  const maxBytes = options.maxPayloadBytes ?? 262_144;
  const waitMs = options.initialValueWaitMs ?? 500;
  const registrations = new Map<AnyTag, Registration>();
  const byFilter = new Map<string, Set<Registration>>();
  const arrivals = new Set<() => void>();
  const inbound: InboundCounters = { messages: 0, decodeErrors: 0, typeMismatches: 0, staleRetained: 0 };
  const writer = new CommandWriter(connection, name);
  // The gate of every general publish; the command writer and message outputs use the connection itself.
  const commandTopics = new CommandTopics(name);
  const gatedPublish = (topic: string, payload: Buffer | string, publishOptions?: PublishOptions) => {
    try {
      commandTopics.assertPublishable(topic);
    } catch (error) {
      return Promise.reject(error);
    }
    return connection.publish(topic, payload, publishOptions);
  };

  // A broker may send a new subscription's retained messages after live ones (aedes streams them from its store while
  // it forwards live publishes; the soak test caught 10+ tags left at the older value after a reconnection). A
  // retained message is the value when the subscription was made, so one that arrives after a live message for its
  // topic on the same connection is older, and is dropped. Hand-written: MQTT.js leaves ordering to the broker.
  const liveTopics = new Set<string>();
  connection.onConnected(() => liveTopics.clear());
  connection.onMessage((topic, payload, packet) => {
    inbound.messages++;
    if (!packet.retain) liveTopics.add(topic);
    else if (liveTopics.has(topic)) {
      inbound.staleRetained++;
      return;
    }
    const message: ReceivedMessage = { topic, payload, receivedTime: Date.now() };
    for (const [filter, group] of byFilter) {
      if (!topicMatches(filter, topic)) continue;
      for (const registration of group) {
        const sample = decodeMessage(registration.definition, registration.address, message, maxBytes);
        if (sample.reason === "decode-error") inbound.decodeErrors++;
        if (sample.reason === "type-mismatch") inbound.typeMismatches++;
        registration.sample = sample;
        if (!packet.retain) registration.liveAt = message.receivedTime;
        for (const [listener, names] of registration.listeners) for (const tagName of names) listener(tagName, sample);
      }
    }
    for (const arrived of [...arrivals]) arrived();
  });

  async function register(tags: readonly BoundTag<MqttAddress>[]): Promise<Registration[]> {
    const result: Registration[] = [];
    const subscribing: Promise<void>[] = [];
    for (const tag of tags) {
      commandTopics.add(tag.address.command, tag.address.topic);
      let registration = registrations.get(tag.definition);
      if (!registration) {
        registration = {
          definition: tag.definition,
          address: tag.address,
          sample: undefined,
          liveAt: undefined,
          listeners: new Map(),
        };
        registrations.set(tag.definition, registration);
        let group = byFilter.get(tag.address.topic);
        if (!group) {
          group = new Set();
          byFilter.set(tag.address.topic, group);
        }
        group.add(registration);
        subscribing.push(connection.subscribe(tag.address.topic, tag.address.qos));
      }
      result.push(registration);
    }
    await Promise.all(subscribing);
    return result;
  }

  /** Waits until every registration has a sample, or `waitMs` passes (retained messages arrive after SUBACK). */
  function settle(pending: Registration[]): Promise<void> {
    if (pending.every((registration) => registration.sample) || waitMs <= 0) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        arrivals.delete(check);
        resolve();
      };
      const check = () => {
        if (pending.every((registration) => registration.sample)) done();
      };
      const timer = setTimeout(done, waitMs);
      arrivals.add(check);
    });
  }

  /** Waits until the device reported live on the tag's topic after `since`, or `waitMs` passes; true when it did. */
  function awaitReport(registration: Registration | undefined, since: number, waitMs: number): Promise<boolean> {
    const reported = () => registration?.liveAt !== undefined && registration.liveAt >= since;
    if (!registration || reported() || waitMs <= 0) return Promise.resolve(reported());
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        arrivals.delete(check);
        resolve(reported());
      };
      const check = () => {
        if (reported()) done();
      };
      const timer = setTimeout(done, waitMs);
      arrivals.add(check);
    });
  }

  /**
   * The latest sample as of a read. A read answers at read time, so receivedTime is now; when the payload carries
   * no timestamp, sourceTime is the message's arrival, so staleness still counts from when the value came in.
   */
  function current(registration: Registration | undefined, topic: string): Sample {
    const sample = registration?.sample;
    const now = Date.now();
    if (connection.status.get().state !== "connected") {
      const reason = connection.status.get().reason ?? "not connected";
      return badSample("not-connected", `${name}: ${reason}`, now, sample?.value);
    }
    if (!sample) return badSample("not-read-yet", `${name}: no message on ${topic} yet`, now);
    return { ...sample, receivedTime: now, sourceTime: sample.sourceTime ?? sample.receivedTime };
  }

  const adapter: MqttAdapter = {
    ...createPublisher({
      publish: gatedPublish,
      assertPublishable: (topic) => commandTopics.assertPublishable(topic),
      get protocolVersion() {
        return connection.protocolVersion;
      },
    }),
    contractVersion: ADAPTER_CONTRACT_VERSION,
    kind: "mqtt",
    name,
    capabilities: { subscribe: true, write: true },
    useLogger: (plantLogger) => logger.adopt(plantLogger),
    connection: connectionView(connection),
    connect: () => connection.connect(),
    publish: gatedPublish,
    messageOutput: (outputOptions) =>
      createMessageOutput({ adapterName: name, url, connection, commandTopics }, outputOptions),
    async close() {
      writer.close();
      for (const registration of registrations.values()) registration.listeners.clear();
      await connection.close();
    },
    async read(tags) {
      if (connection.status.get().state !== "connected") {
        return tags.map((tag) => current(registrations.get(tag.definition), tag.address.topic));
      }
      const bound = await register(tags);
      await settle(bound.filter((registration) => !registration.sample));
      return bound.map((registration, index) => current(registration, tags[index]?.address.topic ?? ""));
    },
    async subscribe(tags, listener): Promise<AdapterSubscription> {
      const bound = await register(tags);
      bound.forEach((registration, index) => {
        const tagName = tags[index]?.name ?? "";
        const names = registration.listeners.get(listener) ?? new Set<string>();
        names.add(tagName);
        registration.listeners.set(listener, names);
        if (registration.sample) listener(tagName, registration.sample);
      });
      return {
        async close() {
          for (const registration of bound) registration.listeners.delete(listener);
        },
      };
    },
    async write(tag: BoundTag<MqttAddress>, value: unknown): Promise<WriteResult> {
      commandTopics.add(tag.address.command, tag.address.topic);
      // The state topic is watched from before the command, so a report that answers it is never missed.
      const [registration] = tag.address.command && connection.client ? await register([tag]).catch(() => []) : [];
      const sentAt = Date.now();
      const result = await writer.write(tag, value);
      if (result.outcome !== "written") return result;
      const reported = await awaitReport(registration, sentAt, tag.address.command?.reportWaitMs ?? 1000);
      return reported
        ? result
        : {
            ...result,
            unverified:
              `the device has not reported ${tag.address.topic} since the command; ` +
              "its value there is from before the command and says nothing about it",
          };
    },
    checkWrite(tag, value) {
      const wire = jsonCommandValue(tag.definition, value);
      return "problem" in wire ? `${tag.address.command?.topic ?? tag.address.topic}: ${wire.problem}` : undefined;
    },
    sameOnWire: (_tag, written, readBack) => sameInstant(written, readBack),
    status: () => connection.status.get(),
    onStatus: (listener) => connection.status.on(listener),
    deviceOf: (tag) => mqttDevice(url, tag.address),
    onGap: (listener) => connection.onGap(listener),
    parseSource: (raw) => parseTopicSource(adapter, raw),
    getInstance: () => connection.client,
    topic(topic, sourceOptions = {}) {
      const issues = [
        ["topic", topicFilterProblem(topic)],
        ["path", sourceOptions.path === undefined ? undefined : jsonPointerProblem(sourceOptions.path)],
        [
          "timestampPath",
          sourceOptions.timestampPath === undefined ? undefined : jsonPointerProblem(sourceOptions.timestampPath),
        ],
      ].filter((issue): issue is [string, string] => issue[1] !== undefined);
      if (issues.length > 0) {
        throw new ConfigError(
          issues.map(([path, message]) => ({
            path,
            message: `${JSON.stringify(path === "topic" ? topic : sourceOptions[path as "path"])} ${message}`,
            fix:
              path === "topic"
                ? 'write a topic like "site/pump7/vib" (wildcards + and # allowed)'
                : 'write a JSON pointer like "/rms"',
          })),
        );
      }
      const address: MqttAddress = {
        topic,
        qos: sourceOptions.qos ?? 1,
        ...(sourceOptions.path === undefined ? {} : { path: sourceOptions.path }),
        ...(sourceOptions.timestampPath === undefined ? {} : { timestampPath: sourceOptions.timestampPath }),
        ...(sourceOptions.command ? { command: sourceOptions.command } : {}),
      };
      commandTopics.add(sourceOptions.command, topic);
      const detail = sourceOptions.path ? ` ${sourceOptions.path}` : "";
      return { adapter, address, label: `mqtt ${topic}${detail} (${name})` };
    },
    stats() {
      return {
        ...inbound,
        ...connection.counters,
        reconnectDelays: [...connection.counters.reconnectDelays],
        expired: connection.outbox.counters.expired,
        overflowed: connection.outbox.counters.overflowed,
        corruptQueueLines: connection.outbox.counters.corrupt,
        queuedNow: connection.outbox.size,
      };
    },
  };
  return adapter;
}
