/**
 * The sending side of a connection: publications go straight out while connected, wait in the outbox
 * (store-and-forward) while not, and are replayed in order; QoS 1/2 messages the link dropped before their
 * acknowledgement go back to the front of the queue (at least once). Expired entries are never sent. Commands opt out
 * (`storeAndForward: false`): sent once or not at all.
 */
import type { MqttClient } from "mqtt";
import { ConnectionError, ValidationError } from "../../src/errors.js";
import type { QoS } from "./mqtt-config.js";
import type { Outbox, OutboxEntry } from "./mqtt-outbox.js";
import { topicNameProblem } from "./mqtt-topic.js";

/** How one publication goes out. */
export interface PublishOptions {
  /** @default 1 */
  qos?: QoS;
  /** @default false */
  retain?: boolean;
  /** Drop the message if it cannot be sent within this many seconds; MQTT 5 brokers also drop it after that. */
  expirySeconds?: number;
  /** Extra MQTT 5 publish properties (correlationData, responseTopic, contentType, userProperties). */
  properties?: Readonly<Record<string, unknown>>;
  /**
   * false: send now or never, for single-attempt commands. Not queued while disconnected ("dropped"), sent ahead of
   * queued publications, and never sent again when the link drops before the broker acknowledges it
   * ("unconfirmed"): a command must not reach a device late, after its outcome was reported. @default true
   */
  storeAndForward?: boolean;
}

/**
 * What became of a publication: sent (QoS 0 written, QoS 1/2 acknowledged), queued for later, dropped (not sent),
 * or unconfirmed (with `storeAndForward: false`: it went out, and the link dropped before the acknowledgement).
 */
export type PublishReceipt = "sent" | "queued" | "dropped" | "unconfirmed";

interface InFlight {
  entry: OutboxEntry;
  /** Never requeued (`storeAndForward: false`). */
  once: boolean;
  settled: boolean;
  /** Settles the publisher's promise as "went back in the queue" (MQTT.js may never call back on a dead link). */
  superseded(): void;
}

/** What the sender needs from its connection. */
export interface SenderLink {
  client(): MqttClient | undefined;
  version(): 5 | 4;
}

/** Counters the sender updates. */
export interface SenderCounters {
  published: number;
  queued: number;
  droppedOffline: number;
}

/** Publishes over a connection with store-and-forward. */
export class MqttSender {
  readonly #link: SenderLink;
  readonly #outbox: Outbox;
  readonly #counters: SenderCounters;
  readonly #now: () => number;
  readonly #label: string;
  readonly #inFlight = new Set<InFlight>();
  #draining = false;

  constructor(link: SenderLink, outbox: Outbox, counters: SenderCounters, now: () => number, label: string) {
    this.#link = link;
    this.#outbox = outbox;
    this.#counters = counters;
    this.#now = now;
    this.#label = label;
  }

  /** Publishes, or queues while disconnected. Order is kept: nothing overtakes queued messages. */
  publish(topic: string, payload: Buffer | string, options: PublishOptions = {}): Promise<PublishReceipt> {
    this.#checkTopic(topic);
    const client = this.#link.client();
    const bytes = typeof payload === "string" ? Buffer.from(payload) : payload;
    // QoS 0 with nothing queued: straight to MQTT.js, as cheap as a raw client.publish (nothing to requeue).
    if (options.qos === 0 && client?.connected && this.#outbox.size === 0 && !this.#draining) {
      if (options.expirySeconds === undefined && !options.properties) {
        return new Promise((resolve) => {
          client.publish(topic, bytes, { qos: 0, retain: options.retain ?? false }, (error) => {
            if (!error) this.#counters.published++;
            resolve(error ? "dropped" : "sent");
          });
        });
      }
    }
    return this.#publishEntry(topic, bytes, options);
  }

  async #publishEntry(topic: string, payload: Buffer, options: PublishOptions): Promise<PublishReceipt> {
    const entry: { -readonly [K in keyof OutboxEntry]: OutboxEntry[K] } = {
      topic,
      payload,
      qos: options.qos ?? 1,
      retain: options.retain ?? false,
    };
    if (options.expirySeconds !== undefined) entry.expiresAt = this.#now() + options.expirySeconds * 1000;
    if (options.properties) entry.properties = options.properties;
    if (options.storeAndForward === false) {
      const client = this.#link.client();
      if (!client?.connected) return "dropped";
      return this.#send(client, entry, true).then(
        (acknowledged) => (acknowledged ? "sent" : "unconfirmed"),
        () => "unconfirmed",
      );
    }
    if (!this.#link.client()?.connected || this.#outbox.size > 0 || this.#draining) {
      if (entry.qos === 0 && !this.#link.client()?.connected) {
        this.#counters.droppedOffline++;
        return "dropped";
      }
      this.#outbox.push(entry);
      this.#counters.queued++;
      void this.drain();
      return "queued";
    }
    try {
      if (await this.#send(this.#link.client()!, entry)) return "sent";
      return entry.qos === 0 ? "dropped" : "queued";
    } catch (error) {
      if (entry.qos === 0) throw error;
      // The link failed under this message: it goes back in the queue for the next connection (at least once).
      this.#requeue(entry);
      return "queued";
    }
  }

  /** Topics seen valid, so the hot path does not split the same topic on every publish (bounded). */
  readonly #validTopics = new Set<string>();

  #checkTopic(topic: string): void {
    if (this.#validTopics.has(topic)) return;
    const problem = topicNameProblem(topic);
    if (problem)
      throw new ValidationError(`${this.#label}: cannot publish to "${topic}": it ${problem}`, { field: "topic" });
    if (this.#validTopics.size >= 1024) this.#validTopics.clear();
    this.#validTopics.add(topic);
  }

  #requeue(entry: OutboxEntry): void {
    this.#outbox.push(entry, true);
    this.#counters.queued++;
  }

  /**
   * Resolves true when acknowledged, false when the link dropped first and the entry went back in the queue (or, with
   * `once`, was given up).
   */
  #send(client: MqttClient, entry: OutboxEntry, once = false): Promise<boolean> {
    const options: { qos: QoS; retain: boolean; properties?: Record<string, unknown> } = {
      qos: entry.qos,
      retain: entry.retain,
    };
    if (this.#link.version() === 5 && (entry.properties || entry.expiresAt !== undefined)) {
      const properties: Record<string, unknown> = { ...entry.properties };
      if (entry.expiresAt !== undefined) {
        properties.messageExpiryInterval = Math.max(1, Math.ceil((entry.expiresAt - this.#now()) / 1000));
      }
      options.properties = properties;
    }
    return new Promise((resolve, reject) => {
      const flight: InFlight = { entry, once, settled: false, superseded: () => resolve(false) };
      this.#inFlight.add(flight);
      client.publish(entry.topic, entry.payload, options as never, (error) => {
        if (flight.settled) return resolve(false);
        flight.settled = true;
        this.#inFlight.delete(flight);
        if (error) reject(new ConnectionError(`${this.#label}: publish to ${entry.topic} failed: ${error.message}`));
        else {
          this.#counters.published++;
          resolve(true);
        }
      });
    });
  }

  /** QoS 1/2 messages sent but not acknowledged when the link dropped go back to the front of the queue, in order. */
  requeueInFlight(): void {
    const pending = [...this.#inFlight].filter((flight) => !flight.settled);
    this.#inFlight.clear();
    for (const flight of pending.reverse()) {
      flight.settled = true;
      if (flight.entry.qos > 0 && !flight.once) this.#requeue(flight.entry);
      flight.superseded();
    }
  }

  async drain(): Promise<void> {
    if (this.#draining) return;
    this.#draining = true;
    try {
      let sent = 0;
      for (;;) {
        const client = this.#link.client();
        if (!client?.connected) break;
        const entry = this.#outbox.shift(this.#now());
        if (!entry) break;
        sent++;
        try {
          await this.#send(client, entry);
        } catch {
          if (entry.qos > 0) this.#requeue(entry);
          break;
        }
      }
      if (sent > 0 || this.#outbox.counters.expired > 0) this.#outbox.flush();
    } finally {
      this.#draining = false;
    }
  }
}
