/**
 * A Modbus TCP simulator: a small framed server over `net` that serves registers and bits per unit from memory,
 * accepts writes, counts requests and writes per address, answers with exception codes on command, and simulates
 * dead and slow units. It also speaks RTU framing over TCP (`framing: "rtu"`) for RTU-over-TCP gateways. Tests,
 * examples, the benchmark and the plant simulator use it; it listens on 127.0.0.1 and an ephemeral port by default.
 *
 * ```ts
 * const simulator = await startModbusSimulator();
 * simulator.setTag(speedTag.source.address, 1200);
 * const drive = modbus({ url: simulator.url, unit: 1 });
 * ```
 */
import net from "node:net";
import type { ModbusAddress } from "./modbus-address.js";
import { decodeRegisters, encodeRegisters, type RawValue, toEngineering, toRaw } from "./modbus-codec.js";
import { crc16 } from "./modbus-crc.js";
import { SimulatorStore, type UnitBehaviour } from "./modbus-simulator-store.js";

export type { UnitBehaviour } from "./modbus-simulator-store.js";

/** One request as the simulator saw it, for the `intercept` hook. */
export interface SimulatorRequest {
  readonly transactionId: number;
  readonly unit: number;
  readonly pdu: Buffer;
}

/** Options of {@link startModbusSimulator}. */
export interface ModbusSimulatorOptions {
  /** Port to listen on. @default 0 (ephemeral) */
  port?: number;
  /** Loopback only by default. @default "127.0.0.1" */
  host?: string;
  /** "tcp": MBAP frames (Modbus TCP). "rtu": RTU frames with CRC over TCP (RTU-over-TCP gateways). @default "tcp" */
  framing?: "tcp" | "rtu";
  /**
   * Replaces the answer to a request: return raw bytes to send instead (a whole frame, for hostile-peer tests),
   * "drop" to send nothing, or undefined to answer normally.
   */
  intercept?: (request: SimulatorRequest) => Buffer | "drop" | undefined;
}

/** A running simulator. */
export interface ModbusSimulator {
  readonly host: string;
  readonly port: number;
  /** `modbus+tcp://host:port` (or `modbus+rtu+tcp://` in RTU framing). */
  readonly url: string;
  /** The device model: registers, bits, behaviours, counters. */
  readonly store: SimulatorStore;
  /** Sets a tag's value in engineering units, encoded as its address says (type, order, scale, offset). */
  setTag(address: ModbusAddress, value: RawValue): void;
  /** Reads a tag's value back in engineering units (64-bit integers as bigint when scale is 1 and offset 0). */
  getTag(address: ModbusAddress): RawValue;
  /** Sets or clears a unit's misbehaviour (dead, slow, exception). */
  setBehaviour(unit: number, behaviour: UnitBehaviour | undefined): void;
  /** Replaces or removes the intercept hook. */
  setIntercept(intercept: ModbusSimulatorOptions["intercept"]): void;
  /** Open client connections. */
  readonly connectionCount: number;
  /** Most requests one connection had waiting for an answer at once (above 1 means the client pipelines). */
  readonly mostOutstanding: number;
  /** Destroys every client connection (the server keeps listening). */
  dropConnections(): void;
  /** Stops listening and drops every connection; the data stays, so `start()` resumes on the same port. */
  stop(): Promise<void>;
  /** Listens again on the same port after `stop()`. */
  start(): Promise<void>;
  /** Stops for good. */
  close(): Promise<void>;
}

const rtuRequestLength = (buffer: Buffer): number | undefined => {
  const functionCode = buffer[1];
  if (functionCode === undefined) return undefined;
  if (functionCode >= 1 && functionCode <= 6) return 8;
  if (functionCode === 22) return 10;
  if (functionCode === 15 || functionCode === 16) return buffer.length < 7 ? undefined : 9 + (buffer[6] ?? 0);
  return -1;
};

/** Starts a simulator. */
export async function startModbusSimulator(options: ModbusSimulatorOptions = {}): Promise<ModbusSimulator> {
  const host = options.host ?? "127.0.0.1";
  const framing = options.framing ?? "tcp";
  const store = new SimulatorStore();
  const sockets = new Set<net.Socket>();
  const timers = new Set<NodeJS.Timeout>();
  let intercept = options.intercept;
  let port = options.port ?? 0;
  let mostOutstanding = 0;
  const outstanding = new WeakMap<net.Socket, number>();
  const track = (socket: net.Socket, change: number) => {
    const count = (outstanding.get(socket) ?? 0) + change;
    outstanding.set(socket, count);
    mostOutstanding = Math.max(mostOutstanding, count);
  };

  const send = (socket: net.Socket, frame: Buffer, delayMs: number) => {
    if (delayMs <= 0) {
      track(socket, -1);
      if (!socket.destroyed) socket.write(frame);
      return;
    }
    const timer = setTimeout(() => {
      timers.delete(timer);
      track(socket, -1);
      if (!socket.destroyed) socket.write(frame);
    }, delayMs);
    timers.add(timer);
  };

  const answer = (socket: net.Socket, request: SimulatorRequest, frameFor: (pdu: Buffer) => Buffer) => {
    track(socket, 1);
    const override = intercept?.(request);
    if (override === "drop") return track(socket, -1);
    if (override) return send(socket, override, 0);
    const handled = store.handle(request.unit, request.pdu);
    if (handled.response) send(socket, frameFor(handled.response), handled.delayMs);
    else track(socket, -1);
  };

  const serveTcp = (socket: net.Socket, buffer: Buffer): Buffer => {
    let rest = buffer;
    while (rest.length >= 7) {
      const length = rest.readUInt16BE(4);
      if (rest.readUInt16BE(2) !== 0 || length < 2 || length > 254) {
        socket.destroy(); // a real device drops a connection it cannot frame
        return Buffer.alloc(0);
      }
      if (rest.length < 6 + length) break;
      const transactionId = rest.readUInt16BE(0);
      const unit = rest[6] as number;
      const pdu = rest.subarray(7, 6 + length);
      answer(socket, { transactionId, unit, pdu }, (response) => {
        const frame = Buffer.allocUnsafe(7 + response.length);
        frame.writeUInt16BE(transactionId, 0);
        frame.writeUInt16BE(0, 2);
        frame.writeUInt16BE(response.length + 1, 4);
        frame[6] = unit;
        response.copy(frame, 7);
        return frame;
      });
      rest = rest.subarray(6 + length);
    }
    return rest;
  };

  const serveRtu = (socket: net.Socket, buffer: Buffer): Buffer => {
    let rest = buffer;
    while (rest.length >= 8) {
      const length = rtuRequestLength(rest);
      if (length === undefined || rest.length < length) break;
      if (length < 0 || crc16(rest.subarray(0, length - 2)) !== rest.readUInt16LE(length - 2)) return Buffer.alloc(0);
      const unit = rest[0] as number;
      const pdu = rest.subarray(1, length - 2);
      answer(socket, { transactionId: 0, unit, pdu }, (response) => {
        const frame = Buffer.allocUnsafe(3 + response.length);
        frame[0] = unit;
        response.copy(frame, 1);
        frame.writeUInt16LE(crc16(frame.subarray(0, frame.length - 2)), frame.length - 2);
        return frame;
      });
      rest = rest.subarray(length);
    }
    return rest;
  };

  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.setNoDelay(true);
    let pending: Buffer = Buffer.alloc(0);
    socket.on("data", (chunk) => {
      const buffer = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
      pending = Buffer.from(framing === "tcp" ? serveTcp(socket, buffer) : serveRtu(socket, buffer));
    });
    socket.on("error", () => socket.destroy());
    socket.on("close", () => sockets.delete(socket));
  });

  const listen = () =>
    new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, host, () => {
        server.off("error", reject);
        port = (server.address() as net.AddressInfo).port;
        resolve();
      });
    });
  const dropConnections = () => {
    for (const socket of sockets) socket.destroy();
    sockets.clear();
  };
  const stop = async () => {
    for (const timer of timers) clearTimeout(timer);
    timers.clear();
    dropConnections();
    if (server.listening) await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  await listen();

  const scheme = framing === "tcp" ? "modbus+tcp" : "modbus+rtu+tcp";
  return {
    host,
    get port() {
      return port;
    },
    get url() {
      return `${scheme}://${host}:${port}`;
    },
    store,
    setTag(address, value) {
      const unit = store.unit(address.unit);
      if (address.area === "coil" || address.area === "discrete") {
        unit[address.area][address.address] = value ? 1 : 0;
        return;
      }
      const registers = unit[address.area];
      if (address.bit !== undefined) {
        const mask = 1 << address.bit;
        const current = registers[address.address] ?? 0;
        registers[address.address] = value ? current | mask : current & ~mask;
        return;
      }
      const raw = typeof value === "number" ? toRaw(value, address.dataType, address.scale, address.offset) : value;
      const bytes = encodeRegisters(raw, address.dataType, address.wordOrder, address.count);
      for (let index = 0; index < address.count; index++) {
        registers[address.address + index] = bytes.readUInt16BE(index * 2);
      }
    },
    getTag(address) {
      const unit = store.unit(address.unit);
      if (address.area === "coil" || address.area === "discrete") return unit[address.area][address.address] === 1;
      const registers = unit[address.area];
      if (address.bit !== undefined) return (((registers[address.address] ?? 0) >> address.bit) & 1) === 1;
      const wire = Buffer.alloc(address.count * 2);
      for (let index = 0; index < address.count; index++) {
        wire.writeUInt16BE(registers[address.address + index] ?? 0, index * 2);
      }
      const raw = decodeRegisters(wire, 0, address.dataType, address.wordOrder, address.count);
      if (typeof raw === "string" || typeof raw === "boolean") return raw;
      if (typeof raw === "bigint" && address.scale === 1 && address.offset === 0) return raw;
      return toEngineering(raw, address.scale, address.offset);
    },
    setBehaviour: (unit, behaviour) => store.setBehaviour(unit, behaviour),
    setIntercept(next) {
      intercept = next;
    },
    get connectionCount() {
      return sockets.size;
    },
    get mostOutstanding() {
      return mostOutstanding;
    },
    dropConnections,
    stop,
    start: listen,
    close: stop,
  };
}
