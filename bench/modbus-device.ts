/**
 * The far side of the Modbus benchmark, run as its own process (see bench-peer.ts): the Modbus simulator and, in front
 * of it, the fault proxy that emulates a LAN.
 *
 * Messages in: `{ values: [address, value][] }` (once), `{ proxy: FaultMode }`, `"close"`.
 * Messages out: `{ port, proxyPort }` once the values are set, `{ ok: true }` after each proxy change.
 */
import { type ModbusAddress, startModbusSimulator } from "../adapters/modbus/index.js";
import { type FaultMode, startFaultProxy } from "../tests/support/fault-proxy.js";

type Message = { values: [ModbusAddress, number | boolean][] } | { proxy: FaultMode } | "close";

const send = (message: unknown) => (process.send as (message: unknown) => void)(message);
const simulator = await startModbusSimulator();
const proxy = await startFaultProxy({ port: simulator.port });

process.on("message", async (message: Message) => {
  if (message === "close") {
    await proxy.close();
    await simulator.close();
    process.disconnect();
  } else if ("values" in message) {
    for (const [address, value] of message.values) simulator.setTag(address, value);
    send({ port: simulator.port, proxyPort: proxy.port });
  } else {
    proxy.setMode(message.proxy);
    send({ ok: true });
  }
});
