/**
 * An audit anchor on a retained MQTT topic: each published head replaces the retained message (QoS 1, acknowledged
 * by the broker), and the latest head is whatever the broker retains. Use a topic only the guard's user may publish
 * to (broker ACLs), or anyone could replace the evidence.
 */
import { type AnchoredHead, type AuditAnchor, ConfigError, ConnectionError, ValidationError } from "../../src/index.js";
import type { MqttAdapter } from "./mqtt-adapter.js";
import { topicFilterProblem } from "./mqtt-topic.js";

/** Options of {@link mqttAuditAnchor}. */
export interface MqttAuditAnchorOptions {
  /** The retained topic the head goes to, e.g. "plantwire/pump-station/audit-head". No wildcards. */
  topic: string;
  /** How long `latest()` waits for the retained message before concluding there is none, in ms. @default 2000 */
  waitMs?: number;
}

const hashPattern = /^[0-9a-f]{64}$/;

/** Parses a retained anchor message; throws a ValidationError naming the topic when it is not a head. */
function parseHead(topic: string, payload: Buffer): AnchoredHead {
  let value: Partial<Record<keyof AnchoredHead, unknown>>;
  try {
    value = JSON.parse(payload.toString("utf8")) as typeof value;
  } catch {
    value = {};
  }
  const { file, seq, hash, time } = value ?? {};
  if (
    typeof file !== "string" ||
    !Number.isSafeInteger(seq) ||
    typeof hash !== "string" ||
    !hashPattern.test(hash) ||
    typeof time !== "string"
  ) {
    throw new ValidationError(
      `the retained message on ${topic} is not an audit head ({ file, seq, hash, time }). Fix: check who else publishes to that topic`,
      { field: "topic" },
    );
  }
  return { file, seq: seq as number, hash, time };
}

/** An audit anchor that keeps the log's head as the retained message of `topic` on the adapter's broker. */
export function mqttAuditAnchor(adapter: MqttAdapter, options: MqttAuditAnchorOptions): AuditAnchor {
  const { topic } = options;
  const waitMs = options.waitMs ?? 2000;
  if (topic.length === 0 || /[+#]/.test(topic) || topicFilterProblem(topic) !== undefined) {
    throw new ConfigError([
      {
        path: "topic",
        message: `${JSON.stringify(topic)} is not a topic to publish to`,
        fix: "give a topic without + or #",
      },
    ]);
  }
  const label = `MQTT adapter "${adapter.name}" retained topic ${topic}`;
  return {
    label,
    async publish(head) {
      await adapter.connect();
      // Sent now or reported: a head queued for later could land after a newer one.
      const receipt = await adapter.publish(topic, JSON.stringify(head), {
        qos: 1,
        retain: true,
        storeAndForward: false,
      });
      if (receipt !== "sent") {
        throw new ConnectionError(`${label}: the head of record ${head.seq} was not acknowledged (${receipt})`);
      }
    },
    async latest() {
      await adapter.connect();
      let stop = () => {};
      const arrived = new Promise<Buffer | undefined>((resolve) => {
        const timer = setTimeout(() => resolve(undefined), waitMs);
        const off = adapter.connection.onMessage((received, payload) => {
          if (received === topic) resolve(payload);
        });
        stop = () => {
          clearTimeout(timer);
          off();
        };
      });
      try {
        await adapter.connection.subscribe(topic, 1);
        const payload = await arrived;
        // An empty retained message is how a retained topic is cleared: nothing anchored.
        return payload === undefined || payload.length === 0 ? undefined : parseHead(topic, payload);
      } finally {
        stop();
        await adapter.connection.unsubscribe(topic);
      }
    },
  };
}
