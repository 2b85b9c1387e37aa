/**
 * Modbus benchmarks against the simulator over real loopback sockets, measured side by side. The simulator and the
 * fault proxy run in a process of their own (modbus-device.ts), as a device is another machine: in-process, their
 * work would be timed as the client's. Measured:
 *  1. planned reads vs naive one-request-per-tag reads of a 1000-tag map over 4 units (target ≥ 150×), on loopback
 *     and through the fault proxy adding 1 ms each way (a gateway on a LAN),
 *  2. planned reads vs a hand-tuned block layout on a raw modbus-serial client, same decoders (target ≥ 0.95×),
 *  3. SDK read vs raw modbus-serial readHoldingRegisters of the same blocks, no decoding (target ≤ 1.05× the time),
 *     on loopback (the worst case for the SDK) and over the 1 ms link,
 *  4. pipelining (4 in flight) vs one request at a time over the 1 ms link,
 *  5. an all-analog sparse map (no status bits), planned vs naive, for a less favourable picture,
 *  6. the simulator's share of request time (it must not be the bottleneck), on an in-process simulator.
 */

import { type ModbusAddress, type ModbusDataType, modbus, startModbusSimulator } from "../adapters/modbus/index.js";
import { responseSamples, tagDecoder } from "../adapters/modbus/modbus-values.js";
import {
  type AnyTag,
  type BoundTag,
  boolean as booleanTag,
  defineTags,
  float,
  type TagDefinitions,
} from "../src/index.js";
import type { FaultMode } from "../tests/support/fault-proxy.js";
import { type BenchResult, ratioResult, timeSideBySide } from "./bench-kit.js";
import { startBenchPeer } from "./bench-peer.js";

const units = [1, 2, 3, 4];
const analogTypes: { type: ModbusDataType; size: number }[] = [
  { type: "uint16", size: 1 },
  { type: "float32", size: 2 },
  { type: "int16", size: 1 },
  { type: "int32", size: 2 },
  { type: "uint16", size: 1 },
];

/** Per unit: 40 analog values with gaps of 0–2 registers over holding 0–102, then 210 status bits in 14 status words at 104–117. */
function plantMap(drive: ReturnType<typeof modbus>, analogOnly: boolean): TagDefinitions {
  const tags: Record<string, AnyTag> = {};
  for (const unit of units) {
    let register = 0;
    const analogCount = analogOnly ? 250 : 40;
    for (let index = 0; index < analogCount; index++) {
      const { type, size } = analogTypes[index % analogTypes.length] as { type: ModbusDataType; size: number };
      tags[`u${unit}_a${index}`] = float({
        source: drive.holding(register, type as "uint16", { unit, wordOrder: "CDAB" }),
      });
      register += size + (index % 3);
    }
    if (analogOnly) continue;
    for (let bit = 0; bit < 210; bit++) {
      tags[`u${unit}_b${bit}`] = booleanTag({
        source: drive.holding(104 + Math.floor(bit / 16), "bool", { unit, bit: bit % 16 }),
      });
    }
  }
  return defineTags(tags);
}

const bind = (tags: TagDefinitions): BoundTag<ModbusAddress>[] =>
  Object.entries(tags).map(([name, definition]) => ({
    name,
    definition,
    address: definition.source.address as ModbusAddress,
  }));

const repeat = (times: number, run: () => Promise<unknown>) => async () => {
  for (let index = 0; index < times; index++) await run();
};

interface RawClient {
  connectTCP(host: string, options: { port: number }): Promise<void>;
  setID(unit: number): void;
  setTimeout(ms: number): void;
  readHoldingRegisters(start: number, count: number): Promise<{ data: number[]; buffer: Buffer }>;
  close(callback: () => void): void;
}

/** The device process: the simulator and the fault proxy in front of it. */
async function startDevice(values: [ModbusAddress, number | boolean][]) {
  const peer = startBenchPeer(new URL("./modbus-device.ts", import.meta.url));
  const { port, proxyPort } = await peer.ask<{ port: number; proxyPort: number }>({ values });
  return {
    port,
    proxyPort,
    setProxy: (mode: FaultMode) => peer.ask({ proxy: mode }),
    close: () => peer.close(),
  };
}

export default async function modbusBench(): Promise<BenchResult[]> {
  const layout = modbus({ url: "modbus+tcp://127.0.0.1:502", name: "layout" });
  const tags = bind(plantMap(layout, false));
  const analogTags = bind(plantMap(layout, true));
  const device = await startDevice(
    tags.map((tag, index) => [tag.address, tag.definition.type === "boolean" ? index % 3 === 0 : index % 1000]),
  );
  const url = `modbus+tcp://127.0.0.1:${device.port}`;
  const lan = `modbus+tcp://127.0.0.1:${device.proxyPort}`;
  const planned = modbus({ url, name: "planned" });
  const naive = modbus({ url, name: "naive", requestPerTag: true });
  const lanPlanned = modbus({ url: lan, name: "lan-planned" });
  const lanNaive = modbus({ url: lan, name: "lan-naive", requestPerTag: true });
  const pipelined = modbus({ url: lan, name: "pipelined", maxInFlight: 4 });
  const adapters = [planned, naive, lanPlanned, lanNaive, pipelined];
  await Promise.all(adapters.map((adapter) => adapter.connect()));
  const { default: ModbusRTU } = (await import("modbus-serial")) as unknown as { default: new () => RawClient };
  const connectRaw = async (port: number) => {
    const client = new ModbusRTU();
    await client.connectTCP("127.0.0.1", { port });
    client.setTimeout(1000);
    return client;
  };
  const raw = await connectRaw(device.port);
  const lanRaw = await connectRaw(device.proxyPort);

  const blocks = planned.plan(tags).requests;
  const check = (samples: { quality: string }[]) => {
    if (samples.some((sample) => sample.quality !== "good")) throw new Error("a bench read returned bad samples");
  };
  const sdkRead =
    (adapter: typeof planned, list = tags) =>
    async () =>
      check(await adapter.read(list));
  const rawBlocks = (client: RawClient) => async () => {
    for (const block of blocks) {
      client.setID(block.unit);
      await client.readHoldingRegisters(block.start, block.count);
    }
  };
  // A hand-tuned layout: one block per unit chosen by hand (holding 0–117), read on a raw modbus-serial client, each
  // tag decoded with the same decoder the SDK uses, so the comparison is about planning and transport, not decoding.
  const handBlocks = units.map((unit) => ({ unit, start: 0, count: 118 }));
  const handLayout = tags.map((tag) => ({
    block: units.indexOf(tag.address.unit),
    offset: tag.address.address,
    decode: tagDecoder(tag.definition, tag.address, "hand"),
  }));
  const readHandTuned = async () => {
    const buffers: Buffer[] = [];
    for (const block of handBlocks) {
      raw.setID(block.unit);
      buffers.push((await raw.readHoldingRegisters(block.start, block.count)).buffer);
    }
    const response = responseSamples(Date.now());
    const samples = handLayout.map((tag) => tag.decode(buffers[tag.block], undefined, tag.offset, response));
    check(samples);
  };

  const results: BenchResult[] = [];
  const map = `${tags.length} tags over ${units.length} units (per unit 40 analog values with 0–2 register gaps + 210 status bits in 14 words), ${blocks.length} planned requests vs ${tags.length}`;
  const perTag = async (
    name: string,
    naiveRead: () => Promise<void>,
    plannedRead: () => Promise<void>,
    times: number,
    note: string,
  ) => {
    const timing = await timeSideBySide(naiveRead, repeat(times, plannedRead), 5);
    results.push(
      ratioResult(
        name,
        { label: "one request per tag", value: tags.length / timing.baselineMs, unit: "tags/ms" },
        { label: "planned block reads", value: (tags.length * times) / timing.candidateMs, unit: "tags/ms" },
        { at: "least", ratio: 150 },
        note,
      ),
    );
  };
  await perTag(
    "modbus: planned vs naive, loopback (tags/s)",
    sdkRead(naive),
    sdkRead(planned),
    20,
    `${map}; simulator in its own process, over loopback`,
  );
  await device.setProxy({ kind: "latency", ms: 1 });
  await perTag(
    "modbus: planned vs naive, 1 ms link (tags/s)",
    sdkRead(lanNaive),
    sdkRead(lanPlanned),
    20,
    "through the fault proxy adding ≥1 ms each way, like a gateway on a LAN",
  );
  await device.setProxy({ kind: "pass" });

  const versusHand = await timeSideBySide(repeat(50, readHandTuned), repeat(50, sdkRead(planned)), 9);
  results.push(
    ratioResult(
      "modbus: planned vs hand-tuned blocks, loopback (reads/s)",
      {
        label: "hand-tuned blocks on raw modbus-serial, same decoders",
        value: 50_000 / versusHand.baselineMs,
        unit: "reads/s",
      },
      { label: "planned SDK read", value: 50_000 / versusHand.candidateMs, unit: "reads/s" },
      { at: "least", ratio: 0.95 },
    ),
  );
  const sdkVersusRaw = async (
    name: string,
    client: RawClient,
    adapter: typeof planned,
    times: number,
    note: string,
  ) => {
    const timing = await timeSideBySide(repeat(times, rawBlocks(client)), repeat(times, sdkRead(adapter)), 21);
    results.push(
      ratioResult(
        name,
        {
          label: "raw modbus-serial readHoldingRegisters, same blocks, no decoding",
          value: timing.baselineMs / times,
          unit: "ms/read",
        },
        { label: "SDK read, 1000 decoded samples", value: timing.candidateMs / times, unit: "ms/read" },
        { at: "most", ratio: 1.05 },
        note,
      ),
    );
  };
  await sdkVersusRaw(
    "modbus: SDK read vs raw library, loopback (time)",
    raw,
    planned,
    50,
    "worst case: 4 loopback round trips are so cheap that decoding 1000 tags shows",
  );
  await device.setProxy({ kind: "latency", ms: 1 });
  await sdkVersusRaw(
    "modbus: SDK read vs raw library, 1 ms link (time)",
    lanRaw,
    lanPlanned,
    10,
    "through the fault proxy adding ≥1 ms each way",
  );
  const pipelining = await timeSideBySide(repeat(5, sdkRead(lanPlanned)), repeat(5, sdkRead(pipelined)), 5);
  await device.setProxy({ kind: "pass" });
  results.push(
    ratioResult(
      "modbus: pipelining (4 in flight) vs off, 1 ms link (time)",
      { label: "one request in flight", value: pipelining.baselineMs / 5, unit: "ms/read" },
      { label: "four in flight", value: pipelining.candidateMs / 5, unit: "ms/read" },
      { at: "most", ratio: 1 },
      "4 units read side by side through the fault proxy adding ≥1 ms each way",
    ),
  );
  const analogRequests = planned.plan(analogTags).requests.length;
  const analog = await timeSideBySide(sdkRead(naive, analogTags), repeat(10, sdkRead(planned, analogTags)), 3);
  results.push(
    ratioResult(
      "modbus: all-analog sparse map, planned vs naive, loopback (tags/s)",
      { label: "one request per tag", value: analogTags.length / analog.baselineMs, unit: "tags/ms" },
      { label: "planned block reads", value: (analogTags.length * 10) / analog.candidateMs, unit: "tags/ms" },
      { at: "least", ratio: Math.round(analogTags.length / analogRequests / 2) },
      `${analogTags.length} analog tags with 0–2 register gaps need ${analogRequests} requests: the ratio follows the request count (target: half of it)`,
    ),
  );
  // The simulator's own handling time per request, against the whole round trip seen by a raw client: in-process,
  // so that its handler can be timed.
  const simulator = await startModbusSimulator();
  for (const tag of tags) simulator.setTag(tag.address, tag.definition.type === "boolean" ? true : 1);
  const local = await connectRaw(simulator.port);
  const store = simulator.store;
  const handle = store.handle.bind(store);
  let simulatorMs = 0;
  store.handle = (unit, pdu) => {
    const start = performance.now();
    const handled = handle(unit, pdu);
    simulatorMs += performance.now() - start;
    return handled;
  };
  const before = store.requestCount;
  const start = performance.now();
  await repeat(100, rawBlocks(local))();
  const totalMs = performance.now() - start;
  const requests = store.requestCount - before;
  results.push(
    ratioResult(
      "modbus simulator: handling share of round trip",
      { label: "round trip per request", value: totalMs / requests, unit: "ms" },
      { label: "simulator handling per request", value: simulatorMs / requests, unit: "ms" },
      { at: "most", ratio: 0.25 },
      `${requests} requests of up to 114 registers`,
    ),
  );

  for (const client of [raw, lanRaw, local]) await new Promise<void>((resolve) => client.close(() => resolve()));
  await Promise.all(adapters.map((adapter) => adapter.close()));
  await device.close();
  await simulator.close();
  return results;
}
