/**
 * Plant problem: trouble at a pump (cavitation, a worn bearing, a stuck valve) first shows as several signals moving
 * away from their usual values while each is still inside its alarm limits. This loop turns every reading of pump 7
 * (Modbus) into a fixed-order feature vector, scores it with a small statistical detector (an exponentially weighted
 * mean and variance per feature: no training data, no model server), and reports each anomaly as metrics of a
 * Sparkplug B edge node, so any SCADA host on the broker sees it like any other tag. It writes nothing to the plant.
 * Run against the simulator: `npx plantwire sim` in one terminal, `npx tsx examples/anomaly-features.ts` in another,
 * and `npx plantwire mqtt watch mqtt://127.0.0.1:1884 'spBv1.0/plantwire/+/pump7-anomaly'` in a third. Let it learn for
 * a minute, then type `fault cavitation on` in the simulator's terminal: the jump is reported, and the score falls back
 * as the detector adapts to the new state. The pump's tags come from the simulator's Modbus tag-map
 * file (tag-maps/pump-station/modbus.yaml); for a plant, load the site's own file instead.
 */
import {
  boolean,
  createLoop,
  createPlant,
  defineTags,
  every,
  featureVector,
  float,
  functionModel,
  goodSample,
  loadTagMap,
  type Snapshot,
  shutdownOnSignals,
  type TagSource,
  text,
} from "plantwire";
import { modbus } from "plantwire/modbus";
import { type SparkplugAddress, sparkplugEdgeNode, sparkplugHost } from "plantwire/mqtt";
import { stationTagMapFile } from "plantwire/simulator";
import { z } from "zod";

/** What the detector answers for one reading: the largest deviation, in standard deviations, and its feature. */
export const Verdict = z.object({ score: z.number(), feature: z.string() });

/** The signals that make up the feature vector, in this order. */
const featureTags = ["speed", "motorCurrent", "pressure", "flow", "bearingTemperature", "vibration"] as const;

/** The detector's results as Sparkplug metrics of edge node `node`: the tag map a host reads them with too. */
export function anomalyTags(host: { metric(node: string, metric: string): TagSource<SparkplugAddress> }, node: string) {
  return defineTags({
    anomaly: boolean({ description: "Pump 7 behaves unlike its recent past", source: host.metric(node, "anomaly") }),
    anomalyScore: float({
      description: "Largest deviation of a feature from its recent mean, in standard deviations",
      range: [0, 100],
      resolution: 0.1,
      source: host.metric(node, "anomalyScore"),
    }),
    anomalyFeature: text({
      description: "The feature that deviates most",
      maxLength: 64,
      source: host.metric(node, "anomalyFeature"),
    }),
  });
}

/**
 * Per feature, an exponentially weighted mean and variance (`alpha` is the newest value's weight). A feature's score is
 * its distance from its mean in standard deviations; `floor` (in scaled units: 0.01 = 1 % of the range) keeps a quiet
 * signal's tiny variance from turning noise into anomalies. Nothing scores during the first `warmup` readings, and a
 * missing value (NaN) is skipped.
 */
export function ewmaDetector(names: readonly string[], { alpha = 0.02, floor = 0.01, warmup = 30 } = {}) {
  const mean = names.map(() => Number.NaN);
  const variance = names.map(() => 0);
  let seen = 0;
  return (vector: Float32Array): z.infer<typeof Verdict> => {
    let verdict = { score: 0, feature: "" };
    vector.forEach((value, index) => {
      if (Number.isNaN(value)) return;
      const average = mean[index] ?? Number.NaN;
      if (Number.isNaN(average)) {
        mean[index] = value;
        return;
      }
      const deviation = value - average;
      const score = Math.abs(deviation) / Math.sqrt((variance[index] ?? 0) + floor * floor);
      if (seen >= warmup && score > verdict.score) verdict = { score, feature: names[index] ?? "" };
      mean[index] = average + alpha * deviation;
      variance[index] = (1 - alpha) * ((variance[index] ?? 0) + alpha * deviation * deviation);
    });
    seen++;
    return verdict;
  };
}

export interface AnomalyFeaturesOptions {
  /** @default "modbus+tcp://127.0.0.1:5020" (the simulator) */
  modbusUrl?: string;
  /** The broker the edge node publishes to. @default "mqtt://127.0.0.1:1884" (the simulator's) */
  mqttUrl?: string;
  /** Sparkplug group and edge node ids. @default "plantwire", "pump7-anomaly" */
  group?: string;
  node?: string;
  /** @default 1000 */
  intervalMs?: number;
  /** A score at or above this is an anomaly. @default 5 */
  threshold?: number;
  detector?: Parameters<typeof ewmaDetector>[1];
  /** @default console.log */
  log?: (line: string) => void;
}

export async function startAnomalyFeatures(options: AnomalyFeaturesOptions = {}) {
  const drive = modbus({ url: options.modbusUrl ?? "modbus+tcp://127.0.0.1:5020", unit: 1, name: "drive" });
  // The detector's features, numeric as it assumes: checked as the file loads, and `featureTags` against them.
  const tags = await loadTagMap(stationTagMapFile("modbus"), {
    adapters: { drive },
    expect: {
      speed: "float",
      motorCurrent: "float",
      pressure: "float",
      flow: "float",
      bearingTemperature: "float",
      vibration: "float",
    },
  });
  const plant = createPlant({ tags });
  const features = featureVector(plant.tags, { tags: featureTags, missing: "nan" });
  const detect = ewmaDetector(features.names, options.detector);
  const model = functionModel(({ context }) => detect(features.encode(context as Snapshot<typeof plant.tags>)), {
    name: "ewma-detector",
  });

  const url = options.mqttUrl ?? "mqtt://127.0.0.1:1884";
  const [group, node] = [options.group ?? "plantwire", options.node ?? "pump7-anomaly"];
  // The metrics' sources say where a host of the group reads them; this host object only names them, it never connects.
  const edge = sparkplugEdgeNode({ url, group, node, tags: anomalyTags(sparkplugHost({ url, group }), node) });
  await edge.update({ anomaly: goodSample(false), anomalyScore: goodSample(0), anomalyFeature: goodSample("") });
  await edge.connect(); // NBIRTH with the three metrics; NDEATH is its will
  const threshold = options.threshold ?? 5;
  let reporting = false;
  const log = options.log ?? console.log;

  const loop = createLoop(plant, {
    name: "anomaly-features",
    trigger: every(options.intervalMs ?? 1000),
    model,
    async run({ snapshot, model }) {
      const verdict = await model!.generate({ instructions: "Score this reading", context: snapshot, output: Verdict });
      const anomalous = verdict.score >= threshold;
      // Reported while anomalous and once more when it clears; the edge node sends only the metrics that changed.
      if (anomalous || reporting) {
        await edge.update({
          anomaly: goodSample(anomalous, snapshot.time),
          anomalyScore: goodSample(Math.min(100, verdict.score), snapshot.time),
          anomalyFeature: goodSample(verdict.feature, snapshot.time),
        });
      }
      if (anomalous !== reporting)
        log(
          anomalous
            ? `anomaly: ${verdict.feature} ${verdict.score.toFixed(1)} σ from its recent mean`
            : "back to normal",
        );
      reporting = anomalous;
    },
  });
  await loop.start();
  return { plant, loop, edge, features };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { plant, loop, edge, features } = await startAnomalyFeatures();
  console.log(`anomaly detector running on ${features.names.join(", ")}; Sparkplug node plantwire/pump7-anomaly`);
  shutdownOnSignals({ loops: [loop], plant, also: [edge] });
}
