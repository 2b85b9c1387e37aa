/**
 * What a Modbus write puts on the wire, judged before it is sent and after it is read back: `writeProblem` says in
 * plain words why a value cannot become the register image (out of the type's range after scale and offset, not a
 * whole number of steps, not a boolean for a coil), so the guard refuses it at proposal time instead of approving a
 * write that fails on the wire; `sameOnWire` compares a read-back at the wire's precision (one scaled integer step,
 * one float32 rounding), so 0.1 written to a float32 register and read back as 0.10000000149011612 is verified.
 */
import { type AnyTag, decimalsFor } from "../../src/index.js";
import { addressLabel, type ModbusAddress } from "./modbus-address.js";
import { integerRanges } from "./modbus-codec.js";
import { compatibilityProblem, encodeTagValue } from "./modbus-values.js";

const largestFloat32 = 3.4028234663852886e38;
const integerTypes = new Set(["int16", "uint16", "int32", "uint32", "int64", "uint64"]);

function scaling(address: ModbusAddress): string {
  const parts = [`scale ${address.scale}`];
  if (address.offset !== 0) parts.push(`offset ${address.offset}`);
  return parts.join(" and ");
}

/** The register value a number becomes before encoding: (value − offset) / scale. */
function rawOf(value: number, address: ModbusAddress): number {
  return address.scale === 1 && address.offset === 0 ? value : (value - address.offset) / address.scale;
}

function numberProblem(value: number, address: ModbusAddress): string | undefined {
  const { dataType } = address;
  if (!Number.isFinite(value)) return `${value} cannot be written to ${addressLabel(address)}`;
  const raw = rawOf(value, address);
  if (integerTypes.has(dataType)) {
    const rounded = Math.round(raw);
    if (Math.abs(raw - rounded) > 1e-6 * Math.max(1, Math.abs(raw))) {
      const below = Math.floor(raw) * address.scale + address.offset;
      const above = Math.ceil(raw) * address.scale + address.offset;
      return `${value} is not a whole number of ${dataType} steps after ${scaling(address)} (the nearest that fit are ${Number(below.toPrecision(12))} and ${Number(above.toPrecision(12))})`;
    }
    const [low, high] = integerRanges[dataType] as readonly [bigint, bigint];
    if (!Number.isSafeInteger(rounded) || BigInt(rounded) < low || BigInt(rounded) > high) {
      return `${value} does not fit ${dataType} (${low}..${high}) after ${scaling(address)}: the register would have to hold ${rounded}`;
    }
    return undefined;
  }
  if (dataType === "float32") {
    if (Math.abs(raw) > largestFloat32) {
      return `${value} does not fit float32 (±3.4028235e38) after ${scaling(address)}`;
    }
    if (raw !== 0 && Math.fround(raw) === 0) {
      return `${value} is too small for float32 after ${scaling(address)}: it would be written as 0`;
    }
  }
  return undefined;
}

/**
 * Why `value` cannot be written to this tag's register or bit as the wire would carry it, or undefined when it fits.
 * Pure: nothing is sent.
 */
export function writeProblem(tag: AnyTag, address: ModbusAddress, value: unknown): string | undefined {
  if (address.area === "input" || address.area === "discrete") {
    return `${addressLabel(address)} is read-only in Modbus; write to a holding register or a coil`;
  }
  const incompatible = compatibilityProblem(tag, address);
  if (incompatible) return incompatible;
  const bitWrite = address.area === "coil" || address.bit !== undefined;
  if (bitWrite && tag.type !== "boolean" && tag.type !== "enum") {
    return `${addressLabel(address)} is a single bit: it takes true or false`;
  }
  if (bitWrite && tag.type === "enum" && typeof value === "string") {
    const code = tag.states[value];
    if (code !== undefined && code !== 0 && code !== 1) {
      return `state "${value}" has code ${code}, but ${addressLabel(address)} holds one bit (0 or 1)`;
    }
  }
  if (bitWrite && tag.type === "boolean" && typeof value !== "boolean") {
    return `${addressLabel(address)} is a single bit: it takes true or false, not ${JSON.stringify(value)}`;
  }
  if ((tag.type === "float" || tag.type === "integer") && typeof value === "number") {
    const problem = numberProblem(value, address);
    if (problem) return problem;
  }
  try {
    encodeTagValue("", tag, address, value);
    return undefined;
  } catch (error) {
    // encodeTagValue names the tag and says the write was not sent; here only the reason matters.
    return (error as Error).message.replace(/^tag "" \([^)]*\): /, "").replace(/; the write was not sent$/, "");
  }
}

/** The gap between a float32 and the next one up at this magnitude. */
function float32Step(value: number): number {
  const magnitude = Math.abs(Math.fround(value));
  if (magnitude < 1.1754943508222875e-38) return 2 ** -149;
  return 2 ** (Math.floor(Math.log2(magnitude)) - 23);
}

/**
 * Whether `readBack` is `written` as the wire holds it: the same integer register value after scale and offset, or
 * the same float32 within one rounding step; within half the tag's resolution too, since a read is rounded to it.
 * Undefined for anything that is not a number tag on a register (the guard then compares exactly).
 */
export function sameOnWire(
  tag: AnyTag,
  address: ModbusAddress,
  written: unknown,
  readBack: unknown,
): boolean | undefined {
  if (tag.type !== "float" && tag.type !== "integer") return undefined;
  if (typeof written !== "number" || typeof readBack !== "number") return undefined;
  if (address.area === "coil" || address.area === "discrete" || address.bit !== undefined) return undefined;
  const decimals = decimalsFor(tag);
  const rounding = decimals === undefined ? 0 : 0.5 * 10 ** -decimals;
  if (Math.abs(written - readBack) <= rounding * (1 + 1e-9)) return true;
  const sent = rawOf(written, address);
  const back = rawOf(readBack, address);
  if (integerTypes.has(address.dataType)) return Math.round(sent) === Math.round(back);
  if (address.dataType === "float32") {
    return Math.abs(Math.fround(sent) - Math.fround(back)) <= float32Step(sent) * (1 + 1e-9);
  }
  if (address.dataType === "float64") return Math.abs(sent - back) <= Math.abs(sent) * 4 * Number.EPSILON;
  return undefined;
}
