/**
 * Sparkplug B edge node: NBIRTH (and DBIRTH when a device is named) built from the tag map, with aliases and units;
 * NDATA/DDATA by exception (deadband), without datatypes; NDEATH as the MQTT will, with a bdSeq that changes on every
 * connection and is kept on disk across restarts; rebirth on an NCMD "Node Control/Rebirth"; seq 0–255. Every metric
 * carries a timestamp. Changes made while disconnected are kept (bounded) and sent after the next birth flagged
 * is_historical, as Sparkplug 3.0 asks. A value that cannot be encoded is refused where it is handed over.
 */
import type { AdapterStatus } from "../../src/adapter.js";
import { isChange } from "../../src/change-detection.js";
import { ConfigError } from "../../src/errors.js";
import type { Sample, Snapshot } from "../../src/sample.js";
import type { TagDefinitions } from "../../src/tags.js";
import { coerceToTag } from "./mqtt-codec.js";
import type { MqttOptions } from "./mqtt-config.js";
import { MqttConnection } from "./mqtt-connection.js";
import { validateMqttOptions } from "./mqtt-options.js";
import { BdSeqCounter, defaultBdSeqFile } from "./mqtt-sparkplug-bdseq.js";
import {
  loadSparkplugCodec,
  metricValue,
  REBIRTH_METRIC,
  type SparkplugCodec,
  type SparkplugMetric,
  sparkplugTopic,
  toNumber,
} from "./mqtt-sparkplug-codec.js";
import { EdgeMetrics } from "./mqtt-sparkplug-metrics.js";

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
  /**
   * Where the bdSeq is kept across process restarts, so a late NDEATH of the previous run can never match the new
   * birth. `false` keeps it in memory only (a restart starts again at 0). @default `$PLANTWIRE_STATE_DIR`, else
   * `<temp dir>/plantwire-state`, file `sparkplug-bdseq-<group>-<node>.txt`
   */
  bdSeqFile?: string | false;
  /**
   * Also send datatypes in NDATA/DDATA, for hosts that cannot read data without them (decoders built on Tahu's
   * JavaScript library). Sparkplug 3.0 leaves them out: the birth declared them. @default false
   */
  datatypesInData?: boolean;
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
  /**
   * Connects (the will is NDEATH) and publishes the births with the values `update()` was given so far: call
   * `update()` with a first snapshot before `connect()` so the birth carries real values (else they are null until
   * the first data). Rejects, without connecting, when the bdSeq file cannot be used or a birth cannot be encoded.
   */
  connect(): Promise<void>;
  /**
   * Reports changed tags (past their deadband) in one NDATA/DDATA; returns the number of metrics sent or buffered.
   * Rejects with a ValidationError, sending and keeping nothing of the call, when a value does not fit its tag's
   * Sparkplug datatype (an enum tag given a code instead of a state name, 70000 for a tag declared Int32 …).
   */
  update(samples: Snapshot | Readonly<Record<string, Sample>>): Promise<number>;
  /** Publishes the births again (also done on an NCMD rebirth request). */
  rebirth(): Promise<void>;
  /**
   * Hears writes a host sends in NCMD (node tags) or DCMD (device tags), already checked against the tag's type.
   * The application decides whether to apply one, and reports the new value with `update()`.
   */
  onCommand(listener: (name: string, value: unknown) => void): () => void;
  /**
   * The connection's status, or `degraded` with the reason while the last birth or update failed (a node whose
   * births fail is not silently stalled: its status says why).
   */
  status(): AdapterStatus;
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
    "bdSeqFile",
    "datatypesInData",
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
  const where = `${group}/${node}${device ? `/${device}` : ""}`;
  const metrics = new EdgeMetrics(tags, where);
  const names = metrics.names;
  const aliases = new Map(names.map((name, index) => [name, index + 1]));
  const counter = new BdSeqCounter(options.bdSeqFile ?? defaultBdSeqFile(group, node));
  // What went wrong last, shown in status() until the same step succeeds again.
  let failure: (AdapterStatus & { step: "birth" | "update" | "bdSeq" }) | undefined;
  const fail = (step: "birth" | "update" | "bdSeq", reason: string) => {
    failure = { state: "degraded", reason, since: Date.now(), step };
  };
  const recovered = (step: "birth" | "update" | "bdSeq") => {
    if (failure?.step === step) failure = undefined;
  };
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
  const bdSeqMetric = (): SparkplugMetric => ({ name: "bdSeq", type: "Int64", value: bdSeq, timestamp: Date.now() });
  const metric = (name: string, sample: Sample | undefined, birth: boolean, historical = false) =>
    metrics.metric(name, sample, birth, historical);

  // The will must name the bdSeq of the connection it belongs to, so it is computed (and stored on disk, before the
  // CONNECT that carries it) per connection attempt.
  connection.setWill(() => {
    try {
      bdSeq = counter.next();
    } catch (error) {
      // The file went away under a running node: go on counting in memory and say so in the status.
      bdSeq = (bdSeq + 1) % 256;
      fail("bdSeq", (error as Error).message);
    }
    stats.bdSeq = bdSeq;
    if (!codec) return undefined;
    const payload = codec.encode({ timestamp: Date.now(), metrics: [bdSeqMetric()] });
    return { topic: sparkplugTopic(group, "NDEATH", node), payload: Buffer.from(payload), qos: 1, retain: false };
  });

  function encode(type: string, list: SparkplugMetric[], withSeq: number | undefined): Buffer {
    const payload: { timestamp: number; metrics: SparkplugMetric[]; seq?: number } = {
      timestamp: Date.now(),
      metrics: list,
    };
    if (withSeq !== undefined) payload.seq = withSeq;
    // Sparkplug 3.0: datatypes are declared in the births, and data leaves them out.
    const withoutTypes = type.endsWith("DATA") && !options.datatypesInData;
    return Buffer.from(withoutTypes ? codec!.encodeWithoutTypes(payload) : codec!.encode(payload));
  }

  async function send(type: string, list: SparkplugMetric[], withSeq: number | undefined, deviceTopic: boolean) {
    const payload = encode(type, list, withSeq);
    return connection.publish(sparkplugTopic(group, type, node, deviceTopic ? device : undefined), payload, { qos: 0 });
  }

  function buffer(changed: readonly Buffered[]): void {
    buffered.push(...changed);
    while (buffered.length > maxBuffered) {
      buffered.shift();
      stats.droppedBuffered++;
    }
    stats.bufferedNow = buffered.length;
  }

  /** The birth payloads, encoded: throws (before anything is sent) when one cannot be. */
  function birthPayloads(): { nodeBirth: Buffer; deviceBirth: Buffer | undefined } {
    metrics.assertSendable(
      names.map((name) => [name, reported.get(name)] as const),
      "the birth cannot be encoded",
    );
    const now = Date.now();
    const nodeMetrics: SparkplugMetric[] = [
      bdSeqMetric(),
      { name: REBIRTH_METRIC, type: "Boolean", value: false, timestamp: now },
    ];
    const tagMetrics = names.map((name) => metric(name, reported.get(name), true));
    try {
      const nodeBirth = encode("NBIRTH", device ? nodeMetrics : [...nodeMetrics, ...tagMetrics], 0);
      return { nodeBirth, deviceBirth: device ? encode("DBIRTH", tagMetrics, 1) : undefined };
    } catch (error) {
      throw new ConfigError(
        [
          {
            path: "tags",
            message: `the birth of Sparkplug edge node ${where} cannot be encoded (${(error as Error).message})`,
            fix: "check the tag map and the values given to update()",
          },
        ],
        { cause: error },
      );
    }
  }

  async function births(): Promise<void> {
    born = false;
    let payloads: ReturnType<typeof birthPayloads>;
    try {
      payloads = birthPayloads();
    } catch (error) {
      fail("birth", (error as Error).message);
      throw error;
    }
    seq = 0;
    stats.seq = 0;
    await connection.publish(sparkplugTopic(group, "NBIRTH", node), payloads.nodeBirth, { qos: 0 });
    if (payloads.deviceBirth) {
      nextSeq();
      await connection.publish(sparkplugTopic(group, "DBIRTH", node, device), payloads.deviceBirth, { qos: 0 });
    }
    stats.births++;
    born = true;
    recovered("birth");
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
      // A Sparkplug 3.0 host sends commands without datatypes: the birth declared them.
      decoded = codec.decodeWithTypes(payload, (name, alias) =>
        name === REBIRTH_METRIC ? "Boolean" : metrics.typeOf(name, alias),
      );
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
      // Both checked before the CONNECT, so a node that cannot work never announces itself.
      counter.open();
      birthPayloads();
      for (const topic of [...commandTopics, ...(stateTopic ? [stateTopic] : [])]) void connection.subscribe(topic, 1);
      await connection.connect();
    },
    async update(samples) {
      const entries: [string, Sample][] =
        "entries" in samples && typeof samples.entries === "function"
          ? (samples as Snapshot).entries()
          : Object.entries(samples as Record<string, Sample>);
      try {
        metrics.assertSendable(
          entries.filter(([name]) => Object.hasOwn(tags, name)),
          "update() refused, nothing of it was sent",
        );
      } catch (error) {
        fail("update", (error as Error).message);
        throw error;
      }
      recovered("update");
      const changed: Buffered[] = [];
      for (const [name, sample] of entries) {
        const tag = Object.hasOwn(tags, name) ? tags[name] : undefined;
        if (!tag || !isChange(tag, reported.get(name), sample)) continue;
        reported.set(name, sample);
        changed.push({ alias: aliases.get(name)!, name, sample });
      }
      if (changed.length === 0) return 0;
      if (!born || !connection.client) {
        buffer(changed);
        return changed.length;
      }
      const list = changed.map((entry) => metric(entry.name, entry.sample, false));
      const receipt = await send(dataType, list, nextSeq(), !!device);
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
    status() {
      if (!failure) return connection.status.get();
      const { step: _step, ...status } = failure;
      return status;
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
