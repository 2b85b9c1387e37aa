/**
 * The anomaly detector end to end against the plant simulator: feature vectors read over Modbus, scored by the
 * function model, quiet while the pump runs normally, and a Sparkplug B anomaly (NDATA from the edge node) on the
 * simulator's broker once cavitation sets in, decoded both raw and by a Sparkplug host through the example's tag map.
 * Nothing is written to the plant.
 */
import { createPlant } from "plantwire";
import { loadSparkplugCodec, type SparkplugPayload, sparkplugHost } from "plantwire/mqtt";
import { waitFor } from "plantwire/testing";
import { describe, expect, it } from "vitest";
import { anomalyTags, ewmaDetector, startAnomalyFeatures } from "../../examples/anomaly-features.js";
import { startPlantSimulator } from "../../src/sim/plant-simulator.js";
import { rawClient } from "../mqtt/mqtt-fixture.js";

const number = (value: unknown) => (typeof value === "object" && value !== null ? Number(String(value)) : value);

describe("anomaly-features against the simulator", () => {
  it("stays quiet on a normal pump and publishes a Sparkplug B anomaly when cavitation sets in", async () => {
    const simulator = await startPlantSimulator({
      modbus: { port: 0 },
      opcua: false,
      mqtt: { port: 0 },
      historian: false,
      tickMs: 100,
      speedup: 5,
    });
    const setpointBefore = simulator.model.values.speedSetpoint;
    const codec = await loadSparkplugCodec();
    const spy = await rawClient(simulator.urls.mqtt!);
    const seen: { topic: string; payload: SparkplugPayload }[] = [];
    // Sparkplug 3.0 data carries no datatypes: read it with those of the birth, as a host does.
    const birthTypes = new Map<number, string>();
    spy.on("message", (topic, payload) => {
      const decoded = topic.includes("/NBIRTH/")
        ? codec.decode(payload)
        : codec.decodeWithTypes(payload, (_name, alias) => (alias === undefined ? undefined : birthTypes.get(alias)));
      if (topic.includes("/NBIRTH/"))
        for (const metric of decoded.metrics ?? []) birthTypes.set(Number(number(metric.alias)), metric.type);
      seen.push({ topic, payload: decoded });
    });
    await spy.subscribeAsync("spBv1.0/plantwire/+/pump7-anomaly", { qos: 1 });
    const host = sparkplugHost({ url: simulator.urls.mqtt!, group: "plantwire", name: "scada" });
    const scada = createPlant({ tags: anomalyTags(host, "pump7-anomaly") });
    const reported: unknown[] = [];
    await scada.watch(({ name, sample }) => {
      if (name === "anomaly") reported.push(sample.value);
    });
    const detector = await startAnomalyFeatures({
      modbusUrl: simulator.urls.modbus,
      mqttUrl: simulator.urls.mqtt,
      intervalMs: 100,
    });
    try {
      expect(detector.features.names).toEqual([
        "speed",
        "motorCurrent",
        "pressure",
        "flow",
        "bearingTemperature",
        "vibration",
      ]);
      const births = () => seen.filter((message) => message.topic === "spBv1.0/plantwire/NBIRTH/pump7-anomaly");
      expect(await waitFor(() => births().length === 1)).toBe(true);
      const aliases = new Map(births()[0]!.payload.metrics!.map((metric) => [metric.name, number(metric.alias)]));
      const anomalies = () =>
        seen
          .filter((message) => message.topic === "spBv1.0/plantwire/NDATA/pump7-anomaly")
          .flatMap((message) => message.payload.metrics ?? [])
          .filter((metric) => !metric.isHistorical && number(metric.alias) === aliases.get("anomaly"));

      // Past the warm-up on a healthy pump: no anomaly reported.
      expect(await waitFor(() => detector.loop.metrics().runs >= 45, 15_000)).toBe(true);
      expect(detector.loop.metrics().failedRuns).toBe(0);
      expect(anomalies()).toEqual([]);

      await simulator.setFault("cavitation", true);
      expect(await waitFor(() => anomalies().some((metric) => metric.value === true), 10_000)).toBe(true);
      const data = seen.find((message) =>
        message.payload.metrics?.some((metric) => number(metric.alias) === aliases.get("anomaly") && metric.value),
      )!.payload;
      const byAlias = new Map(data.metrics!.map((metric) => [number(metric.alias), metric.value]));
      expect(Number(byAlias.get(aliases.get("anomalyScore")))).toBeGreaterThanOrEqual(5);
      expect(detector.features.names).toContain(byAlias.get(aliases.get("anomalyFeature")));
      // A Sparkplug host reads the same metrics through the example's tag map.
      expect(await waitFor(() => reported.includes(true))).toBe(true);

      expect(simulator.model.values.speedSetpoint).toBe(setpointBefore); // it only reads and reports
    } finally {
      await detector.loop.stop();
      await detector.plant.close();
      await detector.edge.close();
      await scada.close();
      await spy.endAsync();
      await simulator.close();
    }
  });

  it("the detector scores a jump in standard deviations of the feature's recent past, after its warm-up", () => {
    const detect = ewmaDetector(["a", "b"], { alpha: 0.1, floor: 0.01, warmup: 3 });
    const vector = (a: number, b: number) => Float32Array.of(a, b);
    for (let index = 0; index < 5; index++) expect(detect(vector(0.5, 0.2)).score).toBe(0);
    expect(detect(vector(0.5, Number.NaN))).toEqual({ score: 0, feature: "" }); // missing values are skipped
    const jump = detect(vector(0.5, 0.3));
    expect(jump.feature).toBe("b");
    expect(jump.score).toBeCloseTo(0.1 / 0.01, 1);
  });
});
