/**
 * Modbus CLI commands: `plantwire modbus probe <url> --unit N --start A --count C` reads a range and shows it as
 * every type and word order side by side.
 */
import { type CliCommand, exitCodes } from "../../src/cli/cli-command.js";
import { CliUsageError, choiceFlag, integerFlag, parseFlags, stringFlag } from "../../src/cli/cli-flags.js";
import { integer } from "../../src/index.js";
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
Modbus has no authentication: probe only devices you are responsible for.
Exit 0 when the range was read, 1 when the device did not deliver it, 2 for a wrong command line.`;

function options(args: readonly string[]) {
  const { values, positionals } = parseFlags(
    args,
    {
      unit: integerFlag({ min: 0, max: 255, default: 1 }),
      start: stringFlag({ default: "0", hint: "100 or 40101" }),
      count: integerFlag({ min: 1, max: 250, default: 10 }),
      area: choiceFlag(["holding", "input"]),
      timeout: integerFlag({ min: 1, max: 600_000, default: 1000, unit: "ms" }),
    },
    { positionals: { names: ["<url>"] } },
  );
  const url = positionals[0] as string;
  if (!/^modbus\+(tcp|rtu|rtu\+tcp):\/\//.test(url)) {
    throw new CliUsageError(
      `<url> "${url}" is not a Modbus URL. Fix: start it with modbus+tcp://, modbus+rtu+tcp:// or modbus+rtu://.`,
    );
  }
  if (!/^\d{1,6}$/.test(values.start)) {
    throw new CliUsageError(
      `--start "${values.start}" is not a register number. Fix: give 0-65535, or 30001/40001-style.`,
    );
  }
  let address = Number(values.start);
  let area = values.area ?? "holding";
  if (values.start.length >= 5) {
    const classic = parseClassicAddress(values.start);
    if (classic.area !== "holding" && classic.area !== "input") {
      throw new CliUsageError(
        `--start ${values.start} is a coil or discrete input, which hold bits. Fix: probe registers: 4xxxx or 3xxxx.`,
      );
    }
    address = classic.address;
    area = classic.area;
  }
  if (address + values.count > 65536) {
    throw new CliUsageError(
      `--start ${address} with --count ${values.count} leaves the registers 0-65535. Fix: a lower start or count.`,
    );
  }
  return { url, unit: values.unit, count: values.count, timeout: values.timeout, address, area };
}

/** `plantwire modbus probe`. */
export const probeCommand: CliCommand = {
  name: "modbus probe",
  summary: "Read a range of Modbus registers and show every type and word order side by side",
  usage,
  async run(args, io) {
    const { url, unit, address, count, area, timeout } = options(args);
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
