/**
 * Staleness must not flap (issue 15, item 1). The README's glue-script pattern — a deadband on pressure and vibration,
 * `staleAfterMs` on pressure — watched over a real peer: the Modbus TCP simulator (polled) and the embedded MQTT
 * broker (subscribed). A steady, healthy value held for several stale periods gives no change events; an outage gives
 * exactly one bad-or-stale change per tag; recovery gives exactly one good change per tag. Events are counted, never
 * timed: each phase runs until the plant has received a given number of samples (or, for a silent topic, until the
 * re-judging timer has run a given number of times past the stale limit).
 */
import { createPlant, defineTags, float, type Plant, type TagDefinitions, type TimedSample } from "plantwire";
import { modbus, startModbusSimulator } from "plantwire/modbus";
import { mqtt, startBroker } from "plantwire/mqtt";
import { waitFor } from "plantwire/testing";
import { describe, expect, it } from "vitest";
import { rawClient, uniquePrefix } from "../mqtt/mqtt-fixture.js";
import { trackCleanupsAndRejections } from "../support/test-lifecycle.js";

const { cleanups, unhandled } = trackCleanupsAndRejections();

/** Small on purpose: a phase of several stale periods stays short. */
const STALE_AFTER_MS = 250;
const POLL_MS = 40;

/** What these tests look at in a watch() change. */
interface Change {
  readonly name: string;
  readonly sample: TimedSample;
}

/** Records watch() changes and splits them into phases. */
function recorder() {
  const changes: Change[] = [];
  let mark = 0;
  return {
    listener: (change: Change) => void changes.push(change),
    /** Starts a new phase: `since()` counts from here. */
    startPhase() {
      mark = changes.length;
    },
    since(): Change[] {
      return changes.slice(mark);
    },
    all: changes,
  };
}

const isGoodCurrent = (change: Change) => change.sample.quality === "good" && !change.sample.stale;
const isBadOrStale = (change: Change) => change.sample.quality === "bad" || change.sample.stale;
const summary = (changes: readonly Change[]) =>
  changes.map(
    ({ name, sample }) =>
      `${name}:${sample.quality}${sample.reason ? `(${sample.reason})` : ""}${sample.stale ? ":stale" : ""}`,
  );

/** Samples received for a tag so far (every poll or message lands in the plant's history). */
const received = (plant: Plant<TagDefinitions>, name: string) => plant.history(name).length;

describe("staleness does not flap (README pattern)", () => {
  it("over Modbus TCP (polled): steady → silent, outage → one bad per tag, recovery → one good per tag", async () => {
    const simulator = await startModbusSimulator();
    cleanups.push(() => simulator.close());
    const drive = modbus({ url: simulator.url, unit: 1, name: "drive", timeoutMs: 300 });
    const at = {
      speed: drive.holding(100, "uint16", { scale: 0.1 }),
      pressure: drive.input(10, "float32", { wordOrder: "CDAB" }),
      vibration: drive.input(12, "float32"),
    };
    const tags = defineTags({
      speed: float({ unit: "rpm", range: [0, 1800], source: at.speed }),
      pressure: float({
        unit: "bar",
        range: [0, 16],
        resolution: 0.01,
        deadband: 0.2,
        staleAfterMs: STALE_AFTER_MS,
        source: at.pressure,
      }),
      vibration: float({ unit: "mm/s", range: [0, 50], deadband: 0.5, source: at.vibration }),
    });
    simulator.setTag(at.speed.address, 1180);
    simulator.setTag(at.pressure.address, 6.1);
    simulator.setTag(at.vibration.address, 2.2);
    const plant = createPlant({ tags, pollIntervalMs: POLL_MS, readTimeoutMs: 1000, onError: () => {} });
    cleanups.push(() => plant.close());
    const events = recorder();
    await plant.watch(events.listener);
    const names = ["speed", "pressure", "vibration"] as const;
    const anyPlant = plant as unknown as Plant<TagDefinitions>;

    // The first report of each tag: good and current.
    expect(await waitFor(() => names.every((name) => events.all.some((change) => change.name === name)), 5000)).toBe(
      true,
    );
    expect(events.all.every(isGoodCurrent), JSON.stringify(summary(events.all))).toBe(true);

    // Steady: small moves inside the deadband, held for several stale periods (≥ 40 polls ≈ 6 stale periods).
    events.startPhase();
    const steadyFrom = received(anyPlant, "pressure");
    let wobble = 0;
    expect(
      await waitFor(() => {
        simulator.setTag(at.pressure.address, 6.1 + (wobble++ % 3) * 0.05);
        return received(anyPlant, "pressure") - steadyFrom >= Math.ceil((6 * STALE_AFTER_MS) / POLL_MS);
      }, 20_000),
    ).toBe(true);
    expect(summary(events.since())).toEqual([]);

    // Outage: the device goes away; every poll from now on fails.
    events.startPhase();
    await simulator.stop();
    const badSamples = () => anyPlant.history("pressure").filter((sample) => sample.quality === "bad").length;
    expect(await waitFor(() => badSamples() >= 10, 20_000)).toBe(true);
    const outage = events.since();
    for (const name of names) {
      const ofTag = outage.filter((change) => change.name === name);
      expect(summary(ofTag), name).toHaveLength(1);
      expect(ofTag.every(isBadOrStale), JSON.stringify(summary(ofTag))).toBe(true);
    }

    // Recovery: the device answers again; one good change per tag, then silence.
    events.startPhase();
    await simulator.start();
    const goodFrom = () => {
      const history = anyPlant.history("pressure");
      const lastBad = history.findLastIndex((sample) => sample.quality === "bad");
      return history.length - 1 - lastBad;
    };
    expect(await waitFor(() => goodFrom() >= Math.ceil((3 * STALE_AFTER_MS) / POLL_MS), 20_000)).toBe(true);
    const recovery = events.since();
    for (const name of names) {
      const ofTag = recovery.filter((change) => change.name === name);
      expect(summary(ofTag), name).toHaveLength(1);
      expect(ofTag.every(isGoodCurrent), JSON.stringify(summary(ofTag))).toBe(true);
    }
    expect(unhandled).toEqual([]);
  }, 60_000);

  it("over MQTT (subscribed): steady publishing → silent, source stops → one stale per tag, resumes → one good", async () => {
    const broker = await startBroker({ port: 0 });
    cleanups.push(() => broker.close());
    const prefix = uniquePrefix("stale-flap");
    const bus = mqtt({ url: broker.url, name: "bus" });
    const tags = defineTags({
      pressure: float({
        unit: "bar",
        range: [0, 16],
        resolution: 0.01,
        deadband: 0.2,
        staleAfterMs: STALE_AFTER_MS,
        source: bus.topic(`${prefix}/pressure`, { path: "/value" }),
      }),
      vibration: float({
        unit: "mm/s",
        range: [0, 50],
        deadband: 0.5,
        staleAfterMs: STALE_AFTER_MS,
        source: bus.topic(`${prefix}/vibration`, { path: "/rms" }),
      }),
    });
    const device = await rawClient(broker.url);
    cleanups.push(() => device.endAsync());
    let publishing = true;
    let sent = 0;
    // An idle but healthy device: it repeats a steady value well inside the deadband, more often than the stale limit.
    const publishOnce = async () => {
      const wobble = (sent++ % 3) * 0.05;
      await device.publishAsync(`${prefix}/pressure`, JSON.stringify({ value: 6.1 + wobble }), { qos: 1 });
      await device.publishAsync(`${prefix}/vibration`, JSON.stringify({ rms: 2.2 + wobble }), { qos: 1 });
    };
    const timer = setInterval(() => {
      if (publishing) void publishOnce().catch(() => {});
    }, POLL_MS);
    cleanups.push(() => clearInterval(timer));

    const plant = createPlant({ tags, pollIntervalMs: POLL_MS, onError: () => {} });
    cleanups.push(() => plant.close());
    const events = recorder();
    await plant.watch(events.listener);
    const names = ["pressure", "vibration"] as const;
    const anyPlant = plant as unknown as Plant<TagDefinitions>;

    // Wait for the first good report of each tag (the subscription may first report "not read yet").
    const goodSeen = () =>
      names.every((name) => events.all.some((change) => change.name === name && isGoodCurrent(change)));
    expect(await waitFor(goodSeen, 5000)).toBe(true);

    // Steady: several stale periods of repeated messages inside the deadband.
    events.startPhase();
    const steadyFrom = received(anyPlant, "pressure");
    expect(
      await waitFor(
        () => received(anyPlant, "pressure") - steadyFrom >= Math.ceil((6 * STALE_AFTER_MS) / POLL_MS),
        20_000,
      ),
    ).toBe(true);
    expect(summary(events.since())).toEqual([]);

    // The source stops: one stale change per tag, and no more however long it stays silent.
    events.startPhase();
    publishing = false;
    expect(
      await waitFor(() => names.every((name) => events.since().some((change) => change.name === name)), 10_000),
    ).toBe(true);
    // Stay silent for several more stale periods: count history-free ticks by waiting on a marker timer's runs.
    let ticks = 0;
    const ticker = setInterval(() => ticks++, POLL_MS);
    cleanups.push(() => clearInterval(ticker));
    expect(await waitFor(() => ticks >= Math.ceil((4 * STALE_AFTER_MS) / POLL_MS), 20_000)).toBe(true);
    const silent = events.since();
    for (const name of names) {
      const ofTag = silent.filter((change) => change.name === name);
      expect(summary(ofTag), name).toHaveLength(1);
      expect(ofTag.every(isBadOrStale), JSON.stringify(summary(ofTag))).toBe(true);
    }

    // The source resumes: one good change per tag, then silence again.
    events.startPhase();
    const resumedFrom = received(anyPlant, "pressure");
    publishing = true;
    expect(
      await waitFor(
        () => received(anyPlant, "pressure") - resumedFrom >= Math.ceil((4 * STALE_AFTER_MS) / POLL_MS),
        20_000,
      ),
    ).toBe(true);
    const resumed = events.since();
    for (const name of names) {
      const ofTag = resumed.filter((change) => change.name === name);
      expect(summary(ofTag), name).toHaveLength(1);
      expect(ofTag.every(isGoodCurrent), JSON.stringify(summary(ofTag))).toBe(true);
    }
    expect(unhandled).toEqual([]);
  }, 60_000);
});
