/**
 * One MQTT connection: a fresh MQTT.js client per attempt (MQTT.js's own reconnection is off, reconnectPeriod 0),
 * capped exponential backoff with jitter, subscriptions restored exactly once per new session, lost sessions
 * reported as gaps, client-id fights detected, and store-and-forward of publications made while disconnected.
 */
import { randomBytes } from "node:crypto";
import type { IClientOptions, IConnackPacket, IPublishPacket, MqttClient } from "mqtt";
import { StatusTracker } from "../../src/adapter.js";
import { ConnectionError } from "../../src/errors.js";
import { loadOptionalDependency } from "../../src/optional-dependency.js";
import type { MqttOptions, MqttWill, QoS } from "./mqtt-config.js";
import { Outbox } from "./mqtt-outbox.js";
import { ReconnectPolicy, SESSION_TAKEN_OVER } from "./mqtt-reconnect-policy.js";
import { MqttSender, type PublishOptions, type PublishReceipt } from "./mqtt-sender.js";
import { SubscriptionRegistry } from "./mqtt-subscriptions.js";

export type { PublishOptions, PublishReceipt } from "./mqtt-sender.js";

/** A reported gap: messages may have been missed. */
export interface MqttGap {
  /** Why, in plain words. */
  readonly reason: string;
  /** When the link went down and when it came back (ms since the epoch). */
  readonly from: number;
  readonly to: number;
}

/** Counters of one connection. */
export interface ConnectionCounters {
  connects: number;
  reconnectAttempts: number;
  gaps: number;
  flaps: number;
  published: number;
  queued: number;
  /** QoS 0 messages published while disconnected: not queued (queueQoSZero is off), dropped. */
  droppedOffline: number;
  /** Backoff delays scheduled so far (the last 50), in ms. */
  reconnectDelays: number[];
}

// The two types below describe MQTT.js objects by shape rather than import them: mqtt's own declarations need the
// DOM library, which would fail a consumer's strict type-check (skipLibCheck false) of `plantwire/mqtt`.

/** The MQTT.js client behind a connection (the escape hatch), named only as far as plantwire promises anything. */
export interface MqttClientHandle {
  readonly connected: boolean;
}

/** The parts of a received PUBLISH packet that message listeners are given (a part of MQTT.js's IPublishPacket). */
export interface MqttReceivedPacket {
  readonly topic: string;
  readonly qos: 0 | 1 | 2;
  readonly retain: boolean;
  readonly dup: boolean;
  readonly properties?: {
    readonly correlationData?: Buffer;
    readonly responseTopic?: string;
    readonly messageExpiryInterval?: number;
    readonly contentType?: string;
  };
}

type MqttModule = { connect(url: string, options: IClientOptions): MqttClient };

const REFUSED_VERSION = new Set([1, 132]);
const AUTH_REFUSED = new Set([4, 5, 134, 135]);

/** The connection the MQTT adapter, the publisher and the Sparkplug roles share. */
export class MqttConnection {
  readonly status = new StatusTracker();
  readonly clientId: string;
  readonly counters: ConnectionCounters = {
    connects: 0,
    reconnectAttempts: 0,
    gaps: 0,
    flaps: 0,
    published: 0,
    queued: 0,
    droppedOffline: 0,
    reconnectDelays: [],
  };
  readonly outbox: Outbox;
  readonly #options: MqttOptions;
  readonly #label: string;
  readonly #now: () => number;
  readonly #subscriptions = new SubscriptionRegistry();
  readonly #messageListeners = new Set<(topic: string, payload: Buffer, packet: IPublishPacket) => void>();
  readonly #gapListeners = new Set<(gap: MqttGap) => void>();
  readonly #connectListeners = new Set<(sessionPresent: boolean) => void>();
  readonly #sender: MqttSender;
  readonly #policy: ReconnectPolicy;
  #client: MqttClient | undefined;
  #version: 5 | 4;
  #will: (() => MqttWill | undefined) | undefined;
  #connectedAt = 0;
  #downSince = 0;
  #everConnected = false;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;
  #fatal: Error | undefined;
  #opening: Promise<void> | undefined;
  #pingTimer: NodeJS.Timeout | undefined;

  constructor(options: MqttOptions, label: string) {
    this.#options = options;
    this.#label = label;
    this.#now = options.now ?? Date.now;
    this.#version = options.protocolVersion ?? 5;
    this.clientId = options.clientId ?? `plantwire-${randomBytes(6).toString("hex")}`;
    this.outbox = new Outbox(options.outbox);
    this.#policy = new ReconnectPolicy(options.reconnect);
    this.#sender = new MqttSender(
      { client: () => this.#client, version: () => this.#version },
      this.outbox,
      this.counters,
      options.now ?? Date.now,
      label,
    );
  }

  /** The MQTT version in use (4 after a fallback). */
  get protocolVersion(): 5 | 4 {
    return this.#version;
  }

  /** The current MQTT.js client, when connected (cast it to mqtt's `MqttClient` to use it). */
  get client(): MqttClientHandle | undefined {
    return this.#client?.connected ? this.#client : undefined;
  }

  /** Supplies the will for each new connection (Sparkplug's NDEATH changes its bdSeq every time). */
  setWill(will: () => MqttWill | undefined): void {
    this.#will = will;
  }

  onMessage(listener: (topic: string, payload: Buffer, packet: MqttReceivedPacket) => void): () => void {
    this.#messageListeners.add(listener);
    return () => this.#messageListeners.delete(listener);
  }

  onGap(listener: (gap: MqttGap) => void): () => void {
    this.#gapListeners.add(listener);
    return () => this.#gapListeners.delete(listener);
  }

  /** Called after each CONNACK, once subscriptions are restored. */
  onConnected(listener: (sessionPresent: boolean) => void): () => void {
    this.#connectListeners.add(listener);
    return () => this.#connectListeners.delete(listener);
  }

  /** Connects once; rejects with a ConnectionError. While a reconnection is pending, rejects at once (fail fast). */
  async connect(): Promise<void> {
    if (this.#fatal) throw this.#fatal;
    if (this.#client?.connected) return;
    if (this.#opening) return this.#opening;
    if (this.#timer) throw new ConnectionError(`${this.#label}: not connected (${this.status.get().reason})`);
    this.#closed = false;
    this.status.set("connecting", `connecting to ${this.#options.url}`);
    try {
      await this.#open();
    } catch (error) {
      this.status.set("disconnected", (error as Error).message);
      throw error;
    }
  }

  #open(): Promise<void> {
    this.#opening ??= this.#openOnce().finally(() => {
      this.#opening = undefined;
    });
    return this.#opening;
  }

  async #openOnce(): Promise<void> {
    const module = await loadOptionalDependency<MqttModule>("mqtt", "The MQTT adapter");
    try {
      await this.#attemptOnce(module);
    } catch (error) {
      if (this.#version !== 5 || !REFUSED_VERSION.has((error as { code?: number }).code ?? -1)) throw error;
      this.#version = 4;
      await this.#attemptOnce(module);
    }
  }

  #clientOptions(): IClientOptions {
    const options = this.#options;
    const cleanStart = options.cleanStart ?? true;
    const result: IClientOptions = {
      clientId: this.clientId,
      protocolVersion: this.#version,
      clean: cleanStart,
      keepalive: options.keepaliveSeconds ?? 30,
      connectTimeout: options.connectTimeoutMs ?? 10_000,
      reconnectPeriod: 0,
      resubscribe: false,
      queueQoSZero: false,
      // MQTT.js otherwise has mqtt-packet build 65,536 two-byte Buffers on the first write to cache packet numbers:
      // ~5 MB of heap and ~10 MB of peak RSS in a glue script (bench/import-cost.bench.ts), to save a 2-byte
      // allocation per packet. The switch is process-wide in mqtt-packet; writing without it is byte-for-byte equal.
      writeCache: false,
    };
    if (options.username !== undefined) result.username = options.username;
    if (options.password !== undefined) result.password = options.password;
    if (options.tls) Object.assign(result, options.tls);
    if (this.#version === 5) {
      result.properties = { sessionExpiryInterval: options.sessionExpirySeconds ?? (cleanStart ? 0 : 3600) };
    }
    const will = this.#will?.() ?? options.will;
    if (will)
      result.will = { topic: will.topic, payload: will.payload, qos: will.qos ?? 1, retain: will.retain ?? false };
    return result;
  }

  /**
   * One connection attempt. The message listener is attached before CONNACK and the client is adopted inside the
   * CONNACK handler, synchronously: a resumed session's queued messages can arrive in the same TCP read as the
   * CONNACK, and a listener attached a microtask later would miss them.
   */
  #attemptOnce(module: MqttModule): Promise<void> {
    const client = module.connect(this.#options.url ?? "mqtt://127.0.0.1:1884", this.#clientOptions());
    client.on("message", (topic, payload, packet) => {
      if (client !== this.#client) return;
      for (const listener of [...this.#messageListeners]) listener(topic, payload, packet);
    });
    return new Promise((resolve, reject) => {
      const discard = () => {
        client.removeAllListeners();
        client.on("error", () => {});
        client.end(true);
      };
      const fail = (error: Error & { code?: unknown }) => {
        discard();
        const code = typeof error.code === "number" ? error.code : undefined;
        const hint = code !== undefined && AUTH_REFUSED.has(code) ? ". Fix: check the username and password" : "";
        const message = `${this.#label}: cannot connect to ${this.#options.url}: ${error.message}${hint}`;
        reject(Object.assign(new ConnectionError(message, { cause: error }), code === undefined ? {} : { code }));
      };
      const onError = (error: Error) => fail(error);
      const onClose = () => fail(new Error("the connection closed before the broker answered"));
      client.once("connect", (connack) => {
        client.off("error", onError);
        client.off("close", onClose);
        if (this.#closed) {
          discard();
          reject(new ConnectionError(`${this.#label}: closed while connecting`));
          return;
        }
        this.#adopt(client, connack);
        resolve();
      });
      client.once("error", onError);
      client.once("close", onClose);
    });
  }

  #adopt(client: MqttClient, connack: IConnackPacket): void {
    this.#client = client;
    this.#connectedAt = Date.now();
    this.counters.connects++;
    client.on("error", () => {});
    let reasonCode: number | undefined;
    client.on("disconnect", (packet) => {
      reasonCode = packet.reasonCode;
    });
    client.on("close", () => this.#dropped(client, reasonCode));
    client.on("packetsend", (packet) => {
      if (packet.cmd === "pingreq") this.#watchPing(client);
    });
    client.on("packetreceive", () => this.#heard(client));
    const sessionPresent = connack.sessionPresent === true;
    if (this.#everConnected && !sessionPresent) {
      const cleanStart = this.#options.cleanStart ?? true;
      this.counters.gaps++;
      const gap: MqttGap = {
        reason: cleanStart
          ? "reconnected with a clean session: messages published during the outage were not kept"
          : "the broker did not keep the session (sessionPresent=false): messages during the outage are lost",
        from: this.#downSince,
        to: Date.now(),
      };
      for (const listener of [...this.#gapListeners]) listener(gap);
    }
    this.#everConnected = true;
    if (!sessionPresent) this.#subscriptions.forgetAcknowledged();
    this.status.set("connected", this.#connectedReason());
    this.#subscriptions.restore(client);
    for (const listener of [...this.#connectListeners]) listener(sessionPresent);
    void this.#sender.drain();
  }

  /**
   * A half-open link shows first as an unanswered keep-alive ping. MQTT.js gives up on the link 1.5× the keep-alive
   * after the last answer; a ping still unanswered a quarter of the keep-alive after it went out marks the link
   * degraded well before that. Any packet from the broker clears it.
   */
  #watchPing(client: MqttClient): void {
    if (this.#pingTimer || !(client.keepalive > 0)) return;
    const waitMs = client.keepalive * 250;
    this.#pingTimer = setTimeout(() => {
      this.#pingTimer = undefined;
      if (client === this.#client) this.status.set("degraded", `no answer to a keep-alive ping within ${waitMs} ms`);
    }, waitMs);
  }

  #heard(client: MqttClient): void {
    clearTimeout(this.#pingTimer);
    this.#pingTimer = undefined;
    if (client === this.#client && this.status.get().state === "degraded")
      this.status.set("connected", this.#connectedReason());
  }

  #connectedReason(): string {
    return `connected to ${this.#options.url} (MQTT ${this.#version === 5 ? "5" : "3.1.1"})`;
  }

  #dropped(client: MqttClient, reasonCode: number | undefined): void {
    if (client !== this.#client) return;
    clearTimeout(this.#pingTimer);
    this.#pingTimer = undefined;
    this.#client = undefined;
    client.removeAllListeners();
    client.on("error", () => {});
    client.end(true);
    this.#sender.requeueInFlight();
    this.#subscriptions.linkLost();
    if (this.#closed) return;
    this.#downSince = Date.now();
    if (this.#policy.dropped(Date.now() - this.#connectedAt, reasonCode)) this.counters.flaps++;
    if (this.#policy.exhausted) {
      const takenOver = reasonCode === SESSION_TAKEN_OVER ? " (session taken over)" : "";
      this.#fatal = new ConnectionError(
        `${this.#label}: stopped after ${this.#policy.flapsInRow} connections in a row were closed by the broker ` +
          `soon after they opened${takenOver}. Another client is probably using the client id "${this.clientId}". ` +
          "Fix: give every client its own clientId.",
      );
      this.status.set("disconnected", this.#fatal.message);
      return;
    }
    this.#schedule(`connection lost${reasonCode ? ` (reason code ${reasonCode})` : ""}`);
  }

  #schedule(why: string): void {
    const delay = this.#policy.nextDelay();
    this.counters.reconnectDelays.push(delay);
    if (this.counters.reconnectDelays.length > 50) this.counters.reconnectDelays.shift();
    this.status.set("connecting", `${why}; reconnecting in ${delay} ms (attempt ${this.#policy.attempt})`);
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.counters.reconnectAttempts++;
      this.#open().catch((error: Error) => {
        if (this.#closed) return;
        this.#policy.failed();
        this.#schedule(`reconnect failed: ${error.message}`);
      });
    }, delay);
  }

  /** Adds a subscription (reference-counted). Sent now when connected, else on the next connection. */
  subscribe(filter: string, qos: QoS): Promise<void> {
    return this.#subscriptions.add(filter, qos, this.#client);
  }

  /** Drops one reference to a subscription; unsubscribes at zero. */
  async unsubscribe(filter: string): Promise<void> {
    if (this.#subscriptions.remove(filter)) await this.#client?.unsubscribeAsync(filter).catch(() => {});
  }

  /** Publishes, or queues while disconnected. Order is kept: nothing overtakes queued messages. */
  publish(topic: string, payload: Buffer | string, options: PublishOptions = {}): Promise<PublishReceipt> {
    return this.#sender.publish(topic, payload, options);
  }

  /** Disconnects and frees every handle. Queued messages stay in the outbox (and its file). */
  async close(): Promise<void> {
    this.#closed = true;
    this.#fatal = undefined;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    clearTimeout(this.#pingTimer);
    this.#pingTimer = undefined;
    const client = this.#client;
    this.#client = undefined;
    this.#sender.requeueInFlight();
    this.#subscriptions.linkLost();
    if (client) {
      client.removeAllListeners();
      client.on("error", () => {});
      // A polite DISCONNECT (so the broker does not publish the will), but MQTT.js waits for unacknowledged
      // messages first: on a dead link that is forever, so it is cut after a second.
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        client.endAsync(false).catch(() => {}),
        new Promise<void>((resolve) => {
          timer = setTimeout(resolve, 1000);
        }),
      ]);
      clearTimeout(timer);
      if (!client.disconnected) client.stream?.destroy();
    }
    this.status.set("disconnected", "closed");
  }
}
