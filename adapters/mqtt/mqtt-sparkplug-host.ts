/**
 * Sparkplug B host application as an adapter: consumes one group's births and data, resolves aliases, checks seq
 * (a gap triggers an NCMD rebirth request), marks a node's tags bad on NDEATH (matched by bdSeq) or DDEATH, and
 * keeps is_historical metrics out of the current values (they go to `onHistorical`).
 */
import {
  ADAPTER_CONTRACT_VERSION,
  type Adapter,
  type AdapterSubscription,
  type BoundTag,
  type SampleListener,
  type TagSource,
} from "../../src/adapter.js";
import { badSample, goodSample, type Sample } from "../../src/sample.js";
import { coerceToTag } from "./mqtt-codec.js";
import { connectionView, type MqttConnectionView } from "./mqtt-command-topics.js";
import type { MqttOptions } from "./mqtt-config.js";
import { MqttConnection } from "./mqtt-connection.js";
import { sparkplugDevice } from "./mqtt-device.js";
import { validateMqttOptions } from "./mqtt-options.js";
import { parseMetricSource } from "./mqtt-source-file.js";
import {
  loadSparkplugCodec,
  metricType,
  metricValue,
  parseSparkplugTopic,
  REBIRTH_METRIC,
  type SparkplugCodec,
  type SparkplugMetric,
  sparkplugTopic,
  toNumber,
} from "./mqtt-sparkplug-codec.js";
import { type WriteWaiter, writeMetric } from "./mqtt-sparkplug-write.js";
import { sameInSparkplug, sparkplugWireValue } from "./mqtt-wire-values.js";

/** Where a Sparkplug metric lives. */
export interface SparkplugAddress {
  readonly node: string;
  readonly device?: string;
  readonly metric: string;
}

/** Options of {@link sparkplugHost}. */
export interface SparkplugHostOptions extends Omit<MqttOptions, "will"> {
  /** The Sparkplug group to consume. */
  group: string;
  /** Host id: when given, the host publishes its STATE (retained, with an offline will) as Sparkplug 3.0 asks. */
  hostId?: string;
  /** Ask a node for a rebirth when its seq skips or data arrives before a birth. @default true */
  rebirthOnGap?: boolean;
  /** How long a write waits for the node to report the new value before its outcome is "unknown". @default 5000 */
  writeTimeoutMs?: number;
}

/** Counters of a host. */
export interface SparkplugHostStats {
  births: number;
  deaths: number;
  dataMessages: number;
  seqGaps: number;
  rebirthRequests: number;
  historical: number;
  decodeErrors: number;
  unknownAliases: number;
}

/** A historical metric value (is_historical), kept out of current values. */
export interface HistoricalMetric {
  readonly node: string;
  readonly device?: string;
  readonly metric: string;
  readonly value: unknown;
  readonly time: number;
}

/** A Sparkplug host: the adapter contract (writes go out as NCMD/DCMD) plus metric sources. */
export interface SparkplugHost extends Adapter<SparkplugAddress> {
  /** A tag source on a metric, e.g. `host.metric("Node1", "Pump/Speed")` or with `{ device: "Drive1" }`. */
  metric(node: string, metric: string, options?: { device?: string }): TagSource<SparkplugAddress>;
  onHistorical(listener: (metric: HistoricalMetric) => void): () => void;
  /** The connection's state, counters and subscriptions; no publish (NCMD/DCMD go only through guarded writes). */
  readonly connection: MqttConnectionView;
  stats(): SparkplugHostStats;
}

interface Scope {
  online: boolean;
  /** Whether a birth was ever seen for it (a dead node stays born: reads do not wait for it). */
  born: boolean;
  aliases: Map<number, string>;
  /** Each metric's datatype as its birth declared it (data and commands carry none in Sparkplug 3.0). */
  types: Map<string, string>;
  values: Map<string, { value: unknown; time: number; bad: boolean }>;
}

interface NodeState {
  bdSeq: number | undefined;
  /** When a rebirth was last asked for, so a burst of out-of-order data asks once, not once per message. */
  rebirthAskedAt: number;
  /** Asks again when no birth follows (the request and the birth are QoS 0 and may be lost); cleared by a birth. */
  rebirthRetry: NodeJS.Timeout | undefined;
  rebirthAttempts: number;
  nextSeq: number | undefined;
  scopes: Map<string, Scope>;
}

const scopeKey = (device?: string) => device ?? "";

/** How long a host waits for a birth after asking for one before it asks again, and how often it asks. */
const rebirthRetryMs = 2500;
const rebirthAttemptsMax = 4;

/** Creates a Sparkplug B host over its own MQTT connection. */
export function sparkplugHost(options: SparkplugHostOptions): SparkplugHost {
  validateMqttOptions(options, "sparkplugHost", ["group", "hostId", "rebirthOnGap", "writeTimeoutMs"]);
  const { group } = options;
  const name = options.name ?? `sparkplug-host ${group}`;
  const connection = new MqttConnection({ ...options, name }, `Sparkplug host "${name}"`);
  const nodes = new Map<string, NodeState>();
  const listeners = new Map<SampleListener, BoundTag<SparkplugAddress>[]>();
  const historicalListeners = new Set<(metric: HistoricalMetric) => void>();
  const stats: SparkplugHostStats = {
    births: 0,
    deaths: 0,
    dataMessages: 0,
    seqGaps: 0,
    rebirthRequests: 0,
    historical: 0,
    decodeErrors: 0,
    unknownAliases: 0,
  };
  let codec: SparkplugCodec | undefined;
  const waiters = new Set<WriteWaiter>();
  const births = new Set<() => void>();
  const waitMs = options.initialValueWaitMs ?? 1000;
  const stateTopic = options.hostId ? `spBv1.0/STATE/${options.hostId}` : undefined;
  if (stateTopic) {
    connection.setWill(() => ({
      topic: stateTopic,
      payload: JSON.stringify({ online: false, timestamp: Date.now() }),
      qos: 1,
      retain: true,
    }));
    connection.onConnected(() => {
      void connection
        .publish(stateTopic, JSON.stringify({ online: true, timestamp: Date.now() }), { qos: 1, retain: true })
        .catch(() => {});
    });
  }

  const nodeState = (node: string) => {
    let state = nodes.get(node);
    if (!state) {
      state = {
        bdSeq: undefined,
        rebirthAskedAt: 0,
        rebirthRetry: undefined,
        rebirthAttempts: 0,
        nextSeq: undefined,
        scopes: new Map(),
      };
      nodes.set(node, state);
    }
    return state;
  };
  const scopeOf = (state: NodeState, device?: string) => {
    let scope = state.scopes.get(scopeKey(device));
    if (!scope) {
      scope = { online: false, born: false, aliases: new Map(), types: new Map(), values: new Map() };
      state.scopes.set(scopeKey(device), scope);
    }
    return scope;
  };

  function sampleFor(tag: BoundTag<SparkplugAddress>): Sample {
    if (connection.status.get().state !== "connected") {
      return badSample("not-connected", `${name}: ${connection.status.get().reason ?? "not connected"}`);
    }
    const { node, device, metric } = tag.address;
    const scope = nodes.get(node)?.scopes.get(scopeKey(device));
    const entry = scope?.values.get(metric);
    const where = `${group}/${node}${device ? `/${device}` : ""}`;
    if (!scope || !entry) return badSample("not-read-yet", `${where}: no birth with metric "${metric}" yet`);
    if (!scope.online)
      return badSample("comm-failure", `${where} is offline (death certificate)`, Date.now(), entry.value);
    if (entry.bad) return badSample("device-error", `${where}: metric "${metric}" reported bad quality`, entry.time);
    const coerced = coerceToTag(tag.definition, entry.value);
    if ("problem" in coerced) return badSample("type-mismatch", `${where} ${metric}: ${coerced.problem}`, entry.time);
    return goodSample(coerced.value, Date.now(), entry.time);
  }

  function notify(node: string, device: string | undefined): void {
    for (const waiter of [...waiters]) {
      const { address } = waiter;
      if (address.node !== node || scopeKey(address.device) !== scopeKey(device)) continue;
      const entry = nodes.get(node)?.scopes.get(scopeKey(device))?.values.get(address.metric);
      if (entry && !entry.bad) waiter.check(entry.value);
    }
    for (const [listener, tags] of listeners) {
      for (const tag of tags) {
        if (tag.address.node === node && scopeKey(tag.address.device) === scopeKey(device))
          listener(tag.name, sampleFor(tag));
      }
    }
  }

  function requestRebirth(node: string, state: NodeState): void {
    if (options.rebirthOnGap === false || !codec || Date.now() - state.rebirthAskedAt < 2000) return;
    state.rebirthAskedAt = Date.now();
    stats.rebirthRequests++;
    const payload = codec.encode({
      timestamp: Date.now(),
      metrics: [{ name: REBIRTH_METRIC, type: "Boolean", value: true }],
    });
    void connection.publish(sparkplugTopic(group, "NCMD", node), Buffer.from(payload), { qos: 0 }).catch(() => {});
    // Sparkplug sends the request and the birth at QoS 0: either can be lost on a busy broker, and a node with no
    // more data to send would then never be asked again. Ask again a few times until its birth arrives.
    clearTimeout(state.rebirthRetry);
    state.rebirthRetry = undefined;
    if (state.rebirthAttempts >= rebirthAttemptsMax) return;
    state.rebirthAttempts++;
    const askedAt = state.rebirthAskedAt;
    state.rebirthRetry = setTimeout(() => {
      state.rebirthRetry = undefined;
      if (state.rebirthAskedAt !== askedAt || connection.status.get().state !== "connected") return;
      state.rebirthAskedAt = 0;
      requestRebirth(node, state);
    }, rebirthRetryMs);
    state.rebirthRetry.unref();
  }

  /** A birth or a death answers a rebirth request: stop asking. */
  function rebirthAnswered(state: NodeState): void {
    clearTimeout(state.rebirthRetry);
    state.rebirthRetry = undefined;
    state.rebirthAttempts = 0;
    state.rebirthAskedAt = 0;
  }

  function apply(scope: Scope, metrics: SparkplugMetric[], node: string, device: string | undefined, birth: boolean) {
    for (const metric of metrics) {
      const alias = toNumber(metric.alias);
      let metricName = metric.name ?? undefined;
      if (birth && metricName && alias !== undefined) scope.aliases.set(alias, metricName);
      if (birth && metricName && metric.type) scope.types.set(metricName, metric.type);
      if (!metricName && alias !== undefined) metricName = scope.aliases.get(alias);
      if (!metricName) {
        stats.unknownAliases++;
        continue;
      }
      const time = toNumber(metric.timestamp) ?? Date.now();
      const value = metricValue(metric);
      if (metric.isHistorical) {
        stats.historical++;
        const record: HistoricalMetric = { node, metric: metricName, value, time, ...(device ? { device } : {}) };
        for (const listener of [...historicalListeners]) listener(record);
        continue;
      }
      const quality = metric.properties?.Quality?.value;
      scope.values.set(metricName, { value, time, bad: value === undefined || quality === 0 });
    }
  }

  function handle(topic: string, payload: Buffer): void {
    const parts = parseSparkplugTopic(topic);
    if (!parts || parts.group !== group || !codec) return;
    const { type, node, device } = parts;
    let decoded: ReturnType<SparkplugCodec["decode"]>;
    try {
      // Data carries no datatypes (Sparkplug 3.0): they come from the birth, by name or alias.
      const known = nodes.get(node)?.scopes.get(scopeKey(device));
      decoded = codec.decodeWithTypes(payload, (metricName, alias) => {
        const resolved = metricName ?? (alias === undefined ? undefined : known?.aliases.get(alias));
        return resolved === undefined ? undefined : known?.types.get(resolved);
      });
    } catch {
      stats.decodeErrors++;
      return;
    }
    const metrics = decoded.metrics ?? [];
    const state = nodeState(node);
    const seq = toNumber(decoded.seq);
    if (type === "NBIRTH") {
      stats.births++;
      state.bdSeq = toNumber(metrics.find((metric) => metric.name === "bdSeq")?.value);
      state.nextSeq = ((seq ?? 0) + 1) % 256;
      rebirthAnswered(state);
      for (const scope of state.scopes.values()) scope.online = false;
      const scope = scopeOf(state);
      scope.aliases.clear();
      scope.types.clear();
      scope.online = true;
      scope.born = true;
      apply(scope, metrics, node, undefined, true);
      notify(node, undefined);
      for (const check of [...births]) check();
      return;
    }
    if (type === "NDEATH") {
      const bdSeq = toNumber(metrics.find((metric) => metric.name === "bdSeq")?.value);
      if (bdSeq !== undefined && state.bdSeq !== undefined && bdSeq !== state.bdSeq) return; // an old session's will
      stats.deaths++;
      state.nextSeq = undefined;
      // A dead node is not asked again: it sends its births when it comes back.
      rebirthAnswered(state);
      for (const [key, scope] of state.scopes) {
        scope.online = false;
        notify(node, key === "" ? undefined : key);
      }
      return;
    }
    if (!["DBIRTH", "NDATA", "DDATA", "DDEATH"].includes(type)) return;
    if (state.nextSeq === undefined) {
      requestRebirth(node, state);
      return;
    }
    if (seq !== state.nextSeq) {
      stats.seqGaps++;
      requestRebirth(node, state);
    }
    state.nextSeq = ((seq ?? 0) + 1) % 256;
    const scope = scopeOf(state, device);
    if (type === "DBIRTH") {
      stats.births++;
      scope.aliases.clear();
      scope.types.clear();
      scope.online = true;
      scope.born = true;
      apply(scope, metrics, node, device, true);
    } else if (type === "DDEATH") {
      stats.deaths++;
      scope.online = false;
    } else {
      stats.dataMessages++;
      apply(scope, metrics, node, device, false);
    }
    notify(node, device);
    if (type === "DBIRTH") for (const check of [...births]) check();
  }

  connection.onMessage((topic, payload) => handle(topic, payload));

  /** The metric's datatype from its birth, else the one plantwire would give the tag. */
  function datatypeOf(tag: BoundTag<SparkplugAddress>): string {
    const { node, device, metric } = tag.address;
    return nodes.get(node)?.scopes.get(scopeKey(device))?.types.get(metric) ?? metricType(tag.definition) ?? "String";
  }
  const describeAddress = ({ node, device, metric }: SparkplugAddress) =>
    `${group}/${node}${device ? `/${device}` : ""} ${metric}`;

  const host: SparkplugHost = {
    contractVersion: ADAPTER_CONTRACT_VERSION,
    kind: "sparkplug",
    name,
    capabilities: { subscribe: true, write: true },
    connection: connectionView(connection),
    async connect() {
      codec ??= await loadSparkplugCodec();
      void connection.subscribe(`spBv1.0/${group}/#`, 0);
      await connection.connect();
    },
    async close() {
      listeners.clear();
      for (const state of nodes.values()) rebirthAnswered(state);
      // A graceful disconnect does not fire the will, so the host says it is going offline itself.
      if (stateTopic && connection.client) {
        const offline = JSON.stringify({ online: false, timestamp: Date.now() });
        await connection.publish(stateTopic, offline, { qos: 1, retain: true }).catch(() => {});
      }
      await connection.close();
    },
    write: (tag, value) =>
      writeMetric(
        { codec, connection, group, timeoutMs: options.writeTimeoutMs ?? 5000, waiters, datatype: datatypeOf(tag) },
        tag,
        value,
      ),
    checkWrite(tag, value) {
      const wire = sparkplugWireValue(tag.definition, datatypeOf(tag), value);
      return "problem" in wire ? `${describeAddress(tag.address)}: ${wire.problem}` : undefined;
    },
    sameOnWire: (tag, written, readBack) => sameInSparkplug(datatypeOf(tag), written, readBack),
    async read(tags) {
      // A host that starts after a node's birth knows nothing of it: ask for a rebirth and wait a little for it.
      const unknown = () =>
        tags.filter((tag) => !nodes.get(tag.address.node)?.scopes.get(scopeKey(tag.address.device))?.born);
      if (connection.client && unknown().length > 0 && waitMs > 0) {
        for (const tag of unknown()) requestRebirth(tag.address.node, nodeState(tag.address.node));
        await new Promise<void>((resolve) => {
          const done = () => {
            clearTimeout(timer);
            births.delete(check);
            resolve();
          };
          const check = () => {
            if (unknown().length === 0) done();
          };
          const timer = setTimeout(done, waitMs);
          births.add(check);
        });
      }
      return tags.map(sampleFor);
    },
    async subscribe(tags, listener): Promise<AdapterSubscription> {
      listeners.set(listener, [...(listeners.get(listener) ?? []), ...tags]);
      for (const tag of tags) listener(tag.name, sampleFor(tag));
      return {
        async close() {
          listeners.delete(listener);
        },
      };
    },
    status: () => connection.status.get(),
    onStatus: (listener) => connection.status.on(listener),
    deviceOf: (tag) => sparkplugDevice(options.url, group, tag.address),
    onHistorical(listener) {
      historicalListeners.add(listener);
      return () => historicalListeners.delete(listener);
    },
    getInstance: () => connection.client,
    stats: () => ({ ...stats }),
    parseSource: (raw) => parseMetricSource(host, raw),
    metric(node, metric, metricOptions = {}) {
      const address: SparkplugAddress = {
        node,
        metric,
        ...(metricOptions.device ? { device: metricOptions.device } : {}),
      };
      const where = `${group}/${node}${metricOptions.device ? `/${metricOptions.device}` : ""}`;
      return { adapter: host, address, label: `sparkplug ${where} ${metric}` };
    },
  };
  return host;
}
