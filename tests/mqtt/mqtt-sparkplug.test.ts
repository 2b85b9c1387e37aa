import { randomBytes } from "node:crypto";
import fc from "fast-check";
import type { MqttClient } from "mqtt";
import { boolean, defineTags, enumeration, float, goodSample, integer, type Sample } from "plantwire";
import {
  type EmbeddedBroker,
  loadSparkplugCodec,
  mqtt,
  type SparkplugCodec,
  sparkplugEdgeNode,
  sparkplugHost,
  startBroker,
  topicMatches,
} from "plantwire/mqtt";
import { waitFor } from "plantwire/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { serviceSkipReason, services } from "../support/services.js";
import { rawClient } from "./mqtt-fixture.js";
import { ReferenceDecoder, type ReferencePayload } from "./sparkplug-reference-decoder.js";

const placeholder = mqtt();
const tags = defineTags({
  speed: float({ unit: "rpm", range: [0, 1800], deadband: 5, source: placeholder.topic("x/speed") }),
  running: boolean({ source: placeholder.topic("x/running") }),
  mode: enumeration({ states: { OFF: 0, AUTO: 1 }, source: placeholder.topic("x/mode") }),
  batch: integer({ source: placeholder.topic("x/batch") }),
});

function groupId() {
  return `PwTest${randomBytes(4).toString("hex")}`;
}

/** Decodes what the broker carries with an independent Sparkplug 3.0 decoder (data has no datatypes). */
async function listen(client: MqttClient, _codec: SparkplugCodec, filter: string) {
  const seen: { topic: string; payload: ReferencePayload }[] = [];
  const decoder = new ReferenceDecoder();
  client.on("message", (topic, payload) => {
    try {
      const decoded = topicMatches(filter, topic) ? decoder.decode(topic, payload) : undefined;
      if (decoded) seen.push({ topic, payload: decoded });
    } catch {
      // the tests inject garbage on purpose
    }
  });
  await client.subscribeAsync(filter, { qos: 1 });
  return seen;
}

const num = (value: unknown) => (typeof value === "object" && value !== null ? Number(value.toString()) : value);

/** Edge node and host on one broker: values by alias, a rebirth after an injected seq gap, bad tags after NDEATH. */
async function hostScenario(url: string, spy: MqttClient, codec: SparkplugCodec) {
  const group = groupId();
  const host = sparkplugHost({ url, group });
  const hostTags = defineTags({
    speed: float({ source: host.metric("Node3", "speed") }),
    running: boolean({ source: host.metric("Node3", "running") }),
  });
  const bound = Object.entries(hostTags).map(([name, definition]) => ({
    name,
    definition,
    address: definition.source.address as never,
  }));
  await host.connect();
  const pushed: Sample[] = [];
  const subscription = await host.subscribe!(bound, (name, sample) => {
    if (name === "speed") pushed.push(sample);
  });
  const edge = sparkplugEdgeNode({ url, group, node: "Node3", tags, reconnect: { minMs: 50, maxMs: 200 } });
  await edge.update({ speed: goodSample(50, 1), running: goodSample(true, 1) });
  await edge.connect();
  const speedIs = (value: number) => async () => (await host.read(bound))[0]?.value === value;
  expect(await waitFor(speedIs(50))).toBe(true);
  await edge.update({ speed: goodSample(60, 2) });
  expect(await waitFor(speedIs(60))).toBe(true);

  // Inject a seq gap: an NDATA from "Node3" with a seq the host does not expect.
  const requestsBefore = edge.stats().rebirthRequests;
  const birthsBefore = host.stats().births;
  const gap = codec.encode({ timestamp: Date.now(), seq: 200, metrics: [{ alias: 1, type: "Double", value: 61 }] });
  await spy.publishAsync(`spBv1.0/${group}/NDATA/Node3`, Buffer.from(gap), { qos: 1 });
  expect(await waitFor(() => host.stats().seqGaps === 1 && edge.stats().rebirthRequests === requestsBefore + 1)).toBe(
    true,
  );
  // Room for the host's second request (after 2.5 s) should a QoS 0 request or birth be lost on a busy broker.
  expect(await waitFor(() => host.stats().births === birthsBefore + 1, 12_000)).toBe(true);

  // Garbage on the group's topics is counted, never a crash.
  await spy.publishAsync(`spBv1.0/${group}/NDATA/Node3`, Buffer.from([1, 2, 3, 250]), { qos: 1 });
  expect(await waitFor(() => host.stats().decodeErrors === 1)).toBe(true);

  // Kill the edge node's TCP link: the broker publishes its will, NDEATH with the current bdSeq.
  (edge.connection.client as unknown as { stream: { destroy(): void } }).stream.destroy();
  const died = (sample: Sample) => sample.quality === "bad" && sample.reason === "comm-failure";
  expect(await waitFor(() => pushed.some(died))).toBe(true);
  expect(pushed.find(died)).toMatchObject({ value: 60 });
  expect(host.stats().deaths).toBeGreaterThanOrEqual(1);
  // It reconnects with a new bdSeq, and its birth makes the tags good again.
  expect(await waitFor(async () => (await host.read(bound))[0]?.quality === "good", 5000)).toBe(true);
  await subscription.close();
  await edge.close();
  await host.close();
}

describe("Sparkplug B edge node and host (embedded broker)", () => {
  let broker: EmbeddedBroker;
  let codec: SparkplugCodec;
  let spy: MqttClient;

  beforeAll(async () => {
    broker = await startBroker({ port: 0 });
    codec = await loadSparkplugCodec();
    spy = await rawClient(broker.url);
  });
  afterAll(async () => {
    await spy.endAsync();
    await broker.close();
  });

  it("publishes NBIRTH from the tag map and NDATA by exception that decode with sparkplug-payload", async () => {
    const group = groupId();
    const seen = await listen(spy, codec, `spBv1.0/${group}/#`);
    const edge = sparkplugEdgeNode({ url: broker.url, group, node: "Node1", tags });
    await edge.update({
      speed: goodSample(100, 1),
      running: goodSample(true, 1),
      mode: goodSample("AUTO", 1),
      batch: goodSample(7, 1),
    });
    await edge.connect();
    expect(await waitFor(() => seen.some((message) => message.topic.endsWith("/NBIRTH/Node1")))).toBe(true);
    const birth = seen.find((message) => message.topic.endsWith("/NBIRTH/Node1"))!.payload;
    expect(num(birth.seq)).toBe(0);
    const byName = new Map(birth.metrics!.map((metric) => [metric.name, metric]));
    expect(num(byName.get("bdSeq")?.value)).toBe(edge.stats().bdSeq);
    expect(byName.get("Node Control/Rebirth")?.value).toBe(false);
    expect(byName.get("speed")).toMatchObject({ type: "Double", value: 100 });
    expect(num(byName.get("speed")?.alias)).toBe(1);
    expect(byName.get("speed")?.properties?.engUnit).toMatchObject({ type: "String", value: "rpm" });
    expect(byName.get("mode")).toMatchObject({ type: "String", value: "AUTO" });
    expect(byName.get("batch")?.type).toBe("Int64"); // an integer without a range may not fit Int32
    expect(num(byName.get("batch")?.value)).toBe(7);

    expect(await edge.update({ speed: goodSample(103, 2) })).toBe(0); // within the deadband of 5
    expect(await edge.update({ speed: goodSample(120, 3), running: goodSample(false, 3) })).toBe(2);
    for (let index = 0; index < 300; index++) await edge.update({ batch: goodSample(100 + index, 4 + index) });
    // The values set before connecting went out in the birth, and as one historical NDATA right after it.
    const dataCount = () => seen.filter((message) => message.topic.endsWith("/NDATA/Node1")).length;
    expect(await waitFor(() => dataCount() === 302), `NDATA seen: ${dataCount()}`).toBe(true);
    const [history, ...data] = seen
      .filter((message) => message.topic.endsWith("/NDATA/Node1"))
      .map((message) => message.payload);
    expect(num(history!.seq)).toBe(1);
    expect(history!.metrics!.every((metric) => metric.isHistorical === true)).toBe(true);
    expect(data[0]!.metrics!.map((metric) => [num(metric.alias), metric.name, metric.value])).toEqual([
      [1, undefined, 120],
      [2, undefined, false],
    ]);
    expect(data.map((payload) => num(payload.seq))).toEqual(
      Array.from({ length: 301 }, (_, index) => (index + 2) % 256),
    );
    await edge.close();
    expect(await waitFor(() => seen.some((message) => message.topic.endsWith("/NDEATH/Node1")))).toBe(true);
  });

  it("uses DBIRTH/DDATA for a device and rebirths on an NCMD request with the same bdSeq and seq from 0", async () => {
    const group = groupId();
    const seen = await listen(spy, codec, `spBv1.0/${group}/#`);
    const edge = sparkplugEdgeNode({ url: broker.url, group, node: "Node2", device: "Drive1", tags });
    await edge.connect();
    expect(await waitFor(() => seen.some((message) => message.topic.endsWith("/DBIRTH/Node2/Drive1")))).toBe(true);
    const rebirth = codec.encode({
      timestamp: Date.now(),
      metrics: [{ name: "Node Control/Rebirth", type: "Boolean", value: true }],
    });
    await spy.publishAsync(`spBv1.0/${group}/NCMD/Node2`, Buffer.from(rebirth), { qos: 1 });
    expect(await waitFor(() => seen.filter((message) => message.topic.endsWith("/NBIRTH/Node2")).length === 2)).toBe(
      true,
    );
    const births = seen.filter((message) => message.topic.endsWith("/NBIRTH/Node2")).map((message) => message.payload);
    const bdSeqOf = (payload: ReferencePayload) =>
      num(payload.metrics!.find((metric) => metric.name === "bdSeq")!.value);
    expect(bdSeqOf(births[1]!)).toBe(bdSeqOf(births[0]!));
    expect(num(births[1]!.seq)).toBe(0);
    const deviceBirth = seen.filter((message) => message.topic.endsWith("/DBIRTH/Node2/Drive1")).at(-1)!.payload;
    expect(num(deviceBirth.seq)).toBe(1);
    expect(deviceBirth.metrics!.map((metric) => metric.name)).toEqual(["speed", "running", "mode", "batch"]);
    await spy.publishAsync(`spBv1.0/${group}/NCMD/Node2`, Buffer.from([1, 2, 3, 250]), { qos: 1 }); // garbage
    expect(await waitFor(() => edge.stats().badCommands === 1)).toBe(true);
    await edge.close();
  });

  it("a host reads births and data by alias, asks for a rebirth after a seq gap, and marks tags bad on NDEATH", async () => {
    await hostScenario(broker.url, spy, codec);
  });

  it("a host asks again when no birth follows its rebirth request (both are QoS 0 and may be lost), until one comes", async () => {
    // A node that hears the request but whose birth never arrives: here, a node with no edge at all, played by the spy.
    const group = groupId();
    const host = sparkplugHost({ url: broker.url, group });
    await host.connect();
    const seen = await listen(spy, codec, `spBv1.0/${group}/NCMD/Lost1`);
    const asked = () => seen.filter((message) => message.topic === `spBv1.0/${group}/NCMD/Lost1`);
    const data = codec.encode({
      timestamp: Date.now(),
      seq: 7,
      metrics: [{ name: "speed", type: "Double", value: 1 }],
    });
    await spy.publishAsync(`spBv1.0/${group}/NDATA/Lost1`, Buffer.from(data), { qos: 1 });
    // Asked once at once, then again after 2.5 s without a birth.
    expect(await waitFor(() => asked().length === 2, 8000)).toBe(true);
    expect(asked().every((request) => request.payload.metrics?.[0]?.name === "Node Control/Rebirth")).toBe(true);
    const birth = codec.encode({
      timestamp: Date.now(),
      seq: 0,
      metrics: [
        { name: "bdSeq", type: "Int64", value: 0 },
        { name: "speed", type: "Double", value: 2 },
      ],
    });
    await spy.publishAsync(`spBv1.0/${group}/NBIRTH/Lost1`, Buffer.from(birth), { qos: 1 });
    expect(await waitFor(() => host.stats().births === 1)).toBe(true);
    // Answered: no more requests (the next retry would have come 2.5 s after the last one).
    const count = asked().length;
    await new Promise((resolve) => setTimeout(resolve, 3000));
    expect(asked().length).toBe(count);
    expect(host.stats().rebirthRequests).toBe(count);
    await spy.unsubscribeAsync(`spBv1.0/${group}/NCMD/Lost1`);
    await host.close();
  });

  it("a host survives random bytes and hostile Sparkplug payloads on its group's topics (T5)", async () => {
    const group = groupId();
    const host = sparkplugHost({ url: broker.url, group });
    const speed = { name: "speed", definition: tags.speed, address: host.metric("Fuzz", "speed").address };
    await host.connect();
    const edge = sparkplugEdgeNode({ url: broker.url, group, node: "Fuzz", tags });
    await edge.update({ speed: goodSample(10, 1) });
    await edge.connect();
    expect(await waitFor(async () => (await host.read([speed]))[0]?.value === 10)).toBe(true);
    const types = ["Int8", "Int64", "UInt64", "Float", "Double", "Boolean", "String", "DateTime", "Bytes"] as const;
    const hostile = fc.record({
      seq: fc.option(fc.integer({ min: -5, max: 100_000 }), { nil: undefined }),
      metrics: fc.array(
        fc.record({
          name: fc.option(fc.constantFrom("speed", "bdSeq", "", "Node Control/Rebirth", "x".repeat(300)), {
            nil: undefined,
          }),
          alias: fc.option(fc.integer({ min: 0, max: 2 ** 31 }), { nil: undefined }),
          type: fc.constantFrom(...types),
          isHistorical: fc.boolean(),
        }),
        { maxLength: 5 },
      ),
    });
    const kinds = ["NBIRTH", "NDATA", "NDEATH", "DBIRTH", "DDATA", "DDEATH", "NCMD", "STATE"];
    const payloads = fc.sample(
      fc.tuple(fc.constantFrom(...kinds), fc.oneof(fc.uint8Array({ maxLength: 120 }), hostile)),
      150,
    );
    for (const [kind, body] of payloads) {
      let bytes: Uint8Array;
      if (body instanceof Uint8Array) bytes = body;
      else {
        const metrics = body.metrics.map((metric) => ({
          ...metric,
          name: metric.name ?? null,
          value:
            metric.type === "Boolean"
              ? true
              : metric.type === "String"
                ? "fast"
                : metric.type === "Bytes"
                  ? new Uint8Array([1])
                  : 7,
        }));
        try {
          bytes = codec.encode({ timestamp: Date.now(), seq: body.seq, metrics } as never);
        } catch {
          continue; // values the encoder itself refuses never reach the wire
        }
      }
      spy.publish(`spBv1.0/${group}/${kind}/Fuzz${kind.startsWith("D") ? "/Dev" : ""}`, Buffer.from(bytes), { qos: 0 });
    }
    await spy.publishAsync(`spBv1.0/${group}/NDATA/Fuzz`, "end", { qos: 1 });
    expect(await waitFor(() => host.stats().decodeErrors > 0)).toBe(true);
    expect(host.status().state).toBe("connected");
    // The real node recovers the truth with a rebirth.
    await edge.rebirth();
    expect(await waitFor(async () => (await host.read([speed]))[0]?.value === 10)).toBe(true);
    await edge.close();
    await host.close();
  });

  it("host writes go out as DCMD: unknown when the node does not report the value, refused when mistyped", async () => {
    const group = groupId();
    const edge = sparkplugEdgeNode({ url: broker.url, group, node: "Node5", device: "Dev", tags });
    const commands: unknown[] = [];
    edge.onCommand((name, value) => commands.push([name, value])); // heard, but not applied
    await edge.connect();
    const host = sparkplugHost({ url: broker.url, group, writeTimeoutMs: 300 });
    await host.connect();
    const speed = {
      name: "speed",
      definition: tags.speed,
      address: host.metric("Node5", "speed", { device: "Dev" }).address,
    };
    const result = await host.write!(speed, 99);
    expect(result.outcome).toBe("unknown");
    expect(result.error?.name).toBe("TimeoutError");
    expect(commands).toEqual([["speed", 99]]);
    expect((await host.write!(speed, "fast")).error?.name).toBe("ValidationError");
    const wrongType = codec.encode({
      timestamp: Date.now(),
      metrics: [{ name: "speed", type: "String", value: "fast" }],
    });
    await spy.publishAsync(`spBv1.0/${group}/DCMD/Node5/Dev`, Buffer.from(wrongType), { qos: 1 });
    expect(await waitFor(() => edge.stats().badCommands === 1)).toBe(true);
    expect(commands).toHaveLength(1);
    await host.close();
    await edge.close();
  });

  it("with a primary host, births wait for its STATE online, and changes are kept while it is offline", async () => {
    const group = groupId();
    const hostId = `pw${randomBytes(3).toString("hex")}`;
    const edge = sparkplugEdgeNode({ url: broker.url, group, node: "Node6", tags, primaryHostId: hostId });
    await edge.connect();
    await edge.update({ speed: goodSample(5, 1) });
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(edge.stats()).toMatchObject({ births: 0, bufferedNow: 1 });
    const host = sparkplugHost({ url: broker.url, group, hostId });
    const speed = { name: "speed", definition: tags.speed, address: host.metric("Node6", "speed").address };
    await host.connect(); // publishes STATE online (retained)
    expect(await waitFor(() => edge.stats().births === 1)).toBe(true);
    expect(await waitFor(async () => (await host.read([speed]))[0]?.value === 5)).toBe(true);
    await host.close(); // publishes STATE offline
    let value = 50;
    const buffers = async () => {
      await edge.update({ speed: goodSample(value++, 2) });
      return edge.stats().bufferedNow > 0;
    };
    expect(await waitFor(buffers)).toBe(true);
    await spy.publishAsync(`spBv1.0/STATE/${hostId}`, "", { qos: 1, retain: true });
    await edge.close();
  });

  it("buffers changes while disconnected and replays them after the birth flagged is_historical", async () => {
    const group = groupId();
    const host = sparkplugHost({ url: broker.url, group });
    const historical: unknown[] = [];
    host.onHistorical((metric) => historical.push([metric.metric, metric.value]));
    await host.connect();
    const edge = sparkplugEdgeNode({ url: broker.url, group, node: "Node4", tags });
    for (const value of [10, 20, 30]) await edge.update({ speed: goodSample(value, value) });
    expect(edge.stats().bufferedNow).toBe(3);
    await edge.connect();
    expect(await waitFor(() => historical.length === 3)).toBe(true);
    expect(historical).toEqual([
      ["speed", 10],
      ["speed", 20],
      ["speed", 30],
    ]);
    const [speed] = await host.read([
      { name: "speed", definition: tags.speed, address: host.metric("Node4", "speed").address },
    ]);
    expect(speed).toMatchObject({ quality: "good", value: 30 });
    expect(edge.stats()).toMatchObject({ bufferedNow: 0, historicalSent: 3 });
    await edge.close();
    await host.close();
  });
});

const skip = await serviceSkipReason("mosquitto");
describe.skipIf(skip !== undefined)(`Sparkplug B on Mosquitto (MQTT 5)${skip ? ` (${skip})` : ""}`, () => {
  it("edge node and host interoperate: aliases, rebirth after a seq gap, NDEATH as the will", async () => {
    const codec = await loadSparkplugCodec();
    const spy = await rawClient(services.mosquitto.url, { protocolVersion: 5 });
    await hostScenario(services.mosquitto.url, spy, codec);
    await spy.endAsync();
  });
});
