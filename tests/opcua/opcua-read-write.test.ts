import {
  type BoundTag,
  boolean,
  ConfigError,
  createPlant,
  defineTags,
  float,
  integer,
  ValidationError,
} from "plantwire";
import { type OpcuaAddress, type OpcuaSimulator, opcua, startOpcuaSimulator } from "plantwire/opcua";
import { waitFor } from "plantwire/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sampleFromDataValue } from "../../adapters/opcua/opcua-codec.js";
import { temporaryFolder, trustSimulator } from "./opcua-support.js";

const folder = temporaryFolder("read-write");
let simulator: OpcuaSimulator;
const plc = opcua({ endpoint: "opc.tcp://127.0.0.1:1", name: "plc" });
let adapter: ReturnType<typeof opcua>;

function bound(tags: Record<string, import("plantwire").AnyTag>): BoundTag<OpcuaAddress>[] {
  return Object.entries(tags).map(([name, definition]) => ({
    name,
    definition,
    address: definition.source.address as OpcuaAddress,
  }));
}

beforeAll(async () => {
  simulator = await startOpcuaSimulator({
    port: 0,
    pkiFolder: `${folder.path}/server`,
    operationLimits: { maxNodesPerRead: 50, maxNodesPerBrowse: 20, maxMonitoredItemsPerCall: 40 },
    maxMonitoredItemsPerSubscription: 50,
    generate: 120,
    variables: [
      { path: "Plant/Pump7/Speed", dataType: "Double", value: 750, unit: "rpm", range: [0, 1800], writable: true },
      { path: "Plant/Pump7/Flow", dataType: "Double", value: 12.5, unit: "m³/h" },
      { path: "Plant/Pump7/Count", dataType: "Int16", value: 3, writable: true },
      { path: "Plant/Pump7/Big", dataType: "Int64", value: 2 ** 40, writable: true },
      { path: "Plant/Pump7/Running", dataType: "Boolean", value: true },
      { path: "Plant/Pump7/Curve", dataType: "Double", value: [1, 2, 3], writable: true },
      { path: "Plant/Pump7/Valve", dataType: "Double", value: 10, writable: true, completesAsynchronously: true },
    ],
  });
  await trustSimulator(`${folder.path}/client`, simulator);
  adapter = opcua({ endpoint: simulator.endpoint, name: "plc", pkiFolder: `${folder.path}/client` });
  await adapter.connect();
});

afterAll(async () => {
  await adapter?.close();
  await simulator?.close();
  folder.remove();
});

describe("opcua reads", () => {
  it("splits a read of more nodes than the server's MaxNodesPerRead instead of failing", async () => {
    expect(adapter.limits()?.maxNodesPerRead).toBe(50);
    const tags = Object.fromEntries(
      Array.from({ length: 120 }, (_, index) => [
        `value${index}`,
        float({ source: plc.node(`ns=1;s=Generated.Area${Math.floor(index / 100)}.Value${index}`) }),
      ]),
    );
    const samples = await adapter.read(bound(tags));
    expect(samples).toHaveLength(120);
    samples.forEach((sample, index) => {
      expect(sample.quality).toBe("good");
      expect(sample.value).toBe(index * 0.5);
      expect(sample.sourceTime).toBeTypeOf("number");
      expect((sample as { serverTime?: number }).serverTime).toBeTypeOf("number");
    });
    // The same read sent raw in one request is refused by the server: the split is what makes it work.
    const session = adapter.getInstance() as import("node-opcua").ClientSession;
    const raw = bound(tags).map((tag) => ({ nodeId: tag.address.nodeId as string, attributeId: 13 }));
    await expect(session.read(raw)).rejects.toThrow(/BadTooManyOperations/);
  });

  it("maps OPC UA status codes to sample quality, keeping the status code name", async () => {
    const ua = (await import("node-opcua")).default ?? (await import("node-opcua"));
    const [tag] = bound({ speed: float({ source: plc.node("ns=1;s=Plant.Pump7.Speed") }) });
    const make = (statusCode: import("node-opcua").StatusCode) =>
      sampleFromDataValue(tag!, new ua.DataValue({ value: { dataType: ua.DataType.Double, value: 1 }, statusCode }), 1);
    expect(make(ua.StatusCodes.UncertainLastUsableValue)).toMatchObject({
      quality: "uncertain",
      value: 1,
      reason: "last-known-value",
      detail: "UncertainLastUsableValue",
    });
    expect(make(ua.StatusCodes.BadSensorFailure)).toMatchObject({
      quality: "bad",
      reason: "sensor-failure",
      value: undefined,
    });
    expect(make(ua.StatusCodes.BadNoCommunication)).toMatchObject({ quality: "bad", reason: "comm-failure" });
    expect(make(ua.StatusCodes.BadNodeIdUnknown)).toMatchObject({ quality: "bad", reason: "config-error" });
    expect(make(ua.StatusCodes.Good)).toMatchObject({ quality: "good", value: 1 });
  });
});

describe("opcua node checks", () => {
  it("reports a type mismatch as a config error naming the tag and the node", async () => {
    const tags = {
      speed: float({ source: plc.path("/Objects/Plant/Pump7/Speed") }),
      wrong: boolean({ source: plc.node("ns=1;s=Plant.Pump7.Speed") }),
    };
    const error = await adapter.verify(bound(tags)).catch((caught: unknown) => caught);
    expect(ConfigError.isInstance(error)).toBe(true);
    expect((error as ConfigError).issues).toHaveLength(1);
    expect((error as ConfigError).message).toMatch(
      /"wrong" is of type boolean but node ns=1;s=Plant\.Pump7\.Speed has DataType Double/,
    );
    // Reading still answers: the misfit tag is bad, the other good.
    const samples = await adapter.read(bound(tags));
    expect(samples[0]).toMatchObject({ quality: "good", value: 750 });
    expect(samples[1]).toMatchObject({ quality: "bad", reason: "config-error" });
  });

  it("checks every tag when the plant connects, reporting a mismatch as a config error", async () => {
    const plantAdapter = opcua({ endpoint: simulator.endpoint, name: "plc", pkiFolder: `${folder.path}/client` });
    const errors: unknown[] = [];
    const plant = createPlant({
      tags: defineTags({
        speed: float({ source: plantAdapter.path("/Objects/Plant/Pump7/Speed") }),
        wrong: boolean({ source: plantAdapter.node("ns=1;s=Plant.Pump7.Speed") }),
      }),
      onError: (error) => errors.push(error),
    });
    await plant.connect();
    expect(errors).toHaveLength(1);
    expect(ConfigError.isInstance(errors[0])).toBe(true);
    expect((errors[0] as ConfigError).message).toMatch(/"wrong" is of type boolean/);
    const snapshot = await plant.read();
    expect(snapshot.sample("speed").quality).toBe("good");
    expect(snapshot.sample("wrong")).toMatchObject({ quality: "bad", reason: "config-error" });
    await plant.close();
  });

  it("names missing nodes, bad browse paths and write policies on read-only nodes", async () => {
    const tags = {
      missing: float({ source: plc.node("ns=1;s=Plant.Nope") }),
      badPath: float({ source: plc.path("/Objects/Plant/Pump8/Speed") }),
      readOnly: float({ source: plc.node("ns=1;s=Plant.Pump7.Flow"), write: { range: [0, 10] } }),
    };
    const error = (await adapter.verify(bound(tags)).catch((caught: unknown) => caught)) as ConfigError;
    expect(error.issues.map((issue) => issue.path)).toEqual([
      "tags.missing.source",
      "tags.badPath.source",
      "tags.readOnly.source",
    ]);
    expect(error.issues[0]?.message).toMatch(/ns=1;s=Plant\.Nope does not exist/);
    expect(error.issues[1]?.message).toMatch(/no node "Pump8" under \/Objects\/Plant/);
    expect(error.issues[2]?.message).toMatch(/not writable/);
  });

  it("accepts node ids in any form: string, numeric namespace index, namespace URI", async () => {
    const session = adapter.getInstance() as import("node-opcua").ClientSession;
    const ua = (await import("node-opcua")).default ?? (await import("node-opcua"));
    const uri = (await ua.readNamespaceArray(session))[1];
    const samples = await adapter.read(
      bound({
        byIndex: float({ source: plc.node("ns=1;s=Plant.Pump7.Flow") }),
        byUri: float({ source: plc.node(`nsu=${uri};s=Plant.Pump7.Flow`) }),
        byPath: float({ source: plc.path("/Objects/1:Plant/Pump7/Flow") }),
        standard: integer({ source: plc.node("i=2255") }),
      }),
    );
    expect(samples.slice(0, 3).map((sample) => sample.value)).toEqual([12.5, 12.5, 12.5]);
    expect(samples[3]).toMatchObject({ quality: "bad", reason: "config-error" });
  });

  it("reads EngineeringUnits and EURange beside the tag's own", async () => {
    const report = await adapter.verify(
      bound({
        speed: float({ unit: "rpm", source: plc.node("ns=1;s=Plant.Pump7.Speed") }),
        flow: float({ source: plc.node("ns=1;s=Plant.Pump7.Flow") }),
        count: integer({ source: plc.node("ns=1;s=Plant.Pump7.Count") }),
      }),
    );
    expect(report.get("speed")).toMatchObject({
      unit: "rpm",
      engineeringRange: [0, 1800],
      dataTypeName: "Double",
      writable: true,
    });
    expect(report.get("flow")).toMatchObject({ unit: "m³/h", writable: false });
    expect(report.get("flow")?.engineeringRange).toBeUndefined();
    expect(report.get("count")).toMatchObject({ dataTypeName: "Int16" });
  });
});

describe("opcua writes", () => {
  const tags = bound({
    speed: float({ range: [0, 1800], source: plc.node("ns=1;s=Plant.Pump7.Speed"), write: {} }),
    count: integer({ source: plc.node("ns=1;s=Plant.Pump7.Count"), write: {} }),
    big: integer({ source: plc.node("ns=1;s=Plant.Pump7.Big"), write: {} }),
    curve: float({ source: plc.node("ns=1;s=Plant.Pump7.Curve"), write: {} }),
    valve: float({ source: plc.node("ns=1;s=Plant.Pump7.Valve"), write: {} }),
    flow: float({ source: plc.node("ns=1;s=Plant.Pump7.Flow") }),
  });
  const tag = (name: string) => tags.find((candidate) => candidate.name === name)!;

  it("writes a typed Variant from the node's DataType and reads it back", async () => {
    expect(await adapter.write(tag("speed"), 900)).toMatchObject({
      outcome: "written",
      verified: true,
      statusCode: "Good",
    });
    expect(simulator.get("Plant/Pump7/Speed")).toBe(900);
    expect(await adapter.write(tag("count"), 12)).toMatchObject({ outcome: "written" });
    expect(simulator.get("Plant/Pump7/Count")).toBe(12);
    expect(await adapter.write(tag("big"), 2 ** 40 + 5)).toMatchObject({ outcome: "written" });
    expect(simulator.get("Plant/Pump7/Big")).toBe(2 ** 40 + 5);
    expect(await adapter.write(tag("curve"), [4, 5, 6])).toMatchObject({ outcome: "written" });
    const [big, curve] = await adapter.read([tag("big"), tag("curve")]);
    expect(big?.value).toBe(2 ** 40 + 5);
    expect(curve?.value).toEqual([4, 5, 6]);
  });

  it("refuses values that do not fit the node's type without sending them", async () => {
    const before = simulator.get("Plant/Pump7/Count");
    const tooBig = await adapter.write(tag("count"), 70_000);
    expect(tooBig.outcome).toBe("failed");
    expect(ValidationError.isInstance(tooBig.error)).toBe(true);
    expect(tooBig.error?.message).toMatch(/outside Int16/);
    const fraction = await adapter.write(tag("count"), 1.5);
    expect(fraction.error?.message).toMatch(/whole number/);
    const wrongType = await adapter.write(tag("speed"), "fast");
    expect(wrongType.outcome).toBe("failed");
    const scalarToArray = await adapter.write(tag("curve"), 3);
    expect(scalarToArray.error?.message).toMatch(/array/);
    expect(simulator.get("Plant/Pump7/Count")).toBe(before);
  });

  it("maps the server's status code: refused writes fail, Good_CompletesAsynchronously is unverified", async () => {
    const readOnly = await adapter.write(tag("flow"), 3);
    expect(readOnly.outcome).toBe("failed");
    expect(readOnly.error?.message).toMatch(/not writable/);
    const outOfRange = await adapter.write(tag("speed"), 5000);
    expect(outOfRange).toMatchObject({ outcome: "failed", statusCode: "BadOutOfRange" });
    expect(outOfRange.error?.message).toMatch(/refused the write of tag "speed".*BadOutOfRange/);
    const later = await adapter.write(tag("valve"), 42);
    expect(later).toMatchObject({ outcome: "written", verified: false, statusCode: "GoodCompletesAsynchronously" });
  });
});

describe("opcua subscriptions", () => {
  it("puts many monitored items in few subscriptions, split at the server's limits, with the tag's deadband", async () => {
    const tags = bound(
      Object.fromEntries(
        Array.from({ length: 120 }, (_, index) => [
          `value${index}`,
          float({
            deadband: index === 0 ? { absolute: 10 } : undefined,
            source: plc.node(`ns=1;s=Generated.Area${Math.floor(index / 100)}.Value${index}`, {
              samplingIntervalMs: 0,
            }),
          }),
        ]),
      ),
    );
    const received = new Map<string, unknown[]>();
    const sessionItemsBefore = simulator.monitoredItemCount();
    const subscription = await adapter.subscribe(tags, (name, sample) =>
      received.set(name, [...(received.get(name) ?? []), sample.value]),
    );
    expect(subscription.subscriptionCount).toBe(3);
    expect(subscription.monitoredItemCount).toBe(120);
    expect(simulator.subscriptionCount()).toBe(3);
    expect(simulator.monitoredItemCount() - sessionItemsBefore).toBe(120);
    expect(await waitFor(() => received.size === 120, 5000)).toBe(true);
    simulator.set("Generated/Area0/Value0", 5); // inside the 10-unit deadband of 0: not reported
    simulator.set("Generated/Area0/Value1", 77);
    expect(await waitFor(() => received.get("value1")?.at(-1) === 77, 5000)).toBe(true);
    simulator.set("Generated/Area0/Value0", 25);
    expect(await waitFor(() => received.get("value0")?.at(-1) === 25, 5000)).toBe(true);
    expect(received.get("value0")).toEqual([0, 25]);
    await subscription.close();
    expect(await waitFor(() => simulator.subscriptionCount() === 0, 5000)).toBe(true);
  });
});
