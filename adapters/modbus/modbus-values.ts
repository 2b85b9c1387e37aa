/**
 * From register bytes to a tag's value and back: the codec plus scale/offset, the tag's resolution, and the tag's
 * kind (number, boolean, enum state, text). Each tag gets a decoder built once per plan, so a poll only runs it.
 */
import {
  type AnyTag,
  badSample,
  decimalsFor,
  type QualityReason,
  type Sample,
  ValidationError,
} from "../../src/index.js";
import { isBitArea, type ModbusAddress } from "./modbus-address.js";
import {
  EncodeRangeError,
  encodeRegisters,
  type RawValue,
  registerReader,
  toEngineering,
  toRaw,
} from "./modbus-codec.js";

const integerTypes = new Set(["int16", "uint16", "int32", "uint32", "int64", "uint64"]);
const numericTypes = new Set([...integerTypes, "float32", "float64"]);

/**
 * What every tag decoded from one response shares: the time it arrived, and the two good boolean samples. Samples
 * are immutable, so the status bits of a response (often most of a map) share two frozen objects instead of
 * allocating one each.
 */
export interface ResponseSamples {
  readonly receivedTime: number;
  readonly on: Sample<boolean>;
  readonly off: Sample<boolean>;
}

/** The shared part of the samples of a response received at `receivedTime`. */
export function responseSamples(receivedTime: number): ResponseSamples {
  return {
    receivedTime,
    on: Object.freeze({ value: true, quality: "good", receivedTime }),
    off: Object.freeze({ value: false, quality: "good", receivedTime }),
  };
}

/**
 * Decodes one tag from a register response (`wire`, at register `offset`) or a bit response (`bits`, at `offset`)
 * into its sample. Built once per tag and plan; runs on every poll.
 */
export type TagDecoder = (
  wire: Buffer | undefined,
  bits: readonly (number | boolean)[] | undefined,
  offset: number,
  response: ResponseSamples,
) => Sample;

/** Why a tag cannot use a source of this data type, or undefined when it can. */
export function compatibilityProblem(tag: AnyTag, address: ModbusAddress): string | undefined {
  const type = address.dataType;
  const ok =
    tag.type === "float" || tag.type === "integer"
      ? numericTypes.has(type)
      : tag.type === "boolean"
        ? type === "bool" || integerTypes.has(type)
        : tag.type === "enum"
          ? type === "bool" || integerTypes.has(type)
          : type === "string";
  return ok ? undefined : `a ${tag.type} tag cannot be read from a ${type} source`;
}

/** Builds the decoder of one tag; `adapter` names the adapter in bad samples' details. */
export function tagDecoder(tag: AnyTag, address: ModbusAddress, adapter: string): TagDecoder {
  const { dataType, wordOrder, count, bit } = address;
  const bad = (reason: QualityReason, detail: string, receivedTime: number) =>
    badSample(reason, `${adapter}: ${detail}`, receivedTime);
  const short = (at: number, length: number, receivedTime: number) =>
    bad("decode-error", `no register ${at} in a ${length}-byte answer`, receivedTime);
  if (bit !== undefined && tag.type === "boolean") {
    // Status bits are often most of a map: a dedicated path with straight byte access and no conversions.
    const byte = bit < 8 ? 1 : 0;
    const mask = 1 << (bit & 7);
    return (wire, _, at, response) => {
      const value = (wire as Buffer)[at * 2 + byte];
      if (value === undefined) return short(at, (wire as Buffer).length, response.receivedTime);
      return (value & mask) !== 0 ? response.on : response.off;
    };
  }
  if (isBitArea(address.area) && tag.type === "boolean") {
    return (_, bits, at, response) => {
      const value = (bits as readonly (number | boolean)[])[at];
      if (value === undefined) return bad("decode-error", `no bit ${at} in the answer`, response.receivedTime);
      return value === true || value === 1 ? response.on : response.off;
    };
  }
  let raw: (wire: Buffer, bits: readonly (number | boolean)[], at: number) => RawValue;
  if (isBitArea(address.area)) raw = (_, bits, at) => bits[at] === true || bits[at] === 1;
  else if (bit !== undefined) raw = (wire, _, at) => ((wire.readUInt16BE(at * 2) >> bit) & 1) === 1;
  else {
    const reader = registerReader(dataType, wordOrder, count);
    raw = (wire, _, at) => reader(wire, at);
  }
  const convert = converter(tag, address, bad);
  return (wire, bits, at, { receivedTime }) => {
    let value: RawValue;
    try {
      value = raw(wire as Buffer, bits as readonly (number | boolean)[], at);
    } catch (error) {
      return bad("decode-error", `answer too short for ${dataType}: ${(error as Error).message}`, receivedTime);
    }
    return convert(value, receivedTime);
  };
}

type BadSample = (reason: QualityReason, detail: string, receivedTime: number) => Sample;

/** Raw value → sample, specialised per tag kind once, so a poll runs no kind checks. */
function converter(
  tag: AnyTag,
  address: ModbusAddress,
  bad: BadSample,
): (value: RawValue, receivedTime: number) => Sample {
  const { dataType, scale, offset: shift } = address;
  switch (tag.type) {
    case "float":
    case "integer": {
      const decimals = decimalsFor(tag);
      const factor = decimals === undefined || decimals > 15 ? undefined : 10 ** decimals;
      const unsafeInteger = tag.type === "integer" && scale === 1 && shift === 0 && dataType.endsWith("64");
      return (value, receivedTime) => {
        if (
          unsafeInteger &&
          ((value as bigint) > Number.MAX_SAFE_INTEGER || (value as bigint) < Number.MIN_SAFE_INTEGER)
        ) {
          return bad(
            "out-of-range",
            `${value} is beyond ±2^53 and cannot be held exactly; use a float tag`,
            receivedTime,
          );
        }
        const engineering = toEngineering(value as number | bigint, scale, shift);
        if (!Number.isFinite(engineering)) return bad("decode-error", `the device holds ${engineering}`, receivedTime);
        const rounded = factor === undefined ? engineering : Math.round(engineering * factor) / factor;
        return { value: rounded, quality: "good", receivedTime };
      };
    }
    case "boolean":
      return (value, receivedTime) => ({
        value: typeof value === "boolean" ? value : Number(value) !== 0,
        quality: "good",
        receivedTime,
      });
    case "enum": {
      const states = new Map(Object.entries(tag.states).map(([name, code]) => [code, name]));
      return (value, receivedTime) => {
        const state = states.get(Number(value));
        return state === undefined
          ? bad("out-of-range", `code ${Number(value)} is not one of the tag's states`, receivedTime)
          : { value: state, quality: "good", receivedTime };
      };
    }
    case "text": {
      const { maxLength } = tag;
      return (value, receivedTime) => {
        const textValue = String(value);
        return textValue.length > maxLength
          ? bad("out-of-range", `text of ${textValue.length} characters exceeds maxLength ${maxLength}`, receivedTime)
          : { value: textValue, quality: "good", receivedTime };
      };
    }
    case "datetime":
      // Registers carry no standard date-time encoding; a date held in registers is read as numbers and combined.
      return (_value, receivedTime) =>
        bad("config-error", "a Modbus register has no date-time type; read its parts as integer tags", receivedTime);
  }
}

/** What a write sends: registers (FC6 for one, FC16 for more), one coil (FC5), or one bit of a register (FC22). */
export type EncodedWrite =
  | { kind: "registers"; bytes: Buffer }
  | { kind: "coil"; state: boolean }
  | { kind: "register-bit"; bit: number; state: boolean };

/** Encodes a value for a tag's address. Throws a ValidationError (the write is then not sent). */
export function encodeTagValue(name: string, tag: AnyTag, address: ModbusAddress, value: unknown): EncodedWrite {
  const fail = (message: string, cause?: unknown): never => {
    throw new ValidationError(
      `tag "${name}" (${address.area} ${address.address}): ${message}; the write was not sent`,
      {
        field: name,
        cause,
      },
    );
  };
  if (address.area === "input" || address.area === "discrete") {
    fail(`${address.area}s are read-only in Modbus; write to a holding register or coil instead`);
  }
  let raw: RawValue;
  if (tag.type === "boolean") {
    if (typeof value !== "boolean") fail(`expected true or false, got ${JSON.stringify(value)}`);
    raw = value as boolean;
  } else if (tag.type === "enum") {
    const code = typeof value === "string" ? tag.states[value] : undefined;
    if (code === undefined) fail(`"${String(value)}" is not one of ${Object.keys(tag.states).join(", ")}`);
    raw = code as number;
  } else if (tag.type === "text") {
    if (typeof value !== "string") fail(`expected text, got ${typeof value}`);
    if ((value as string).length > tag.maxLength) fail(`text longer than maxLength ${tag.maxLength}`);
    raw = value as string;
  } else {
    if (typeof value !== "number" || !Number.isFinite(value)) fail(`expected a finite number, got ${String(value)}`);
    raw = value as number;
  }
  if (address.area === "coil") return { kind: "coil", state: Boolean(raw) };
  if (address.bit !== undefined) return { kind: "register-bit", bit: address.bit, state: Boolean(raw) };
  try {
    const registerValue =
      typeof raw === "number" && (tag.type === "float" || tag.type === "integer")
        ? toRaw(raw, address.dataType, address.scale, address.offset)
        : typeof raw === "boolean"
          ? Number(raw)
          : raw;
    return {
      kind: "registers",
      bytes: encodeRegisters(registerValue, address.dataType, address.wordOrder, address.count),
    };
  } catch (error) {
    if (error instanceof EncodeRangeError) return fail(error.message, error);
    throw error;
  }
}
