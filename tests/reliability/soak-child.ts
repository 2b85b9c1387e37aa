/**
 * The client side of the soak test (T14), in its own process so that its heap, handles and listeners are the SDK's
 * alone (the simulators, the broker and the fault proxies run in the test's process) and so that it can run with
 * --expose-gc. It builds one plant over Modbus, OPC UA and MQTT, keeps a watch on every tag and reads every tag in a
 * loop, and answers the test over the IPC channel:
 *   → { type: "connected" }                    after the first read in which every tag is good
 *   ← { type: "measure" }                      the warm-up is over: measure and report
 *   → { type: "warm", metrics, rounds }
 *   ← { type: "finish", expected }             faults are over; these are the values every tag must reach
 *   → { type: "result", ... }                  after recovery and settling
 *   ← { type: "close" }                        the test has looked at the servers' side
 *   → { type: "closed", resources }            after closing the plant
 * Then it leaves the IPC channel and must exit by itself: a handle the SDK leaked would keep it alive.
 */
import { join } from "node:path";
import { writeHeapSnapshot } from "node:v8";
import { type AnyTag, createPlant, defineTags, float, integer, type Sample } from "plantwire";
import { modbus } from "plantwire/modbus";
import { mqtt } from "plantwire/mqtt";
import { opcua } from "plantwire/opcua";

/** What the test passes in argv[2], as JSON. */
export interface SoakChildConfig {
  modbusUrl: string;
  modbusUnits: number;
  registersPerUnit: number;
  opcuaEndpoint: string;
  opcuaNodeIds: string[];
  mqttUrl: string;
  mqttTopics: string[];
  pkiFolder: string;
  historySize: number;
  /** How many more timers than at warm-up still count as settled (see the test). */
  timerSlack: number;
}

/** Heap, handles and listeners at one moment, after forced garbage collection. */
export interface SoakMetrics {
  heapUsedBytes: number;
  /** process.getActiveResourcesInfo(), counted by type. */
  resources: Record<string, number>;
  resourceTotal: number;
  /** Listeners on the reachable emitters of each adapter (client, socket, session, secure channel) and on process. */
  listeners: { process: number; modbus: number; opcua: number; mqtt: number };
  listenerTotal: number;
}

/** Counts of one read round, by protocol. */
export interface RoundCounts {
  good: Record<Protocol, number>;
  bad: Record<Protocol, number>;
}

/** Sent after the plant closed. */
export interface SoakChildClosed {
  type: "closed";
  resources: Record<string, number>;
  unhandledRejections: number;
}

/** The report once every tag recovered (or the recovery deadline passed) and handles settled. */
export interface SoakChildResult {
  type: "result";
  warm: SoakMetrics;
  end: SoakMetrics;
  rounds: number;
  faultRounds: number;
  samplesGood: Record<Protocol, number>;
  samplesBad: Record<Protocol, number>;
  /** Bad samples by protocol, reason and detail (digits folded). */
  badReasons: Record<string, number>;
  watchChanges: number;
  recovered: boolean;
  lastRound: RoundCounts;
  wrongValues: string[];
  settled: boolean;
  unhandledRejections: string[];
  uncaughtExceptions: string[];
  plantErrors: number;
  status: Record<string, string>;
}

export type Protocol = "modbus" | "opcua" | "mqtt";

type Message = { type: "measure" } | { type: "finish"; expected: Record<string, number> } | { type: "close" };

const gc = (globalThis as { gc?: () => void }).gc;

/** With PLANTWIRE_SOAK_SNAPSHOTS=<folder>, heap snapshots at warm-up and end, to find what grew. */
function snapshot(label: string): void {
  const folder = process.env.PLANTWIRE_SOAK_SNAPSHOTS;
  if (folder) writeHeapSnapshot(join(folder, `soak-${label}.heapsnapshot`));
}
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Sums every listener on an emitter (any object with eventNames/listenerCount). */
function listenerSum(emitter: unknown): number {
  const target = emitter as {
    eventNames?: () => (string | symbol)[];
    listenerCount?: (event: string | symbol) => number;
  };
  if (!target || typeof target.eventNames !== "function" || typeof target.listenerCount !== "function") return 0;
  return target.eventNames().reduce((sum, event) => sum + (target.listenerCount?.(event) ?? 0), 0);
}

async function main(): Promise<void> {
  // tsx turns source maps on. Node then parses a module's source map the first time an error stack passes through it
  // and keeps it for good: bounded, but new error paths met late in a soak would read as heap growth of the SDK.
  process.setSourceMapsEnabled(false);
  const config = JSON.parse(process.argv[2] ?? "{}") as SoakChildConfig;
  if (!gc || !process.send) throw new Error("run with --expose-gc and an IPC channel (child_process.fork)");
  const send = (message: unknown) => process.send?.(message);

  const unhandledRejections: string[] = [];
  const uncaughtExceptions: string[] = [];
  process.on("unhandledRejection", (reason) => unhandledRejections.push(String((reason as Error)?.stack ?? reason)));
  process.on("uncaughtException", (error) => uncaughtExceptions.push(String(error?.stack ?? error)));
  // Messages from the test, in order; the one listener stays for the whole run, so process listeners stay constant.
  const inbox: Message[] = [];
  let waiting: (() => void) | undefined;
  const onMessage = (message: Message) => {
    inbox.push(message);
    waiting?.();
  };
  process.on("message", onMessage);
  const nextMessage = async <K extends Message["type"]>(type: K): Promise<Extract<Message, { type: K }>> => {
    for (;;) {
      const index = inbox.findIndex((message) => message.type === type);
      if (index >= 0) return inbox.splice(index, 1)[0] as Extract<Message, { type: K }>;
      await new Promise<void>((resolve) => {
        waiting = resolve;
      });
    }
  };

  const drive = modbus({
    url: config.modbusUrl,
    name: "drive",
    timeoutMs: 500,
    reconnect: { initialDelayMs: 50, maxDelayMs: 500 },
    // A unit that stops answering is skipped for 200 ms, doubling to 1 s: short, so recovery is seen within the run.
    breaker: { failures: 2, openMs: 200, maxOpenMs: 1000 },
  });
  const plc = opcua({
    endpoint: config.opcuaEndpoint,
    name: "plc",
    securityMode: "None",
    securityPolicy: "None",
    insecure: true,
    pkiFolder: config.pkiFolder,
    connectTimeoutMs: 5000,
    requestTimeoutMs: 2000,
    reconnectDelayMs: 100,
    maxReconnectDelayMs: 1000,
    // Keep-alive every 4 s, so a silent link is given up after 8 s (the adapter's transport timeout is twice the
    // keep-alive interval): a reconnection that meets a blackhole recovers well within the run.
    sessionTimeoutMs: 6000,
    publishingIntervalMs: 200,
    samplingIntervalMs: 100,
    onWarning: () => {},
  });
  const bus = mqtt({
    url: config.mqttUrl,
    name: "bus",
    connectTimeoutMs: 2000,
    keepaliveSeconds: 5,
    initialValueWaitMs: 1000,
    // The faults here are network faults, not two clients sharing one client id: a connection that lasted 250 ms
    // was a real one, so a proxy reset after that is no flap (the default 5 s would stop the adapter as a fight).
    reconnect: { minMs: 50, maxMs: 500, stableAfterMs: 250 },
  });

  const definitions: Record<string, AnyTag> = {};
  const protocolOf = new Map<string, Protocol>();
  for (let unit = 1; unit <= config.modbusUnits; unit++) {
    for (let index = 0; index < config.registersPerUnit; index++) {
      const name = `mb_u${unit}_${index}`;
      // Even: holding uint16 every third register; odd: input float32 (two registers): several blocks per unit.
      definitions[name] =
        index % 2 === 0
          ? integer({ source: drive.holding(index * 3, "uint16", { unit }) })
          : float({ source: drive.input(index * 3, "float32", { unit }) });
      protocolOf.set(name, "modbus");
    }
  }
  config.opcuaNodeIds.forEach((nodeId, index) => {
    definitions[`ua_${index}`] = float({ source: plc.node(nodeId) });
    protocolOf.set(`ua_${index}`, "opcua");
  });
  config.mqttTopics.forEach((topic, index) => {
    definitions[`mq_${index}`] = float({ source: bus.topic(topic, { path: "/v", qos: 1 }) });
    protocolOf.set(`mq_${index}`, "mqtt");
  });
  const tags = defineTags(definitions);
  let plantErrors = 0;
  const plant = createPlant({
    tags,
    // Full after the warm-up rounds, so that history is at its steady size when the heap is first measured.
    historySize: config.historySize,
    readTimeoutMs: 3000,
    pollIntervalMs: 250,
    onError: () => {
      plantErrors++;
    },
  });

  const adapterListeners = () => {
    const modbusClient = drive.getInstance() as { _port?: { _client?: unknown } } | undefined;
    const session = plc.getInstance() as { _client?: { _secureChannel?: unknown } | null } | undefined;
    const mqttClient = bus.getInstance() as { stream?: unknown } | undefined;
    return {
      process: listenerSum(process),
      modbus: listenerSum(modbusClient) + listenerSum(modbusClient?._port) + listenerSum(modbusClient?._port?._client),
      opcua: listenerSum(session) + listenerSum(session?._client) + listenerSum(session?._client?._secureChannel),
      mqtt: listenerSum(mqttClient) + listenerSum(mqttClient?.stream),
    };
  };
  const countResources = () => {
    const counts: Record<string, number> = {};
    for (const type of process.getActiveResourcesInfo()) counts[type] = (counts[type] ?? 0) + 1;
    return counts;
  };
  const measure = async (): Promise<SoakMetrics> => {
    for (let pass = 0; pass < 4; pass++) {
      gc();
      await sleep(20);
    }
    const resources = countResources();
    const listeners = adapterListeners();
    return {
      heapUsedBytes: process.memoryUsage().heapUsed,
      resources,
      resourceTotal: Object.values(resources).reduce((sum, count) => sum + count, 0),
      listeners,
      listenerTotal: listeners.process + listeners.modbus + listeners.opcua + listeners.mqtt,
    };
  };

  const zero = (): Record<Protocol, number> => ({ modbus: 0, opcua: 0, mqtt: 0 });
  const samplesGood = zero();
  const samplesBad = zero();
  const badReasons: Record<string, number> = {};
  let rounds = 0;
  const round = async (): Promise<{ counts: RoundCounts; samples: [string, Sample][] }> => {
    const snapshot = await plant.read();
    rounds++;
    const counts: RoundCounts = { good: zero(), bad: zero() };
    const samples = snapshot.entries() as [string, Sample][];
    for (const [name, sample] of samples) {
      const protocol = protocolOf.get(name) as Protocol;
      if (sample.quality === "good") counts.good[protocol]++;
      else {
        counts.bad[protocol]++;
        const key = `${protocol} ${sample.reason}: ${(sample.detail ?? "").replace(/\d+/g, "#").slice(0, 100)}`;
        badReasons[key] = (badReasons[key] ?? 0) + 1;
      }
    }
    for (const protocol of ["modbus", "opcua", "mqtt"] as const) {
      samplesGood[protocol] += counts.good[protocol];
      samplesBad[protocol] += counts.bad[protocol];
    }
    return { counts, samples };
  };
  const allGood = (counts: RoundCounts) => counts.bad.modbus + counts.bad.opcua + counts.bad.mqtt === 0;

  let watchChanges = 0;
  await plant.connect();
  const watcher = await plant.watch(() => {
    watchChanges++;
  });
  const untilAllGood = async () => {
    // Bounded: a plant that never recovers is reported as such, not waited on forever.
    for (let attempt = 0; attempt < 400 && !allGood((await round()).counts); attempt++) await sleep(50);
  };
  // Read until one round is all good (retained MQTT values arrive after SUBACK), then fill the history.
  await untilAllGood();
  for (let fill = 0; fill < config.historySize + 5; fill++) await round();

  // Reads every tag, round after round, until stopped.
  const readLoop = () => {
    let stopped = false;
    const running = (async () => {
      while (!stopped) {
        await round();
        await sleep(20);
      }
    })();
    return async () => {
      stopped = true;
      await running;
    };
  };

  let stop = readLoop();
  send({ type: "connected" });
  await nextMessage("measure");
  // The warm-up faults are over: measure between rounds, once every tag is good again.
  await stop();
  await untilAllGood();
  const warm = await measure();
  snapshot("warm");
  const warmRounds = rounds;
  // From here on the counts cover the fault phase and the recovery only.
  for (const protocol of ["modbus", "opcua", "mqtt"] as const) {
    samplesGood[protocol] = 0;
    samplesBad[protocol] = 0;
  }
  for (const key of Object.keys(badReasons)) delete badReasons[key];
  stop = readLoop();
  send({ type: "warm", metrics: warm, rounds });

  const finish = await nextMessage("finish");
  await stop();
  const faultRounds = rounds - warmRounds;

  // Recovery: a round in which every tag is good and holds the value the servers hold now.
  const expected = finish.expected;
  let lastRound: RoundCounts = { good: zero(), bad: zero() };
  let wrongValues: string[] = [];
  let recovered = false;
  const recoveryDeadline = Date.now() + 30_000;
  while (!recovered && Date.now() < recoveryDeadline) {
    const { counts, samples } = await round();
    lastRound = counts;
    wrongValues = samples
      .filter(([name, sample]) => sample.quality === "good" && sample.value !== expected[name])
      .map(([name, sample]) => `${name}=${String(sample.value)} (expected ${expected[name]})`);
    recovered = allGood(counts) && wrongValues.length === 0;
    if (!recovered) await sleep(100);
  }

  // Settling: timers of the last faults (backoffs, request timeouts) run out; sockets are back to one per adapter.
  let end = await measure();
  let settled = false;
  const settleDeadline = Date.now() + 15_000;
  while (Date.now() < settleDeadline) {
    settled =
      (end.resources.TCPSocketWrap ?? 0) === (warm.resources.TCPSocketWrap ?? 0) &&
      end.resourceTotal <= warm.resourceTotal + config.timerSlack &&
      end.listenerTotal <= warm.listenerTotal;
    if (settled) break;
    await round();
    await sleep(200);
    end = await measure();
  }
  snapshot("end");
  const status = Object.fromEntries(
    Object.entries(plant.status()).map(([name, value]) => [name, `${value.state}: ${value.reason ?? ""}`]),
  );

  const result: SoakChildResult = {
    type: "result",
    warm,
    end,
    rounds,
    faultRounds,
    samplesGood,
    samplesBad,
    badReasons,
    watchChanges,
    recovered,
    lastRound,
    wrongValues: wrongValues.slice(0, 10),
    settled,
    unhandledRejections,
    uncaughtExceptions,
    plantErrors,
    status,
  };
  send(result);

  // The test looks at the servers' side (sessions, monitored items, open links) before the plant closes.
  await nextMessage("close");
  await watcher.stop();
  await plant.close();
  await sleep(200);
  const closed: SoakChildClosed = {
    type: "closed",
    resources: countResources(),
    unhandledRejections: unhandledRejections.length,
  };
  send(closed);
  process.off("message", onMessage);
  process.disconnect();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
  process.disconnect?.();
});
