/**
 * The device identity of an MQTT or Sparkplug B tag, for the guard's one-writer-per-device locks: the broker and the
 * command topic (or the Sparkplug edge node and device) a write is published to.
 */
import { deviceAuthority } from "../../src/guard/device-locks.js";
import type { MqttAddress } from "./mqtt-config.js";
import type { SparkplugAddress } from "./mqtt-sparkplug-host.js";

/** The broker URL used when none is given (the embedded broker). */
const defaultBrokerUrl = "mqtt://127.0.0.1:1884";

/** The port of each URL scheme MQTT.js accepts, when the URL names none. */
const defaultPorts: Readonly<Record<string, number>> = {
  "mqtt:": 1883,
  "tcp:": 1883,
  "mqtts:": 8883,
  "ssl:": 8883,
  "tls:": 8883,
  "ws:": 80,
  "wss:": 443,
};

/** `<host>:<port>` of a broker URL: no user, no password, no path; the host lower-cased. */
function brokerAuthority(url: string | undefined): string {
  const parsed = new URL(url ?? defaultBrokerUrl);
  const port = parsed.port ? Number(parsed.port) : (defaultPorts[parsed.protocol] ?? 1883);
  return deviceAuthority(parsed.hostname, port);
}

/**
 * `mqtt://<host>:<port>/<command topic>`: the device is whatever listens on the topic the write is published to. A
 * tag without a command topic has no write path; its own topic names it.
 */
export function mqttDevice(url: string | undefined, address: MqttAddress): string {
  return `mqtt://${brokerAuthority(url)}/${address.command?.topic ?? address.topic}`;
}

/**
 * `mqtt://<host>:<port>/spBv1.0/<group>/<edge node>[/<device>]`: the edge node (or the device behind it) that an
 * NCMD (or DCMD) is addressed to.
 */
export function sparkplugDevice(url: string | undefined, group: string, address: SparkplugAddress): string {
  const device = address.device ? `/${address.device}` : "";
  return `mqtt://${brokerAuthority(url)}/spBv1.0/${group}/${address.node}${device}`;
}
