/**
 * The simulator's device model: registers and bits per unit in memory, and the Modbus PDU handling for the function
 * codes plantwire uses (1–6, 15, 16, 22), with exception responses, request and write counters, and scripted faults.
 * Hand-written because it is a test double: a few typed arrays and a switch are faster and easier to script than a
 * general server library.
 */
import { endianness } from "node:os";
import type { ModbusArea } from "./modbus-address.js";

const littleEndian = endianness() === "LE";

/** How a unit misbehaves. `dead`: never answers. `slow`: answers after `delayMs`. `exception`: answers every request with `code`. */
export type UnitBehaviour = { kind: "dead" } | { kind: "slow"; delayMs: number } | { kind: "exception"; code: number };

/** One unit's data. */
export interface UnitData {
  readonly holding: Uint16Array;
  readonly input: Uint16Array;
  readonly coil: Uint8Array;
  readonly discrete: Uint8Array;
}

/** What handling a request produced: a response PDU, or silence, after an optional delay. */
export interface HandledRequest {
  readonly response: Buffer | undefined;
  readonly delayMs: number;
}

const exception = (functionCode: number, code: number) => Buffer.from([functionCode | 0x80, code]);

/** The in-memory device model behind the simulator. */
export class SimulatorStore {
  readonly #units = new Map<number, UnitData>();
  readonly #behaviours = new Map<number, UnitBehaviour>();
  readonly #addressExceptions = new Map<string, number>();
  readonly #reads = new Map<string, number>();
  readonly #writes = new Map<string, number>();
  /** Requests handled (answered or not). */
  requestCount = 0;
  /** Write requests handled (FC 5, 6, 15, 16, 22). */
  writeRequestCount = 0;

  /** The data of a unit (created on first use, all zero). */
  unit(unit: number): UnitData {
    let data = this.#units.get(unit);
    if (!data) {
      data = {
        holding: new Uint16Array(65536),
        input: new Uint16Array(65536),
        coil: new Uint8Array(65536),
        discrete: new Uint8Array(65536),
      };
      this.#units.set(unit, data);
    }
    return data;
  }

  /** Sets or clears (undefined) a unit's misbehaviour. */
  setBehaviour(unit: number, behaviour: UnitBehaviour | undefined): void {
    if (behaviour) this.#behaviours.set(unit, behaviour);
    else this.#behaviours.delete(unit);
  }

  /** Makes every request touching one address answer with an exception code (undefined clears it). */
  setAddressException(unit: number, area: ModbusArea, address: number, code: number | undefined): void {
    const key = `${unit}:${area}:${address}`;
    if (code === undefined) this.#addressExceptions.delete(key);
    else this.#addressExceptions.set(key, code);
  }

  /** Read requests that started at this address. */
  readsAt(unit: number, area: ModbusArea, start: number): number {
    return this.#reads.get(`${unit}:${area}:${start}`) ?? 0;
  }

  /** Times this one register or bit was written. */
  writesAt(unit: number, area: ModbusArea, address: number): number {
    return this.#writes.get(`${unit}:${area}:${address}`) ?? 0;
  }

  /** Resets the counters. */
  resetCounters(): void {
    this.#reads.clear();
    this.#writes.clear();
    this.requestCount = 0;
    this.writeRequestCount = 0;
  }

  #count(map: Map<string, number>, key: string): void {
    map.set(key, (map.get(key) ?? 0) + 1);
  }

  #rangeException(unit: number, area: ModbusArea, start: number, count: number): number | undefined {
    if (this.#addressExceptions.size === 0) return undefined;
    for (let address = start; address < start + count; address++) {
      const code = this.#addressExceptions.get(`${unit}:${area}:${address}`);
      if (code !== undefined) return code;
    }
    return undefined;
  }

  /** Handles one request PDU for `unit`. */
  handle(unit: number, pdu: Buffer): HandledRequest {
    this.requestCount++;
    const behaviour = this.#behaviours.get(unit);
    if (behaviour?.kind === "dead") return { response: undefined, delayMs: 0 };
    const delayMs = behaviour?.kind === "slow" ? behaviour.delayMs : 0;
    const functionCode = pdu[0] ?? 0;
    if (behaviour?.kind === "exception") return { response: exception(functionCode, behaviour.code), delayMs };
    return { response: this.#respond(unit, functionCode, pdu), delayMs };
  }

  #respond(unit: number, functionCode: number, pdu: Buffer): Buffer {
    if (pdu.length < 5) return exception(functionCode, 3);
    const start = pdu.readUInt16BE(1);
    const quantity = pdu.readUInt16BE(3);
    const data = this.unit(unit);
    switch (functionCode) {
      case 1:
      case 2: {
        const area = functionCode === 1 ? "coil" : "discrete";
        if (quantity < 1 || quantity > 2000) return exception(functionCode, 3);
        if (start + quantity > 65536) return exception(functionCode, 2);
        const code = this.#rangeException(unit, area, start, quantity);
        if (code !== undefined) return exception(functionCode, code);
        this.#count(this.#reads, `${unit}:${area}:${start}`);
        const bits = data[area];
        const bytes = Math.ceil(quantity / 8);
        const response = Buffer.alloc(2 + bytes);
        response[0] = functionCode;
        response[1] = bytes;
        for (let index = 0; index < quantity; index++) {
          if (bits[start + index]) response[2 + (index >> 3)] = (response[2 + (index >> 3)] ?? 0) | (1 << (index & 7));
        }
        return response;
      }
      case 3:
      case 4: {
        const area = functionCode === 3 ? "holding" : "input";
        if (quantity < 1 || quantity > 125) return exception(functionCode, 3);
        if (start + quantity > 65536) return exception(functionCode, 2);
        const code = this.#rangeException(unit, area, start, quantity);
        if (code !== undefined) return exception(functionCode, code);
        this.#count(this.#reads, `${unit}:${area}:${start}`);
        const registers = data[area];
        const response = Buffer.allocUnsafe(2 + quantity * 2);
        response[0] = functionCode;
        response[1] = quantity * 2;
        if (littleEndian) {
          // A native copy and byte swap: fast enough that the simulator is never what a benchmark measures.
          Buffer.from(registers.buffer, registers.byteOffset + start * 2, quantity * 2).copy(response, 2);
          response.subarray(2).swap16();
        } else {
          for (let index = 0; index < quantity; index++) {
            response.writeUInt16BE(registers[start + index] ?? 0, 2 + index * 2);
          }
        }
        return response;
      }
      case 5:
      case 6: {
        const area = functionCode === 5 ? "coil" : "holding";
        if (functionCode === 5 && quantity !== 0xff00 && quantity !== 0) return exception(functionCode, 3);
        const code = this.#rangeException(unit, area, start, 1);
        if (code !== undefined) return exception(functionCode, code);
        this.writeRequestCount++;
        if (functionCode === 5) data.coil[start] = quantity === 0xff00 ? 1 : 0;
        else data.holding[start] = quantity;
        this.#count(this.#writes, `${unit}:${area}:${start}`);
        return Buffer.from(pdu.subarray(0, 5));
      }
      case 15:
      case 16: {
        const area = functionCode === 15 ? "coil" : "holding";
        const byteCount = pdu[5] ?? 0;
        const needed = functionCode === 15 ? Math.ceil(quantity / 8) : quantity * 2;
        const limit = functionCode === 15 ? 1968 : 123;
        if (quantity < 1 || quantity > limit || byteCount !== needed || pdu.length < 6 + needed) {
          return exception(functionCode, 3);
        }
        if (start + quantity > 65536) return exception(functionCode, 2);
        const code = this.#rangeException(unit, area, start, quantity);
        if (code !== undefined) return exception(functionCode, code);
        this.writeRequestCount++;
        for (let index = 0; index < quantity; index++) {
          if (functionCode === 15) data.coil[start + index] = ((pdu[6 + (index >> 3)] ?? 0) >> (index & 7)) & 1;
          else data.holding[start + index] = pdu.readUInt16BE(6 + index * 2);
          this.#count(this.#writes, `${unit}:${area}:${start + index}`);
        }
        return Buffer.from(pdu.subarray(0, 5));
      }
      case 22: {
        if (pdu.length < 7) return exception(functionCode, 3);
        const code = this.#rangeException(unit, "holding", start, 1);
        if (code !== undefined) return exception(functionCode, code);
        this.writeRequestCount++;
        const andMask = quantity;
        const orMask = pdu.readUInt16BE(5);
        const current = data.holding[start] ?? 0;
        data.holding[start] = (current & andMask) | (orMask & ~andMask & 0xffff);
        this.#count(this.#writes, `${unit}:holding:${start}`);
        return Buffer.from(pdu.subarray(0, 7));
      }
      default:
        return exception(functionCode, 1);
    }
  }
}
