/**
 * Issue 15, Sparkplug B 3.0: timestamps on every metric of births and data, data without datatypes, bdSeq kept on
 * disk so a late will of a previous process never kills the new one, values that cannot be encoded refused where they
 * are handed over (and shown in status), writes checked and compared at the node's declared datatype, DateTime
 * metrics as date-time tags. Payloads are decoded with an independent decoder built on sparkplug-payload.
 */
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { MqttClient } from "mqtt";
import { dateTime, defineTags, enumeration, float, goodSample, integer, ValidationError } from "plantwire";
import {
  mqtt,
  type SparkplugAddress,
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

const tahu = createRequire(import.meta.url)("sparkplug-payload").get("spBv1.0") as {
  encodePayload(payload: unknown): Uint8Array;
};

const placeholder = mqtt();
const edgeTags = defineTags({
  speed: float({ unit: "rpm", source: placeholder.topic("x/speed") }),
  mode: enumeration({ states: { OFF: 0, AUTO: 1 }, source: placeholder.topic("x/mode") }),
  batchStart: dateTime({ source: placeholder.topic("x/batch-start") }),
});

const groupId = () => `PwFidelity${randomBytes(4).toString("hex")}`;

async function listen(client: MqttClient, filter: string) {
  const seen: { topic: string; payload: ReferencePayload }[] = [];
  const decoder = new ReferenceDecoder();
  client.on("message", (topic, payload) => {
    try {
      const decoded = topicMatches(filter, topic) ? decoder.decode(topic, payload) : undefined;
      if (decoded) seen.push({ topic, payload: decoded });
    } catch {
      // not a Sparkplug payload: not ours to check here
    }
  });
  await client.subscribeAsync(filter, { qos: 1 });
  return seen;
}

function sparkplugSuite(label: string, url: () => string, protocolVersion: 4 | 5) {
  describe(label, () => {
    let folder: string;
    let spy: MqttClient;
    beforeAll(async () => {
      folder = mkdtempSync(join(tmpdir(), "plantwire-sparkplug-fidelity-"));
      spy = await rawClient(url(), { protocolVersion });
    });
    afterAll(async () => {
      await spy.endAsync();
      rmSync(folder, { recursive: true, force: true });
    });

    it("stamps every metric of NBIRTH, DBIRTH and DDATA, sends no datatypes in data, and maps DateTime", async () => {
      const group = groupId();
      const seen = await listen(spy, `spBv1.0/${group}/#`);
      const bdSeqFile = join(folder, `${group}.bdseq`);
      const edge = sparkplugEdgeNode({ url: url(), group, node: "N1", device: "D1", tags: edgeTags, bdSeqFile });
      const start = new Date("2024-03-01T06:00:00.000Z");
      await edge.update({
        speed: goodSample(100, 10),
        mode: goodSample("AUTO", 10),
        batchStart: goodSample(start, 10),
      });
      await edge.connect();
      await edge.update({ speed: goodSample(200, 20) });
      const of = (type: string) => seen.filter((message) => message.topic.includes(`/${type}/`));
      expect(
        await waitFor(() => of("DDATA").some((m) => m.payload.metrics.some((metric) => metric.value === 200))),
      ).toBe(true);
      for (const type of ["NBIRTH", "DBIRTH", "DDATA"]) {
        const metrics = of(type).flatMap((message) => message.payload.metrics);
        expect(metrics.length, type).toBeGreaterThan(0);
        expect(
          metrics.filter((metric) => !metric.hasTimestamp).map((metric) => metric.name),
          type,
        ).toEqual([]);
      }
      const nodeBirth = of("NBIRTH")[0]!.payload.metrics;
      expect(nodeBirth.map((metric) => metric.name)).toEqual(["bdSeq", "Node Control/Rebirth"]);
      expect(
        of("DDATA")
          .flatMap((m) => m.payload.metrics)
          .every((metric) => !metric.hasDatatype),
      ).toBe(true);
      expect(of("DBIRTH")[0]!.payload.metrics.every((metric) => metric.hasDatatype)).toBe(true);
      const deviceBirth = new Map(of("DBIRTH")[0]!.payload.metrics.map((metric) => [metric.name, metric]));
      expect(deviceBirth.get("batchStart")).toMatchObject({ type: "DateTime", value: start.getTime(), timestamp: 10 });
      expect(of("DDATA").at(-1)!.payload.metrics).toMatchObject([{ alias: 1, value: 200, timestamp: 20 }]);

      // A host reads the data (no datatypes) through the birth's, and the DateTime metric as a date-time tag.
      const host = sparkplugHost({ url: url(), group });
      const hostTags = defineTags({
        speed: float({ source: host.metric("N1", "speed", { device: "D1" }) }),
        batchStart: dateTime({ source: host.metric("N1", "batchStart", { device: "D1" }) }),
      });
      const bound = Object.entries(hostTags).map(([name, definition]) => ({
        name,
        definition,
        address: definition.source.address as SparkplugAddress,
      }));
      try {
        await host.connect();
        const [speed, batch] = await host.read(bound);
        expect(speed).toMatchObject({ quality: "good", value: 200 });
        expect(batch?.value).toEqual(start);
        await edge.update({ speed: goodSample(300, 30) });
        expect(await waitFor(async () => (await host.read(bound))[0]?.value === 300)).toBe(true);
      } finally {
        await host.close();
        await edge.close();
      }
    });

    it("keeps bdSeq on disk, so a late will of the previous process never marks the new one dead", async () => {
      const group = groupId();
      const bdSeqFile = join(folder, `${group}.bdseq`);
      const host = sparkplugHost({ url: url(), group });
      const hostTags = defineTags({ speed: float({ source: host.metric("N2", "speed") }) });
      const bound = [
        { name: "speed", definition: hostTags.speed, address: hostTags.speed.source.address as SparkplugAddress },
      ];
      const seen = await listen(spy, `spBv1.0/${group}/NDEATH/#`);
      await host.connect();
      const first = sparkplugEdgeNode({ url: url(), group, node: "N2", tags: { speed: edgeTags.speed }, bdSeqFile });
      await first.update({ speed: goodSample(1, 1) });
      await first.connect();
      expect(await waitFor(async () => (await host.read(bound))[0]?.quality === "good")).toBe(true);
      const firstBdSeq = first.stats().bdSeq;
      expect(readFileSync(bdSeqFile, "utf8").trim()).toBe(String(firstBdSeq));

      // The "restarted process": a new edge node on the same file, while the old connection is still open.
      const second = sparkplugEdgeNode({ url: url(), group, node: "N2", tags: { speed: edgeTags.speed }, bdSeqFile });
      await second.update({ speed: goodSample(2, 2) });
      await second.connect();
      // Counted on from the file (one step per CONNECT: on aedes the MQTT 5 attempt and the 3.1.1 fallback are two).
      expect(second.stats().bdSeq).toBeGreaterThan(firstBdSeq);
      expect(await waitFor(async () => (await host.read(bound))[0]?.value === 2)).toBe(true);
      // Now the old process dies without a goodbye: the broker publishes its will, with the old bdSeq.
      (first.connection.client as unknown as { stream: { destroy(): void } }).stream.destroy();
      expect(await waitFor(() => seen.length > 0)).toBe(true);
      expect(seen[0]!.payload.metrics.find((metric) => metric.name === "bdSeq")?.value).toBe(firstBdSeq);
      await host.read(bound); // let the host handle everything that arrived
      expect((await host.read(bound))[0]).toMatchObject({ quality: "good", value: 2 });
      await first.close();
      await second.close();
      await host.close();
    });

    it("refuses a value that cannot be encoded at update(), shows it in status, and fails connect() on a bad bdSeq file", async () => {
      const group = groupId();
      const edge = sparkplugEdgeNode({
        url: url(),
        group,
        node: "N3",
        tags: edgeTags,
        bdSeqFile: join(folder, `${group}.bdseq`),
      });
      const seen = await listen(spy, `spBv1.0/${group}/#`);
      await edge.connect();
      expect(await waitFor(() => seen.some((message) => message.topic.includes("/NBIRTH/")))).toBe(true);
      // An enum tag fed its raw code: refused, nothing of the call kept or sent, status says why.
      await expect(edge.update({ speed: goodSample(5, 5), mode: goodSample(1 as never, 5) })).rejects.toSatisfy(
        ValidationError.isInstance,
      );
      expect(edge.status()).toMatchObject({ state: "degraded" });
      expect(edge.status().reason).toContain('tag "mode"');
      // A later good update goes out (the node is not stalled) and clears the status.
      expect(await edge.update({ speed: goodSample(6, 6), mode: goodSample("OFF", 6) })).toBe(2);
      expect(edge.status().state).toBe("connected");
      await edge.rebirth();
      expect(await waitFor(() => seen.filter((message) => message.topic.includes("/NBIRTH/")).length === 2)).toBe(true);
      const data = seen.filter((message) => message.topic.includes("/NDATA/N3")).flatMap((m) => m.payload.metrics);
      expect(data.map((metric) => metric.value)).toEqual([6, "OFF"]);
      await edge.close();

      const blocked = join(folder, "a-file");
      await import("node:fs").then((fs) => fs.writeFileSync(blocked, "x"));
      const broken = sparkplugEdgeNode({
        url: url(),
        group,
        node: "N4",
        tags: edgeTags,
        bdSeqFile: join(blocked, "bdseq"),
      });
      await expect(broken.connect()).rejects.toThrow(/bdSeqFile/);
      expect(broken.connection.client).toBeUndefined();
      await broken.close();
      expect(existsSync(join(blocked, "bdseq"))).toBe(false);
    });

    it("checks host writes against the node's declared datatypes and compares Float read-backs at float32", async () => {
      const group = groupId();
      const node = await rawClient(url(), { protocolVersion });
      const commands: unknown[] = [];
      const decoder = new ReferenceDecoder();
      const birth = {
        timestamp: Date.now(),
        seq: 0,
        metrics: [
          { name: "bdSeq", type: "Int64", value: 0, timestamp: Date.now() },
          { name: "level", alias: 1, type: "Int16", value: 10, timestamp: Date.now() },
          { name: "ratio", alias: 2, type: "Float", value: 0.5, timestamp: Date.now() },
        ],
      };
      await node.subscribeAsync(`spBv1.0/${group}/NCMD/Foreign`, { qos: 0 });
      let seq = 0;
      node.on("message", (topic, payload) => {
        const command = decoder.decode(topic, payload);
        if (!command) return;
        commands.push(command.metrics.map((metric) => [metric.name, metric.type, metric.value]));
        if (command.metrics[0]?.name === "Node Control/Rebirth") {
          seq = 0;
          void node.publishAsync(`spBv1.0/${group}/NBIRTH/Foreign`, Buffer.from(tahu.encodePayload(birth)));
          return;
        }
        // The node applies the command and reports it, as a float32 where the metric is a Float.
        seq = (seq + 1) % 256;
        const data = {
          timestamp: Date.now(),
          seq,
          metrics: command.metrics.map((metric) => ({
            alias: metric.name === "ratio" ? 2 : 1,
            type: metric.type,
            value: metric.value,
            timestamp: Date.now(),
          })),
        };
        void node.publishAsync(`spBv1.0/${group}/NDATA/Foreign`, Buffer.from(tahu.encodePayload(data)));
      });
      const host = sparkplugHost({ url: url(), group, writeTimeoutMs: 2000 });
      const tags = defineTags({
        level: integer({ source: host.metric("Foreign", "level"), write: {} }),
        ratio: float({ source: host.metric("Foreign", "ratio"), write: {} }),
      });
      const level = { name: "level", definition: tags.level, address: tags.level.source.address as SparkplugAddress };
      const ratio = { name: "ratio", definition: tags.ratio, address: tags.ratio.source.address as SparkplugAddress };
      try {
        await host.connect();
        expect((await host.read([level]))[0]).toMatchObject({ quality: "good", value: 10 });
        expect(host.checkWrite?.(level, 70_000)).toMatch(/70000 does not fit Int16 \(-32768\.\.32767\)/);
        expect(host.checkWrite?.(level, 300)).toBeUndefined();
        expect(host.checkWrite?.(ratio, 1e39)).toMatch(/Float/);
        expect((await host.write!(level, 70_000)).outcome).toBe("failed");
        expect((await host.write!(level, 300)).outcome).toBe("written");
        // 0.1 travels as a float32 and comes back as 0.10000000149011612: confirmed, and equal on the wire.
        expect((await host.write!(ratio, 0.1)).outcome).toBe("written");
        const [readBack] = await host.read([ratio]);
        expect(readBack?.value).not.toBe(0.1);
        expect(host.sameOnWire?.(ratio, 0.1, readBack?.value)).toBe(true);
        expect(host.sameOnWire?.(ratio, 0.2, readBack?.value)).toBe(false);
        expect(commands.filter((command) => (command as unknown[][])[0]?.[0] !== "Node Control/Rebirth")).toEqual([
          [["level", "Int16", 300]],
          [["ratio", "Float", Math.fround(0.1)]],
        ]);
      } finally {
        await host.close();
        await node.endAsync();
      }
    });
  });
}

describe("Sparkplug B 3.0 fidelity", () => {
  let broker: Awaited<ReturnType<typeof startBroker>>;
  beforeAll(async () => {
    broker = await startBroker({ port: 0 });
  });
  afterAll(async () => {
    await broker.close();
  });
  sparkplugSuite("embedded aedes", () => broker.url, 4);
});

const skip = await serviceSkipReason("mosquitto");
describe.skipIf(skip !== undefined)(`Sparkplug B 3.0 fidelity on Mosquitto${skip ? ` (${skip})` : ""}`, () => {
  sparkplugSuite("Mosquitto, MQTT 5", () => services.mosquitto.url, 5);
});
