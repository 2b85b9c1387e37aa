/**
 * Sparkplug B edge node: NBIRTH (and DBIRTH when a device is named) built from the tag map, with aliases and units;
 * NDATA/DDATA by exception (deadband); NDEATH as the MQTT will, with a bdSeq that changes on every connection;
 * rebirth on an NCMD "Node Control/Rebirth"; seq 0–255. Changes made while disconnected are kept (bounded) and
 * sent after the next birth flagged is_historical, as Sparkplug 3.0 asks.
 */
import { isChange } from "../../src/change-detection.js";
import { ConfigError } from "../../src/errors.js";
import type { Sample, Snapshot } from "../../src/sample.js";
import type { TagDefinitions } from "../../src/tags.js";
import { coerceToTag } from "./mqtt-codec.js";
import type { MqttOptions } from "./mqtt-config.js";
import { MqttConnection } from "./mqtt-connection.js";
import { validateMqttOptions } from "./mqtt-options.js";
import {
  loadSparkplugCodec,
  metricProperties,
  metricType,
  metricValue,
  REBIRTH_METRIC,
  type SparkplugCodec,
  type SparkplugMetric,
  sparkplugTopic,
  toNumber,
} from "./mqtt-sparkplug-codec.js";

/** Options of {@link sparkplugEdgeNode}. */
export interface SparkplugEdgeOptions extends Omit<MqttOptions, "will"> {
  /** Sparkplug group id. */
  group: string;
  /** Edge node id. */
  node: string;
  /** Device id: when given, tags are device metrics (DBIRTH/DDATA); else node metrics (NBIRTH/NDATA). */
  device?: string;
  /** The tags to publish; aliases are assigned 1, 2, 3 … in this order. */
  tags: TagDefinitions;
  /** Most metric changes kept while disconnected (oldest dropped first). @default 10000 */
  maxBuffered?: number;
  /**
   * The primary host's id: births wait until `spBv1.0/STATE/<id>` says it is online, and while it is offline changes
   * are kept for the historical replay, as Sparkplug 3.0 asks of edge nodes that have a primary host.
   */
  primaryHostId?: string;
}

/** Counters of an edge node. */
export interface SparkplugEdgeStats {
  births: number;
  dataMessages: number;
  rebirthRequests: number;
  historicalSent: number;
  bufferedNow: number;
  droppedBuffered: number;
  badCommands: number;
  bdSeq: number;
  seq: number;
}

/** A running Sparkplug B edge node. */
export interface SparkplugEdgeNode {
  readonly connection: MqttConnection;
  /** Connects (the will is NDEATH) and publishes the births. */
  connect(): Promise<void>;
  /** Reports changed tags (past their deadband) in one NDATA/DDATA; returns the number of metrics sent or buffered. */
  update(samples: Snapshot | Readonly<Record<string, Sample>>): Promise<number>;
  /** Publishes the births again (also done on an NCMD rebirth request). */
  rebirth(): Promise<void>;
  /**
   * Hears writes a host sends in NCMD (node tags) or DCMD (device tags), already checked against the tag's type.
   * The application decides whether to apply one, and reports the new value with `update()`.
   */
  onCommand(listener: (name: string, value: unknown) => void): () => void;
  stats(): SparkplugEdgeStats;
  /** Publishes NDEATH and disconnects. */
  close(): Promise<void>;
}

interface Buffered {
  alias: number;
  name: string;
  sample: Sample;
}

/** Creates a Sparkplug B edge node over its own MQTT connection. */
export function sparkplugEdgeNode(options: SparkplugEdgeOptions): SparkplugEdgeNode {
  validateMqttOptions(options, "sparkplugEdgeNode", [
    "group",
    "node",
    "device",
    "tags",
    "maxBuffered",
    "primaryHostId",
  ]);
  const { group, node, device, tags } = options;
  for (const [field, value] of [
    ["group", group],
    ["node", node],
    ["device", device],
  ] as const) {
    if (value !== undefined && (value === "" || /[/+#]/.test(value))) {
      throw new ConfigError([
        { path: field, message: `"${value}" is empty or contains / + #`, fix: "use a plain id such as Line1" },
      ]);
    }
  }
  const connection = new MqttConnection(
    { ...options, name: options.name ?? `sparkplug ${group}/${node}` },
    `Sparkplug edge node "${group}/${node}"`,
  );
  const names = Object.keys(tags);
  const aliases = new Map(names.map((name, index) => [name, index + 1]));
  const reported = new Map<string, Sample>();
  const buffered: Buffered[] = [];
  const commandListeners = new Set<(name: string, value: unknown) => void>();
  const maxBuffered = options.maxBuffered ?? 10_000;
  const stats: SparkplugEdgeStats = {
    births: 0,
    dataMessages: 0,
    rebirthRequests: 0,
    historicalSent: 0,
    bufferedNow: 0,
    droppedBuffered: 0,
    badCommands: 0,
    bdSeq: -1,
    seq: 0,
  };
  let codec: SparkplugCodec | undefined;
  let bdSeq = -1;
  let seq = 0;
  let born = false;
  const dataType = device ? "DDATA" : "NDATA";
  const commandTopics = [
    sparkplugTopic(group, "NCMD", node),
    ...(device ? [sparkplugTopic(group, "DCMD", node, device)] : []),
  ];

  const nextSeq = () => {
    seq = (seq + 1) % 256;
    stats.seq = seq;
    return seq;
  };
  const bdSeqMetric = (): SparkplugMetric => ({ name: "bdSeq", type: "Int64", value: bdSeq });

  function metric(name: string, sample: Sample | undefined, birth: boolean, historical = false): SparkplugMetric {
    const tag = tags[name]!;
    const metric: SparkplugMetric = {
      alias: aliases.get(name)!,
      type: metricType(tag),
      value: sample?.quality === "bad" || sample?.value === undefined ? null : (sample.value as number),
      timestamp: sample ? (sample.sourceTime ?? sample.receivedTime) : Date.now(),
    };
    if (birth) {
      metric.name = name;
      const properties = metricProperties(tag);
      if (properties) metric.properties = properties;
    }
    if (sample?.quality === "bad")
      metric.properties = { ...(metric.properties ?? {}), Quality: { type: "Int32", value: 0 } };
    if (historical) metric.isHistorical = true;
    return metric;
  }

  // The will must name the bdSeq of the connection it belongs to, so it is computed per connection attempt.
  connection.setWill(() => {
    bdSeq = (bdSeq + 1) % 256;
    stats.bdSeq = bdSeq;
    if (!codec) return undefined;
    const payload = codec.encode({ timestamp: Date.now(), metrics: [bdSeqMetric()] });
    return { topic: sparkplugTopic(group, "NDEATH", node), payload: Buffer.from(payload), qos: 1, retain: false };
  });

  async function send(type: string, metrics: SparkplugMetric[], withSeq: number | undefined, deviceTopic: boolean) {
    const payload: { timestamp: number; metrics: SparkplugMetric[]; seq?: number } = { timestamp: Date.now(), metrics };
    if (withSeq !== undefined) payload.seq = withSeq;
    const topic = sparkplugTopic(group, type, node, deviceTopic ? device : undefined);
    return connection.publish(topic, Buffer.from(codec!.encode(payload)), { qos: 0 });
  }

  function buffer(changed: readonly Buffered[]): void {
    buffered.push(...changed);
    while (buffered.length > maxBuffered) {
      buffered.shift();
      stats.droppedBuffered++;
    }
    stats.bufferedNow = buffered.length;
  }

  async function births(): Promise<void> {
    born = false;
    seq = 0;
    stats.seq = 0;
    const nodeMetrics: SparkplugMetric[] = [bdSeqMetric(), { name: REBIRTH_METRIC, type: "Boolean", value: false }];
    const tagMetrics = names.map((name) => metric(name, reported.get(name), true));
    await send("NBIRTH", device ? nodeMetrics : [...nodeMetrics, ...tagMetrics], 0, false);
    if (device) await send("DBIRTH", tagMetrics, nextSeq(), true);
    stats.births++;
    born = true;
    await flushBuffered();
  }

  async function flushBuffered(): Promise<void> {
    while (buffered.length > 0 && connection.client) {
      const batch = buffered.splice(0, 500);
      stats.bufferedNow = buffered.length;
      await send(
        dataType,
        batch.map((entry) => metric(entry.name, entry.sample, false, true)),
        nextSeq(),
        !!device,
      );
      stats.historicalSent += batch.length;
      stats.dataMessages++;
    }
  }

  const stateTopic = options.primaryHostId ? `spBv1.0/STATE/${options.primaryHostId}` : undefined;
  let hostOnline = stateTopic === undefined;
  connection.onConnected(() => {
    if (hostOnline) void births().catch(() => {});
  });
  connection.onMessage((topic, payload) => {
    if (topic === stateTopic) {
      let online = false;
      try {
        online = (JSON.parse(payload.toString("utf8")) as { online?: unknown }).online === true;
      } catch {
        // an unreadable STATE counts as offline
      }
      if (online && !hostOnline && connection.client) void births().catch(() => {});
      if (!online) born = false;
      hostOnline = online;
      return;
    }
    if (!commandTopics.includes(topic) || !codec) return;
    let decoded: ReturnType<SparkplugCodec["decode"]>;
    try {
      decoded = codec.decode(payload);
    } catch {
      stats.badCommands++;
      return;
    }
    const forTags = topic === sparkplugTopic(group, device ? "DCMD" : "NCMD", node, device);
    for (const entry of decoded.metrics ?? []) {
      if (entry.name === REBIRTH_METRIC) {
        if (entry.value !== true) continue;
        stats.rebirthRequests++;
        void births().catch(() => {});
        continue;
      }
      const alias = toNumber(entry.alias);
      const name = entry.name ?? (alias === undefined ? undefined : names[alias - 1]);
      const tag = forTags && name !== undefined && Object.hasOwn(tags, name) ? tags[name] : undefined;
      const coerced = tag ? coerceToTag(tag, metricValue(entry)) : undefined;
      if (!name || !coerced || "problem" in coerced) {
        stats.badCommands++;
        continue;
      }
      for (const listener of [...commandListeners]) listener(name, coerced.value);
    }
  });

  return {
    connection,
    async connect() {
      codec ??= await loadSparkplugCodec();
      for (const topic of [...commandTopics, ...(stateTopic ? [stateTopic] : [])]) void connection.subscribe(topic, 1);
      await connection.connect();
    },
    async update(samples) {
      const entries: [string, Sample][] =
        "entries" in samples && typeof samples.entries === "function"
          ? (samples as Snapshot).entries()
          : Object.entries(samples as Record<string, Sample>);
      const changed: Buffered[] = [];
      for (const [name, sample] of entries) {
        const tag = tags[name];
        if (!tag || !isChange(tag, reported.get(name), sample)) continue;
        reported.set(name, sample);
        changed.push({ alias: aliases.get(name)!, name, sample });
      }
      if (changed.length === 0) return 0;
      if (!born || !connection.client) {
        buffer(changed);
        return changed.length;
      }
      const metrics = changed.map((entry) => metric(entry.name, entry.sample, false));
      const receipt = await send(dataType, metrics, nextSeq(), !!device);
      // The link dropped under it: keep the changes for the historical replay after the next birth.
      if (receipt === "sent") stats.dataMessages++;
      else buffer(changed);
      return changed.length;
    },
    rebirth: births,
    onCommand(listener) {
      commandListeners.add(listener);
      return () => commandListeners.delete(listener);
    },
    stats: () => ({ ...stats }),
    async close() {
      if (connection.client && codec) {
        const death = codec.encode({ timestamp: Date.now(), metrics: [bdSeqMetric()] });
        await connection.publish(sparkplugTopic(group, "NDEATH", node), Buffer.from(death), { qos: 1 }).catch(() => {});
      }
      born = false;
      await connection.close();
    },
  };
}
