/**
 * The modbus-serial client as this adapter uses it (typed by the shape it needs, never imported at load time), and
 * the mapping of its untyped errors to plantwire's typed errors.
 */
import type net from "node:net";
import { ConnectionError, ProtocolError, TimeoutError } from "../../src/index.js";

type Callback = (error: unknown, data?: unknown) => void;

/** The parts of a modbus-serial `ModbusRTU` client this adapter calls. */
export interface ModbusClient {
  linkTCP(socket: net.Socket, options: object): Promise<void>;
  linkTelnet(socket: net.Socket, options: object): Promise<void>;
  connectRTUBuffered(path: string, options: object): Promise<void>;
  writeFC1(unit: number, address: number, length: number, next: Callback): void;
  writeFC2(unit: number, address: number, length: number, next: Callback): void;
  writeFC3(unit: number, address: number, length: number, next: Callback): void;
  writeFC4(unit: number, address: number, length: number, next: Callback): void;
  writeFC5(unit: number, address: number, state: boolean, next: Callback): void;
  writeFC6(unit: number, address: number, value: number, next: Callback): void;
  writeFC15(unit: number, address: number, states: boolean[], next: Callback): void;
  writeFC16(unit: number, address: number, values: Buffer, next: Callback): void;
  writeFC22(unit: number, address: number, andMask: number, orMask: number, next: Callback): void;
  on(event: string, listener: (...args: unknown[]) => void): unknown;
  destroy(callback: () => void): void;
}

/** The modbus-serial default export. */
export type ModbusClientConstructor = new () => ModbusClient;

/** What a register or bit read answers with. */
export interface ModbusReadAnswer {
  readonly data: readonly (number | boolean)[];
  readonly buffer: Buffer;
}

const exceptionNames: Record<number, string> = {
  1: "illegal function: the device does not support this function code",
  2: "illegal data address: the device has no such register (check the address and 40001-style offsets)",
  3: "illegal data value: the device rejects the quantity or value",
  4: "server device failure",
  5: "acknowledge: the device accepted a long operation",
  6: "server device busy: try again later",
  8: "memory parity error",
  10: "gateway path unavailable: the gateway has no route to this unit",
  11: "gateway target device failed to respond: the unit behind the gateway is off or not wired",
};

/** A Modbus exception response: the device is alive and answered, but refused the request. */
export class ModbusExceptionError extends ProtocolError {
  /** The Modbus exception code (1 illegal function, 2 illegal address, 11 gateway target failed …). */
  readonly exceptionCode: number;

  constructor(message: string, exceptionCode: number, options: { cause?: unknown } = {}) {
    super(message, options);
    this.exceptionCode = exceptionCode;
  }
}

/** The text of an exception code. */
export function exceptionText(code: number): string {
  return exceptionNames[code] ?? "unknown exception code";
}

/** Turns a modbus-serial error into a plantwire error naming the adapter, unit and request. */
export function toTypedError(error: unknown, adapter: string, unit: number, what: string): Error {
  const raw = error as { message?: string; modbusCode?: number; errno?: string; name?: string } | undefined;
  const message = raw?.message ?? String(error);
  const prefix = `Modbus adapter "${adapter}", unit ${unit}, ${what}`;
  if (typeof raw?.modbusCode === "number") {
    return new ModbusExceptionError(
      `${prefix}: exception ${raw.modbusCode} (${exceptionText(raw.modbusCode)})`,
      raw.modbusCode,
      { cause: error },
    );
  }
  if (raw?.errno === "ETIMEDOUT") return new TimeoutError(`${prefix}: ${message}`, 0, { cause: error });
  if (raw?.name === "PortNotOpenError" || raw?.errno === "ECONNREFUSED") {
    return new ConnectionError(`${prefix}: not connected (${message})`, { cause: error });
  }
  return new ProtocolError(`${prefix}: malformed answer (${message}); the connection is replaced`, { cause: error });
}
