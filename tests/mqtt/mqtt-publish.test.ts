import type { MqttClient } from "mqtt";
import { badSample, defineTags, float, goodSample, integer, Snapshot, text, Window } from "plantwire";
import {
  type EmbeddedBroker,
  eventMessageSchema,
  type MqttAdapter,
  mqtt,
  resultMessageSchema,
  snapshotMessageSchema,
  startBroker,
  windowMessageSchema,
} from "plantwire/mqtt";
import { waitFor } from "plantwire/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { serviceSkipReason, services } from "../support/services.js";
import { rawClient, uniquePrefix } from "./mqtt-fixture.js";

async function collect(client: MqttClient, filter: string) {
  const messages: { topic: string; payload: Buffer; retain: boolean; properties: Record<string, unknown> }[] = [];
  client.on("message", (topic, payload, packet) =>
    messages.push({ topic, payload, retain: packet.retain, properties: (packet.properties ?? {}) as never }),
  );
  await client.subscribeAsync(filter, { qos: 1 });
  return messages;
}

describe("publishing on the embedded broker", () => {
  let broker: EmbeddedBroker;
  let bus: MqttAdapter;
  let consumer: MqttClient;
  const prefix = uniquePrefix("publish");
  let received: Awaited<ReturnType<typeof collect>>;

  beforeAll(async () => {
    broker = await startBroker({ port: 0 });
    bus = mqtt({ url: broker.url });
    await bus.connect();
    consumer = await rawClient(broker.url);
    received = await collect(consumer, `${prefix}/#`);
  });
  afterAll(async () => {
    await consumer.endAsync();
    await bus.close();
    await broker.close();
  });

  const tags = defineTags({
    flow: float({ resolution: 0.1, deadband: 0.5, source: mqtt().topic("x/flow") }),
    count: integer({ source: mqtt().topic("x/count") }),
    alarm: text({ maxLength: 40, source: mqtt().topic("x/alarm") }),
  });

  it("batches a snapshot's tags into one message, then only the changed ones, in the documented shape", async () => {
    const first = new Snapshot(
      tags,
      new Map([
        ["flow", goodSample(12.345, 1000, 900)],
        ["count", goodSample(3, 1000)],
        ["alarm", badSample("comm-failure", "down", 1000)],
      ]),
      1000,
    );
    const outcome = await bus.publishSnapshot(`${prefix}/snap`, first, { qos: 1, retain: true, changedOnly: true });
    expect(outcome).toMatchObject({ receipt: "sent", tags: 3 });
    const second = new Snapshot(
      tags,
      new Map([
        ["flow", goodSample(12.6, 2000)],
        ["count", goodSample(4, 2000)],
        ["alarm", badSample("comm-failure", "down", 2000)],
      ]),
      2000,
    );
    expect((await bus.publishSnapshot(`${prefix}/snap`, second, { changedOnly: true })).tags).toBe(1);
    expect((await bus.publishSnapshot(`${prefix}/snap`, second, { changedOnly: true })).receipt).toBe("skipped");
    expect(await waitFor(() => received.filter((message) => message.topic.endsWith("/snap")).length === 2)).toBe(true);
    const [one, two] = received.filter((message) => message.topic.endsWith("/snap"));
    const parsed = snapshotMessageSchema.parse(JSON.parse(one!.payload.toString()));
    expect(parsed).toEqual({
      kind: "snapshot",
      time: 1000,
      tags: {
        flow: { v: 12.3, q: "good", t: 900 },
        count: { v: 3, q: "good" },
        alarm: { q: "bad", r: "comm-failure" },
      },
    });
    expect(snapshotMessageSchema.parse(JSON.parse(two!.payload.toString())).tags).toEqual({
      count: { v: 4, q: "good" },
    });
  });

  it("publishes windows, events and results that parse with the exported schemas", async () => {
    const window = new Window(tags, new Map([["flow", [goodSample(1.04, 10), badSample("timeout", "x", 20)]]]), 0, 30);
    await bus.publishWindow(`${prefix}/window`, window);
    await bus.publishEvent(`${prefix}/event`, {
      type: "alarm",
      severity: "alarm",
      message: "high flow",
      tags: ["flow"],
    });
    await bus.publishResult(`${prefix}/result`, {
      source: "advisor",
      result: { speed: 1200 },
      reason: "lower vibration",
    });
    expect(await waitFor(() => received.length >= 5)).toBe(true);
    const byTopic = (suffix: string) => JSON.parse(received.find((m) => m.topic.endsWith(suffix))!.payload.toString());
    expect(windowMessageSchema.parse(byTopic("/window")).series.flow).toEqual([
      [10, 1],
      [20, null, "timeout"],
    ]);
    expect(eventMessageSchema.parse(byTopic("/event"))).toMatchObject({ type: "alarm", tags: ["flow"] });
    expect(resultMessageSchema.parse(byTopic("/result"))).toMatchObject({ result: { speed: 1200 } });
  });

  it("refuses a wildcard topic to publish to, and drops QoS 0 while offline (no offline queue for QoS 0)", async () => {
    await expect(bus.publishEvent(`${prefix}/+/x`, { type: "x" })).rejects.toThrow(/wildcard/);
    const offline = mqtt({ url: broker.url });
    expect(await offline.publish(`${prefix}/q0`, "x", { qos: 0 })).toBe("dropped");
    expect(await offline.publish(`${prefix}/q1`, "x", { qos: 1 })).toBe("queued");
    expect(offline.stats()).toMatchObject({ droppedOffline: 1, queuedNow: 1 });
    await offline.connect();
    expect(await waitFor(() => received.some((message) => message.topic.endsWith("/q1")))).toBe(true);
    expect(received.some((message) => message.topic.endsWith("/q0"))).toBe(false);
    await offline.close();
  });
});

const skip = await serviceSkipReason("mosquitto");
describe.skipIf(skip !== undefined)(`MQTT 5 publication properties on Mosquitto${skip ? ` (${skip})` : ""}`, () => {
  it("sends message expiry and content type as MQTT 5 properties", async () => {
    const prefix = uniquePrefix("publish5");
    const consumer = await rawClient(services.mosquitto.url, { protocolVersion: 5 });
    const received = await collect(consumer, `${prefix}/#`);
    const bus = mqtt({ url: services.mosquitto.url });
    await bus.connect();
    expect(bus.connection.protocolVersion).toBe(5);
    await bus.publishEvent(`${prefix}/event`, { type: "x" }, { qos: 1, expirySeconds: 30 });
    expect(await waitFor(() => received.length === 1)).toBe(true);
    expect(received[0]!.properties.contentType).toBe("application/json");
    expect(received[0]!.properties.messageExpiryInterval).toBeGreaterThan(0);
    expect(received[0]!.properties.messageExpiryInterval).toBeLessThanOrEqual(30);
    await bus.close();
    await consumer.endAsync();
  });
});
