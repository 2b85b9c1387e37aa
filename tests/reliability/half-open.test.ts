/**
 * Reliability test T2 (see the targets): a half-open link. A fault proxy sits between each adapter and its server
 * (Modbus TCP simulator, OPC UA simulator, embedded MQTT broker) and switches to blackhole: the TCP connection stays
 * open and nothing flows either way. For each protocol: the status leaves "connected" within 1.5× the adapter's
 * timeout or keep-alive; reads turn bad or STALE and never reach a prompt as current; a guarded write approved
 * meanwhile never reaches the device and is audited once; and good values come back once the link carries traffic.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  type Adapter,
  type AdapterStatus,
  type AuditRecord,
  createGuard,
  createPlant,
  DataQualityError,
  defineTags,
  encodeSnapshot,
  float,
  integer,
  type NumericTag,
  type Plant,
  type Proposal,
  type Snapshot,
  verifyAuditLog,
  type WriteGuard,
} from "plantwire";
import { type ModbusAddress, modbus, startModbusSimulator } from "plantwire/modbus";
import { mqtt, startBroker } from "plantwire/mqtt";
import { opcua, startOpcuaSimulator } from "plantwire/opcua";
import { waitFor } from "plantwire/testing";
import { describe, expect, it } from "vitest";
import { rawClient, uniquePrefix } from "../mqtt/mqtt-fixture.js";
import { type FaultProxy, startFaultProxy } from "../support/fault-proxy.js";
import { trackCleanupsAndRejections } from "../support/test-lifecycle.js";

/** Every rig serves these three tags: one measured value and two writable setpoints. */
type HalfOpenTags = { level: NumericTag; setpoint: NumericTag; trim: NumericTag };
const names = ["level", "setpoint", "trim"] as const;

interface Rig {
  readonly plant: Plant<HalfOpenTags>;
  readonly adapter: Adapter;
  readonly proxy: FaultProxy;
  /** The adapter's configured timeout or keep-alive, and what it is, for the report. */
  readonly configuredMs: number;
  readonly configured: string;
  /** The values the device holds; a write during the blackhole must not change them. */
  readonly values: Readonly<Record<(typeof names)[number], number>>;
  /** Writes the device (or the broker, on the command topics) has seen so far. */
  deviceWrites(): number;
  /** What the device holds now, by tag. */
  deviceValue(name: (typeof names)[number]): number;
  /** Longest wait for good reads once the link carries traffic again. */
  readonly recoveryMs: number;
}

const { cleanups, unhandled } = trackCleanupsAndRejections();

function temporaryFolder(label: string): string {
  const folder = mkdtempSync(join(tmpdir(), `plantwire-t2-${label}-`));
  cleanups.push(() => rmSync(folder, { recursive: true, force: true }));
  return folder;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The line of one tag in encoded prompt text. */
function lineOf(text: string, name: string): string {
  return text.split("\n").find((line) => line.startsWith(`${name}=`)) ?? `(no line for ${name})`;
}

/** Checks that no tag of a snapshot can be taken as current: not by value(), not in the prompt text. */
function expectNothingCurrent(snapshot: Snapshot<HalfOpenTags>): void {
  const text = encodeSnapshot(snapshot).text;
  for (const name of names) {
    const sample = snapshot.sample(name);
    expect(sample.quality === "bad" || sample.stale, `${name}: ${JSON.stringify(sample)}`).toBe(true);
    expect(snapshot.isUsable(name)).toBe(false);
    expect(() => snapshot.value(name)).toThrow(DataQualityError);
    expect(lineOf(text, name)).toMatch(new RegExp(`^${name}=(BAD\\(|STALE last=)`));
  }
}

async function proposeAndApprove(
  guard: WriteGuard<HalfOpenTags>,
  values: Partial<Record<"setpoint" | "trim", number>>,
) {
  const [proposal] = await guard.propose(values, { reason: "T2: proposed while the link is silent", loop: "t2" });
  expect(proposal?.state).toBe("pending");
  return guard.approve((proposal as Proposal).id, { by: "operator" });
}

/** The T2 scenario over one rig. */
async function halfOpen(rig: Rig, label: string): Promise<void> {
  const { plant, adapter, proxy } = rig;
  const audit = join(temporaryFolder(`${label}-audit`), "audit.jsonl");
  const guard = createGuard({ plant, audit, allowSameProcessApproval: true });
  cleanups.push(() => guard.close());

  // A good snapshot first: these are the values the blackhole must never pass off as current.
  const before = await plant.read();
  for (const name of names) expect(before.value(name)).toBe(rig.values[name]);
  expect(adapter.status().state).toBe("connected");

  let left: (AdapterStatus & { at: number }) | undefined;
  const stopListening = adapter.onStatus((status) => {
    if (!left && status.state !== "connected") left = { ...status, at: performance.now() };
  });
  const start = performance.now();
  proxy.setMode({ kind: "blackhole" });
  // A read in flight and a write proposed and approved the moment the link goes silent, while the adapter still
  // believes it is up: the read is what a polling adapter notices the silence by.
  const firstRead = plant.read();
  const early = proposeAndApprove(guard, { setpoint: rig.values.setpoint + 7 });

  // 1. The status leaves "connected" within 1.5× the configured timeout or keep-alive.
  const boundMs = 1.5 * rig.configuredMs;
  expect(await waitFor(() => left !== undefined, 4 * boundMs + 2000, 5)).toBe(true);
  const detectedMs = (left?.at ?? Number.NaN) - start;
  stopListening();
  expect(["degraded", "disconnected", "connecting"]).toContain(left?.state);
  expect(detectedMs).toBeLessThanOrEqual(boundMs);
  expect(plant.status()[adapter.name]?.state).not.toBe("connected");

  // 2. Reads during the blackhole are bad or STALE; nothing reaches the prompt as a current value.
  await firstRead;
  expectNothingCurrent(await plant.read());

  // 3. Guarded writes approved during the blackhole (one before the adapter noticed, one after) never reach the
  // device: their outcome is failed or unknown, never written.
  const late = await proposeAndApprove(guard, { trim: rig.values.trim + 3 });
  const settled = [await early, late];
  for (const proposal of settled) {
    expect(proposal.state).toBe("executed");
    expect(["failed", "unknown"]).toContain(proposal.outcome?.write);
    expect(proposal.outcome?.readBack).not.toBe("verified");
  }
  expect(rig.deviceWrites()).toBe(0);
  expectNothingCurrent(await plant.read());

  // 4. Once the link carries traffic again, the adapter reconnects and reads good values; the device kept its values.
  proxy.setMode({ kind: "pass" });
  const passAt = performance.now();
  const recovered = await waitFor(async () => {
    const snapshot = await plant.read();
    return adapter.status().state === "connected" && names.every((name) => snapshot.isUsable(name));
  }, rig.recoveryMs);
  expect(recovered).toBe(true);
  const recoveredMs = performance.now() - passAt;
  const after = await plant.read();
  for (const name of names) expect(after.value(name)).toBe(rig.values[name]);
  // Anything held back during the outage (a queue, a retry) would go out now: give it the time to.
  await sleep(500);
  expect(rig.deviceWrites()).toBe(0);
  for (const name of names) expect(rig.deviceValue(name)).toBe(rig.values[name]);

  // The audit records each attempt exactly once, with one outcome, and its chain verifies.
  await guard.close();
  const records = readFileSync(audit, "utf8")
    .trim()
    .split("\n")
    .map((line) => JSON.parse(line) as AuditRecord);
  for (const proposal of settled) {
    const mine = (type: string) =>
      records.filter((record) => record.type === type && record.proposalId === proposal.id);
    expect(mine("attempt")).toHaveLength(1);
    expect(mine("outcome")).toHaveLength(1);
    expect(mine("outcome")[0]?.write).toBe(proposal.outcome?.write);
  }
  expect(verifyAuditLog(audit).ok).toBe(true);
  expect(unhandled).toEqual([]);
  console.info(
    `T2 ${label}: status "${left?.state}" (${left?.reason}) ${Math.round(detectedMs)} ms after the link went silent ` +
      `(bound 1.5 × ${rig.configured} ${rig.configuredMs} ms = ${boundMs} ms); good reads again ` +
      `${Math.round(recoveredMs)} ms after it carried traffic again`,
  );
}

describe("T2: a half-open link (blackhole)", () => {
  it("Modbus TCP: degraded within 1.5× the request timeout, reads bad, writes never reach the device", async () => {
    const simulator = await startModbusSimulator();
    const proxy = await startFaultProxy({ port: simulator.port });
    const timeoutMs = 500;
    const drive = modbus({
      url: `modbus+tcp://127.0.0.1:${proxy.port}`,
      name: "drive",
      timeoutMs,
      reconnect: { initialDelayMs: 50, maxDelayMs: 200 },
    });
    cleanups.push(
      () => simulator.close(),
      () => proxy.close(),
    );
    const tags = defineTags({
      level: integer({ source: drive.holding(0), staleAfterMs: 2000 }),
      setpoint: integer({ source: drive.holding(10), range: [0, 1000], write: { range: [0, 1000] } }),
      trim: integer({ source: drive.holding(11), range: [0, 1000], write: { range: [0, 1000] } }),
    });
    const values = { level: 420, setpoint: 500, trim: 40 };
    for (const name of names) simulator.setTag(tags[name].source.address as ModbusAddress, values[name]);
    const plant = createPlant({ tags, onError: () => {} });
    cleanups.push(() => plant.close());
    await halfOpen(
      {
        plant,
        adapter: drive,
        proxy,
        configuredMs: timeoutMs,
        configured: "timeoutMs",
        values,
        deviceWrites: () => simulator.store.writeRequestCount,
        deviceValue: (name) => simulator.getTag(tags[name].source.address as ModbusAddress) as number,
        recoveryMs: 10_000,
      },
      "modbus",
    );
  });

  it("OPC UA: degraded within 1.5× the request timeout, reads bad, writes never reach the server", async () => {
    const folder = temporaryFolder("opcua");
    const layout = opcua({ endpoint: "opc.tcp://127.0.0.1:1", name: "plc" });
    const served = defineTags({
      level: float({ source: layout.node("ns=1;s=HalfOpen.Level") }),
      setpoint: float({ source: layout.node("ns=1;s=HalfOpen.Setpoint"), write: { range: [0, 1000] } }),
      trim: float({ source: layout.node("ns=1;s=HalfOpen.Trim"), write: { range: [0, 1000] } }),
    });
    const simulator = await startOpcuaSimulator({ port: 0, tags: served, pkiFolder: join(folder, "server") });
    const proxy = await startFaultProxy({ port: simulator.port });
    cleanups.push(
      () => simulator.close(),
      () => proxy.close(),
    );
    const values = { level: 4.25, setpoint: 500, trim: 40 };
    for (const name of names) simulator.set(name, values[name]);
    const requestTimeoutMs = 1000;
    const plc = opcua({
      endpoint: `opc.tcp://127.0.0.1:${proxy.port}`,
      name: "plc",
      securityMode: "None",
      insecure: true,
      pkiFolder: join(folder, "client"),
      onWarning: () => {},
      requestTimeoutMs,
      connectTimeoutMs: 3000,
      reconnectDelayMs: 100,
      maxReconnectDelayMs: 500,
    });
    const tags = defineTags({
      level: float({ source: plc.node("ns=1;s=HalfOpen.Level") }),
      setpoint: float({ source: plc.node("ns=1;s=HalfOpen.Setpoint"), write: { range: [0, 1000] } }),
      trim: float({ source: plc.node("ns=1;s=HalfOpen.Trim"), write: { range: [0, 1000] } }),
    });
    const plant = createPlant({ tags, onError: () => {} });
    cleanups.push(() => plant.close());
    // The server's values, watched for change: the proposed values differ from them.
    let writes = 0;
    const written = new Map(names.map((name) => [name, simulator.get(name)]));
    await halfOpen(
      {
        plant,
        adapter: plc,
        proxy,
        configuredMs: requestTimeoutMs,
        configured: "requestTimeoutMs",
        values,
        deviceWrites: () => {
          for (const name of names) {
            if (simulator.get(name) !== written.get(name)) writes++;
            written.set(name, simulator.get(name));
          }
          return writes;
        },
        deviceValue: (name) => simulator.get(name) as number,
        recoveryMs: 10_000,
      },
      "opcua",
    );
  });

  it("MQTT: degraded within 1.5× the keep-alive, reads bad, commands never reach the broker", async () => {
    const broker = await startBroker({ port: 0 });
    const proxy = await startFaultProxy({ port: broker.port });
    cleanups.push(
      () => broker.close(),
      () => proxy.close(),
    );
    const prefix = uniquePrefix("t2");
    let commands = 0;
    broker.aedes.on("publish", (packet, client) => {
      if (client && packet.topic.startsWith(`${prefix}/`) && packet.topic.endsWith("/set")) commands++;
    });
    // The device, connected to the broker directly: it publishes its values every 100 ms and applies commands.
    const values = { level: 4.25, setpoint: 500, trim: 40 };
    const held = { ...values };
    const device = await rawClient(broker.url);
    await device.subscribeAsync(`${prefix}/+/set`, { qos: 1 });
    device.on("message", (topic, payload) => {
      const body = JSON.parse(payload.toString()) as { value: number; correlationId?: string };
      const name = topic.slice(prefix.length + 1, -"/set".length) as "setpoint" | "trim";
      held[name] = body.value;
      if (name === "trim")
        void device.publishAsync(`${prefix}/trim/ack`, JSON.stringify({ ok: true, correlationId: body.correlationId }));
    });
    const publishAll = () => {
      for (const name of names) void device.publishAsync(`${prefix}/${name}`, JSON.stringify({ v: held[name] }));
    };
    publishAll();
    const ticker = setInterval(publishAll, 100);
    cleanups.push(
      () => clearInterval(ticker),
      () => device.endAsync(true),
    );
    const keepaliveSeconds = 1;
    const bus = mqtt({
      url: `mqtt://127.0.0.1:${proxy.port}`,
      name: "bus",
      keepaliveSeconds,
      connectTimeoutMs: 1000,
      reconnect: { minMs: 100, maxMs: 400, stableAfterMs: 100 },
    });
    const staleAfterMs = 500;
    const tags = defineTags({
      level: float({ source: bus.topic(`${prefix}/level`, { path: "/v" }), staleAfterMs }),
      // Fire-and-forget: "written" once the broker has the command.
      setpoint: float({
        source: bus.topic(`${prefix}/setpoint`, { path: "/v", command: { topic: `${prefix}/setpoint/set` } }),
        staleAfterMs,
        write: { range: [0, 1000] },
      }),
      // Answered: "written" once the device says so.
      trim: float({
        source: bus.topic(`${prefix}/trim`, {
          path: "/v",
          command: { topic: `${prefix}/trim/set`, responseTopic: `${prefix}/trim/ack`, timeoutMs: 500 },
        }),
        staleAfterMs,
        write: { range: [0, 1000] },
      }),
    });
    const plant = createPlant({ tags, onError: () => {} });
    cleanups.push(() => plant.close());
    await halfOpen(
      {
        plant,
        adapter: bus,
        proxy,
        configuredMs: keepaliveSeconds * 1000,
        configured: "keepalive",
        values,
        deviceWrites: () => commands,
        deviceValue: (name) => held[name],
        recoveryMs: 5000,
      },
      "mqtt",
    );
  });
});
