/**
 * Opening one connection: a modbus-serial client over a socket this adapter owns (TCP, RTU over TCP) or over a serial
 * port. Owning the socket is what lets the transport see every close, resets included: modbus-serial's own TCP port
 * clears its open flag on "error" before "close" and then never reports the close.
 */
import net from "node:net";
import { ConnectionError, loadOptionalDependency } from "../../src/index.js";
import type { ResolvedModbusOptions } from "./modbus-config.js";
import type { ModbusClient, ModbusClientConstructor } from "./modbus-errors.js";

/** An open connection: the client, and the socket when there is one. */
export interface OpenedConnection {
  readonly client: ModbusClient;
  readonly socket: net.Socket | undefined;
}

/** Where the adapter connects, for messages: host:port or the serial path. */
export function describeTarget(options: ResolvedModbusOptions): string {
  return options.kind === "rtu" ? options.serial.path : `${options.host}:${options.port}`;
}

/** Opens a connection; `onClosed` hears when it closes (once it was open). Rejects with a typed error. */
export async function openConnection(
  options: ResolvedModbusOptions,
  signal: AbortSignal | undefined,
  onClosed: (reason: string) => void,
): Promise<OpenedConnection> {
  const ModbusRTU = await loadOptionalDependency<ModbusClientConstructor>("modbus-serial", "The Modbus adapter");
  const client = new ModbusRTU();
  client.on("error", () => {}); // errors surface through the socket's close or the request's callback
  if (options.kind === "rtu") {
    await client
      .connectRTUBuffered(options.serial.path, {
        baudRate: options.serial.baudRate,
        parity: options.serial.parity,
        stopBits: options.serial.stopBits,
        dataBits: options.serial.dataBits,
      })
      .catch((error: unknown) => {
        throw new ConnectionError(
          `Modbus adapter "${options.name}" cannot open serial port ${options.serial.path}: ${(error as Error).message}. Fix: check the path, permissions and that no other program holds it.`,
          { cause: error },
        );
      });
    client.on("close", () => onClosed("the serial port closed"));
    return { client, socket: undefined };
  }
  const socket = await connectSocket(options, signal);
  socket.on("close", () => onClosed("the connection closed"));
  socket.on("error", () => {}); // the close event that follows does the work
  if (options.kind === "tcp") await client.linkTCP(socket, {});
  else await client.linkTelnet(socket, {});
  return { client, socket };
}

function connectSocket(options: ResolvedModbusOptions, signal: AbortSignal | undefined): Promise<net.Socket> {
  const { host, port, timeoutMs, name } = options;
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port });
    const fail = (message: string, cause?: unknown) => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
      socket.destroy();
      reject(new ConnectionError(`Modbus adapter "${name}" cannot connect to ${host}:${port}: ${message}`, { cause }));
    };
    const onAbort = () => fail("aborted");
    const timer = setTimeout(
      () => fail(`no answer within ${timeoutMs} ms. Fix: check the address and the network`),
      timeoutMs,
    );
    signal?.addEventListener("abort", onAbort, { once: true });
    socket.once("error", (error) =>
      fail(`${error.message}. Fix: check that the device or gateway is on and listening`, error),
    );
    socket.once("connect", () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
      socket.removeAllListeners("error");
      socket.setNoDelay(true);
      resolve(socket);
    });
  });
}
