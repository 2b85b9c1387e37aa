import { randomBytes } from "node:crypto";
import { ConnectionError, defineTags, integer } from "plantwire";
import { type MqttAdapter, type MqttGap, mqtt, startBroker } from "plantwire/mqtt";
import { waitFor } from "plantwire/testing";
import { describe, expect, it } from "vitest";
import { type FaultProxy, startFaultProxy } from "../support/fault-proxy.js";
import { serviceSkipReason, services } from "../support/services.js";
import { type PeerControl, rawClient, restartableBroker, uniquePrefix } from "./mqtt-fixture.js";

const fast = { minMs: 20, maxMs: 160, stableAfterMs: 100 };
const uniqueId = (label: string) => `pw-${label}-${randomBytes(4).toString("hex")}`;

function streamTag(bus: MqttAdapter, topic: string) {
  const tags = defineTags({ n: integer({ source: bus.topic(topic, { qos: 1 }) }) });
  return [{ name: "n", definition: tags.n, address: tags.n.source.address as never }];
}

/** Restarts aedes (the broker's state survives in-process), or cuts the link to Mosquitto with a proxy. */
async function outagePeer(kind: "aedes" | "mosquitto"): Promise<PeerControl & { url: string }> {
  if (kind === "aedes") {
    const peer = restartableBroker(await startBroker({ port: 0 }));
    return Object.assign(peer, { url: peer.broker.url });
  }
  let proxy: FaultProxy = await startFaultProxy({ port: services.mosquitto.port });
  const port = proxy.port;
  return {
    url: `mqtt://127.0.0.1:${port}`,
    breakPeer: () => proxy.close(),
    async restorePeer() {
      proxy = await startFaultProxy({ port: services.mosquitto.port }, port);
    },
    dispose: () => proxy.close(),
  };
}

/** Publishes 1..count at QoS 1 through the SDK, with an outage halfway; returns what the subscriber saw. */
async function numberedStream(persistent: boolean, kind: "aedes" | "mosquitto" = "aedes") {
  const peer = await outagePeer(kind);
  const topic = `${uniquePrefix("t6")}/n`;
  const subscriber = mqtt({
    url: peer.url,
    clientId: uniqueId("sub"),
    cleanStart: !persistent,
    sessionExpirySeconds: persistent ? 60 : 0,
    // The subscriber comes back well after the publisher, so the broker must hold the stream for it meanwhile; without
    // a persistent session, late enough that the publisher has surely sent the rest by then, even on a busy machine.
    reconnect: persistent
      ? { minMs: 600, maxMs: 1200, stableAfterMs: 100 }
      : { minMs: 2000, maxMs: 2500, stableAfterMs: 100 },
  });
  const publisher = mqtt({ url: peer.url, reconnect: fast });
  const gaps: MqttGap[] = [];
  subscriber.onGap((gap) => gaps.push(gap));
  const received = new Set<number>();
  await subscriber.connect();
  const subscription = await subscriber.subscribe!(streamTag(subscriber, topic), (_, sample) => {
    if (sample.quality === "good") received.add(sample.value as number);
  });
  await publisher.connect();
  const count = 200;
  for (let n = 1; n <= count; n++) {
    await publisher.publish(topic, String(n), { qos: 1 });
    if (n === 100) {
      await peer.breakPeer();
      await waitFor(() => publisher.status().state !== "connected" && subscriber.status().state !== "connected");
    }
    if (n === 120) await peer.restorePeer();
  }
  if (persistent) await waitFor(() => received.size === count, 8000);
  else {
    // Back with a new session (the gap report says so), then a moment for anything still on its way.
    await waitFor(() => gaps.length > 0, 8000);
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
  const result = { received, gaps, subscriberStats: subscriber.stats(), publisherStats: publisher.stats(), count };
  await subscription.close();
  await subscriber.close();
  await publisher.close();
  await peer.dispose();
  return result;
}

const skip = await serviceSkipReason("mosquitto");
describe("broker restart during a numbered QoS 1 stream (T6)", () => {
  it("loses nothing with a persistent session, and reports no gap", async () => {
    const { received, gaps, publisherStats, count } = await numberedStream(true);
    expect(publisherStats.queued).toBeGreaterThan(0); // numbers 101..120 went through the outbox
    expect([...received].sort((a, b) => a - b)).toEqual(Array.from({ length: count }, (_, index) => index + 1));
    expect(gaps).toEqual([]);
  });

  it("reports the gap without a persistent session", async () => {
    const { gaps, subscriberStats, received, count } = await numberedStream(false);
    expect(received.size).toBeLessThan(count);
    expect(gaps).toHaveLength(1);
    expect(gaps[0]!.reason).toMatch(/clean session/);
    expect(subscriberStats.gaps).toBe(1);
  });

  it.skipIf(skip !== undefined)(
    `loses nothing across a link outage to Mosquitto with a persistent MQTT 5 session${skip ? ` (${skip})` : ""}`,
    async () => {
      const { received, gaps, count } = await numberedStream(true, "mosquitto");
      expect([...received].sort((a, b) => a - b)).toEqual(Array.from({ length: count }, (_, index) => index + 1));
      expect(gaps).toEqual([]);
    },
  );

  it.skipIf(skip !== undefined)(
    `reports the gap on Mosquitto without a persistent session${skip ? ` (${skip})` : ""}`,
    async () => {
      const { gaps, received, count } = await numberedStream(false, "mosquitto");
      expect(received.size).toBeLessThan(count);
      expect(gaps).toHaveLength(1);
    },
  );

  it("never sends a command after its expiry: a 5 s command is dropped after a 10 s outage, a 60 s one arrives", async () => {
    const peer = restartableBroker(await startBroker({ port: 0 }));
    const topic = `${uniquePrefix("t6cmd")}/cmd`;
    // The device keeps a persistent session, so anything the broker accepts for it would reach it.
    const device = await rawClient(peer.broker.url, { clientId: uniqueId("dev"), clean: false, reconnectPeriod: 50 });
    const applied: string[] = [];
    device.on("message", (_, payload) => applied.push(payload.toString()));
    device.on("error", () => {});
    await device.subscribeAsync(topic, { qos: 1 });
    let clock = Date.now();
    const commander = mqtt({ url: peer.broker.url, reconnect: fast, now: () => clock });
    await commander.connect();
    await peer.breakPeer();
    await waitFor(() => commander.status().state !== "connected");
    expect(await commander.publish(topic, "short", { qos: 1, expirySeconds: 5 })).toBe("queued");
    expect(await commander.publish(topic, "long", { qos: 1, expirySeconds: 60 })).toBe("queued");
    clock += 10_000; // a 10 s outage, on the adapter's clock
    await peer.restorePeer();
    expect(await waitFor(() => applied.includes("long"), 8000)).toBe(true);
    expect(applied).not.toContain("short");
    expect(commander.stats()).toMatchObject({ expired: 1, queuedNow: 0 });
    await device.endAsync(true);
    await commander.close();
    await peer.dispose();
  });

  it("restores subscriptions exactly once per new session, in one SUBSCRIBE", async () => {
    const peer = restartableBroker(await startBroker({ port: 0 }));
    const prefix = uniquePrefix("resub");
    const bus = mqtt({ url: peer.broker.url, reconnect: fast });
    await bus.connect();
    const tags = defineTags({
      a: integer({ source: bus.topic(`${prefix}/a`) }),
      b: integer({ source: bus.topic(`${prefix}/b/+`) }),
    });
    const bound = Object.entries(tags).map(([name, definition]) => ({
      name,
      definition,
      address: definition.source.address as never,
    }));
    const subscription = await bus.subscribe!(bound, () => {});
    await peer.breakPeer();
    await peer.restorePeer();
    const seen: string[][] = [];
    peer.broker.aedes.on("subscribe", (subscriptions, client) => {
      if (client?.id === bus.connection.clientId) seen.push(subscriptions.map((entry) => entry.topic).sort());
    });
    expect(await waitFor(() => bus.status().state === "connected" && seen.length > 0, 5000)).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(seen).toEqual([[`${prefix}/a`, `${prefix}/b/+`]]);
    await subscription.close();
    await bus.close();
    await peer.dispose();
  });

  it("backs off exponentially with jitter, capped, while the broker is down", async () => {
    const peer = restartableBroker(await startBroker({ port: 0 }));
    const bus = mqtt({ url: peer.broker.url, reconnect: { minMs: 10, maxMs: 80, stableAfterMs: 0 } });
    await bus.connect();
    await peer.breakPeer();
    expect(await waitFor(() => bus.stats().reconnectDelays.length >= 7, 5000)).toBe(true);
    const delays = bus.stats().reconnectDelays.slice(0, 7);
    delays.forEach((delay, attempt) => {
      const base = Math.min(80, 10 * 2 ** attempt);
      expect(delay).toBeGreaterThanOrEqual(base / 2);
      expect(delay).toBeLessThanOrEqual(base);
    });
    await expect(bus.connect()).rejects.toThrow(ConnectionError);
    await peer.restorePeer();
    expect(await waitFor(() => bus.status().state === "connected", 5000)).toBe(true);
    await bus.close();
    await peer.dispose();
  });
});

async function clientIdFight(url: string) {
  const clientId = uniqueId("twin");
  const options = { url, clientId, reconnect: { minMs: 20, maxMs: 200, stableAfterMs: 2000, flapLimit: 3 } };
  const first = mqtt({ ...options, name: "first" });
  const second = mqtt({ ...options, name: "second" });
  await first.connect();
  await second.connect();
  const stopped = () =>
    [first, second].filter(
      (bus) => bus.status().state === "disconnected" && /client id/.test(bus.status().reason ?? ""),
    );
  expect(await waitFor(() => stopped().length >= 1, 10_000)).toBe(true);
  const loser = stopped()[0]!;
  expect(loser.status().reason).toContain(clientId);
  await expect(loser.connect()).rejects.toThrow(/another client is probably using the client id/i);
  const connectsAfterStop = loser.stats().connects;
  const delays = loser.stats().reconnectDelays;
  for (const [attempt, delay] of delays.entries()) {
    expect(delay).toBeGreaterThanOrEqual(Math.min(200, 20 * 2 ** attempt) / 2);
  }
  await new Promise((resolve) => setTimeout(resolve, 400));
  expect(loser.stats().connects).toBe(connectsAfterStop);
  await first.close();
  await second.close();
}

describe("two clients with one client id (T7)", () => {
  it("detects the fight on aedes and stops one with a clear error, backing off between attempts", async () => {
    const broker = await startBroker({ port: 0 });
    await clientIdFight(broker.url);
    await broker.close();
  });

  it.skipIf(skip !== undefined)(
    `detects the fight on Mosquitto (MQTT 5 "session taken over")${skip ? ` (${skip})` : ""}`,
    async () => {
      await clientIdFight(services.mosquitto.url);
    },
  );
});
