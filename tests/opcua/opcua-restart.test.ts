/**
 * T8: the server restarted 20 times during a subscription. Exactly one reconnection per outage, data again within
 * 5 s, the server's monitored-item count unchanged, no leaked sessions, and no value ever invented.
 */
import { type BoundTag, float, type Sample } from "plantwire";
import { type OpcuaAddress, type OpcuaSimulator, opcua, startOpcuaSimulator } from "plantwire/opcua";
import { waitFor } from "plantwire/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { temporaryFolder, trustSimulator } from "./opcua-support.js";

const folder = temporaryFolder("restart");
const count = 20;
let simulator: OpcuaSimulator;

beforeAll(async () => {
  simulator = await startOpcuaSimulator({
    port: 0,
    nodeset: "minimal",
    pkiFolder: `${folder.path}/server`,
    variables: Array.from({ length: count }, (_, index) => ({
      path: `Line/Value${index}`,
      dataType: "Double" as const,
      value: -1,
    })),
  });
  await trustSimulator(`${folder.path}/client`, simulator);
});

afterAll(async () => {
  await simulator?.close();
  folder.remove();
});

describe("opcua T8: server restarts during a subscription", () => {
  it("restores the subscription after each of 20 restarts with exactly one reconnection per outage", async () => {
    const plc = opcua({
      endpoint: simulator.endpoint,
      pkiFolder: `${folder.path}/client`,
      publishingIntervalMs: 50,
      samplingIntervalMs: 0,
      reconnectDelayMs: 25,
      maxReconnectDelayMs: 100,
    });
    const tags: BoundTag<OpcuaAddress>[] = Array.from({ length: count }, (_, index) => {
      const definition = float({ source: plc.node(`ns=1;s=Line.Value${index}`) });
      return { name: `value${index}`, definition, address: definition.source.address as OpcuaAddress };
    });
    const latest = new Map<string, Sample>();
    const everSet = new Map<string, Set<number>>(tags.map((tag) => [tag.name, new Set([-1])]));
    const invented: string[] = [];
    await plc.connect();
    const subscription = await plc.subscribe(tags, (name, sample) => {
      latest.set(name, sample);
      if (sample.quality !== "bad" && !everSet.get(name)?.has(sample.value as number)) {
        invented.push(`${name}=${String(sample.value)}`);
      }
      if (sample.quality === "bad") expect(sample.value).toBeUndefined();
    });
    expect(subscription.monitoredItemCount).toBe(count);
    const allAt = (value: number) => async () =>
      tags.every((tag) => latest.get(tag.name)?.quality === "good" && latest.get(tag.name)?.value === value);
    expect(await waitFor(allAt(-1), 5000)).toBe(true);
    const itemsBefore = simulator.monitoredItemCount();
    expect(itemsBefore).toBe(count);
    expect(simulator.sessionCount()).toBe(1);

    for (let outage = 1; outage <= 20; outage++) {
      const reconnectionsBefore = plc.reconnectionCount;
      await simulator.restart();
      for (const [index, tag] of tags.entries()) {
        const value = outage * 1000 + index;
        everSet.get(tag.name)?.add(value);
        simulator.set(`Line/Value${index}`, value);
      }
      const fresh = await waitFor(
        () => tags.every((tag, index) => latest.get(tag.name)?.value === outage * 1000 + index),
        5000,
      );
      expect(fresh, `outage ${outage}: data did not flow again within 5 s`).toBe(true);
      expect(plc.reconnectionCount, `outage ${outage}`).toBe(reconnectionsBefore + 1);
      expect(simulator.sessionCount(), `outage ${outage}: sessions`).toBe(1);
      expect(simulator.monitoredItemCount(), `outage ${outage}: monitored items`).toBe(itemsBefore);
      expect(simulator.subscriptionCount(), `outage ${outage}: subscriptions`).toBe(1);
    }
    expect(plc.status().state).toBe("connected");
    expect(invented).toEqual([]);
    await subscription.close();
    await plc.close();
    expect(await waitFor(() => simulator.sessionCount() === 0, 5000)).toBe(true);
  }, 120_000);

  it("closes promptly while the server is unreachable, and reports the outage to subscribers without values", async () => {
    const plc = opcua({ endpoint: simulator.endpoint, pkiFolder: `${folder.path}/client`, publishingIntervalMs: 50 });
    const definition = float({ source: plc.node("ns=1;s=Line.Value0") });
    const tag = { name: "value0", definition, address: definition.source.address as OpcuaAddress };
    const samples: Sample[] = [];
    await plc.connect();
    await plc.subscribe([tag], (_name, sample) => samples.push(sample));
    expect(await waitFor(() => samples.length > 0, 5000)).toBe(true);
    await simulator.suspend();
    expect(await waitFor(() => plc.status().state === "disconnected", 5000)).toBe(true);
    expect(samples.at(-1)).toMatchObject({ quality: "bad", reason: "comm-failure", value: undefined });
    await expect(plc.read([tag])).rejects.toThrow(/reconnecting/);
    const closed = await Promise.race([
      plc.close().then(() => true),
      new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 10_000)),
    ]);
    expect(closed).toBe(true);
    expect(plc.status().state).toBe("disconnected");
    await simulator.resume();
  });
});
