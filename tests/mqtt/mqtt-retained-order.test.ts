/**
 * A broker may deliver a subscription's retained messages after live ones: aedes streams them from its store while it
 * forwards live publishes, so under load a retained value read from the store can reach the client after a newer live
 * one (the soak test caught tags left at the older value after a reconnection). Here the real aedes broker's store is
 * made slow on purpose: it reads the retained messages when the subscription arrives and sends them only when the
 * test says so. The adapter must keep the live value.
 */
import { PassThrough, type Readable } from "node:stream";
import { defineTags, float } from "plantwire";
import { type EmbeddedBroker, mqtt, startBroker } from "plantwire/mqtt";
import { waitFor } from "plantwire/testing";
import { afterEach, describe, expect, it } from "vitest";
import { rawClient, uniquePrefix } from "./mqtt-fixture.js";

interface RetainedStore {
  createRetainedStreamCombi(patterns: string[]): Readable;
}

/** Holds the retained messages of every new subscription until `release()`; they are read at subscribe time. */
function holdRetained(broker: EmbeddedBroker) {
  // aedes keeps its store on the instance; its types do not declare it.
  const store = (broker.aedes as unknown as { persistence: RetainedStore }).persistence;
  const original = store.createRetainedStreamCombi.bind(store);
  let release: () => void = () => {};
  const released = new Promise<void>((resolve) => {
    release = resolve;
  });
  let held = 0;
  store.createRetainedStreamCombi = (patterns) => {
    const out = new PassThrough({ objectMode: true });
    void (async () => {
      const packets: unknown[] = [];
      for await (const packet of original(patterns)) packets.push(packet);
      held += packets.length;
      await released;
      for (const packet of packets) out.write(packet);
      out.end();
    })();
    return out;
  };
  return { release: () => release(), held: () => held };
}

let broker: EmbeddedBroker | undefined;
afterEach(async () => {
  await broker?.close();
  broker = undefined;
});

describe("retained messages that arrive after live ones", () => {
  it("never overwrite the newer live value, and are counted", async () => {
    broker = await startBroker({ port: 0 });
    const topic = `${uniquePrefix("retained-order")}/level`;
    const publisher = await rawClient(broker.url);
    await publisher.publishAsync(topic, "1.5", { qos: 1, retain: true });
    const hold = holdRetained(broker);
    const bus = mqtt({ url: broker.url, name: "bus", initialValueWaitMs: 50 });
    const tags = defineTags({ level: float({ source: bus.topic(topic) }) });
    await bus.connect();
    const seen: unknown[] = [];
    await bus.subscribe?.(
      [{ name: "level", definition: tags.level, address: tags.level.source.address as never }],
      (_name, sample) => seen.push(sample.value),
    );
    // The subscription is in place and its retained 1.5 is held back; a live 2.5 is published and arrives first.
    expect(await waitFor(() => hold.held() === 1)).toBe(true);
    await publisher.publishAsync(topic, "2.5", { qos: 1, retain: true });
    expect(await waitFor(() => seen.includes(2.5))).toBe(true);
    hold.release();
    expect(await waitFor(() => bus.stats().staleRetained === 1)).toBe(true);
    expect(seen).toEqual([2.5]);
    const [sample] = await bus.read([
      { name: "level", definition: tags.level, address: tags.level.source.address as never },
    ]);
    expect(sample?.value).toBe(2.5);
    await publisher.publishAsync(topic, "", { qos: 1, retain: true });
    await publisher.endAsync();
    await bus.close();
  });
});
