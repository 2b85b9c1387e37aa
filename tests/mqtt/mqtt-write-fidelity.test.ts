/**
 * Issue 15, MQTT side: a command whose device has not reported since reads back unverified (not mismatch), values
 * that cannot travel in a JSON command are refused at proposal time, date-time tags travel as ISO text, and per-tag
 * publishing for a unified namespace. Against the embedded aedes broker and the machine's Mosquitto.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { MqttClient } from "mqtt";
import {
  badSample,
  ConfigError,
  createGuard,
  createPlant,
  dateTime,
  defineTags,
  float,
  goodSample,
  integer,
  type Sample,
  Snapshot,
} from "plantwire";
import { type EmbeddedBroker, type MqttAdapter, type MqttAddress, mqtt, startBroker } from "plantwire/mqtt";
import { waitFor } from "plantwire/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { serviceSkipReason, services } from "../support/services.js";
import { rawClient, uniquePrefix } from "./mqtt-fixture.js";

function writableTags(bus: MqttAdapter, prefix: string) {
  return defineTags({
    // A device that applies the command but reports its state only when it feels like it (here: never).
    silent: float({
      source: bus.topic(`${prefix}/silent`, {
        path: "/value",
        command: { topic: `${prefix}/silent/set`, reportWaitMs: 300 },
      }),
      write: { range: [0, 2000], approval: "automatic", automaticRange: [0, 2000] },
    }),
    // A device that reports its new state after each command.
    echo: float({
      source: bus.topic(`${prefix}/echo`, { path: "/value", command: { topic: `${prefix}/echo/set` } }),
      write: { range: [0, 2000], approval: "automatic", automaticRange: [0, 2000] },
    }),
    counter: integer({
      source: bus.topic(`${prefix}/counter`, { command: { topic: `${prefix}/counter/set`, reportWaitMs: 0 } }),
      write: { approval: "automatic" },
    }),
    batchStart: dateTime({
      source: bus.topic(`${prefix}/batch-start`, { command: { topic: `${prefix}/batch-start/set` } }),
      write: {},
    }),
  });
}

async function startDevice(url: string, prefix: string, protocolVersion: 4 | 5) {
  const device = await rawClient(url, { protocolVersion });
  const commands: { topic: string; body: { value: unknown } }[] = [];
  await device.subscribeAsync(`${prefix}/+/set`, { qos: 1 });
  device.on("message", (topic, payload) => {
    const body = JSON.parse(payload.toString()) as { value: unknown };
    commands.push({ topic, body });
    if (topic === `${prefix}/echo/set`)
      void device.publishAsync(`${prefix}/echo`, JSON.stringify({ value: body.value }), { qos: 1 });
    if (topic === `${prefix}/batch-start/set`)
      void device.publishAsync(`${prefix}/batch-start`, JSON.stringify(body.value), { qos: 1 });
  });
  return { device, commands };
}

function fidelitySuite(label: string, url: () => string, protocolVersion: 4 | 5) {
  describe(label, () => {
    let folder: string;
    let prefix: string;
    let bus: MqttAdapter;
    let device: MqttClient;
    let commands: { topic: string; body: { value: unknown } }[];
    let spy: MqttClient;

    beforeAll(async () => {
      folder = mkdtempSync(join(tmpdir(), "plantwire-mqtt-fidelity-"));
      prefix = uniquePrefix("fidelity");
      bus = mqtt({ url: url(), initialValueWaitMs: 300 });
      ({ device, commands } = await startDevice(url(), prefix, protocolVersion));
      spy = await rawClient(url(), { protocolVersion });
      // The silent device's state from before the command: retained, so a read-back finds it.
      await device.publishAsync(`${prefix}/silent`, JSON.stringify({ value: 100 }), { qos: 1, retain: true });
      await device.publishAsync(`${prefix}/echo`, JSON.stringify({ value: 100 }), { qos: 1, retain: true });
    });
    afterAll(async () => {
      for (const topic of ["silent", "echo"])
        await device.publishAsync(`${prefix}/${topic}`, "", { qos: 1, retain: true });
      await spy.endAsync();
      await device.endAsync();
      rmSync(folder, { recursive: true, force: true });
    });

    it("reads back unverified when the device has not reported since the command, verified when it has", async () => {
      const plant = createPlant({ tags: writableTags(bus, prefix) });
      const guard = createGuard({ plant, audit: join(folder, "audit-readback.jsonl"), mode: "automatic" });
      try {
        await plant.connect();
        const [silent] = await guard.propose({ silent: 1200 }, { reason: "unverified test" });
        expect(silent?.state, JSON.stringify(silent?.verdicts)).toBe("executed");
        expect(silent?.outcome).toMatchObject({ write: "written", readBack: "unverified" });
        expect(silent?.outcome?.detail).toContain("has not reported");
        const [echo] = await guard.propose({ echo: 1300 }, { reason: "verified test" });
        expect(echo?.outcome).toMatchObject({ write: "written", readBack: "verified" });
        expect(commands.map((command) => command.body.value)).toEqual([1200, 1300]);
      } finally {
        await guard.close();
        await plant.close();
      }
    });

    it("refuses at proposal time a value a JSON command cannot carry, and sends nothing", async () => {
      const local = mqtt({ url: url() });
      const plant = createPlant({ tags: writableTags(local, prefix) });
      const guard = createGuard({ plant, audit: join(folder, "audit-wire.jsonl"), mode: "automatic" });
      const before = commands.length;
      try {
        await plant.connect();
        const tags = writableTags(local, prefix);
        const bound = {
          name: "counter",
          definition: tags.counter,
          address: tags.counter.source.address as MqttAddress,
        };
        expect(local.checkWrite?.(bound, 2 ** 60)).toMatch(/2\^53/);
        expect(local.checkWrite?.(bound, 12)).toBeUndefined();
        const [proposal] = await guard.propose({ counter: 2 ** 60 }, { reason: "too big for JSON" });
        expect(proposal?.state).not.toBe("executed");
        expect(proposal?.verdicts.some((verdict) => verdict.code === "invalid-value")).toBe(true);
        expect(commands.length).toBe(before);
      } finally {
        await guard.close();
        await plant.close();
      }
    });

    it("writes a date-time as ISO text and reads it back as the same instant", async () => {
      const local = mqtt({ url: url(), initialValueWaitMs: 300 });
      const tags = writableTags(local, prefix);
      const bound = {
        name: "batchStart",
        definition: tags.batchStart,
        address: tags.batchStart.source.address as MqttAddress,
      };
      const start = new Date("2024-03-01T06:00:00.123Z");
      try {
        await local.connect();
        const result = await local.write!(bound, start);
        expect(result.outcome).toBe("written");
        expect(result.unverified).toBeUndefined();
        expect(commands.at(-1)).toEqual({
          topic: `${prefix}/batch-start/set`,
          body: expect.objectContaining({ value: "2024-03-01T06:00:00.123Z" }),
        });
        const [sample] = await local.read([bound]);
        expect(sample?.value).toBeInstanceOf(Date);
        expect(local.sameOnWire?.(bound, start, sample?.value)).toBe(true);
        expect(local.sameOnWire?.(bound, start, new Date(start.getTime() + 1))).toBe(false);
      } finally {
        await local.close();
      }
    });

    it("publishes each tag on its own topic, on change past the deadband and on quality changes", async () => {
      const uns = `${prefix}/uns`;
      const received: { topic: string; text: string }[] = [];
      spy.on("message", (topic, payload) => {
        if (topic.startsWith(`${uns}/`)) received.push({ topic, text: payload.toString() });
      });
      await spy.subscribeAsync(`${uns}/#`, { qos: 1 });
      const local = mqtt({ url: url(), name: "uns" });
      const tags = defineTags({
        pressure: float({
          unit: "bar",
          deadband: 0.5,
          resolution: 0.01,
          source: local.topic(`${prefix}/in/pressure`, { command: { topic: `${uns}/value/pressure` } }),
        }),
        flow: float({ source: local.topic(`${prefix}/in/flow`) }),
      });
      const snapshot = (pressure: Sample, flow: Sample) =>
        new Snapshot(
          tags,
          new Map([
            ["pressure", pressure],
            ["flow", flow],
          ]),
          pressure.receivedTime,
        );
      try {
        await local.connect();
        const first = await local.publishTags(snapshot(goodSample(6.004, 1000, 990), goodSample(12, 1000)), {
          topic: `${uns}/json/{tag}`,
          qos: 1,
        });
        expect(Object.keys(first.published)).toEqual(["pressure", "flow"]);
        // pressure moved 0.2 (inside its deadband of 0.5): not published; flow moved: published.
        const second = await local.publishTags(snapshot(goodSample(6.2, 2000), goodSample(13, 2000)), {
          topic: `${uns}/json/{tag}`,
          qos: 1,
        });
        expect(second).toEqual({ published: { flow: "sent" }, unchanged: 1 });
        // A quality change is published even though the value did not move.
        const third = await local.publishTags(
          snapshot(badSample("comm-failure", "lost", 3000, 6.2), goodSample(13, 3000)),
          { topic: `${uns}/json/{tag}`, qos: 1 },
        );
        expect(third.published).toEqual({ pressure: "sent" });
        await local.publishTags(snapshot(goodSample(6.5, 4000), goodSample(14, 4000)), {
          topic: { flow: `${uns}/bare/flow` },
          payload: "value",
          qos: 1,
        });
        await local.publishTags(snapshot(goodSample(6.5, 4000), badSample("timeout", "no answer", 5000)), {
          topic: { flow: `${uns}/bare/flow` },
          payload: "value",
          qos: 1,
        });
        expect(await waitFor(() => received.length === 6), JSON.stringify(received)).toBe(true);
        expect(received.map(({ topic, text }) => [topic.slice(uns.length), JSON.parse(text)])).toEqual([
          ["/json/pressure", { value: 6, unit: "bar", time: 990, quality: "good" }],
          ["/json/flow", { value: 12, time: 1000, quality: "good" }],
          ["/json/flow", { value: 13, time: 2000, quality: "good" }],
          ["/json/pressure", { value: null, unit: "bar", time: 3000, quality: "bad", reason: "comm-failure" }],
          ["/bare/flow", 14],
          ["/bare/flow", null],
        ]);
        // A template that lands on a command topic refuses the whole call: nothing of it is sent.
        await expect(
          local.publishTags(snapshot(goodSample(9, 6000), goodSample(20, 6000)), {
            topic: `${uns}/value/{tag}`,
            qos: 1,
            all: true,
          }),
        ).rejects.toSatisfy(ConfigError.isInstance);
        await expect(
          local.publishTags(snapshot(goodSample(9, 6000), goodSample(20, 6000)), {
            topic: `spBv1.0/G/DCMD/n/{tag}`,
            qos: 1,
          }),
        ).rejects.toSatisfy(ConfigError.isInstance);
        await spy.publishAsync(`${uns}/sentinel`, "end", { qos: 1 });
        expect(await waitFor(() => received.some((message) => message.topic === `${uns}/sentinel`))).toBe(true);
        expect(received.length).toBe(7);
      } finally {
        await local.close();
      }
    });
  });
}

let broker: EmbeddedBroker;
beforeAll(async () => {
  broker = await startBroker({ port: 0 });
});
afterAll(async () => {
  await broker.close();
});
fidelitySuite("MQTT write fidelity and per-tag publishing (embedded aedes)", () => broker.url, 4);

const skip = await serviceSkipReason("mosquitto");
describe.skipIf(skip !== undefined)(`on Mosquitto${skip ? ` (${skip})` : ""}`, () => {
  fidelitySuite("MQTT write fidelity and per-tag publishing (Mosquitto, MQTT 5)", () => services.mosquitto.url, 5);
});
