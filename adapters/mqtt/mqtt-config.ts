/**
 * Settings of the MQTT adapter and of its topic sources. Plain interfaces with their defaults; zod validates what
 * comes from files (see mqtt-source-file.ts).
 */

import type { Logger } from "../../src/logger.js";

/** MQTT quality of service. */
export type QoS = 0 | 1 | 2;

/** TLS settings for `mqtts://` and `wss://`. Pass PEM text or Buffers (read the files yourself). */
export interface MqttTlsOptions {
  /** CA certificate(s) that signed the broker's certificate. */
  ca?: string | Buffer | (string | Buffer)[];
  /** Client certificate, for brokers that require one. */
  cert?: string | Buffer;
  /** Client private key, with `cert`. */
  key?: string | Buffer;
  /** Set false only for test brokers with self-signed certificates. @default true */
  rejectUnauthorized?: boolean;
  /** Server name to check the certificate against, when it differs from the URL's host. */
  servername?: string;
}

/** The last will: a message the broker publishes when this client drops without saying goodbye. */
export interface MqttWill {
  topic: string;
  payload: string | Buffer;
  /** @default 1 */
  qos?: QoS;
  /** @default false */
  retain?: boolean;
}

/** Reconnection backoff: the delay doubles from `minMs` to `maxMs`, with random jitter (half to all of it). */
export interface ReconnectOptions {
  /** @default 500 */
  minMs?: number;
  /** @default 30000 */
  maxMs?: number;
  /** A connection that lasts less than this counts as a flap and does not reset the backoff. @default 5000 */
  stableAfterMs?: number;
  /**
   * This many flaps in a row (connections closed by the broker soon after they opened, or "session taken over")
   * stop the adapter with an error: usually two clients share one client id. @default 5
   */
  flapLimit?: number;
}

/** Options of {@link mqtt}. */
export interface MqttOptions {
  /** Broker URL: `mqtt://`, `mqtts://`, `ws://` or `wss://`. @default "mqtt://127.0.0.1:1884" (the embedded broker) */
  url?: string;
  /** Adapter name, used in errors, status and tag-map files. @default "mqtt" */
  name?: string;
  /** Client id; keep it fixed for a persistent session. @default "plantwire-" + random */
  clientId?: string;
  /** MQTT version: 5, or 4 for 3.1.1. When 5 is refused by the broker, 3.1.1 is used. @default 5 */
  protocolVersion?: 5 | 4;
  username?: string;
  password?: string;
  tls?: MqttTlsOptions;
  /** Start a fresh session (true), or resume the broker's stored one (false). @default true */
  cleanStart?: boolean;
  /** MQTT 5: how long the broker keeps the session after a disconnect, in seconds. @default 0, or 3600 without cleanStart */
  sessionExpirySeconds?: number;
  will?: MqttWill;
  /** Keep-alive in seconds. @default 30 */
  keepaliveSeconds?: number;
  /** Longest wait for the broker's CONNACK, in ms. @default 10000 */
  connectTimeoutMs?: number;
  reconnect?: ReconnectOptions;
  /** On a first read of a topic, wait this long for its retained message. @default 500 */
  initialValueWaitMs?: number;
  /** Larger inbound payloads are rejected as decode errors (bytes). @default 262144 */
  maxPayloadBytes?: number;
  /** Store-and-forward queue for publications made while disconnected. @default in memory, 10000 messages */
  outbox?: OutboxOptions;
  /** The clock used for message expiry, for tests and accelerated simulations. @default Date.now */
  now?: () => number;
  /**
   * Where this adapter logs: connections, reconnections and flapping at debug. Any object with debug/info/warn/error
   * (console, pino, winston). @default the plant's logger, else PLANTWIRE_LOG on stderr
   */
  logger?: Logger;
}

/** Store-and-forward settings. */
export interface OutboxOptions {
  /** Most messages kept; when full, the oldest is dropped and counted. @default 10000 */
  maxMessages?: number;
  /** A JSON-lines file that holds the queue, so a process restart loses nothing. @default none (memory only) */
  file?: string;
}

/** How a command-topic write works. */
export interface CommandOptions {
  /** Topic the command is published to. */
  topic: string;
  /** Where the device answers. Without it, writes are fire-and-forget ("written" once the broker has it). */
  responseTopic?: string;
  /** Longest wait for the device's answer; then the outcome is "unknown". @default 5000 */
  timeoutMs?: number;
  /** @default 1 */
  qos?: QoS;
  /** MQTT 5 message expiry: the broker drops the command if not delivered within this many seconds. @default 10 */
  expirySeconds?: number;
  /**
   * After a command went out (and the device said ok, with a response topic), how long to wait for the device to
   * report its state on the tag's topic. Without a report by then the write's read-back is `unverified`: the value
   * on the topic is from before the command and says nothing about it. @default 1000
   */
  reportWaitMs?: number;
}

/** Options of `bus.topic()`. */
export interface TopicSourceOptions {
  /** JSON pointer to the value inside a JSON payload, e.g. "/rms". Without it, the whole payload is the value. */
  path?: string;
  /** JSON pointer to the source timestamp (ms since the epoch, or ISO 8601 text). */
  timestampPath?: string;
  /** Subscription QoS. @default 1 */
  qos?: QoS;
  /** Makes the tag writable through a command topic. */
  command?: CommandOptions;
}

/** The address of an MQTT tag. */
export interface MqttAddress {
  /** Topic filter (wildcards allowed: the tag takes the latest message on any matching topic). */
  readonly topic: string;
  readonly path?: string;
  readonly timestampPath?: string;
  readonly qos: QoS;
  readonly command?: CommandOptions;
}
