/**
 * The probe's decoding table: a range of registers shown as every type in every word order side by side, and the
 * 32-bit decodings ranked by how much they look like real plant values, so an integrator finds a layout in minutes.
 */
import { decodeRegisters, type ModbusDataType, wordOrders } from "./modbus-codec.js";
import { bestLayout, plausibleScore, type RankedDecoding, rankDecodings } from "./modbus-probe-rank.js";

const wideTypes: ModbusDataType[] = ["float32", "int32", "uint32", "float64", "int64", "uint64"];

function format(value: unknown): string {
  if (typeof value === "number") {
    if (Number.isInteger(value) && Math.abs(value) < 1e15) return String(value);
    const abs = Math.abs(value);
    return abs !== 0 && (abs < 1e-4 || abs >= 1e9) ? value.toExponential(4) : String(Number(value.toPrecision(7)));
  }
  return String(value);
}

const describe = (decoding: RankedDecoding, start: number) =>
  `${String(start + decoding.index).padStart(5)}  ${decoding.type.padEnd(7)} ${decoding.order}  ${format(decoding.value).padStart(12)}  (${decoding.why})`;

/** The ranked 32-bit readings: every plausible decoding best first, then one consistent layout as a starting guess. */
function rankingSection(registers: Buffer, start: number): string {
  const ranked = rankDecodings(registers).filter((decoding) => decoding.score >= plausibleScore);
  if (ranked.length === 0) {
    return "Plausible 32-bit values: none stand out (all zero, all ones, or nothing of an ordinary magnitude).";
  }
  const layout = bestLayout(ranked, registers);
  const shown = ranked.slice(0, 16);
  return [
    "Plausible 32-bit values, best first (finite, not denormal, ordinary magnitude; every type and word order):",
    ...shown.map((decoding) => describe(decoding, start)),
    ...(ranked.length > shown.length ? [`  … and ${ranked.length - shown.length} more`] : []),
    "",
    "One consistent layout, each register used once (a guess: a float read across two neighbouring floats often",
    "looks plausible too, so confirm by changing a value on the device or against its manual):",
    ...layout.map((decoding) => describe(decoding, start)),
  ].join("\n");
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
  for (const type of wideTypes) {
    const width = type.endsWith("64") ? 4 : 2;
    if (count < width) continue;
    const rows: string[][] = [];
    for (let index = 0; index + width <= count; index++) {
      const cells = [String(start + index)];
      for (const order of wordOrders) cells.push(format(decodeRegisters(registers, index, type, order)));
      rows.push(cells);
    }
    sections.push(`${type} starting at each address:\n${table(["address", ...wordOrders], rows)}`);
  }
  sections.push(rankingSection(registers, start));
  return `${sections.join("\n\n")}\n`;
}
