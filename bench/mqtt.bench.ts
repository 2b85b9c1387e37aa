/**
 * MQTT benchmarks, measured side by side in one run on the embedded aedes broker:
 * - bytes per tag: Sparkplug B NDATA with aliases, each metric's timestamp and no datatype (as the edge node sends it,
 *   Sparkplug 3.0) vs JSON.stringify of the same samples;
 * - publishes for N changed tags: one batched snapshot message vs one message per tag;
 * - SDK publish vs MQTT.js `client.publish` at QoS 0, in time.
 */
import mqttLibrary from "mqtt";
import { mqtt, sparkplugEdgeNode, startBroker } from "../adapters/mqtt/index.js";
import { defineTags, float, goodSample, type Sample, Snapshot } from "../src/index.js";
import { type BenchResult, ratioResult, timeSideBySide } from "./bench-kit.js";

const TAGS = 50;

export default async function mqttBench(): Promise<BenchResult[]> {
  const broker = await startBroker({ port: 0 });
  const results: BenchResult[] = [];
  try {
    const placeholder = mqtt();
    const tags = defineTags(
      Object.fromEntries(
        Array.from({ length: TAGS }, (_, index) => [
          `line1_pump${index}_pressure`,
          float({
            unit: "bar",
            range: [0, 16],
            resolution: 0.001,
            source: placeholder.topic(`site/line1/pump${index}/pressure`),
          }),
        ]),
      ),
    );
    const names = Object.keys(tags);
    const round = (time: number): Record<string, Sample> =>
      Object.fromEntries(names.map((name, index) => [name, goodSample(5 + index * 0.137 + time * 0.01, time, time)]));

    // 1. Bytes per tag: capture what the edge node actually publishes.
    const spy = await mqttLibrary.connectAsync(broker.url, { reconnectPeriod: 0 });
    let sparkplugBytes = 0;
    let sparkplugMetrics = 0;
    spy.on("message", (topic, payload) => {
      if (topic.includes("/NDATA/")) sparkplugBytes += payload.length;
    });
    await spy.subscribeAsync("spBv1.0/Bench/#", { qos: 0 });
    const edge = sparkplugEdgeNode({ url: broker.url, group: "Bench", node: "Edge1", tags });
    await edge.connect();
    let jsonBytes = 0;
    const rounds = 20;
    const now = Date.now();
    for (let index = 1; index <= rounds; index++) {
      const samples = round(now + index * 1000);
      jsonBytes += Buffer.byteLength(JSON.stringify(samples));
      sparkplugMetrics += await edge.update(samples);
    }
    await new Promise((resolve) => setTimeout(resolve, 300));
    await edge.close();
    results.push(
      ratioResult(
        "mqtt: bytes per tag, Sparkplug B with aliases vs JSON",
        { label: "JSON.stringify of the samples", value: jsonBytes / (rounds * TAGS), unit: "bytes/tag" },
        { label: "Sparkplug B NDATA (aliases)", value: sparkplugBytes / sparkplugMetrics, unit: "bytes/tag" },
        { at: "most", ratio: 0.25 },
        `${TAGS} tags × ${rounds} rounds, all changed each round; data without datatypes (the birth declares them)`,
      ),
    );

    // 2. Publishes for N changed tags: count what reaches the broker.
    const bus = mqtt({ url: broker.url });
    await bus.connect();
    let received = 0;
    spy.on("message", (topic) => {
      if (topic.startsWith("bench/")) received++;
    });
    await spy.subscribeAsync("bench/#", { qos: 0 });
    const snapshot = new Snapshot(tags, new Map(Object.entries(round(now))), now);
    await bus.publishSnapshot("bench/snapshot", snapshot, { qos: 1, changedOnly: true });
    await new Promise((resolve) => setTimeout(resolve, 200));
    const batched = received;
    received = 0;
    for (const [name, sample] of Object.entries(round(now)))
      await bus.publish(`bench/tags/${name}`, JSON.stringify(sample), { qos: 1 });
    await new Promise((resolve) => setTimeout(resolve, 200));
    const perTag = received;
    results.push(
      ratioResult(
        "mqtt: publishes for N changed tags, batched vs one per tag",
        { label: "one publish per tag", value: perTag, unit: "publishes" },
        { label: "publishSnapshot (changedOnly)", value: batched, unit: "publishes" },
        { at: "most", ratio: 0.1 },
        `${TAGS} changed tags`,
      ),
    );

    // 3. SDK publish vs raw client.publish, QoS 0, on two connections to the same broker.
    const raw = await mqttLibrary.connectAsync(broker.url, { reconnectPeriod: 0, protocolVersion: 4 });
    const payload = Buffer.from(JSON.stringify({ v: 5.123, q: "good" }));
    const count = 900; // per burst: under MQTT.js's 1000 drain listeners per socket
    const bursts = 4;
    const rawBurst = () =>
      Promise.all(
        Array.from(
          { length: count },
          () =>
            new Promise<void>((resolve, reject) =>
              raw.publish("bench/raw", payload, { qos: 0 }, (error) => (error ? reject(error) : resolve())),
            ),
        ),
      );
    const sdkBurst = () =>
      Promise.all(Array.from({ length: count }, () => bus.publish("bench/sdk", payload, { qos: 0 })));
    const repeat = (burst: () => Promise<unknown>) => async () => {
      for (let index = 0; index < bursts; index++) await burst();
    };
    const timing = await timeSideBySide(repeat(rawBurst), repeat(sdkBurst), 15);
    results.push(
      ratioResult(
        "mqtt: SDK publish vs client.publish at QoS 0",
        { label: `client.publish ×${count * bursts}`, value: timing.baselineMs, unit: "ms" },
        { label: `bus.publish ×${count * bursts}`, value: timing.candidateMs, unit: "ms" },
        { at: "most", ratio: 1.15 },
      ),
    );
    await raw.endAsync();
    await bus.close();
    await spy.endAsync();
  } finally {
    await broker.close();
  }
  return results;
}
