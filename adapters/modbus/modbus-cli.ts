/**
 * Modbus CLI commands: `plantwire modbus probe <url> --unit N --start A --count C` reads a range and shows it as
 * every type and word order side by side.
 */
import { parseArgs } from "node:util";
import { type CliCommand, exitCodes } from "../../src/cli/cli-command.js";
import { configIssuesFromZod } from "../../src/config-issues.js";
import { ConfigError, integer } from "../../src/index.js";
import { lazyZod } from "../../src/lazy-zod.js";
import { modbus } from "./modbus-adapter.js";
import type { ModbusAddress } from "./modbus-address.js";
import { parseClassicAddress } from "./modbus-address.js";
import { probeReport } from "./modbus-probe.js";

const usage = `Usage: plantwire modbus probe <url> [--unit N] [--start A] [--count C] [--area holding|input] [--timeout MS]

  <url>       modbus+tcp://host:502, modbus+rtu+tcp://host:4001 or modbus+rtu:///dev/ttyUSB0?baudRate=19200
  --unit      unit id (default 1)
  --start     first register, 0-based (100) or classic (40101, 30011); default 0
  --count     registers to read, 1-250 (default 10)
  --area      holding (FC3, default) or input (FC4); implied by classic notation
  --timeout   ms per request (default 1000)

Prints each register as uint16/int16/hex/bits/ascii, then every 32- and 64-bit type in every word order
(ABCD, CDAB, BADC, DCBA) side by side, and which decodings look like plausible plant values.
Modbus has no authentication: probe only devices you are responsible for.`;

function options(args: readonly string[]) {
  const { values, positionals } = parseArgs({
    args: [...args],
    allowPositionals: true,
    options: {
      unit: { type: "string", default: "1" },
      start: { type: "string", default: "0" },
      count: { type: "string", default: "10" },
      area: { type: "string" },
      timeout: { type: "string", default: "1000" },
    },
  });
  const z = lazyZod();
  const number = (low: number, high: number) => z.coerce.number().int().min(low).max(high);
  const parsed = z
    .strictObject({
      url: z
        .string()
        .regex(/^modbus\+(tcp|rtu|rtu\+tcp):\/\//, "must start with modbus+tcp://, modbus+rtu+tcp:// or modbus+rtu://"),
      unit: number(0, 255),
      start: z.string().regex(/^\d+$/, "must be a register number"),
      count: number(1, 250),
      area: z.enum(["holding", "input"]).optional(),
      timeout: number(1, 600_000),
    })
    .safeParse({ url: positionals[0], ...values });
  if (!parsed.success) throw new ConfigError(configIssuesFromZod(parsed.error, ["modbus probe"]));
  const { start, area } = parsed.data;
  let address = Number(start);
  let chosenArea = area ?? "holding";
  if (start.length >= 5) {
    const classic = parseClassicAddress(start);
    if (classic.area !== "holding" && classic.area !== "input") {
      throw new ConfigError([
        {
          path: "modbus probe.start",
          message: "coils and discrete inputs hold bits",
          fix: "probe registers: 4xxxx or 3xxxx",
        },
      ]);
    }
    address = classic.address;
    chosenArea = classic.area;
  }
  return { ...parsed.data, address, area: chosenArea };
}

/** `plantwire modbus probe`. */
export const probeCommand: CliCommand = {
  name: "modbus probe",
  summary: "Read a range of Modbus registers and show every type and word order side by side",
  usage,
  async run(args, io) {
    let settings: ReturnType<typeof options>;
    try {
      settings = options(args);
    } catch (error) {
      io.err(`${(error as Error).message}\n\n${usage}\n`);
      return ConfigError.isInstance(error) ? exitCodes.config : exitCodes.usage;
    }
    const { url, unit, address, count, area, timeout } = settings;
    if (address + count > 65536) {
      io.err(`the range ${address}+${count} leaves 0-65535\n`);
      return exitCodes.usage;
    }
    const device = modbus({ url, unit, name: "probe", timeoutMs: timeout, maxGapRegisters: 124 });
    try {
      await device.connect();
      const tags = Array.from({ length: count }, (_, index) => {
        const definition = integer({ source: device[area](address + index, "uint16") });
        return { name: `r${address + index}`, definition, address: definition.source.address as ModbusAddress };
      });
      const samples = await device.read(tags);
      const failed = samples.find((sample) => sample.quality !== "good");
      if (failed) {
        io.err(`unit ${unit} did not deliver ${area} ${address}+${count}: ${failed.detail ?? failed.reason}\n`);
        return exitCodes.failure;
      }
      const registers = Buffer.alloc(count * 2);
      for (const [index, sample] of samples.entries()) registers.writeUInt16BE(sample.value as number, index * 2);
      io.out(
        `${url} unit ${unit}, ${area} registers ${address}–${address + count - 1}:\n\n${probeReport(registers, address, area)}`,
      );
      return exitCodes.ok;
    } catch (error) {
      io.err(`${(error as Error).message}\n`);
      return exitCodes.failure;
    } finally {
      await device.close();
    }
  },
};

/** The Modbus commands, for the CLI registry. */
export const commands: CliCommand[] = [probeCommand];
