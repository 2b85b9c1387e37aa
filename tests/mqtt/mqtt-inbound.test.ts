import fc from "fast-check";
import {
  boolean,
  ConfigError,
  createPlant,
  defineTags,
  enumeration,
  float,
  integer,
  parseTagMap,
  text,
} from "plantwire";
import {
  decodeMessage,
  type EmbeddedBroker,
  type MqttAdapter,
  mqtt,
  sparkplugEdgeNode,
  sparkplugHost,
  startBroker,
} from "plantwire/mqtt";
import { waitFor } from "plantwire/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rawClient, uniquePrefix } from "./mqtt-fixture.js";

const bus = mqtt({ url: "mqtt://127.0.0.1:1" });
const tags = defineTags({
  level: float({ source: bus.topic("a/level") }),
  rms: float({ source: bus.topic("a/vib", { path: "/rms", timestampPath: "/ts" }) }),
  count: integer({ source: bus.topic("a/count", { path: "/n/0" }) }),
  running: boolean({ source: bus.topic("a/run") }),
  mode: enumeration({ states: { OFF: 0, AUTO: 1 }, source: bus.topic("a/mode") }),
  note: text({ maxLength: 5, source: bus.topic("a/note") }),
});
type Name = keyof typeof tags;

function decode(name: Name, payload: string | Buffer) {
  const tag = tags[name];
  const buffer = typeof payload === "string" ? Buffer.from(payload) : payload;
  return decodeMessage(tag, tag.source.address as never, { topic: "a", payload: buffer, receivedTime: 1 }, 1024);
}

describe("inbound payload decoding", () => {
  it("reads raw payloads, JSON pointers and timestamps by the tag's type", () => {
    expect(decode("level", "4.25").value).toBe(4.25);
    expect(decode("rms", '{"rms": 1.5, "ts": 1700000000000}')).toMatchObject({ value: 1.5, sourceTime: 1700000000000 });
    expect(decode("rms", '{"rms": 2, "ts": "2024-01-01T00:00:00Z"}').sourceTime).toBe(Date.parse("2024-01-01"));
    expect(decode("count", '{"n": [42]}').value).toBe(42);
    expect(decode("running", "true").value).toBe(true);
    expect(decode("running", "0").value).toBe(false);
    expect(decode("mode", "AUTO").value).toBe("AUTO");
    expect(decode("mode", '"OFF"').value).toBe("OFF");
    expect(decode("mode", "1").value).toBe("AUTO");
    expect(decode("note", "hi").value).toBe("hi");
    expect(decode("note", "42").value).toBe("42");
  });

  it("turns malformed payloads into decode errors and wrong types into type mismatches", () => {
    const cases: [Name, string | Buffer, "decode-error" | "type-mismatch"][] = [
      ["rms", "{not json", "decode-error"],
      ["rms", '{"other": 1, "ts": 1}', "decode-error"],
      ["rms", '{"rms": 1}', "decode-error"],
      ["rms", '{"rms": "fast", "ts": 1}', "type-mismatch"],
      ["level", "fast", "type-mismatch"],
      ["level", "null", "type-mismatch"],
      ["level", Buffer.alloc(2000, 0x31), "decode-error"],
      ["level", Buffer.from([0xff, 0xfe, 0x31]), "decode-error"],
      ["count", '{"n": [1.5]}', "type-mismatch"],
      ["running", "maybe", "type-mismatch"],
      ["mode", "TURBO", "type-mismatch"],
      ["note", "far too long", "type-mismatch"],
      ["rms", '{"__proto__": {"rms": 1}, "ts": 1}', "decode-error"],
    ];
    for (const [name, payload, reason] of cases) {
      const sample = decode(name, payload);
      expect(sample.quality, `${name} ${String(payload).slice(0, 30)}`).toBe("bad");
      expect(sample.reason, `${name} ${String(payload).slice(0, 30)}`).toBe(reason);
      expect(sample.detail).toContain("a:");
    }
  });

  it("never throws on random bytes or hostile JSON, and good samples always have the tag's type (T5)", () => {
    const hostileJson = fc.oneof(
      fc.json(),
      fc.jsonValue().map((value) => JSON.stringify({ rms: value, ts: value, n: [value] })),
      fc.constantFrom(
        // Found by this property in CI: an object whose toString is not a function once crashed the error message.
        '{"rms":{"toString":false},"ts":{"toString":false},"n":[{"toString":false}]}',
        '{"rms":1e999,"ts":1}',
        '{"__proto__":{"x":1}}',
        "[".repeat(5000),
        '"\\ud800"',
        "-0",
        "1e308",
      ),
    );
    const payloads = fc.oneof(
      fc.uint8Array({ maxLength: 300 }).map((bytes) => Buffer.from(bytes)),
      hostileJson,
    );
    const types: Record<Name, (value: unknown) => boolean> = {
      level: (value) => typeof value === "number" && Number.isFinite(value),
      rms: (value) => typeof value === "number" && Number.isFinite(value),
      count: (value) => Number.isInteger(value),
      running: (value) => typeof value === "boolean",
      mode: (value) => value === "OFF" || value === "AUTO",
      note: (value) => typeof value === "string" && value.length <= 5,
    };
    fc.assert(
      fc.property(payloads, fc.constantFrom(...(Object.keys(tags) as Name[])), (payload, name) => {
        const sample = decode(name, payload);
        if (sample.quality === "good") return types[name](sample.value);
        return sample.reason === "decode-error" || sample.reason === "type-mismatch";
      }),
      { numRuns: 3000 },
    );
  });
});

describe("topic sources on a broker", () => {
  let broker: EmbeddedBroker;
  let adapter: MqttAdapter;
  const prefix = uniquePrefix("inbound");

  beforeAll(async () => {
    broker = await startBroker({ port: 0 });
    adapter = mqtt({ url: broker.url, initialValueWaitMs: 1000 });
  });
  afterAll(async () => {
    await adapter.close();
    await broker.close();
  });

  it("gives retained values at once, not-read-yet before anything arrives, and counts bad payloads without crashing", async () => {
    const device = await rawClient(broker.url);
    await device.publishAsync(`${prefix}/retained`, '{"rms": 3.5}', { qos: 1, retain: true });
    const family = defineTags({
      retained: float({ source: adapter.topic(`${prefix}/retained`, { path: "/rms" }) }),
      silent: float({ source: adapter.topic(`${prefix}/silent`) }),
      anyPump: float({ source: adapter.topic(`${prefix}/pumps/+/speed`) }),
    });
    const bound = Object.entries(family).map(([name, definition]) => ({
      name,
      definition,
      address: definition.source.address as never,
    }));
    await adapter.connect();
    const [retained, silent] = await adapter.read(bound);
    expect(retained).toMatchObject({ quality: "good", value: 3.5 });
    expect(silent).toMatchObject({ quality: "bad", reason: "not-read-yet" });

    const seen: unknown[] = [];
    const subscription = await adapter.subscribe!(bound, (name, sample) =>
      seen.push([name, sample.reason ?? sample.value]),
    );
    const before = adapter.stats();
    const fuzz = fc.sample(fc.uint8Array({ maxLength: 200 }), 100);
    for (const bytes of fuzz) device.publish(`${prefix}/pumps/p${bytes.length}/speed`, Buffer.from(bytes), { qos: 0 });
    await device.publishAsync(`${prefix}/pumps/p7/speed`, "not a number", { qos: 1 });
    await device.publishAsync(`${prefix}/pumps/p8/speed`, "1450", { qos: 1 });
    expect(await waitFor(() => adapter.read([bound[2]!]).then(([sample]) => sample?.value === 1450), 3000)).toBe(true);
    const after = adapter.stats();
    expect(after.typeMismatches + after.decodeErrors).toBeGreaterThan(before.typeMismatches + before.decodeErrors);
    expect(seen).toContainEqual(["anyPump", "type-mismatch"]);
    expect(seen).toContainEqual(["anyPump", 1450]);
    expect(adapter.status().state).toBe("connected");
    await subscription.close();
    await device.publishAsync(`${prefix}/retained`, "", { qos: 1, retain: true });
    await device.endAsync();
  });
});

describe("staleness", () => {
  it("a value that stops arriving goes STALE after the tag's stale-after, through the plant", async () => {
    const broker = await startBroker({ port: 0 });
    const bus = mqtt({ url: broker.url });
    const topic = `${uniquePrefix("stale")}/level`;
    const device = await rawClient(broker.url);
    await device.publishAsync(topic, "12.5", { qos: 1, retain: true });
    // 1 s: the first read must see the value fresh, even on a busy machine; then it goes quiet for longer than that.
    const plantTags = defineTags({ level: float({ staleAfterMs: 1000, source: bus.topic(topic) }) });
    const plant = createPlant({ tags: plantTags });
    const fresh = await plant.read();
    expect(fresh.value("level")).toBe(12.5);
    await new Promise((resolve) => setTimeout(resolve, 1300));
    const later = await plant.read();
    expect(later.sample("level")).toMatchObject({ quality: "good", stale: true });
    expect(later.isUsable("level")).toBe(false);
    await plant.close();
    await device.publishAsync(topic, "", { qos: 1, retain: true });
    await device.endAsync();
    await broker.close();
  });
});

describe("sources from tag-map files", () => {
  it("parses topic sources and names each wrong field", async () => {
    const bus = mqtt({ name: "bus" });
    const map = await parseTagMap(
      "tags:\n  vib:\n    type: float\n    source: { adapter: bus, topic: site/pump7/vib, path: /rms, qos: 0 }\n",
      "yaml",
      { adapters: { bus } },
    );
    expect(map.vib?.source.address).toEqual({ topic: "site/pump7/vib", path: "/rms", qos: 0 });
    const wrong = `tags:
  a: { type: float, source: { adapter: bus, topic: "site/#/x" } }
  b: { type: float, source: { adapter: bus, topic: t, path: rms } }
  c: { type: float, source: { adapter: bus, topic: t, qos: 3 } }
  d: { type: float, source: { adapter: bus, topc: t } }
`;
    const error = await parseTagMap(wrong, "yaml", { adapters: { bus } }).catch((caught: unknown) => caught);
    expect(ConfigError.isInstance(error)).toBe(true);
    const paths = (error as ConfigError).issues.map((issue) => issue.path);
    expect(paths).toEqual(
      expect.arrayContaining([
        "tags.a.source.topic",
        "tags.b.source.path",
        "tags.c.source.qos",
        expect.stringMatching(/^tags\.d\.source/),
      ]),
    );
  });

  it("reads Sparkplug metric sources from files too", async () => {
    const host = sparkplugHost({ group: "Plant1", name: "host" });
    const map = await parseTagMap(
      "tags:\n  torque:\n    type: float\n    source: { adapter: host, node: Line1, device: Drive1, metric: torque }\n",
      "yaml",
      { adapters: { host } },
    );
    expect(map.torque?.source.address).toEqual({ node: "Line1", device: "Drive1", metric: "torque" });
    const error = await parseTagMap("tags:\n  t: { type: float, source: { adapter: host, metrc: x } }\n", "yaml", {
      adapters: { host },
    }).catch((caught: unknown) => caught);
    expect((error as ConfigError).issues.map((issue) => issue.path)).toEqual(
      expect.arrayContaining(["tags.t.source.node", "tags.t.source.metric", "tags.t.source.metrc"]),
    );
  });
});

describe("adapter options", () => {
  it("names every wrong option with its fix", () => {
    const attempt = () =>
      mqtt({
        url: "http://broker",
        protocolVersion: 3 as never,
        reconnect: { minMs: 5000, maxMs: 100 },
        outbx: {},
      } as never);
    expect(attempt).toThrow(ConfigError);
    const paths = (() => {
      try {
        attempt();
      } catch (error) {
        return (error as ConfigError).issues.map((issue) => issue.path);
      }
      return [];
    })();
    expect(paths).toEqual(
      expect.arrayContaining([
        "mqtt.url",
        "mqtt.protocolVersion",
        "mqtt.reconnect",
        expect.stringMatching(/^mqtt(\.outbx)?$/),
      ]),
    );
    expect(() => sparkplugEdgeNode({ group: "a/b", node: "n", tags: {} })).toThrow(/group/);
  });
});
