import { float } from "plantwire";
import { type ModbusAddress, startModbusSimulator } from "plantwire/modbus";
import { afterEach, describe, expect, it } from "vitest";
import { modbus } from "../../adapters/modbus/modbus-adapter.js";
import { runCli } from "../../src/cli/main.js";
import { captureIo } from "../support/capture-io.js";

const probe = { run: (args: string[], io: ReturnType<typeof captureIo>) => runCli(["modbus", "probe", ...args], io) };
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

describe("plantwire modbus probe", () => {
  it("shows every type and word order side by side and points at the plausible layout", async () => {
    const simulator = await startModbusSimulator();
    cleanups.push(() => simulator.close());
    const layout = modbus({ url: simulator.url, unit: 3 });
    simulator.setTag(
      float({ source: layout.holding(10, "float32", { unit: 3, wordOrder: "CDAB" }) }).source.address as ModbusAddress,
      6.25,
    );
    simulator.setTag(
      float({ source: layout.holding(12, "float32", { unit: 3, wordOrder: "CDAB" }) }).source.address as ModbusAddress,
      -1500.5,
    );
    const io = captureIo();
    const code = await probe.run([simulator.url, "--unit", "3", "--start", "40011", "--count", "6"], io);
    expect(io.stderr).toBe("");
    expect(code).toBe(0);
    expect(io.stdout).toContain("holding registers 10–15");
    expect(io.stdout).toMatch(/float32 starting at each address:/);
    expect(io.stdout).toMatch(/^\s+10\s+\S+\s+\S+\s+6\.25\s/m); // at address 10 only the CDAB column reads 6.25
    const ranked = io.stdout.split("every type and word order):\n")[1] ?? "";
    expect(ranked).toMatch(/^\s+10 {2}float32 CDAB +6\.25 /);
    expect(io.stdout).toMatch(
      /each register used once[^\n]*\n[^\n]*\n\s+10 {2}float32 CDAB +6\.25 [^\n]*\n\s+12 {2}float32 CDAB +-1500\.5 /,
    );
  });

  it("fails with a clear message and exit code on wrong input or a silent unit", async () => {
    const simulator = await startModbusSimulator();
    cleanups.push(() => simulator.close());
    simulator.setBehaviour(9, { kind: "dead" });
    const wrong = captureIo();
    expect(await probe.run(["http://x"], wrong)).toBe(2);
    expect(wrong.stderr).toContain('<url> "http://x" is not a Modbus URL');
    const count = captureIo();
    expect(await probe.run([simulator.url, "--count", "0"], count)).toBe(2);
    expect(count.stderr).toContain("--count 0 is out of range. Fix: give a whole number from 1 to 250.");
    const silent = captureIo();
    expect(await probe.run([simulator.url, "--unit", "9", "--timeout", "100"], silent)).toBe(1);
    expect(silent.stderr).toContain("unit 9");
    const refused = captureIo();
    expect(await probe.run(["modbus+tcp://127.0.0.1:1"], refused)).toBe(1);
    expect(refused.stderr).toContain("cannot connect");
  });
});
