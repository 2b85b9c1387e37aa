/**
 * T20 over MQTT, on the embedded aedes broker and on the real Mosquitto: the adapter's general publish (and every
 * publish* method built on it) refuses a writable tag's command topic, its look-alikes and the Sparkplug B command
 * namespace, and nothing reaches a subscriber; other topics still go out; the guard's own command write still works;
 * message outputs refuse command topics at creation and topics outside their allowed ones per message.
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { MqttClient } from "mqtt";
import {
  ConfigError,
  ConnectionError,
  createGuard,
  createPlant,
  defineTags,
  float,
  goodSample,
  PlantwireError,
  Snapshot,
  ValidationError,
} from "plantwire";
import { type MqttAdapter, mqtt, startBroker } from "plantwire/mqtt";
import { waitFor } from "plantwire/testing";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { serviceSkipReason, services } from "../support/services.js";
import { rawClient, uniquePrefix } from "./mqtt-fixture.js";

interface Target {
  label: string;
  skip: string | undefined;
  start(): Promise<{ url: string; close(): Promise<void> }>;
}

const mosquittoSkip = await serviceSkipReason("mosquitto");
const targets: Target[] = [
  {
    label: "the embedded aedes broker",
    skip: undefined,
    async start() {
      const broker = await startBroker({ port: 0 });
      return { url: broker.url, close: () => broker.close() };
    },
  },
  {
    label: `Mosquitto${mosquittoSkip ? ` (${mosquittoSkip})` : ""}`,
    skip: mosquittoSkip,
    start: async () => ({ url: services.mosquitto.url, close: async () => {} }),
  },
];

/** A tag written through a command topic with an answer, as a device-side test would declare it. */
function speedTags(bus: MqttAdapter, prefix: string) {
  return defineTags({
    speed: float({
      unit: "rpm",
      range: [0, 1800],
      source: bus.topic(`${prefix}/speed`, {
        path: "/value",
        command: { topic: `${prefix}/speed/set`, responseTopic: `${prefix}/speed/ack`, timeoutMs: 5000 },
      }),
      write: { range: [600, 1500], approval: "automatic", automaticRange: [600, 1500] },
    }),
  });
}

/** The device: applies commands to its retained state topic, then answers. */
async function startDevice(url: string, prefix: string) {
  const device = await rawClient(url);
  const commands: number[] = [];
  await device.publishAsync(`${prefix}/speed`, JSON.stringify({ value: 1000 }), { qos: 1, retain: true });
  await device.subscribeAsync(`${prefix}/speed/set`, { qos: 1 });
  device.on("message", (topic, payload) => {
    if (topic !== `${prefix}/speed/set`) return;
    const command = JSON.parse(payload.toString()) as { value: number; correlationId: string };
    commands.push(command.value);
    void device
      .publishAsync(`${prefix}/speed`, JSON.stringify({ value: command.value }), { qos: 1, retain: true })
      .then(() =>
        device.publishAsync(`${prefix}/speed/ack`, JSON.stringify({ correlationId: command.correlationId, ok: true }), {
          qos: 1,
        }),
      );
  });
  return { device, commands };
}

for (const target of targets) {
  describe.skipIf(target.skip !== undefined)(`no side doors over MQTT on ${target.label}`, () => {
    const prefix = uniquePrefix("side-doors");
    const group = `pwtest-${randomBytes(4).toString("hex")}`;
    const dcmd = `spBv1.0/${group}/DCMD/node1/drive1`;
    const ncmd = `spBv1.0/${group}/NCMD/node1`;
    let broker: Awaited<ReturnType<Target["start"]>>;
    let bus: MqttAdapter;
    let watcher: MqttClient;
    const seen: { topic: string; payload: string }[] = [];

    /**
     * Publishes a sentinel on the same connection after whatever came before (QoS 1 keeps one client's order), waits
     * for it, and returns the topics that arrived before it.
     */
    async function arrivedBeforeSentinel(publisher: MqttAdapter = bus): Promise<string[]> {
      const sentinel = `${prefix}/sentinel/${randomBytes(3).toString("hex")}`;
      expect(await publisher.publish(sentinel, "sentinel", { qos: 1 })).toBe("sent");
      expect(await waitFor(() => seen.some((message) => message.topic === sentinel), 10_000)).toBe(true);
      const index = seen.findIndex((message) => message.topic === sentinel);
      return seen.slice(0, index).map((message) => message.topic);
    }

    beforeAll(async () => {
      broker = await target.start();
      bus = mqtt({ url: broker.url, name: "bus" });
      speedTags(bus, prefix);
      await bus.connect();
      watcher = await rawClient(broker.url);
      watcher.on("message", (topic, payload) => seen.push({ topic, payload: payload.toString() }));
      await watcher.subscribeAsync([`${prefix}/#`, `spBv1.0/${group}/#`, `spbv1.0/${group}/#`], { qos: 1 });
    });
    afterAll(async () => {
      await watcher?.endAsync();
      await bus?.close();
      await broker?.close();
    });
    beforeEach(() => {
      seen.length = 0;
    });

    it("refuses the command topic, its look-alikes, the response topic and NCMD/DCMD; nothing arrives", async () => {
      const refused = [
        `${prefix}/speed/set`,
        `${prefix}/speed/set/`,
        `${prefix}//speed/set`,
        `${prefix}\uFF0Fspeed\uFF0Fset`, // fullwidth solidus: "/" after Unicode compatibility normalisation
        `${prefix}/speed\u200B/set`, // a zero-width space
        `${prefix}/speed/ack`,
        dcmd,
        ncmd,
      ];
      for (const topic of refused) {
        const error = await bus.publish(topic, JSON.stringify({ value: 1790 }), { qos: 1 }).then(
          () => undefined,
          (thrown: unknown) => thrown,
        );
        expect(ConfigError.isInstance(error), `${JSON.stringify(topic)} was not refused`).toBe(true);
        expect((error as Error).message).toContain(JSON.stringify(topic));
        expect((error as Error).message).toContain("write guard");
      }
      // Every convenience built on publish goes through the same gate.
      await expect(bus.publishEvent(dcmd, { type: "x", data: { value: 1790 } })).rejects.toSatisfy(
        ConfigError.isInstance,
      );
      await expect(bus.publishResult(`${prefix}/speed/set`, { result: { speed: 1790 } })).rejects.toSatisfy(
        ConfigError.isInstance,
      );
      const tags = defineTags({ speed: float({ source: mqtt().topic("x/speed") }) });
      const snapshot = new Snapshot(tags, new Map([["speed", goodSample(1790, Date.now())]]));
      await expect(bus.publishSnapshot(ncmd, snapshot)).rejects.toSatisfy(ConfigError.isInstance);
      // Wildcards are not topic names: refused before anything is queued.
      for (const topic of [`spBv1.0/${group}/DCMD/+/+`, `${prefix}/speed/#`, "#"]) {
        await expect(bus.publish(topic, "1790")).rejects.toSatisfy(PlantwireError.isInstance);
      }
      // The connection the adapter shows has no publish to go around the gate with.
      expect("publish" in bus.connection).toBe(false);
      expect("client" in bus.connection).toBe(false);
      expect(await arrivedBeforeSentinel()).toEqual([]);
      expect(bus.stats().queuedNow).toBe(0);
    });

    it("still publishes everything else, and topics are case-sensitive as the Sparkplug namespace is", async () => {
      const allowed = [
        `${prefix}/speed`, // the state topic is not a command
        `${prefix}/speed/set/status`,
        `spBv1.0/${group}/DDATA/node1/drive1`,
        `spbv1.0/${group}/DCMD/node1/drive1`,
        `spBv1.0/${group}/dcmd/node1/drive1`,
      ];
      for (const topic of allowed) expect(await bus.publish(topic, "1", { qos: 1 })).toBe("sent");
      await bus.publishEvent(`${prefix}/events`, { type: "note" }, { qos: 1 });
      expect(await arrivedBeforeSentinel()).toEqual([...allowed, `${prefix}/events`]);
    });

    it("leaves getInstance() as the documented way out", async () => {
      await (bus.getInstance() as MqttClient).publishAsync(dcmd, "raw", { qos: 1 });
      expect(await arrivedBeforeSentinel()).toEqual([dcmd]);
    });

    it("keeps the guard's own command write working, on an adapter that refuses the same topic", async () => {
      const folder = mkdtempSync(join(tmpdir(), "plantwire-side-doors-"));
      const guardedPrefix = uniquePrefix("side-doors-guard");
      const { device, commands } = await startDevice(broker.url, guardedPrefix);
      const guarded = mqtt({ url: broker.url, name: "guarded", initialValueWaitMs: 3000 });
      const plant = createPlant({ tags: speedTags(guarded, guardedPrefix) });
      const guard = createGuard({ plant, audit: join(folder, "audit.jsonl"), mode: "automatic" });
      try {
        await plant.connect();
        const [proposal] = await guard.propose({ speed: 1200 }, { reason: "side-door test" });
        expect(proposal?.state, JSON.stringify(proposal?.verdicts)).toBe("executed");
        expect(proposal?.outcome).toMatchObject({ write: "written", readBack: "verified" });
        expect(commands).toEqual([1200]);
        await expect(guarded.publish(`${guardedPrefix}/speed/set`, JSON.stringify({ value: 1400 }))).rejects.toSatisfy(
          ConfigError.isInstance,
        );
        expect(commands).toEqual([1200]);
      } finally {
        await guard.close();
        await plant.close();
        await device.publishAsync(`${guardedPrefix}/speed`, "", { qos: 1, retain: true });
        await device.endAsync();
        rmSync(folder, { recursive: true, force: true });
      }
    });

    it("makes message outputs that never reach a command topic and send only to their allowed topics", async () => {
      for (const topics of [
        [`${prefix}/#`],
        [`${prefix}/speed/+`],
        ["#"],
        [`spBv1.0/${group}/#`],
        ["spBv1.0/+/DCMD/+/+"],
        [`spBv1.0/${group}/+/node1`],
        [`${prefix}/ok`, dcmd],
        [],
      ]) {
        expect(() => bus.messageOutput({ topics }), JSON.stringify(topics)).toThrow(ConfigError);
      }
      const output = bus.messageOutput({ topics: [`${prefix}/explanations/#`] });
      expect(output.kind).toBe("message");
      expect(output.label).toBe(`mqtt bus → ${prefix}/explanations/#`);
      expect(output.device).toBe(`mqtt://127.0.0.1:${new URL(broker.url).port}/${prefix}/explanations/#`);
      const message = { topic: `${prefix}/explanations/pump1`, payload: { cause: "dry running", confidence: 0.8 } };
      expect(output.check(message)).toEqual([]);
      expect(output.size(message)).toBe(Buffer.byteLength(JSON.stringify(message.payload)));
      const outside = { topic: `${prefix}/elsewhere`, payload: "text" };
      expect(output.check(outside).join()).toContain("outside the allowed topics");
      expect(output.check({ topic: `${prefix}/explanations/x`, payload: [1] }).join()).toContain("neither text");
      expect(output.check({ topic: `${prefix}/explanations/+`, payload: "x" }).join()).toContain("wildcard");
      expect(output.check("just text").length).toBeGreaterThan(0);
      await expect(output.send(outside)).rejects.toSatisfy(ValidationError.isInstance);
      await output.send(message);
      expect(await arrivedBeforeSentinel()).toEqual([message.topic]);
      expect(JSON.parse(seen[0]?.payload ?? "null")).toEqual(message.payload);
    });

    it("sends a message output's message once or not at all: not connected, it rejects and queues nothing", async () => {
      const offline = mqtt({ url: broker.url, name: "offline" });
      const output = offline.messageOutput({ topics: [`${prefix}/offline`] });
      await expect(output.send({ topic: `${prefix}/offline`, payload: "x" })).rejects.toSatisfy(
        ConnectionError.isInstance,
      );
      expect(offline.stats().queuedNow).toBe(0);
      await offline.connect();
      expect(await arrivedBeforeSentinel(offline)).toEqual([]);
      await offline.close();
    });
  });
}
