import { randomBytes } from "node:crypto";
import { boolean, defineTags, enumeration, float, goodSample, integer } from "plantwire";
import { mqtt, sparkplugEdgeNode, sparkplugHost, startBroker } from "plantwire/mqtt";
import { describeAdapterConformance, waitFor } from "plantwire/testing";
import { restartableBroker } from "./mqtt-fixture.js";

// The Sparkplug host is an adapter too: it runs the same conformance suite, against a plantwire edge node that
// applies the host's writes (DCMD) and reports them back.
await describeAdapterConformance("sparkplug host on the embedded aedes broker", async () => {
  const peer = restartableBroker(await startBroker({ port: 0 }));
  const group = `PwConf${randomBytes(4).toString("hex")}`;
  const placeholder = mqtt();
  const edgeTags = defineTags({
    speed: float({ source: placeholder.topic("x/speed") }),
    running: boolean({ source: placeholder.topic("x/running") }),
    mode: enumeration({ states: { OFF: 0, AUTO: 1, MANUAL: 2 }, source: placeholder.topic("x/mode") }),
    batch: integer({ range: [0, 1000], source: placeholder.topic("x/batch") }),
  });
  const fast = { minMs: 50, maxMs: 300, stableAfterMs: 100 };
  const edge = sparkplugEdgeNode({
    url: peer.broker.url,
    group,
    node: "Line1",
    device: "Drive1",
    tags: edgeTags,
    reconnect: fast,
  });
  edge.onCommand((name, value) => void edge.update({ [name]: goodSample(value) }));
  await edge.connect();
  const host = sparkplugHost({ url: peer.broker.url, group, reconnect: fast, writeTimeoutMs: 3000 });
  const tags = defineTags({
    speed: float({ source: host.metric("Line1", "speed", { device: "Drive1" }), write: {} }),
    running: boolean({ source: host.metric("Line1", "running", { device: "Drive1" }) }),
    mode: enumeration({
      states: { OFF: 0, AUTO: 1, MANUAL: 2 },
      source: host.metric("Line1", "mode", { device: "Drive1" }),
    }),
    batch: integer({ source: host.metric("Line1", "batch", { device: "Drive1" }) }),
  });
  const bound = (name: string) => {
    const definition = tags[name as keyof typeof tags];
    return { name, definition, address: definition.source.address as never };
  };
  return {
    adapter: host,
    tags,
    values: { speed: [1200.5, 900.25], running: [true, false], mode: ["AUTO", "MANUAL"], batch: [7, 8] },
    async setValue(name, value) {
      await edge.update({ [name]: goodSample(value) });
      if (host.status().state !== "connected") return;
      await waitFor(async () => (await host.read([bound(name)]))[0]?.value === value, 3000);
    },
    write: { name: "speed", value: 1500 },
    async breakPeer() {
      await peer.breakPeer();
      await waitFor(() => host.status().state !== "connected", 5000);
    },
    restorePeer: () => peer.restorePeer(),
    async dispose() {
      await edge.close();
      await peer.dispose();
    },
  };
});
