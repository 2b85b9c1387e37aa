/**
 * Tag sources from config files: `{ adapter: drive, holding: 100, dataType: uint16, scale: 0.1 }`, or the classic
 * notation `{ adapter: drive, register: 40101, dataType: uint16 }`. Validated by zod; every issue's path is relative
 * to the source object, as the tag-map loader expects.
 */
import { configIssuesFromZod } from "../../src/config-issues.js";
import { ConfigError } from "../../src/index.js";
import { lazyZod } from "../../src/lazy-zod.js";
import { type ModbusArea, type ModbusSourceOptions, parseClassicAddress } from "./modbus-address.js";
import { type ModbusDataType, modbusDataTypes, type WordOrder, wordOrders } from "./modbus-codec.js";

/** A source entry read from a file, checked, ready for the adapter's builders. */
export interface ParsedSource {
  readonly area: ModbusArea;
  readonly address: number;
  readonly dataType: ModbusDataType;
  readonly options: ModbusSourceOptions;
}

function sourceSchema() {
  const z = lazyZod();
  const address = z.number().int().min(0).max(65535);
  return z.strictObject({
    holding: address.optional(),
    input: address.optional(),
    coil: address.optional(),
    discrete: address.optional(),
    register: z.union([z.number().int().nonnegative(), z.string().regex(/^\d{5,6}$/)]).optional(),
    dataType: z.enum(modbusDataTypes as [ModbusDataType, ...ModbusDataType[]]).optional(),
    wordOrder: z.enum(wordOrders as [WordOrder, ...WordOrder[]]).optional(),
    unit: z.number().int().min(0).max(255).optional(),
    scale: z
      .number()
      .refine((value) => Number.isFinite(value) && value !== 0, "must be finite and not 0")
      .optional(),
    offset: z.number().refine(Number.isFinite, "must be finite").optional(),
    registers: z.number().int().min(1).max(125).optional(),
    bit: z.number().int().min(0).max(15).optional(),
  });
}

const areaKeys = ["holding", "input", "coil", "discrete", "register"] as const;

/** Parses a config-file source (without its `adapter` field). Throws a ConfigError with source-relative paths. */
export function parseSourceEntry(raw: Readonly<Record<string, unknown>>): ParsedSource {
  const parsed = sourceSchema().safeParse(raw);
  if (!parsed.success) throw new ConfigError(configIssuesFromZod(parsed.error));
  const entry = parsed.data;
  const given = areaKeys.filter((key) => entry[key] !== undefined);
  if (given.length !== 1) {
    throw new ConfigError([
      {
        path: given.length === 0 ? "" : (given[1] ?? ""),
        message: given.length === 0 ? "says nowhere where the value lives" : `gives ${given.join(" and ")}; give one`,
        fix: "give exactly one of holding: N, input: N, coil: N, discrete: N (0-based) or register: 40001 (classic)",
      },
    ]);
  }
  let area: ModbusArea;
  let address: number;
  if (entry.register !== undefined) {
    ({ area, address } = parseClassicAddress(String(entry.register).padStart(5, "0")));
  } else {
    area = given[0] as ModbusArea;
    address = entry[area] as number;
  }
  const bitArea = area === "coil" || area === "discrete";
  const dataType: ModbusDataType = entry.dataType ?? (bitArea || entry.bit !== undefined ? "bool" : "uint16");
  const options: ModbusSourceOptions = {};
  if (entry.unit !== undefined) options.unit = entry.unit;
  if (entry.wordOrder !== undefined) options.wordOrder = entry.wordOrder;
  if (entry.scale !== undefined) options.scale = entry.scale;
  if (entry.offset !== undefined) options.offset = entry.offset;
  if (entry.registers !== undefined) options.registers = entry.registers;
  if (entry.bit !== undefined) options.bit = entry.bit;
  return { area, address, dataType, options };
}
