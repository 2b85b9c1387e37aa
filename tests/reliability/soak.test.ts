/**
 * T14 soak: one plant with 1000 tags over Modbus TCP (four units), OPC UA (generated variables) and MQTT (retained
 * topics on the embedded broker), each adapter behind its own fault proxy, read in a loop and watched while a seeded
 * random schedule resets links, blackholes them, adds latency, silences Modbus units and changes values on the
 * servers. The plant runs in a child process (soak-child.ts, with --expose-gc), so that its heap, handles and
 * listeners are the SDK's alone; the servers, the broker, the proxies and the schedule run here.
 *
 * Short by default (10 s of faults, about 25 s in all, for CI). PLANTWIRE_SOAK_MINUTES=30 runs the fault phase that
 * long; PLANTWIRE_SOAK_SEED=<n> replays a schedule (the seed is printed on every run).
 */
import { type ChildProcess, fork } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import mqttLibrary, { type MqttClient } from "mqtt";
import { type ModbusAddress, type ModbusSimulator, modbus, startModbusSimulator } from "plantwire/modbus";
import { type EmbeddedBroker, startBroker } from "plantwire/mqtt";
import { type OpcuaSimulator, startOpcuaSimulator } from "plantwire/opcua";
import { waitFor } from "plantwire/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type SeededRandom, seededRandom } from "../../src/sim/seeded-random.js";
import { type FaultProxy, startFaultProxy } from "../support/fault-proxy.js";
import type { SoakChildClosed, SoakChildConfig, SoakChildResult, SoakMetrics } from "./soak-child.js";

const root = fileURLToPath(new URL("../..", import.meta.url));
const childScript = fileURLToPath(new URL("./soak-child.ts", import.meta.url));

const minutes = Number(process.env.PLANTWIRE_SOAK_MINUTES ?? "0");
const faultPhaseMs = minutes > 0 ? minutes * 60_000 : 10_000;
const seed = process.env.PLANTWIRE_SOAK_SEED
  ? Number(process.env.PLANTWIRE_SOAK_SEED)
  : Math.floor(Math.random() * 2 ** 32);

// 4 units × 85 registers + 330 OPC UA variables + 330 MQTT topics = 1000 tags.
const modbusUnits = 4;
const registersPerUnit = 85;
const opcuaCount = 330;
const mqttCount = 330;
const historySize = 10;

/**
 * Heap growth allowed between warm-up and end, after forced GC, in the plant's process. The plant's own state is
 * bounded (history full before warm-up, node caches, compiled plans), so steady growth can only come from a leak.
 * Measured on these machines, with the plant's heap at about 58 MB: between -1.0 and +0.8 MB from one run to the
 * next, short or two minutes long (heap snapshots show the difference is compiled code and requests in flight).
 * 8 MB (about 14 % of the heap) leaves room for that noise and is still far below what a leak per fault shows: what
 * a reconnection builds (a socket with its buffers, an OPC UA secure channel, an MQTT.js client with its stores)
 * weighs tens to hundreds of KB, times the 10+ link faults per adapter of even the short run, and the long run
 * multiplies the faults by hundreds.
 */
const heapGrowthBound = 8 * 1024 * 1024;
/**
 * Timers that may legitimately differ between two moments: a poll, a keep-alive or a backoff in flight (up to 3), and
 * node-opcua's PublishRequests, each outstanding with its own timeout timer, whose number it varies between 5 and 10
 * as the subscription runs (seen with async hooks: the same 18 live timers at warm-up and end, 10 of them publish
 * requests, in one run; 11 and 16 in all in another). A leak would grow with the faults, past this.
 */
const timerSlack = 8;

const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => unhandled.push(reason);
const folder = mkdtempSync(join(tmpdir(), "plantwire-soak-"));
let modbusSimulator: ModbusSimulator;
let opcuaSimulator: OpcuaSimulator;
let broker: EmbeddedBroker;
let publisher: MqttClient;
let proxies: { modbus: FaultProxy; opcua: FaultProxy; mqtt: FaultProxy };
let child: ChildProcess | undefined;

const layout = modbus({ url: "modbus+tcp://127.0.0.1:1", name: "layout" }); // builds addresses, never connects
const modbusTags: { name: string; address: ModbusAddress; unit: number; index: number }[] = [];
for (let unit = 1; unit <= modbusUnits; unit++) {
  for (let index = 0; index < registersPerUnit; index++) {
    const source =
      index % 2 === 0 ? layout.holding(index * 3, "uint16", { unit }) : layout.input(index * 3, "float32", { unit });
    modbusTags.push({ name: `mb_u${unit}_${index}`, address: source.address, unit, index });
  }
}
const opcuaPaths = Array.from(
  { length: opcuaCount },
  (_, index) => `Generated/Area${Math.floor(index / 100)}/Value${index}`,
);
const mqttTopics = Array.from({ length: mqttCount }, (_, index) => `plantwire-soak/area${index % 10}/value${index}`);

/** The value every tag holds in a generation: exact in uint16, float32 and double, distinct per generation. */
const generationValue = {
  modbus: (tag: (typeof modbusTags)[number], generation: number) =>
    tag.index % 2 === 0
      ? (generation * 97 + tag.unit * 1000 + tag.index) % 65_536
      : generation * 0.5 + tag.unit * 100 + tag.index,
  opcua: (index: number, generation: number) => generation + index / 4,
  mqtt: (index: number, generation: number) => generation + index / 8,
};

async function setGeneration(generation: number): Promise<void> {
  for (const tag of modbusTags) modbusSimulator.setTag(tag.address, generationValue.modbus(tag, generation));
  for (const [index, path] of opcuaPaths.entries()) opcuaSimulator.set(path, generationValue.opcua(index, generation));
  await Promise.all(
    mqttTopics.map((topic, index) =>
      publisher.publishAsync(topic, JSON.stringify({ v: generationValue.mqtt(index, generation) }), {
        qos: 1,
        retain: true,
      }),
    ),
  );
}

function expectedValues(generation: number): Record<string, number> {
  const expected: Record<string, number> = {};
  for (const tag of modbusTags) expected[tag.name] = generationValue.modbus(tag, generation);
  opcuaPaths.forEach((_, index) => {
    expected[`ua_${index}`] = generationValue.opcua(index, generation);
  });
  mqttTopics.forEach((_, index) => {
    expected[`mq_${index}`] = generationValue.mqtt(index, generation);
  });
  return expected;
}

beforeAll(async () => {
  process.on("unhandledRejection", onUnhandled);
  modbusSimulator = await startModbusSimulator();
  // The standard nodeset: the minimal one throws when a client reaches it under the proxy's address.
  opcuaSimulator = await startOpcuaSimulator({
    port: 0,
    generate: opcuaCount,
    nodeset: "standard",
    pkiFolder: join(folder, "server"),
    securityPolicies: ["None"],
  });
  broker = await startBroker({ port: 0 });
  publisher = await mqttLibrary.connectAsync(broker.url, { protocolVersion: 4, reconnectPeriod: 0 });
  await setGeneration(0);
  proxies = {
    modbus: await startFaultProxy({ port: modbusSimulator.port }),
    opcua: await startFaultProxy({ port: opcuaSimulator.port }),
    mqtt: await startFaultProxy({ port: broker.port }),
  };
}, 60_000);

afterAll(async () => {
  if (child && child.exitCode === null) child.kill("SIGKILL");
  for (const proxy of Object.values(proxies ?? {})) await proxy.close();
  await publisher?.endAsync(true);
  await broker?.close();
  await opcuaSimulator?.close();
  await modbusSimulator?.close();
  process.off("unhandledRejection", onUnhandled);
  rmSync(folder, { recursive: true, force: true });
}, 60_000);

type FaultKind = "reset" | "blackhole" | "latency" | "unit-silent" | "values";
const faultKinds: readonly FaultKind[] = ["reset", "blackhole", "latency", "unit-silent", "values"];

/**
 * The fault schedule, in blocks of seven actions in a seeded random order, 150–900 ms apart: a reset of each proxy,
 * a blackhole and a latency spike on a random proxy, a random Modbus unit falling silent, and a value change on every
 * server, with random durations. Link modes (blackhole, latency) never overlap on one proxy; resets may land in them.
 * Returns what it did, by kind and by proxy, the last value generation and a log of the actions.
 */
async function runFaults(random: SeededRandom, durationMs: number, generation: number) {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random.next() * items.length)] as T;
  const between = (low: number, high: number) => Math.round(low + random.next() * (high - low));
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
  const names = ["modbus", "opcua", "mqtt"] as const;
  const busyUntil = { modbus: 0, opcua: 0, mqtt: 0 };
  const pending = new Set<NodeJS.Timeout>();
  const later = (ms: number, action: () => void) => {
    const timer = setTimeout(() => {
      pending.delete(timer);
      action();
    }, ms);
    pending.add(timer);
  };
  const done: Record<FaultKind, number> = { reset: 0, blackhole: 0, latency: 0, "unit-silent": 0, values: 0 };
  const perProxy = { modbus: 0, opcua: 0, mqtt: 0 };
  const start = Date.now();
  const end = start + durationMs;
  const log: string[] = [];
  let block: { kind: FaultKind; target: (typeof names)[number] }[] = [];
  // A started block is finished, so that every kind and every proxy is hit however short the phase.
  while (Date.now() < end || block.length > 0) {
    if (block.length === 0) {
      block = [
        ...names.map((target) => ({ kind: "reset" as const, target })),
        ...(["blackhole", "latency", "unit-silent", "values"] as const).map((kind) => ({ kind, target: pick(names) })),
      ];
      for (let index = block.length - 1; index > 0; index--) {
        const other = Math.floor(random.next() * (index + 1));
        [block[index], block[other]] = [block[other] as (typeof block)[number], block[index] as (typeof block)[number]];
      }
    }
    const { kind, target } = block.pop() as (typeof block)[number];
    log.push(`${Date.now() - start} ${kind} ${kind === "values" || kind === "unit-silent" ? "" : target}`);
    const proxy = proxies[target];
    if (kind === "reset") proxy.resetAll();
    else if (kind === "blackhole" || kind === "latency") {
      // A link already in a mode gets a reset instead, so that durations stay what the schedule says.
      if (Date.now() < busyUntil[target]) proxy.resetAll();
      else {
        const forMs = kind === "blackhole" ? between(300, 1500) : between(500, 2000);
        proxy.setMode(kind === "blackhole" ? { kind } : { kind, ms: between(50, 400) });
        busyUntil[target] = Date.now() + forMs;
        later(forMs, () => proxy.setMode({ kind: "pass" }));
      }
    } else if (kind === "unit-silent") {
      const unit = between(1, modbusUnits);
      modbusSimulator.setBehaviour(unit, { kind: "dead" });
      later(between(300, 1500), () => modbusSimulator.setBehaviour(unit, undefined));
    } else {
      generation++;
      await setGeneration(generation);
    }
    done[kind]++;
    if (kind !== "values" && kind !== "unit-silent") perProxy[target]++;
    await sleep(between(150, 900));
  }
  for (const timer of pending) clearTimeout(timer);
  for (const name of names) proxies[name].setMode({ kind: "pass" });
  for (let unit = 1; unit <= modbusUnits; unit++) modbusSimulator.setBehaviour(unit, undefined);
  return { done, perProxy, generation, log };
}

/** Resolves with the child's next message of `type`; rejects when the child exits first or `timeoutMs` passes. */
function nextMessage<T>(process_: ChildProcess, type: string, timeoutMs: number, output: () => string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(
      () => finish(new Error(`no "${type}" from the soak child within ${timeoutMs} ms\n${output()}`)),
      timeoutMs,
    );
    const onMessage = (message: { type?: string }) => {
      if (message?.type === type) finish(undefined, message as T);
    };
    const onExit = (code: number | null) =>
      finish(new Error(`the soak child exited (${code}) before "${type}"\n${output()}`));
    const finish = (error: Error | undefined, value?: T) => {
      clearTimeout(timer);
      process_.off("message", onMessage);
      process_.off("exit", onExit);
      if (error) reject(error);
      else resolve(value as T);
    };
    process_.on("message", onMessage);
    process_.on("exit", onExit);
  });
}

const describeMetrics = (label: string, metrics: SoakMetrics) =>
  `${label}: heap ${(metrics.heapUsedBytes / 1048576).toFixed(1)} MB, handles ${metrics.resourceTotal} ${JSON.stringify(metrics.resources)}, listeners ${metrics.listenerTotal} ${JSON.stringify(metrics.listeners)}`;

describe("T14: soak with random faults across Modbus, OPC UA and MQTT", () => {
  it(
    "keeps heap, handles and listeners flat, and every tag recovers",
    async () => {
      console.log(`[soak] seed ${seed} (replay with PLANTWIRE_SOAK_SEED=${seed}), fault phase ${faultPhaseMs} ms`);
      const random = seededRandom(seed);
      const config: SoakChildConfig = {
        modbusUrl: `modbus+tcp://127.0.0.1:${proxies.modbus.port}`,
        modbusUnits,
        registersPerUnit,
        opcuaEndpoint: `opc.tcp://127.0.0.1:${proxies.opcua.port}`,
        opcuaNodeIds: opcuaPaths.map((path) => opcuaSimulator.nodeId(path)),
        mqttUrl: `mqtt://127.0.0.1:${proxies.mqtt.port}`,
        mqttTopics,
        pkiFolder: join(folder, "client"),
        historySize,
        timerSlack,
      };
      let output = "";
      const running = fork(childScript, [JSON.stringify(config)], {
        cwd: root,
        execArgv: ["--expose-gc", "--import", "tsx"],
        stdio: ["ignore", "pipe", "pipe", "ipc"],
      });
      child = running;
      running.stdout?.on("data", (chunk) => {
        output += chunk;
      });
      running.stderr?.on("data", (chunk) => {
        output += chunk;
      });
      const exited = new Promise<number | null>((resolve) => running.on("exit", (code) => resolve(code)));
      const tail = () => output.slice(-4000);

      await nextMessage(running, "connected", 60_000, tail);
      // Warm-up: one of each link fault and a value change, so that code paths first taken on a reconnection are
      // loaded and compiled before the first measurement.
      let generation = 1;
      await setGeneration(generation);
      for (const proxy of Object.values(proxies)) {
        proxy.resetAll();
        await new Promise((resolve) => setTimeout(resolve, 700));
      }
      for (const proxy of Object.values(proxies)) proxy.setMode({ kind: "blackhole" });
      await new Promise((resolve) => setTimeout(resolve, 600));
      for (const proxy of Object.values(proxies)) proxy.setMode({ kind: "pass" });
      running.send({ type: "measure" });
      const warm = await nextMessage<{ metrics: SoakMetrics; rounds: number }>(running, "warm", 60_000, tail);

      const connectionsBefore = {
        modbus: proxies.modbus.connectionCount,
        opcua: proxies.opcua.connectionCount,
        mqtt: proxies.mqtt.connectionCount,
      };
      const faults = await runFaults(random, faultPhaseMs, generation);
      generation = faults.generation + 1;
      await setGeneration(generation);
      running.send({ type: "finish", expected: expectedValues(generation) });
      const result = await nextMessage<SoakChildResult>(running, "result", 120_000, tail);
      // The servers' side of the plant, still connected: one session with one subscription of every OPC UA tag, and
      // one link per proxy. A session orphaned by a fault times out on the server within sessionTimeoutMs (6 s).
      const serversAtRest = () =>
        opcuaSimulator.sessionCount() === 1 &&
        opcuaSimulator.subscriptionCount() === 1 &&
        opcuaSimulator.monitoredItemCount() === opcuaCount &&
        Object.values(proxies).every((proxy) => proxy.openCount === 1);
      await waitFor(serversAtRest, 10_000, 100);
      const servers = {
        opcuaSessions: opcuaSimulator.sessionCount(),
        opcuaSubscriptions: opcuaSimulator.subscriptionCount(),
        opcuaMonitoredItems: opcuaSimulator.monitoredItemCount(),
        openLinks: { modbus: proxies.modbus.openCount, opcua: proxies.opcua.openCount, mqtt: proxies.mqtt.openCount },
      };
      running.send({ type: "close" });
      const closed = await nextMessage<SoakChildClosed>(running, "closed", 60_000, tail);
      // With the IPC channel gone, nothing of the SDK may keep the process alive.
      const exitTimer = setTimeout(() => running.kill("SIGKILL"), 20_000);
      const code = await exited;
      clearTimeout(exitTimer);

      const reconnections = {
        modbus: proxies.modbus.connectionCount - connectionsBefore.modbus,
        opcua: proxies.opcua.connectionCount - connectionsBefore.opcua,
        mqtt: proxies.mqtt.connectionCount - connectionsBefore.mqtt,
      };
      console.log(
        [
          `[soak] faults ${JSON.stringify(faults.done)}, link faults per proxy ${JSON.stringify(faults.perProxy)}, new connections ${JSON.stringify(reconnections)}`,
          `[soak] rounds ${result.rounds} (${result.faultRounds} under faults), samples good ${JSON.stringify(result.samplesGood)}, bad ${JSON.stringify(result.samplesBad)}, watch changes ${result.watchChanges}, errors reported to onError ${result.plantErrors}`,
          `[soak] ${describeMetrics("warm-up", warm.metrics)}`,
          `[soak] ${describeMetrics("end", result.end)}`,
          `[soak] heap growth ${((result.end.heapUsedBytes - warm.metrics.heapUsedBytes) / 1048576).toFixed(2)} MB; handles after close ${JSON.stringify(closed.resources)}`,
          `[soak] servers at end ${JSON.stringify(servers)}`,
          `[soak] bad samples by reason ${JSON.stringify(result.badReasons, null, 1)}`,
          `[soak] schedule (ms into the fault phase, last 40) ${faults.log.slice(-40).join("; ")}`,
          `[soak] status at end ${JSON.stringify(result.status)}`,
        ].join("\n"),
      );

      expect(result.unhandledRejections).toEqual([]);
      expect(result.uncaughtExceptions).toEqual([]);
      expect(unhandled).toEqual([]);
      // The faults happened and reached every link: each adapter reconnected through its proxy.
      for (const kind of faultKinds) expect(faults.done[kind]).toBeGreaterThan(0);
      for (const name of ["modbus", "opcua", "mqtt"] as const) expect(reconnections[name]).toBeGreaterThan(0);
      // Recovered: the last round is good for every tag of every protocol, with the values the servers hold now.
      expect(result.wrongValues).toEqual([]);
      expect(result.lastRound.good).toEqual({
        modbus: modbusUnits * registersPerUnit,
        opcua: opcuaCount,
        mqtt: mqttCount,
      });
      expect(result.recovered).toBe(true);
      // Flat: heap after GC, handles (one socket per adapter again; timers within slack) and listeners.
      expect(result.end.heapUsedBytes - warm.metrics.heapUsedBytes).toBeLessThan(heapGrowthBound);
      expect(result.end.resources.TCPSocketWrap).toBe(warm.metrics.resources.TCPSocketWrap);
      expect(result.end.resourceTotal).toBeLessThanOrEqual(warm.metrics.resourceTotal + timerSlack);
      expect(result.end.listeners.process).toBeLessThanOrEqual(warm.metrics.listeners.process);
      expect(result.end.listeners.modbus).toBeLessThanOrEqual(warm.metrics.listeners.modbus);
      expect(result.end.listeners.opcua).toBeLessThanOrEqual(warm.metrics.listeners.opcua);
      expect(result.end.listeners.mqtt).toBeLessThanOrEqual(warm.metrics.listeners.mqtt);
      expect(result.settled).toBe(true);
      expect(servers).toEqual({
        opcuaSessions: 1,
        opcuaSubscriptions: 1,
        opcuaMonitoredItems: opcuaCount,
        openLinks: { modbus: 1, opcua: 1, mqtt: 1 },
      });
      // Closed: no socket left, and the process exited by itself.
      expect(closed.resources.TCPSocketWrap ?? 0).toBe(0);
      expect(closed.unhandledRejections).toBe(0);
      expect(code).toBe(0);
    },
    faultPhaseMs + 240_000,
  );
});
