/**
 * `modbus probe` ranking (issue 15): on the plant simulator's input registers, served over Modbus TCP, every float
 * the station serves is found in its word order and ranked above every integer reading of the same registers.
 */
import { describe, expect, it } from "vitest";
import { commands } from "../../adapters/modbus/modbus-cli.js";
import { rankDecodings, scoreDecoding } from "../../adapters/modbus/modbus-probe-rank.js";
import { startPlantSimulator } from "../../src/sim/plant-simulator.js";
import { captureIo } from "../support/capture-io.js";

const probe = commands.find((command) => command.name === "modbus probe")!;

/** Where the station's floats sit (tag-maps/pump-station/modbus.yaml). */
const stationFloats = [
  { signal: "level", address: 0, order: "ABCD" },
  { signal: "inflow", address: 2, order: "ABCD" },
  { signal: "pressure", address: 6, order: "CDAB" },
  { signal: "flow", address: 8, order: "ABCD" },
  { signal: "vibration", address: 11, order: "ABCD" },
] as const;

interface Line {
  address: number;
  type: string;
  order: string;
  value: number;
}

function rankedLines(output: string): Line[] {
  const block = output.split("every type and word order):\n")[1]?.split("\n\n")[0] ?? "";
  return block
    .split("\n")
    .filter((line) => /^\s+\d+\s+\w+32\s/.test(line))
    .map((line) => {
      const [address, type, order, value] = line.trim().split(/\s+/);
      return { address: Number(address), type: type as string, order: order as string, value: Number(value) };
    });
}

describe("modbus probe ranks decodings by plausibility", () => {
  it("finds the simulator's real floats and offers no garbage integer reading", async () => {
    for (const seed of [7, 3]) {
      // No ticking: the station moves only when stepped, so each probe sees one known state.
      const simulator = await startPlantSimulator({
        seed,
        tickMs: 3_600_000,
        modbus: { port: 0 },
        opcua: false,
        mqtt: false,
        sparkplug: false,
        historian: false,
      });
      try {
        for (const seconds of [0, 60, 600]) {
          if (seconds > 0) await simulator.step(seconds);
          const io = captureIo();
          const code = await probe.run(
            [simulator.urls.modbus as string, "--area", "input", "--start", "0", "--count", "14"],
            io,
          );
          expect(io.stderr).toBe("");
          expect(code).toBe(0);
          const lines = rankedLines(io.stdout);
          expect(lines[0]?.type).toBe("float32");
          // The station's integers are 16-bit registers: every 32-bit integer reading here is garbage.
          expect(lines.filter((line) => line.type !== "float32")).toEqual([]);
          const values = simulator.model.values as unknown as Record<string, number>;
          for (const { signal, address, order } of stationFloats) {
            const position = lines.findIndex(
              (line) => line.address === address && line.type === "float32" && line.order === order,
            );
            expect(position, `${signal} at ${address} ${order} (seed ${seed}, ${seconds} s)`).toBeGreaterThanOrEqual(0);
            // The probe prints seven significant digits.
            const expected = values[signal] as number;
            expect(Math.abs((lines[position]?.value as number) - expected)).toBeLessThan(Math.abs(expected) * 1e-6);
          }
        }
      } finally {
        await simulator.close();
      }
    }
  });

  it("scores nothing into all-zero, all-ones, denormal, non-finite or 16-bit-beside-zero patterns", () => {
    expect(scoreDecoding("float32", 0, 0, 0).score).toBe(0);
    expect(scoreDecoding("int32", -1, 0xffff, 0xffff).score).toBe(0);
    expect(scoreDecoding("float32", Number.NaN, 0xffff, 0xffff).score).toBe(0);
    expect(scoreDecoding("float32", 1e-40, 0x0001, 0x16c2).score).toBe(0);
    expect(scoreDecoding("float32", Number.POSITIVE_INFINITY, 0x7f80, 0).score).toBe(0);
    expect(scoreDecoding("int32", 16416, 0, 0x4020).score).toBeLessThan(0.5);
    expect(scoreDecoding("uint32", 123_456, 0x0001, 0xe240).score).toBeGreaterThanOrEqual(0.5);
    expect(scoreDecoding("float32", 6.25, 0x40c8, 0).score).toBe(1);
    // A register range of zeros and 0xFFFF offers nothing plausible in any type or order.
    const blank = Buffer.from([0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0, 0]);
    expect(rankDecodings(blank).filter((decoding) => decoding.score >= 0.5)).toEqual([]);
  });
});
