/**
 * The far side of the OPC UA benchmark, run as its own process (see bench-peer.ts): the simulator with generated
 * variables and, in front of it, the fault proxy adding 1 ms each way. The standard nodeset: the minimal one throws
 * when a client reaches it under another address, as through the proxy.
 *
 * Messages in: `{ pkiFolder, generate }` (once), `"close"`. Out: `{ endpoint, lanEndpoint, certificate }` (base64).
 */

import type { OpcuaSimulator } from "../adapters/opcua/index.js";
import { startOpcuaSimulator } from "../adapters/opcua/index.js";
import { type FaultProxy, startFaultProxy } from "../tests/support/fault-proxy.js";

const send = (message: unknown) => (process.send as (message: unknown) => void)(message);
let simulator: OpcuaSimulator | undefined;
let proxy: FaultProxy | undefined;

process.on("message", async (message: { pkiFolder: string; generate: number } | "close") => {
  if (message === "close") {
    await proxy?.close();
    await simulator?.close();
    process.disconnect();
    return;
  }
  simulator = await startOpcuaSimulator({ port: 0, generate: message.generate, pkiFolder: message.pkiFolder });
  proxy = await startFaultProxy({ port: Number(new URL(simulator.endpoint.replace("opc.tcp", "http")).port) });
  proxy.setMode({ kind: "latency", ms: 1 });
  send({
    endpoint: simulator.endpoint,
    lanEndpoint: `opc.tcp://127.0.0.1:${proxy.port}`,
    certificate: simulator.certificate().toString("base64"),
  });
});
