/**
 * The probe's decoding table: a range of registers shown as every type in every word order side by side, and a hint
 * of which decodings look like real plant values, so an integrator finds a device's layout in minutes.
 */
import { decodeRegisters, type ModbusDataType, type WordOrder, wordOrders } from "./modbus-codec.js";

const wideTypes: ModbusDataType[] = ["float32", "int32", "uint32", "float64", "int64", "uint64"];

function format(value: unknown): string {
  if (typeof value === "number") {
    if (Number.isInteger(value) && Math.abs(value) < 1e15) return String(value);
    const abs = Math.abs(value);
    return abs !== 0 && (abs < 1e-4 || abs >= 1e9) ? value.toExponential(4) : String(Number(value.toPrecision(7)));
  }
  return String(value);
}

/** True when a value looks like a plant reading: finite, moderate, few significant digits (6.25, 1500, -40.5). */
export function looksPlausible(value: unknown, type: ModbusDataType): boolean {
  const number = typeof value === "bigint" ? Number(value) : (value as number);
  if (typeof number !== "number" || !Number.isFinite(number) || number === 0) return false;
  const abs = Math.abs(number);
  if (abs > 1e7 || abs < 1e-3) return false;
  // A float is plausible when it is the nearest float to a short decimal (23.7, 6.25, -1500.5), as written by people.
  if (type === "float32") return Math.fround(Number(number.toPrecision(5))) === number;
  if (type === "float64") return Number(number.toPrecision(6)) === number;
  return abs <= 100_000;
}

function table(header: string[], rows: string[][]): string {
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => (row[column] ?? "").length)),
  );
  return [header, ...rows]
    .map((row) => row.map((cell, column) => cell.padStart(widths[column] ?? 0)).join("  "))
    .join("\n");
}

/** Renders the probe report for registers read from `start` (`registers` holds them as on the wire). */
export function probeReport(registers: Buffer, start: number, area: "holding" | "input"): string {
  const count = registers.length / 2;
  const classic = (address: number) => `${area === "holding" ? 4 : 3}${String(address + 1).padStart(5, "0")}`;
  const sections: string[] = [];
  const narrowRows: string[][] = [];
  for (let index = 0; index < count; index++) {
    const word = registers.readUInt16BE(index * 2);
    const ascii = [registers[index * 2] as number, registers[index * 2 + 1] as number]
      .map((byte) => (byte >= 0x20 && byte < 0x7f ? String.fromCharCode(byte) : "."))
      .join("");
    narrowRows.push([
      String(start + index),
      classic(start + index),
      word.toString(16).padStart(4, "0"),
      String(word),
      String(registers.readInt16BE(index * 2)),
      word.toString(2).padStart(16, "0"),
      ascii,
    ]);
  }
  sections.push(table(["address", "classic", "hex", "uint16", "int16", "bits 15..0", "ascii"], narrowRows));
  const hints: { score: number; text: string }[] = [];
  for (const type of wideTypes) {
    const width = type.endsWith("64") ? 4 : 2;
    if (count < width) continue;
    const rows: string[][] = [];
    const plausible = new Map<WordOrder, string[]>(wordOrders.map((order) => [order, []]));
    for (let index = 0; index + width <= count; index++) {
      const cells = [String(start + index)];
      for (const order of wordOrders) {
        const value = decodeRegisters(registers, index, type, order);
        cells.push(format(value));
        if (looksPlausible(value, type)) plausible.get(order)?.push(`${start + index}=${format(value)}`);
      }
      rows.push(cells);
    }
    sections.push(`${type} starting at each address:\n${table(["address", ...wordOrders], rows)}`);
    for (const [order, found] of plausible) {
      if (found.length > 0)
        hints.push({ score: found.length, text: `${type} ${order}: ${found.slice(0, 6).join(", ")}` });
    }
  }
  const best = hints.sort((a, b) => b.score - a.score).slice(0, 5);
  sections.push(
    best.length === 0
      ? "Plausible decodings: none stand out (all zero, or no value in a usual plant range)."
      : `Plausible decodings (finite, moderate, few significant digits), most hits first:\n${best.map((hint) => `  ${hint.text}`).join("\n")}`,
  );
  return `${sections.join("\n\n")}\n`;
}
