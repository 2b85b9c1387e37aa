/**
 * Message outputs: the channel through which model-produced messages leave over MQTT, held and sent only by the
 * write guard (which adds size, rate, approval and the audit). The allowed topics are fixed when the output is made
 * and may never reach a command topic or the Sparkplug command namespace. Sending uses the internal connection, once,
 * never queued for later: a message the guard recorded as sent must have reached the broker.
 */
import { ConfigError, ConnectionError, ValidationError } from "../../src/errors.js";
import type { OutputChannel } from "../../src/output-channel.js";
import type { CommandTopics } from "./mqtt-command-topics.js";
import type { QoS } from "./mqtt-config.js";
import type { MqttConnection } from "./mqtt-connection.js";
import { mqttDevice } from "./mqtt-device.js";
import { topicMatches, topicNameProblem } from "./mqtt-topic.js";

/** Options of `bus.messageOutput()`. */
export interface MessageOutputOptions {
  /** The topics the output may send to: MQTT topics or filters (`+` and `#` allowed). None may reach a command. */
  readonly topics: readonly string[];
  /** @default 1 (the guard's send resolves when the broker acknowledged) */
  readonly qos?: QoS;
  /** @default false */
  readonly retain?: boolean;
}

/** One message of a message output: its topic, and text or a JSON object as the payload. */
export interface OutputMessage {
  readonly topic: string;
  readonly payload: string | Record<string, unknown>;
}

/** What a message output needs from its adapter. */
export interface MessageOutputContext {
  readonly adapterName: string;
  readonly url: string;
  readonly connection: MqttConnection;
  readonly commandTopics: CommandTopics;
}

function payloadText(payload: OutputMessage["payload"]): string {
  return typeof payload === "string" ? payload : JSON.stringify(payload);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const prototype = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

/** Builds a message output; throws a ConfigError when an allowed topic is invalid or reaches a command. */
export function createMessageOutput(
  context: MessageOutputContext,
  options: MessageOutputOptions,
): OutputChannel<OutputMessage> {
  const topics = Object.freeze(Array.isArray(options?.topics) ? [...options.topics] : []);
  context.commandTopics.assertOutputTopics(topics);
  const qos = options?.qos ?? 1;
  if (qos !== 0 && qos !== 1 && qos !== 2) {
    throw new ConfigError([
      { path: "messageOutput.qos", message: `${String(qos)} is not a QoS`, fix: "use 0, 1 or 2" },
    ]);
  }
  const retain = options?.retain ?? false;
  // The same identity a tag's command topic gets (mqtt-device.ts), so a guard locking either locks the same thing.
  const device = mqttDevice(context.url, { topic: [...topics].sort().join(","), qos });
  const where = `MQTT adapter "${context.adapterName}"`;

  const check = (item: unknown): string[] => {
    if (!isPlainObject(item)) return ["a message is an object { topic, payload }"];
    const problems: string[] = [];
    const extra = Object.keys(item).filter((key) => key !== "topic" && key !== "payload");
    if (extra.length > 0) problems.push(`unknown field(s) ${extra.join(", ")}: a message has only topic and payload`);
    const { topic, payload } = item;
    if (typeof topic !== "string") problems.push("topic is not a string");
    else {
      const invalid = topicNameProblem(topic);
      if (invalid !== undefined) problems.push(`topic ${JSON.stringify(topic)} ${invalid}`);
      else if (!topics.some((filter) => topicMatches(filter, topic))) {
        problems.push(`topic ${JSON.stringify(topic)} is outside the allowed topics ${topics.join(", ")}`);
      } else {
        // Checked again per message: a command topic may have been declared after the output was made.
        const refusal = context.commandTopics.refusal(topic);
        if (refusal !== undefined) problems.push(`topic ${JSON.stringify(topic)} ${refusal}`);
      }
    }
    if (typeof payload === "string") return problems;
    if (!isPlainObject(payload)) problems.push("payload is neither text nor a JSON object");
    else {
      try {
        JSON.stringify(payload);
      } catch (error) {
        problems.push(`payload cannot be written as JSON: ${(error as Error).message}`);
      }
    }
    return problems;
  };

  return Object.freeze({
    kind: "message" as const,
    label: `mqtt ${context.adapterName} → ${topics.join(", ")}`,
    device,
    check,
    size: (item: OutputMessage) => Buffer.byteLength(payloadText(item.payload)),
    async send(item: OutputMessage): Promise<void> {
      const problems = check(item);
      if (problems.length > 0) {
        throw new ValidationError(`${where}: the message was not sent: ${problems.join("; ")}`, { field: "topic" });
      }
      const json = typeof item.payload !== "string";
      const v5json = json && context.connection.protocolVersion === 5;
      const receipt = await context.connection.publish(item.topic, Buffer.from(payloadText(item.payload)), {
        qos,
        retain,
        storeAndForward: false,
        ...(v5json ? { properties: { contentType: "application/json" } } : {}),
      });
      if (receipt === "sent") return;
      throw new ConnectionError(
        receipt === "unconfirmed"
          ? `${where}: the link dropped before the broker acknowledged the message to ${item.topic}; it may have ` +
              "arrived and is not sent again"
          : `${where} is not connected; the message to ${item.topic} was not sent`,
      );
    },
  });
}
