/**
 * Host writes in Sparkplug B: an NCMD (node metric) or DCMD (device metric) with the metric's name and new value.
 * Sparkplug commands have no acknowledgement, so the write counts as "written" only when the node reports the new
 * value in its data; otherwise, after the timeout, "unknown". Sent once, never retried.
 */
import type { BoundTag, WriteResult } from "../../src/adapter.js";
import { ConnectionError, TimeoutError, ValidationError } from "../../src/errors.js";
import { coerceToTag } from "./mqtt-codec.js";
import type { MqttConnection } from "./mqtt-connection.js";
import { type SparkplugCodec, sparkplugTopic } from "./mqtt-sparkplug-codec.js";
import type { SparkplugAddress } from "./mqtt-sparkplug-host.js";
import { sameInSparkplug, sparkplugWireValue } from "./mqtt-wire-values.js";

/** A write waiting for the node to report its value. */
export interface WriteWaiter {
  readonly address: SparkplugAddress;
  /** Called with the metric's current value whenever the node reports; returns true when the write is confirmed. */
  check(value: unknown): boolean;
}

/** Sends one command and waits for the value to come back in the node's data. */
export async function writeMetric(
  context: {
    codec: SparkplugCodec | undefined;
    connection: MqttConnection;
    group: string;
    timeoutMs: number;
    waiters: Set<WriteWaiter>;
    /** The metric's datatype as the node's birth declared it (else plantwire's mapping of the tag). */
    datatype: string;
  },
  tag: BoundTag<SparkplugAddress>,
  value: unknown,
): Promise<WriteResult> {
  const coerced = coerceToTag(tag.definition, value);
  const wire = "problem" in coerced ? coerced : sparkplugWireValue(tag.definition, context.datatype, value);
  if ("problem" in coerced || "problem" in wire) {
    const problem = "problem" in coerced ? coerced.problem : (wire as { problem: string }).problem;
    const error = new ValidationError(`write of "${tag.name}": ${problem}`, { field: tag.name });
    return { outcome: "failed", error, time: Date.now() };
  }
  const { codec, connection, group, timeoutMs, waiters } = context;
  if (!codec || !connection.client) {
    const error = new ConnectionError(`Sparkplug host for group "${group}" is not connected; the write was not sent`);
    return { outcome: "failed", error, time: Date.now() };
  }
  const { node, device, metric } = tag.address;
  const payload = codec.encode({
    timestamp: Date.now(),
    // Commands keep their datatype: nodes built on Tahu's libraries read a value only through it.
    metrics: [
      {
        name: metric,
        type: context.datatype as "Double",
        value: (wire as { value: number }).value,
        timestamp: Date.now(),
      },
    ],
  });
  return new Promise<WriteResult>((resolve) => {
    const waiter: WriteWaiter = {
      address: tag.address,
      check(current) {
        const reported = coerceToTag(tag.definition, current);
        if (!("value" in reported)) return false;
        const same =
          sameInSparkplug(context.datatype, coerced.value, reported.value) ?? Object.is(reported.value, coerced.value);
        if (!same) return false;
        finish({ outcome: "written", time: Date.now() });
        return true;
      },
    };
    const timer = setTimeout(() => {
      const where = `${group}/${node}${device ? `/${device}` : ""}`;
      const error = new TimeoutError(
        `${where} did not report "${metric}" = ${String(coerced.value)} within ${timeoutMs} ms after the command; ` +
          "read the tag back before trying again",
        timeoutMs,
      );
      finish({ outcome: "unknown", error, time: Date.now() });
    }, timeoutMs);
    const finish = (result: WriteResult) => {
      clearTimeout(timer);
      waiters.delete(waiter);
      resolve(result);
    };
    waiters.add(waiter);
    const topic = sparkplugTopic(group, device ? "DCMD" : "NCMD", node, device);
    connection.publish(topic, Buffer.from(payload), { qos: 0 }).then(
      (receipt) => {
        if (receipt !== "sent")
          finish({ outcome: "failed", error: new ConnectionError("the command was not sent"), time: Date.now() });
      },
      (error: Error) => finish({ outcome: "unknown", error, time: Date.now() }),
    );
  });
}
