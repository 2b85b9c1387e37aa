/**
 * Modbus register codec: turns the big-endian register bytes of a response into typed values and back, for every
 * data type and every byte/word order. Byte and word order are undone first (into canonical big-endian bytes), then
 * Node's Buffer readers and writers do the typed work, so no bit twiddling is hand-written here.
 */

/** The register data types plantwire decodes. `bool` is a coil, a discrete input, or one bit of a register. */
export type ModbusDataType =
  | "bool"
  | "int16"
  | "uint16"
  | "int32"
  | "uint32"
  | "int64"
  | "uint64"
  | "float32"
  | "float64"
  | "string";

/** Every data type, for validation and for the probe. */
export const modbusDataTypes: readonly ModbusDataType[] = [
  "bool",
  "int16",
  "uint16",
  "int32",
  "uint32",
  "int64",
  "uint64",
  "float32",
  "float64",
  "string",
];

/**
 * Byte and word order of a multi-register value, named by where the bytes A (most significant) … D land on the
 * wire. ABCD: big-endian (the Modbus default). CDAB: words swapped ("little-endian word order", common on PLCs).
 * BADC: bytes swapped inside each register. DCBA: fully little-endian. For 64-bit values the same rule applies to
 * four registers; for 16-bit values only the byte swap (BADC, DCBA) matters; for strings only the byte swap applies.
 */
export type WordOrder = "ABCD" | "BADC" | "CDAB" | "DCBA";

/** Every word order. */
export const wordOrders: readonly WordOrder[] = ["ABCD", "BADC", "CDAB", "DCBA"];

/** A decoded raw value, before scale and offset: 64-bit integers stay exact as bigint. */
export type RawValue = number | bigint | string | boolean;

const fixedRegisters: Record<Exclude<ModbusDataType, "string">, number> = {
  bool: 1,
  int16: 1,
  uint16: 1,
  int32: 2,
  uint32: 2,
  int64: 4,
  uint64: 4,
  float32: 2,
  float64: 4,
};

/** Number of 16-bit registers a value of `type` occupies (`stringRegisters` for strings). */
export function registerCount(type: ModbusDataType, stringRegisters = 1): number {
  return type === "string" ? stringRegisters : fixedRegisters[type];
}

function swapsBytes(order: WordOrder): boolean {
  return order === "BADC" || order === "DCBA";
}

function reversesWords(order: WordOrder, type: ModbusDataType): boolean {
  return (order === "CDAB" || order === "DCBA") && type !== "string";
}

/** Copies `registers` registers at `byteOffset` into canonical big-endian order. */
function toCanonical(wire: Buffer, byteOffset: number, registers: number, order: WordOrder, type: ModbusDataType) {
  const bytes = Buffer.from(wire.subarray(byteOffset, byteOffset + registers * 2));
  if (bytes.length !== registers * 2) {
    throw new RangeError(`need ${registers} registers at byte ${byteOffset}, the response holds ${wire.length} bytes`);
  }
  if (swapsBytes(order)) bytes.swap16();
  if (reversesWords(order, type) && registers > 1) {
    const words = Buffer.alloc(bytes.length);
    for (let index = 0; index < registers; index++)
      bytes.copy(words, (registers - 1 - index) * 2, index * 2, index * 2 + 2);
    return words;
  }
  return bytes;
}

/** Turns canonical big-endian bytes into wire order (the same operation as {@link toCanonical}: it is an involution). */
function toWire(canonical: Buffer, order: WordOrder, type: ModbusDataType): Buffer {
  return toCanonical(canonical, 0, canonical.length / 2, order, type);
}

type CanonicalReader = (bytes: Buffer, offset: number) => RawValue;

const canonicalReaders: Record<Exclude<ModbusDataType, "string">, CanonicalReader> = {
  bool: (bytes, offset) => bytes.readUInt16BE(offset) !== 0,
  int16: (bytes, offset) => bytes.readInt16BE(offset),
  uint16: (bytes, offset) => bytes.readUInt16BE(offset),
  int32: (bytes, offset) => bytes.readInt32BE(offset),
  uint32: (bytes, offset) => bytes.readUInt32BE(offset),
  int64: (bytes, offset) => bytes.readBigInt64BE(offset),
  uint64: (bytes, offset) => bytes.readBigUInt64BE(offset),
  float32: (bytes, offset) => bytes.readFloatBE(offset),
  float64: (bytes, offset) => bytes.readDoubleBE(offset),
};

/** For each canonical byte, the wire byte it comes from; undefined when the order changes nothing. */
function bytePermutation(registers: number, order: WordOrder, type: ModbusDataType): number[] | undefined {
  const swap = swapsBytes(order);
  const reverse = reversesWords(order, type) && registers > 1;
  if (!swap && !reverse) return undefined;
  return Array.from({ length: registers * 2 }, (_, index) => {
    const register = reverse ? registers - 1 - (index >> 1) : index >> 1;
    const byte = swap ? 1 - (index & 1) : index & 1;
    return register * 2 + byte;
  });
}

/** Reads one typed value at a register index of a response. */
export type RegisterReader = (wire: Buffer, register: number) => RawValue;

// One scratch buffer for reordering: decoding is synchronous, so it is never shared between two reads at once.
const scratch = Buffer.alloc(8);
const readers = new Map<string, RegisterReader>();

/**
 * A decoder for one type and order, built once and reused: it reads straight from the response when the order is
 * ABCD and through a reordered 8-byte scratch buffer otherwise, so a poll allocates nothing per value.
 */
export function registerReader(type: ModbusDataType, order: WordOrder = "ABCD", stringRegisters = 1): RegisterReader {
  const key = `${type}:${order}:${type === "string" ? stringRegisters : 0}`;
  let reader = readers.get(key);
  if (reader) return reader;
  const count = registerCount(type, stringRegisters);
  const size = count * 2;
  const check = (wire: Buffer, base: number) => {
    if (base < 0 || base + size > wire.length) {
      throw new RangeError(`need ${count} registers at byte ${base}, the response holds ${wire.length} bytes`);
    }
  };
  if (type === "string") {
    reader = (wire, register) => {
      check(wire, register * 2);
      const bytes = Buffer.from(wire.subarray(register * 2, register * 2 + size));
      if (swapsBytes(order)) bytes.swap16();
      return bytes.toString("latin1").replace(/[\0 ]+$/, "");
    };
  } else {
    const read = canonicalReaders[type];
    const permutation = bytePermutation(count, order, type);
    reader = permutation
      ? (wire, register) => {
          const base = register * 2;
          check(wire, base);
          for (let index = 0; index < size; index++)
            scratch[index] = wire[base + (permutation[index] as number)] as number;
          return read(scratch, 0);
        }
      : (wire, register) => {
          check(wire, register * 2);
          return read(wire, register * 2);
        };
  }
  readers.set(key, reader);
  return reader;
}

/**
 * Decodes one value from register bytes as they came off the wire (`wire`, big-endian per register), starting at
 * register index `register`. Strings drop trailing NUL and space padding. Throws a RangeError when `wire` is short.
 */
export function decodeRegisters(
  wire: Buffer,
  register: number,
  type: ModbusDataType,
  order: WordOrder = "ABCD",
  stringRegisters = 1,
): RawValue {
  return registerReader(type, order, stringRegisters)(wire, register);
}

/** Integer ranges of the integer types, for checks before encoding. */
export const integerRanges: Readonly<Record<string, readonly [bigint, bigint]>> = {
  int16: [-(2n ** 15n), 2n ** 15n - 1n],
  uint16: [0n, 2n ** 16n - 1n],
  int32: [-(2n ** 31n), 2n ** 31n - 1n],
  uint32: [0n, 2n ** 32n - 1n],
  int64: [-(2n ** 63n), 2n ** 63n - 1n],
  uint64: [0n, 2n ** 64n - 1n],
};

/** Why a value cannot be encoded as a type. */
export class EncodeRangeError extends RangeError {}

function checkedInteger(value: RawValue, type: ModbusDataType): bigint {
  let integer: bigint;
  if (typeof value === "bigint") integer = value;
  else if (typeof value === "number" && Number.isInteger(value)) integer = BigInt(value);
  else throw new EncodeRangeError(`${String(value)} is not an integer, so it cannot be written as ${type}`);
  const [low, high] = integerRanges[type] as readonly [bigint, bigint];
  if (integer < low || integer > high) {
    throw new EncodeRangeError(`${integer} is outside the ${type} range [${low}, ${high}]`);
  }
  return integer;
}

/**
 * Encodes one value into register bytes in wire order. Integers must be whole and in range, floats finite or not
 * (NaN and infinities are representable in IEEE 754), strings Latin-1 and at most `stringRegisters * 2` characters
 * (padded with NUL). Throws an {@link EncodeRangeError} when the value does not fit.
 */
export function encodeRegisters(
  value: RawValue,
  type: ModbusDataType,
  order: WordOrder = "ABCD",
  stringRegisters = 1,
): Buffer {
  const bytes = Buffer.alloc(registerCount(type, stringRegisters) * 2);
  switch (type) {
    case "bool":
      bytes.writeUInt16BE(value === true || value === 1 ? 1 : 0, 0);
      break;
    case "int16":
      bytes.writeInt16BE(Number(checkedInteger(value, type)), 0);
      break;
    case "uint16":
      bytes.writeUInt16BE(Number(checkedInteger(value, type)), 0);
      break;
    case "int32":
      bytes.writeInt32BE(Number(checkedInteger(value, type)), 0);
      break;
    case "uint32":
      bytes.writeUInt32BE(Number(checkedInteger(value, type)), 0);
      break;
    case "int64":
      bytes.writeBigInt64BE(checkedInteger(value, type), 0);
      break;
    case "uint64":
      bytes.writeBigUInt64BE(checkedInteger(value, type), 0);
      break;
    case "float32":
    case "float64": {
      if (typeof value !== "number") throw new EncodeRangeError(`${String(value)} is not a number`);
      if (type === "float32") bytes.writeFloatBE(value, 0);
      else bytes.writeDoubleBE(value, 0);
      break;
    }
    case "string": {
      if (typeof value !== "string") throw new EncodeRangeError(`${String(value)} is not text`);
      const latin1 = [...value].every((character) => {
        const code = character.charCodeAt(0);
        return code > 0 && code <= 0xff;
      });
      if (value.length > bytes.length || !latin1) {
        throw new EncodeRangeError(
          `"${value}" does not fit ${stringRegisters} registers (at most ${bytes.length} Latin-1 characters, no NUL)`,
        );
      }
      bytes.write(value, 0, "latin1");
      break;
    }
  }
  return toWire(bytes, order, type);
}

/** Engineering value from a raw value: `raw * scale + offset`. 64-bit integers become numbers here. */
export function toEngineering(raw: number | bigint, scale = 1, offset = 0): number {
  const value = typeof raw === "bigint" ? Number(raw) : raw;
  return scale === 1 && offset === 0 ? value : value * scale + offset;
}

/**
 * Raw value from an engineering value, the reverse of {@link toEngineering}. Integer types are rounded to the
 * nearest whole number, because dividing by a decimal scale (0.1) leaves binary noise (1234.9999999); a value that
 * is not a whole number of scale steps throws an {@link EncodeRangeError}.
 */
export function toRaw(value: number, type: ModbusDataType, scale = 1, offset = 0): number | bigint {
  const raw = scale === 1 && offset === 0 ? value : (value - offset) / scale;
  if (type === "float32" || type === "float64") return raw;
  if (!Number.isFinite(raw)) throw new EncodeRangeError(`${value} is not a finite number`);
  const rounded = Math.round(raw);
  // A write must not be silently altered: 1.5 into an integer register, or 123.45 at scale 0.1, is refused.
  if (Math.abs(raw - rounded) > 1e-6 * Math.max(1, Math.abs(raw))) {
    throw new EncodeRangeError(`${value} is not a whole number of steps of ${scale} for ${type}`);
  }
  return type === "int64" || type === "uint64" ? BigInt(rounded) : rounded;
}
