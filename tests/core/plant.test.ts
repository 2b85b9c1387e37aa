import {
  type Adapter,
  ConfigError,
  createPlant,
  DataQualityError,
  defineTags,
  enumeration,
  float,
  type TagChange,
  type TagSource,
} from "plantwire";
import { type MemoryAdapter, type MemoryAddress, memoryAdapter, waitFor } from "plantwire/testing";
import { describe, expect, it } from "vitest";

/** Wraps a memory adapter so that each read first waits for `gate`, and announces that it started. */
function gatedAdapter(
  inner: MemoryAdapter,
  gate: Promise<void>,
  started: () => void,
): Adapter<MemoryAddress> & {
  key(key: string): TagSource<MemoryAddress>;
} {
  const wrapper = {
    ...inner,
    capabilities: inner.capabilities,
    async read(...args: Parameters<MemoryAdapter["read"]>) {
      started();
      await gate;
      return inner.read(...args);
    },
    key: (key: string): TagSource<MemoryAddress> => ({ adapter: wrapper, address: { key }, label: key }),
  };
  return wrapper;
}

describe("createPlant", () => {
  it("reads all adapters concurrently and merges one typed snapshot", async () => {
    let releaseA!: () => void;
    let releaseB!: () => void;
    const aStarted = new Promise<void>((resolve) => {
      releaseB = resolve;
    });
    const bStarted = new Promise<void>((resolve) => {
      releaseA = resolve;
    });
    // Each adapter's read waits until the other's has started: a sequential plant would never finish.
    const a = gatedAdapter(memoryAdapter({ name: "a", values: { x: 1 } }), bStarted, () => releaseB());
    const b = gatedAdapter(memoryAdapter({ name: "b", values: { y: 2 } }), aStarted, () => releaseA());
    const plant = createPlant({
      tags: defineTags({ x: float({ source: a.key("x") }), y: float({ source: b.key("y") }) }),
      readTimeoutMs: 5000,
    });
    const snapshot = await plant.read();
    expect(snapshot.value("x")).toBe(1);
    expect(snapshot.value("y")).toBe(2);
    await plant.close();
  });

  it("marks only the failing adapter's tags bad", async () => {
    const good = memoryAdapter({ name: "good", values: { flow: 42.5 } });
    const broken = memoryAdapter({ name: "broken", values: { level: 3 } });
    const plant = createPlant({
      tags: defineTags({
        flow: float({ unit: "m3/h", source: good.key("flow") }),
        level: float({ unit: "m", source: broken.key("level") }),
      }),
      onError: () => {},
    });
    expect((await plant.read()).value("level")).toBe(3);
    broken.fail(new Error("gateway unplugged"));
    const snapshot = await plant.read();
    expect(snapshot.value("flow")).toBe(42.5);
    expect(snapshot.sample("level")).toMatchObject({ quality: "bad", reason: "comm-failure" });
    expect(snapshot.sample("level").detail).toContain("gateway unplugged");
    expect(() => snapshot.value("level")).toThrow(DataQualityError);
    expect(snapshot.valueOr("level", -1)).toBe(-1);
    expect(plant.status()).toMatchObject({ good: { state: "connected" }, broken: { state: "degraded" } });
    await plant.close();
    expect(plant.status()).toMatchObject({ good: { state: "disconnected" }, broken: { state: "disconnected" } });
  });

  it("gives a hanging adapter's tags a timeout, without holding up the others", async () => {
    const quick = memoryAdapter({ name: "quick", values: { a: 1 } });
    const stuck = memoryAdapter({ name: "stuck", values: { b: 2 } });
    stuck.hang(true);
    const plant = createPlant({
      tags: defineTags({ a: float({ source: quick.key("a") }), b: float({ source: stuck.key("b") }) }),
      readTimeoutMs: 200,
    });
    const snapshot = await plant.read();
    expect(snapshot.value("a")).toBe(1);
    expect(snapshot.sample("b")).toMatchObject({ quality: "bad", reason: "timeout" });
    await plant.close();
  });

  it("reports STALE samples and never returns them as current", async () => {
    const plc = memoryAdapter({ name: "plc" });
    plc.set("temp", 61.2, { sourceTime: Date.now() - 60_000 });
    plc.set("fresh", 5, { sourceTime: Date.now() });
    const plant = createPlant({
      tags: defineTags({
        temp: float({ unit: "°C", staleAfterMs: 10_000, source: plc.key("temp") }),
        fresh: float({ staleAfterMs: 10_000, source: plc.key("fresh") }),
      }),
    });
    const snapshot = await plant.read();
    expect(snapshot.sample("temp")).toMatchObject({ quality: "good", stale: true, value: 61.2 });
    expect(() => snapshot.value("temp")).toThrow(/STALE/);
    expect(snapshot.isUsable("temp")).toBe(false);
    expect(snapshot.value("fresh")).toBe(5);
    await plant.close();
  });

  it("refuses tag names it does not have, naming each one and the names it has", async () => {
    const plc = memoryAdapter({ name: "plc", values: { p: 1 } });
    const plant = createPlant({ tags: defineTags({ pressure: float({ source: plc.key("p") }) }) });
    // A map loaded from a file types every string as a name: a misspelling must fail, not watch nothing.
    const names = ["presure", "pressure"] as never[];
    const error = await plant.read(names).catch((caught: unknown) => caught);
    expect(ConfigError.isInstance(error)).toBe(true);
    expect((error as ConfigError).issues).toEqual([
      {
        path: 'plant.read: "presure"',
        message: "is not a tag of this plant",
        fix: "use one of the tag map's names: pressure",
      },
    ]);
    await expect(plant.watch(() => {}, { tags: names })).rejects.toThrow(/plant\.watch tags: "presure"/);
    expect(() => plant.window(names)).toThrow(/plant\.window: "presure"/);
    expect(() => plant.history("presure" as never)).toThrow(ConfigError);
    expect((await plant.read(["pressure"])).value("pressure")).toBe(1);
    await plant.close();
  });

  it("keeps a bounded history per tag and builds windows from it", async () => {
    const plc = memoryAdapter({ name: "plc", values: { p: 0, q: 0, r: 0 } });
    const plant = createPlant({
      tags: defineTags({
        p: float({ source: plc.key("p") }),
        q: float({ source: plc.key("q") }),
        r: float({ source: plc.key("r") }),
      }),
      historySize: 3,
    });
    for (let value = 1; value <= 5; value++) {
      plc.set("p", value);
      plc.set("q", value * 10);
      await plant.read();
    }
    expect(plant.history("p").map((sample) => sample.value)).toEqual([3, 4, 5]);
    const window = plant.window(["q", "p"]);
    expect(window.names).toEqual(["p", "q"]);
    expect(window.series("q").map((sample) => sample.value)).toEqual([30, 40, 50]);
    expect(window.series("p")[0]?.receivedTime).toBeLessThanOrEqual(window.series("p")[2]?.receivedTime ?? 0);
    await plant.close();
  });

  for (const subscribe of [true, false]) {
    it(`watch() reports changes past the deadband (${subscribe ? "subscription" : "polling"})`, async () => {
      const plc = memoryAdapter({ name: "plc", values: { pressure: 6, mode: "AUTO" }, subscribe });
      const plant = createPlant({
        tags: defineTags({
          pressure: float({ unit: "bar", range: [0, 16], deadband: 0.5, source: plc.key("pressure") }),
          mode: enumeration({ states: { OFF: 0, AUTO: 1 }, source: plc.key("mode") }),
        }),
        pollIntervalMs: 20,
      });
      const changes: TagChange<typeof plant.tags>[] = [];
      const watcher = await plant.watch((change) => changes.push(change));
      await waitFor(() => changes.length >= 2);
      expect(changes.map((change) => [change.name, change.sample.value])).toEqual([
        ["pressure", 6],
        ["mode", "AUTO"],
      ]);
      plc.set("pressure", 6.3); // inside the deadband: not reported
      plc.set("pressure", 6.4);
      plc.set("mode", "OFF");
      await waitFor(() => changes.length >= 3);
      plc.set("pressure", 7.1); // 1.1 from the last reported 6: reported
      await waitFor(() => changes.length >= 4);
      await watcher.stop();
      expect(changes.slice(2).map((change) => [change.name, change.sample.value])).toEqual([
        ["mode", "OFF"],
        ["pressure", 7.1],
      ]);
      expect(changes[3]?.previous?.value).toBe(6);
      await plant.close();
    });
  }

  it("watch() reports a subscribed tag going stale when its source falls silent", async () => {
    const plc = memoryAdapter({ name: "plc" });
    plc.set("vibration", 2.5);
    const plant = createPlant({
      // 1 s: the first report must come before it, even when starting the plant is slow on a busy machine.
      tags: defineTags({ vibration: float({ unit: "mm/s", staleAfterMs: 1000, source: plc.key("vibration") }) }),
      pollIntervalMs: 20,
    });
    const changes: TagChange<typeof plant.tags>[] = [];
    const watcher = await plant.watch((change) => changes.push(change));
    expect(await waitFor(() => changes.some((change) => change.sample.stale), 6000)).toBe(true);
    expect(changes[0]?.sample.stale).toBe(false);
    await watcher.stop();
    await plant.close();
  });

  it("keeps watching when a listener throws, and reports the error", async () => {
    const plc = memoryAdapter({ name: "plc", values: { a: 1 } });
    const errors: unknown[] = [];
    const plant = createPlant({
      tags: defineTags({ a: float({ source: plc.key("a") }) }),
      onError: (error) => errors.push(error),
    });
    let calls = 0;
    const watcher = await plant.watch(() => {
      calls++;
      throw new Error("listener bug");
    });
    plc.set("a", 2);
    await waitFor(() => calls >= 2);
    expect(calls).toBe(2);
    expect(errors).toHaveLength(2);
    await watcher.stop();
    await plant.close();
  });

  it("refuses two different adapters with one name", () => {
    const first = memoryAdapter({ name: "plc" });
    const second = memoryAdapter({ name: "plc" });
    expect(() =>
      createPlant({
        tags: defineTags({ a: float({ source: first.key("a") }), b: float({ source: second.key("b") }) }),
      }),
    ).toThrow(ConfigError);
  });

  it("rejects reads after close with a typed error", async () => {
    const plc = memoryAdapter({ name: "plc", values: { a: 1 } });
    const plant = createPlant({ tags: defineTags({ a: float({ source: plc.key("a") }) }) });
    await plant.close();
    await expect(plant.read()).rejects.toThrow(/closed/);
  });
});
