/** Shared helpers of the MQTT tests: a raw MQTT.js peer, unique topics, and the conformance fixture. */
import { randomBytes } from "node:crypto";
import mqttLibrary, { type MqttClient } from "mqtt";
import { boolean, defineTags, enumeration, float, integer, text } from "plantwire";
import { type EmbeddedBroker, type MqttAdapter, mqtt, startBroker } from "plantwire/mqtt";
import type { ConformanceFixture } from "plantwire/testing";
import { waitFor } from "plantwire/testing";

/** A unique topic prefix per test, so suites never see each other's messages (Mosquitto is shared). */
export function uniquePrefix(label: string): string {
  return `plantwire-test/${label}/${randomBytes(5).toString("hex")}`;
}

/** A plain MQTT.js client playing the device or the other side. */
export async function rawClient(url: string, options: mqttLibrary.IClientOptions = {}): Promise<MqttClient> {
  return mqttLibrary.connectAsync(url, { reconnectPeriod: 0, protocolVersion: 4, ...options });
}

/** How a fixture makes its broker unreachable and reachable again. */
export interface PeerControl {
  breakPeer(): Promise<void>;
  restorePeer(): Promise<void>;
  dispose(): Promise<void>;
}

/** Restarts an aedes broker on its port, keeping its persistence (sessions, retained messages). */
export function restartableBroker(first: EmbeddedBroker): PeerControl & { readonly broker: EmbeddedBroker } {
  let current = first;
  return {
    get broker() {
      return current;
    },
    breakPeer: () => current.close(),
    async restorePeer() {
      current = await startBroker({ port: first.port, persistence: current.persistence });
    },
    dispose: () => current.close(),
  };
}

/** Builds a conformance fixture against a broker URL; `peer` lets the suite break and restore the broker. */
export async function conformanceFixture(
  url: string,
  peer?: PeerControl,
): Promise<ConformanceFixture & { bus: MqttAdapter }> {
  const prefix = uniquePrefix("conformance");
  const bus = mqtt({
    url,
    connectTimeoutMs: 2000,
    reconnect: { minMs: 50, maxMs: 400, stableAfterMs: 100 },
    initialValueWaitMs: 1000,
  });
  const tags = defineTags({
    speed: float({
      unit: "rpm",
      source: bus.topic(`${prefix}/speed`, {
        path: "/value",
        command: { topic: `${prefix}/speed/set`, responseTopic: `${prefix}/speed/ack`, timeoutMs: 3000 },
      }),
      write: { range: [0, 2000] },
    }),
    running: boolean({ source: bus.topic(`${prefix}/running`) }),
    mode: enumeration({ states: { OFF: 0, AUTO: 1, MANUAL: 2 }, source: bus.topic(`${prefix}/mode`) }),
    count: integer({ source: bus.topic(`${prefix}/count`, { path: "/n" }) }),
    note: text({ maxLength: 50, source: bus.topic(`${prefix}/note`) }),
  });
  const device = await rawClient(url);
  const encode: Record<string, (value: unknown) => string> = {
    speed: (value) => JSON.stringify({ value }),
    running: (value) => JSON.stringify(value),
    mode: (value) => String(value),
    count: (value) => JSON.stringify({ n: value }),
    note: (value) => String(value),
  };
  // The device: applies commands to its state topic, then answers.
  await device.subscribeAsync(`${prefix}/speed/set`, { qos: 1 });
  device.on("message", (topic, payload) => {
    if (topic !== `${prefix}/speed/set`) return;
    const command = JSON.parse(payload.toString()) as { value: number; correlationId: string };
    void device.publishAsync(`${prefix}/speed`, encode.speed!(command.value), { qos: 1, retain: true }).then(() =>
      device.publishAsync(`${prefix}/speed/ack`, JSON.stringify({ correlationId: command.correlationId, ok: true }), {
        qos: 1,
      }),
    );
  });
  const topics: Record<string, string> = {
    speed: `${prefix}/speed`,
    running: `${prefix}/running`,
    mode: `${prefix}/mode`,
    count: `${prefix}/count`,
    note: `${prefix}/note`,
  };
  return {
    bus,
    adapter: bus,
    tags,
    values: {
      speed: [1200.5, 900.25],
      running: [true, false],
      mode: ["AUTO", "MANUAL"],
      count: [7, 8],
      note: ["hello", "world"],
    },
    async setValue(name, value) {
      await device.publishAsync(topics[name]!, encode[name]!(value), { qos: 1, retain: true });
      if (bus.status().state !== "connected") return;
      // Wait for the adapter to have it, so the suite's next read sees it (the suite reads right after setting).
      const tag = {
        name,
        definition: tags[name as keyof typeof tags],
        address: tags[name as keyof typeof tags].source.address,
      };
      await waitFor(async () => {
        const [sample] = await bus.read([tag as never]);
        return sample?.quality === "good" && sample.value === value;
      }, 3000);
    },
    write: { name: "speed", value: 1500 },
    ...(peer
      ? {
          async breakPeer() {
            await peer.breakPeer();
            await waitFor(() => bus.status().state !== "connected", 5000);
          },
          restorePeer: () => peer.restorePeer(),
        }
      : {}),
    async dispose() {
      if (device.connected) {
        for (const topic of Object.values(topics)) await device.publishAsync(topic, "", { qos: 1, retain: true });
      }
      await device.endAsync(true);
      await peer?.dispose();
    },
  };
}
