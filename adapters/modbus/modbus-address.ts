/**
 * Modbus addresses: the four data areas, 0-based protocol addresses, the classic 1-based notation (40001 is holding
 * register 0), and the resolved address a tag carries.
 */
import { ConfigError, type ConfigIssue } from "../../src/index.js";
import { type ModbusDataType, registerCount, type WordOrder } from "./modbus-codec.js";

/** The four Modbus data areas. Coils and holding registers are writable; discrete inputs and input registers are not. */
export type ModbusArea = "coil" | "discrete" | "holding" | "input";

/** The address of one tag: where, how many registers, how to decode. Built by the adapter's source builders. */
export interface ModbusAddress {
  /** The unit id (slave id) on the line or behind the gateway, 0–255. */
  readonly unit: number;
  readonly area: ModbusArea;
  /** The 0-based protocol address (what goes on the wire), 0–65535. */
  readonly address: number;
  readonly dataType: ModbusDataType;
  readonly wordOrder: WordOrder;
  /** Registers (or bits, for coils and discrete inputs) the value occupies. */
  readonly count: number;
  /** For a bool in a register: the bit, 0 (least significant) to 15. */
  readonly bit?: number;
  /** Engineering value = raw × scale + offset. */
  readonly scale: number;
  readonly offset: number;
}

/** True for the bit areas (coils and discrete inputs), whose requests count bits, not registers. */
export function isBitArea(area: ModbusArea): boolean {
  return area === "coil" || area === "discrete";
}

const classicAreas: Record<string, ModbusArea> = { "0": "coil", "1": "discrete", "3": "input", "4": "holding" };

/**
 * Parses classic 1-based Modbus notation: the first digit names the area (0 coil, 1 discrete input, 3 input
 * register, 4 holding register), the rest is the 1-based number. Five digits (40001–49999) and six digits
 * (400001–465536) are both accepted. Returns the area and the 0-based address, e.g. "40101" → holding 100.
 */
export function parseClassicAddress(notation: string | number): { area: ModbusArea; address: number } {
  const text = String(notation).trim();
  if (!/^\d{5,6}$/.test(text)) {
    throw new ConfigError([
      {
        path: "register",
        message: `"${text}" is not classic Modbus notation`,
        fix: "write 5 or 6 digits whose first digit is the area, e.g. 40001 (holding 0), 30011 (input 10), 00001 (coil 0)",
      },
    ]);
  }
  const area = classicAreas[text[0] as string];
  const number = Number(text.slice(1));
  const limit = text.length === 5 ? 9999 : 65536;
  if (!area || number < 1 || number > limit) {
    throw new ConfigError([
      {
        path: "register",
        message: `"${text}" is out of range: the area digit must be 0, 1, 3 or 4 and the number 1–${limit}`,
        fix: "check the device manual: 40001 is holding register 0, 30001 input register 0",
      },
    ]);
  }
  return { area, address: number - 1 };
}

/** Options of a source builder such as `drive.holding(100, "float32", { wordOrder: "CDAB" })`. */
export interface ModbusSourceOptions {
  /** The unit id, when it differs from the adapter's. */
  unit?: number;
  /** Byte/word order of this value. @default the adapter's wordOrder, else "ABCD" */
  wordOrder?: WordOrder;
  /** Engineering value = raw × scale + offset. @default 1 */
  scale?: number;
  /** @default 0 */
  offset?: number;
  /** For strings: how many registers the text spans (two characters each). @default 1 */
  registers?: number;
  /** For a bool in a holding or input register: which bit, 0 (least significant) to 15. */
  bit?: number;
}

/** Checks a resolved address, returning every problem (paths relative to the source object). */
export function addressIssues(address: ModbusAddress): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const bitArea = isBitArea(address.area);
  if (!Number.isInteger(address.unit) || address.unit < 0 || address.unit > 255) {
    issues.push({
      path: "unit",
      message: `unit ${address.unit} is not 0–255`,
      fix: "use the device's unit id, e.g. 1",
    });
  }
  if (!Number.isInteger(address.address) || address.address < 0 || address.address + address.count > 65536) {
    issues.push({
      path: address.area,
      message: `address ${address.address} (${address.count} ${bitArea ? "bits" : "registers"}) leaves 0–65535`,
      fix: "give the 0-based protocol address; for 40001-style numbers use register: 40001",
    });
  }
  if (bitArea && address.dataType !== "bool") {
    issues.push({
      path: "dataType",
      message: `${address.area}s hold single bits, not ${address.dataType}`,
      fix: "remove dataType (coils and discrete inputs are bool)",
    });
  }
  if (!bitArea && address.dataType === "bool" && address.bit === undefined) {
    issues.push({ path: "bit", message: "a bool in a register needs its bit", fix: "add bit: 0–15" });
  }
  if (address.bit !== undefined && (bitArea || !Number.isInteger(address.bit) || address.bit < 0 || address.bit > 15)) {
    issues.push({
      path: "bit",
      message: `bit ${address.bit} is not 0–15 of a register`,
      fix: "use bit: 0–15 on a holding or input register",
    });
  }
  if (address.bit !== undefined && address.dataType !== "bool") {
    issues.push({
      path: "dataType",
      message: "a bit of a register is a bool",
      fix: "remove dataType or set it to bool",
    });
  }
  if (address.dataType === "string" && (!Number.isInteger(address.count) || address.count < 1 || address.count > 125)) {
    issues.push({
      path: "registers",
      message: `a string spans 1–125 registers, not ${address.count}`,
      fix: "set registers: N (two characters each)",
    });
  }
  if (!Number.isFinite(address.scale) || address.scale === 0) {
    issues.push({ path: "scale", message: "scale must be a finite, non-zero number", fix: "e.g. scale: 0.1" });
  }
  if (!Number.isFinite(address.offset)) {
    issues.push({ path: "offset", message: "offset must be a finite number", fix: "e.g. offset: -40" });
  }
  if ((address.scale !== 1 || address.offset !== 0) && (address.dataType === "string" || address.dataType === "bool")) {
    issues.push({ path: "scale", message: `scale and offset do not apply to ${address.dataType}`, fix: "remove them" });
  }
  return issues;
}

/** Builds and checks an address; throws a ConfigError naming every problem. */
export function resolveAddress(
  area: ModbusArea,
  address: number,
  dataType: ModbusDataType,
  options: ModbusSourceOptions,
  defaults: { unit: number; wordOrder: WordOrder },
): ModbusAddress {
  const count = isBitArea(area) ? 1 : registerCount(dataType, options.registers ?? 1);
  const resolved: ModbusAddress = {
    unit: options.unit ?? defaults.unit,
    area,
    address,
    dataType,
    wordOrder: options.wordOrder ?? defaults.wordOrder,
    count,
    scale: options.scale ?? 1,
    offset: options.offset ?? 0,
    ...(options.bit === undefined ? {} : { bit: options.bit }),
  };
  const issues = addressIssues(resolved);
  if (issues.length > 0) throw new ConfigError(issues);
  return resolved;
}

/** A short label for a source, e.g. "unit 1 holding 100 float32 CDAB". */
export function addressLabel(address: ModbusAddress): string {
  const type = address.dataType === "string" ? `string[${address.count}]` : address.dataType;
  const bit = address.bit === undefined ? "" : `.${address.bit}`;
  const order = address.count > 1 || address.wordOrder !== "ABCD" ? ` ${address.wordOrder}` : "";
  return `unit ${address.unit} ${address.area} ${address.address}${bit} ${type}${isBitArea(address.area) ? "" : order}`;
}
