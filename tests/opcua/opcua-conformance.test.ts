import { boolean, defineTags, enumeration, float, integer, text } from "plantwire";
import { type OpcuaAdapter, type OpcuaOptions, type OpcuaSimulator, opcua, startOpcuaSimulator } from "plantwire/opcua";
import { describeAdapterConformance } from "plantwire/testing";
import { afterAll, describe, expect, it } from "vitest";
import { temporaryFolder, trustSimulator, warningSink } from "./opcua-support.js";

const folder = temporaryFolder("conformance");
let simulator: OpcuaSimulator | undefined;
let started: Promise<OpcuaSimulator> | undefined;

function tagsFor(plc: OpcuaAdapter) {
  return defineTags({
    speed: float({
      unit: "rpm",
      range: [0, 1800],
      source: plc.node("ns=1;s=Plant.Pump7.Speed"),
      write: { range: [0, 1500] },
    }),
    starts: integer({ source: plc.node("ns=1;s=Plant.Pump7.Starts") }),
    running: boolean({ source: plc.path("/Objects/Plant/Pump7/Running") }),
    mode: enumeration({ states: { OFF: 0, AUTO: 1, MANUAL: 2 }, source: plc.node("ns=1;s=Plant.Pump7.Mode") }),
    note: text({ maxLength: 40, source: plc.node("ns=1;s=Plant.Pump7.Note") }),
  });
}

async function simulatorOnce(): Promise<OpcuaSimulator> {
  started ??= (async () => {
    const template = opcua({ endpoint: "opc.tcp://127.0.0.1:1", name: "template" });
    const running = await startOpcuaSimulator({ tags: tagsFor(template), port: 0, pkiFolder: `${folder.path}/server` });
    await trustSimulator(`${folder.path}/client`, running);
    simulator = running;
    return running;
  })();
  return started;
}

afterAll(async () => {
  await simulator?.close();
  folder.remove();
});

for (const mode of ["SignAndEncrypt", "None"] as const) {
  await describeAdapterConformance(`opcua ${mode}`, async () => {
    const server = await simulatorOnce();
    const sink = warningSink();
    const options: OpcuaOptions = {
      endpoint: server.endpoint,
      name: "plc",
      pkiFolder: `${folder.path}/client`,
      publishingIntervalMs: 50,
      samplingIntervalMs: 50,
      reconnectDelayMs: 100,
      maxReconnectDelayMs: 500,
      onWarning: sink.onWarning,
      ...(mode === "None" ? { securityMode: "None", insecure: true } : {}),
    };
    const adapter = opcua(options);
    const values = {
      speed: [600.5, 1200.25],
      starts: [3, 4],
      running: [false, true],
      mode: ["AUTO", "MANUAL"],
      note: ["first", "second"],
    } as const;
    const codes: Record<string, number> = { OFF: 0, AUTO: 1, MANUAL: 2 };
    return {
      adapter,
      tags: tagsFor(adapter),
      values,
      setValue: (name, value) => server.set(name, name === "mode" ? codes[value as string] : value),
      write: { name: "speed", value: 900 },
      breakPeer: () => server.suspend(),
      restorePeer: () => server.resume(),
    };
  });
}

describe("opcua security warnings", () => {
  it("warns on every insecure connect and never in secure mode", async () => {
    const server = await simulatorOnce();
    const sink = warningSink();
    const common = { endpoint: server.endpoint, pkiFolder: `${folder.path}/client`, onWarning: sink.onWarning };
    const secure = opcua(common);
    await secure.connect();
    await secure.close();
    expect(sink.warnings).toEqual([]);
    const insecure = opcua({ ...common, securityMode: "None", insecure: true });
    await insecure.connect();
    await insecure.close();
    await insecure.connect();
    await insecure.close();
    expect(sink.warnings).toHaveLength(2);
    expect(sink.warnings[0]).toMatch(/security mode None/);
  });
});
