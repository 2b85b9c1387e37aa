import type { MqttClient } from "mqtt";
import { type BoundTag, defineTags, float } from "plantwire";
import { type EmbeddedBroker, type MqttAdapter, type MqttAddress, mqtt, startBroker } from "plantwire/mqtt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { serviceSkipReason, services } from "../support/services.js";
import { rawClient, uniquePrefix } from "./mqtt-fixture.js";

function bind(bus: MqttAdapter, prefix: string) {
  const tags = defineTags({
    answered: float({
      source: bus.topic(`${prefix}/a`, {
        // Long enough for the SUBACK and a round trip through a busy broker: this one is meant to be answered.
        command: { topic: `${prefix}/a/set`, responseTopic: `${prefix}/a/ack`, timeoutMs: 5000 },
      }),
      write: {},
    }),
    silent: float({
      source: bus.topic(`${prefix}/s`, {
        command: { topic: `${prefix}/s/set`, responseTopic: `${prefix}/s/ack`, timeoutMs: 300 },
      }),
      write: {},
    }),
    fireAndForget: float({ source: bus.topic(`${prefix}/f`, { command: { topic: `${prefix}/f/set` } }), write: {} }),
    readOnly: float({ source: bus.topic(`${prefix}/r`) }),
  });
  return Object.fromEntries(
    Object.entries(tags).map(([name, definition]) => [
      name,
      { name, definition, address: definition.source.address as MqttAddress },
    ]),
  ) as Record<keyof typeof tags, BoundTag<MqttAddress>>;
}

/** A device that refuses values above 100, answering by MQTT 5 correlation data or the JSON correlation id. */
async function device(url: string, prefix: string, version: 4 | 5) {
  const client = await rawClient(url, { protocolVersion: version });
  const commands: { topic: string; body: Record<string, unknown>; properties: Record<string, unknown> }[] = [];
  await client.subscribeAsync(`${prefix}/+/set`, { qos: 1 });
  client.on("message", (topic, payload, packet) => {
    const body = JSON.parse(payload.toString()) as { value: number; correlationId?: string };
    commands.push({ topic, body, properties: (packet.properties ?? {}) as never });
    if (!topic.endsWith("/a/set")) return;
    const answer = body.value > 100 ? { ok: false, error: "above 100" } : { ok: true };
    const correlationData = packet.properties?.correlationData;
    const options = correlationData ? { qos: 1 as const, properties: { correlationData } } : { qos: 1 as const };
    const reply = correlationData ? answer : { ...answer, correlationId: body.correlationId };
    void client.publishAsync(`${prefix}/a/ack`, JSON.stringify(reply), options);
  });
  return { client, commands };
}

describe("writes through command topics (embedded broker, MQTT 3.1.1)", () => {
  let broker: EmbeddedBroker;
  let bus: MqttAdapter;
  let peer: { client: MqttClient; commands: { topic: string; body: Record<string, unknown> }[] };
  const prefix = uniquePrefix("write");
  let tags: ReturnType<typeof bind>;

  beforeAll(async () => {
    broker = await startBroker({ port: 0 });
    bus = mqtt({ url: broker.url });
    tags = bind(bus, prefix);
    peer = await device(broker.url, prefix, 4);
    await bus.connect();
    expect(bus.connection.protocolVersion).toBe(4);
  });
  afterAll(async () => {
    await peer.client.endAsync();
    await bus.close();
    await broker.close();
  });

  it("answered writes are written or failed by the device's answer, matched by correlation id", async () => {
    expect((await bus.write!(tags.answered, 50)).outcome).toBe("written");
    // Garbage and strangers' answers on the response topic are ignored, never a crash or a wrong match.
    for (const junk of [
      "not json",
      '{"ok":"yes"}',
      '{"correlationId":5,"ok":true}',
      '{"correlationId":"x","ok":true}',
    ]) {
      await peer.client.publishAsync(`${prefix}/a/ack`, junk, { qos: 1 });
    }
    const refused = await bus.write!(tags.answered, 150);
    expect(refused.outcome).toBe("failed");
    expect(refused.error?.message).toContain("above 100");
    expect(
      peer.commands.filter((command) => command.topic.endsWith("/a/set")).map((command) => command.body.value),
    ).toEqual([50, 150]);
  });

  it("no answer in time is outcome unknown, sent exactly once; fire-and-forget is written once the broker has it", async () => {
    const silent = await bus.write!(tags.silent, 7);
    expect(silent.outcome).toBe("unknown");
    expect(silent.error?.name).toBe("TimeoutError");
    expect((await bus.write!(tags.fireAndForget, 8)).outcome).toBe("written");
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(peer.commands.filter((command) => command.topic.endsWith("/s/set"))).toHaveLength(1);
    expect(peer.commands.filter((command) => command.topic.endsWith("/f/set"))).toHaveLength(1);
  });

  it("does not send a command whose answer the broker will not let it hear, and says why", async () => {
    const refused = uniquePrefix("refused");
    const denied = defineTags({
      guarded: float({
        source: bus.topic(`${refused}/g`, {
          command: { topic: `${prefix}/g/set`, responseTopic: `${refused}/g/ack`, timeoutMs: 300 },
        }),
        write: {},
      }),
    });
    const tag = { name: "guarded", definition: denied.guarded, address: denied.guarded.source.address as MqttAddress };
    const aedes = broker.aedes as unknown as {
      authorizeSubscribe: (
        client: unknown,
        sub: { topic: string },
        done: (error: Error | null, sub?: unknown) => void,
      ) => void;
    };
    const allow = aedes.authorizeSubscribe;
    aedes.authorizeSubscribe = (client, sub, done) =>
      sub.topic.startsWith(refused) ? done(null, null) : allow(client, sub, done);
    try {
      const before = peer.commands.length;
      for (const attempt of [1, 2]) {
        const result = await bus.write!(tag, 7);
        expect(result.outcome, `attempt ${attempt}`).toBe("failed");
        expect(result.error?.message).toMatch(new RegExp(`subscription to ${refused}/g/ack .*was not sent`));
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(peer.commands.length).toBe(before);
    } finally {
      aedes.authorizeSubscribe = allow;
    }
  });

  it("refuses, without sending, a mistyped value, a tag without a command topic, and any write while disconnected", async () => {
    const before = peer.commands.length;
    expect((await bus.write!(tags.answered, "fast")).error?.name).toBe("ValidationError");
    expect((await bus.write!(tags.readOnly, 1)).error?.name).toBe("UnsupportedError");
    const offline = mqtt({ url: broker.url });
    const result = await offline.write!(bind(offline, prefix).answered, 5);
    expect(result.outcome).toBe("failed");
    expect(result.error?.message).toContain("not sent");
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(peer.commands.length).toBe(before);
  });
});

const skip = await serviceSkipReason("mosquitto");
describe.skipIf(skip !== undefined)(
  `writes on Mosquitto with MQTT 5 correlation data${skip ? ` (${skip})` : ""}`,
  () => {
    it("sends response topic, correlation data and message expiry as properties, and matches the answer by them", async () => {
      const prefix = uniquePrefix("write5");
      const peer = await device(services.mosquitto.url, prefix, 5);
      const bus = mqtt({ url: services.mosquitto.url });
      const tags = bind(bus, prefix);
      await bus.connect();
      expect((await bus.write!(tags.answered, 42)).outcome).toBe("written");
      const [command] = peer.commands;
      expect(command?.properties.responseTopic).toBe(`${prefix}/a/ack`);
      expect(Buffer.isBuffer(command?.properties.correlationData)).toBe(true);
      expect(command?.properties.messageExpiryInterval).toBeGreaterThan(0);
      await bus.close();
      await peer.client.endAsync();
    });
  },
);
