/**
 * Writes over MQTT: a tag's value is published to its command topic. With a response topic the device answers
 * (request/response, matched by a correlation id: MQTT 5 correlation data, or the JSON field on 3.1.1); without one
 * the write is fire-and-forget. Single attempt, never retried; no answer in time means outcome "unknown".
 */
import { randomUUID } from "node:crypto";
import type { BoundTag, WriteResult } from "../../src/adapter.js";
import { ConnectionError, ProtocolError, TimeoutError, UnsupportedError, ValidationError } from "../../src/errors.js";
import type { MqttAddress } from "./mqtt-config.js";
import type { MqttConnection } from "./mqtt-connection.js";
import { commandResponseSchema } from "./mqtt-schemas.js";
import { jsonCommandValue } from "./mqtt-wire-values.js";

interface Pending {
  resolve(result: WriteResult): void;
  timer: NodeJS.Timeout;
  tag: string;
}

/** Sends command-topic writes and matches the answers. */
export class CommandWriter {
  readonly #connection: MqttConnection;
  readonly #name: string;
  readonly #pending = new Map<string, Pending>();
  readonly #responseTopics = new Set<string>();

  constructor(connection: MqttConnection, name: string) {
    this.#connection = connection;
    this.#name = name;
    connection.onMessage((topic, payload, packet) => {
      if (!this.#responseTopics.has(topic)) return;
      let body: unknown;
      try {
        body = JSON.parse(payload.toString("utf8"));
      } catch {
        return;
      }
      const parsed = commandResponseSchema.safeParse(body);
      if (!parsed.success) return;
      const data = packet.properties?.correlationData;
      const id = data ? Buffer.from(data).toString("utf8") : parsed.data.correlationId;
      const pending = id === undefined ? undefined : this.#pending.get(id);
      if (!pending || id === undefined) return;
      this.#pending.delete(id);
      clearTimeout(pending.timer);
      pending.resolve(
        parsed.data.ok
          ? { outcome: "written", time: Date.now() }
          : {
              outcome: "failed",
              error: new ProtocolError(
                `the device refused the write of "${pending.tag}": ${parsed.data.error ?? "no reason given"}`,
              ),
              time: Date.now(),
            },
      );
    });
  }

  /** Writes one value once. */
  async write(tag: BoundTag<MqttAddress>, value: unknown): Promise<WriteResult> {
    const failed = (error: Error): WriteResult => ({ outcome: "failed", error, time: Date.now() });
    const command = tag.address.command;
    if (!command) {
      return failed(
        new UnsupportedError(
          `tag "${tag.name}" on MQTT adapter "${this.#name}" has no command topic. Fix: give its source { command: { topic } }`,
        ),
      );
    }
    const coerced = jsonCommandValue(tag.definition, value);
    if ("problem" in coerced) {
      return failed(new ValidationError(`write of "${tag.name}": ${coerced.problem}`, { field: tag.name }));
    }
    if (!this.#connection.client) {
      return failed(new ConnectionError(`MQTT adapter "${this.#name}" is not connected; the write was not sent`));
    }
    const correlationId = randomUUID();
    const body: Record<string, unknown> = { value: coerced.value, tag: tag.name, time: Date.now() };
    const properties: Record<string, unknown> = {};
    if (command.responseTopic) {
      body.correlationId = correlationId;
      body.responseTopic = command.responseTopic;
      properties.responseTopic = command.responseTopic;
      properties.correlationData = Buffer.from(correlationId);
      if (!this.#responseTopics.has(command.responseTopic)) {
        // Once confirmed, the connection keeps the subscription and restores it after a reconnect.
        try {
          await this.#connection.subscribe(command.responseTopic, 1);
          this.#responseTopics.add(command.responseTopic);
        } catch (error) {
          // Without the answer's subscription the command is not sent: its outcome could never be known.
          return failed(
            new ConnectionError(
              `MQTT adapter "${this.#name}": the broker did not confirm the subscription to ${command.responseTopic} ` +
                `(${(error as Error).message}); the write of "${tag.name}" was not sent`,
              { cause: error },
            ),
          );
        }
      }
    }
    const timeoutMs = command.timeoutMs ?? 5000;
    const answered = command.responseTopic
      ? new Promise<WriteResult>((resolve) => {
          const timer = setTimeout(() => {
            this.#pending.delete(correlationId);
            resolve({
              outcome: "unknown",
              error: new TimeoutError(
                `no answer to the write of "${tag.name}" on ${command.responseTopic} within ${timeoutMs} ms; ` +
                  "read the tag back before trying again",
                timeoutMs,
              ),
              time: Date.now(),
            });
          }, timeoutMs);
          this.#pending.set(correlationId, { resolve, timer, tag: tag.name });
        })
      : undefined;
    let receipt: string;
    try {
      // Single attempt: never queued for a later connection, never sent again after a link that dropped under it.
      receipt = await this.#connection.publish(command.topic, JSON.stringify(body), {
        qos: command.qos ?? 1,
        expirySeconds: command.expirySeconds ?? 10,
        properties,
        storeAndForward: false,
      });
    } catch (error) {
      this.#forget(correlationId);
      return { outcome: "unknown", error: error as Error, time: Date.now() };
    }
    if (receipt === "dropped") {
      this.#forget(correlationId);
      return failed(
        new ConnectionError(
          `MQTT adapter "${this.#name}" lost its connection; the write of "${tag.name}" was not sent`,
        ),
      );
    }
    if (answered) return answered;
    return receipt === "sent"
      ? { outcome: "written", time: Date.now() }
      : {
          outcome: "unknown",
          error: new ConnectionError(
            `the link dropped before the broker acknowledged the write of "${tag.name}"; it is not sent again. ` +
              "Read the tag back before trying again",
          ),
          time: Date.now(),
        };
  }

  #forget(correlationId: string): void {
    const pending = this.#pending.get(correlationId);
    if (pending) clearTimeout(pending.timer);
    this.#pending.delete(correlationId);
  }

  /** Settles pending writes as unknown and stops listening. */
  close(): void {
    for (const [id, pending] of this.#pending) {
      clearTimeout(pending.timer);
      pending.resolve({
        outcome: "unknown",
        error: new ConnectionError(`the adapter closed before the device answered the write of "${pending.tag}"`),
        time: Date.now(),
      });
      this.#pending.delete(id);
    }
  }
}
