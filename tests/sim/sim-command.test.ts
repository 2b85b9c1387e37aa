/**
 * `plantwire sim` switching faults while it runs: at times given with --fault-at, and by commands typed on its input,
 * seen by a client of the Modbus view; its flags go through the shared parser, so a bad one is a usage error (exit 2)
 * that names the flag and what it accepts, and --verbose is taken as by every command; input that is already closed
 * is left alone; SIGINT and a closed output stop the real process as SIGTERM does.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { createPlant } from "plantwire";
import { modbus } from "plantwire/modbus";
import { waitFor } from "plantwire/testing";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { runCli } from "../../src/cli/main.js";
import { simCommand } from "../../src/cli/sim-command.js";
import { modbusStationTags } from "../../src/sim/station-views.js";
import { captureIo } from "../support/capture-io.js";
import { type CliChild, startCli } from "../support/cli-child.js";

/** Only the Modbus view, on a free port: quick to start, nothing written to disk. */
const modbusOnly = ["--modbus-port", "0", "--no-opcua", "--no-mqtt", "--no-historian"];

const scratch = mkdtempSync(join(tmpdir(), "plantwire-sim-command-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
/** Every simulator process started, killed after its test even when the test failed before it stopped. */
const children: CliChild[] = [];
afterEach(async () => {
  for (const child of children.splice(0)) await child.kill();
});

/** A captured io whose input a test writes lines to. */
function consoleIo() {
  const input = new PassThrough();
  const io = Object.assign(captureIo(), { input });
  /** Types a line, and resolves once the answer containing `expected` has been printed. */
  const type = async (line: string, expected: string) => {
    const before = io.stdout.length;
    input.write(`${line}\n`);
    const answered = await waitFor(() => io.stdout.slice(before).includes(expected), 10_000);
    expect(answered, `answer to "${line}": ${io.stdout.slice(before)}`).toBe(true);
    return io.stdout.slice(before);
  };
  return { io, input, type };
}

describe("plantwire sim, faults while running", () => {
  it("switches a fault on at its --fault-at time and on and off by typed commands, seen over Modbus", async () => {
    const { io, type } = consoleIo();
    const running = simCommand.run(
      [...modbusOnly, "--fault-at", "cavitation@1", "--fault-at", "stuck-valve@3600-7200"],
      io,
    );
    expect(await waitFor(() => io.stdout.includes('Type "help"'), 20_000), io.stderr).toBe(true);
    expect(io.stdout).toContain("schedule  cavitation on at 1 s; stuck-valve on at 3600 s, off at 7200 s");
    const url = /modbus\s+(modbus\+tcp:\/\/127\.0\.0\.1:\d+)/.exec(io.stdout)?.[1];
    expect(url).toBeDefined();
    const plant = createPlant({ tags: modbusStationTags(modbus({ url: url!, unit: 1, name: "drive" })) });
    try {
      const listed = await type("faults", "comms-loss");
      expect(listed).toMatch(/stuck-valve\s+off\s+\(scheduled: on at 3600 s, off at 7200 s\)/);

      // Cavitation shakes the pump: vibration jumps from about 2 mm/s to about 8.
      expect(await waitFor(() => io.stdout.includes("Fault cavitation on (scheduled at 1 s)."), 10_000)).toBe(true);
      expect(await waitFor(async () => (await plant.read()).valueOr("vibration", Number.NaN) > 5, 10_000)).toBe(true);
      expect(await type("faults", "comms-loss")).toMatch(/cavitation\s+on\n/);

      await type("fault cavitation off", "Fault cavitation off.");
      expect(await waitFor(async () => (await plant.read()).valueOr("vibration", Number.NaN) < 4, 10_000)).toBe(true);
      await type("fault cavitation off", "Fault cavitation off (it was already off).");
      await type("FAULT  cavitation  ON", "Fault cavitation on.");
      expect(await waitFor(async () => (await plant.read()).valueOr("vibration", Number.NaN) > 5, 10_000)).toBe(true);

      expect(await type("help", "Commands:")).toContain("fault <name> on|off");
      const unknown = await type("start the pump", 'Unknown command "start the pump".');
      expect(unknown).toContain("fault <name> on|off");
      expect(unknown).toContain("quit");
      await type("fault meteor on", 'Unknown fault "meteor". Faults: bearing-wear, cavitation');
      await type("fault cavitation maybe", 'Write "fault <name> on" or "fault <name> off"');
      await type("quit", "Stopping.");
      expect(await running, io.stderr).toBe(0);
      expect(io.stdout.endsWith("simulator stopped\n")).toBe(true);
      expect(io.stderr).toBe("");
    } finally {
      await plant.close();
      if (!io.stdout.includes("simulator stopped")) {
        io.input.write("quit\n");
        await running;
      }
    }
  });

  it("leaves input that is already closed alone, and stops after --duration-ms", async () => {
    const input = new PassThrough();
    input.end();
    const io = Object.assign(captureIo(), { input });
    const code = await simCommand.run([...modbusOnly, "--fault", "stuck-valve", "--duration-ms", "300"], io);
    expect(code, io.stderr).toBe(0);
    expect(io.stdout).toContain("faults    stuck-valve");
    expect(io.stdout.endsWith("simulator stopped\n")).toBe(true);
  });

  it("reads no commands with --no-input, even from a stream it is handed", async () => {
    const input = new PassThrough();
    input.write("help\nfault cavitation on\n");
    const io = Object.assign(captureIo(), { input });
    const code = await simCommand.run([...modbusOnly, "--no-input", "--duration-ms", "300"], io);
    expect(code, io.stderr).toBe(0);
    expect(io.stdout).not.toContain('Type "help"');
    expect(io.stdout).not.toContain("Commands:");
    expect(io.stdout).not.toContain("Fault cavitation on");
    expect(io.stdout.endsWith("simulator stopped\n")).toBe(true);
  });

  it("explains --fault-at and the typed commands in --help", async () => {
    const io = captureIo();
    expect(await runCli(["sim", "--help"], io)).toBe(0);
    expect(io.stdout).toContain("--fault-at <fault>@<s>-<e>");
    expect(io.stdout).toContain("real seconds after the simulator has started, whatever --speedup");
    expect(io.stdout).toContain('"fault <name> on|off", "faults"');
  });

  it("takes --verbose, as every command does, and runs", async () => {
    const io = Object.assign(captureIo(), { input: closedInput() });
    const code = await runCli(["sim", ...modbusOnly, "--verbose", "--duration-ms", "300"], io);
    expect(code, io.stderr).toBe(0);
    expect(io.stdout).toMatch(/modbus\s+modbus\+tcp:\/\/127\.0\.0\.1:\d+/);
    expect(io.stdout.endsWith("simulator stopped\n")).toBe(true);
  });

  it("rejects bad options with a usage error that names the flag and the fix, before anything starts", async () => {
    const historian = join(scratch, "historian.db");
    const faults = "bearing-wear, cavitation, sensor-drift, stuck-valve, comms-loss";
    const cases: [args: string[], says: string][] = [
      [["--fault-at", "cavitation"], '--fault-at "cavitation" has no time; write <fault>@<seconds>'],
      [["--fault-at", "meteor@3"], '--fault-at "meteor@3" names an unknown fault "meteor"; use one of: bearing-wear'],
      [["--fault-at", "cavitation@soon"], '--fault-at "cavitation@soon" has no valid time'],
      [["--fault-at", "cavitation@-5"], '--fault-at "cavitation@-5" has no valid time'],
      [
        ["--fault-at", "cavitation@90-30"],
        "ends before it starts; give the end after the start, e.g. cavitation@90-150.",
      ],
      [["--fault-at", "cavitation@9999999"], "is too late; times go up to 2147483 seconds"],
      [["--fault", "meteor"], `--fault "meteor": unknown fault. Fix: give one of ${faults}.`],
      [["--fault", "cavitation", "--fault", "Cavitation"], '--fault "Cavitation": unknown fault.'],
      [["--modbus-port", "70000"], "--modbus-port 70000 is out of range. Fix: give a whole number from 0 to 65535."],
      [["--opcua-port", "-1"], "--opcua-port -1 is out of range. Fix: give a whole number from 0 to 65535."],
      [["--mqtt-port", "1884.5"], '--mqtt-port "1884.5" is not a whole number. Fix: give a whole number from 0 to'],
      [["--speedup", "0"], "--speedup 0 is out of range. Fix: give a number from 0.01 to 3600."],
      [["--speedup", "1e6"], "--speedup 1e6 is out of range. Fix: give a number from 0.01 to 3600."],
      [["--speedup", "fast"], '--speedup "fast" is not a number.'],
      [["--seed", "7.5"], '--seed "7.5" is not a whole number. Fix: give a whole number from -9007199254740991 to'],
      [["--seed", "7", "--seed", "8"], "--seed is given more than once. Fix: give it once."],
      [["--duration-ms", "soon"], '--duration-ms "soon" is not a whole number. Fix: give a whole number from 1 to'],
      [["--duration-ms", "0"], "--duration-ms 0 is out of range. Fix: give a whole number from 1 to 2147483647 (ms)."],
      [["--duration-ms"], "--duration-ms needs a value: a whole number from 1 to 2147483647 (ms)."],
      [["--listen", "not an address"], '--listen "not an address": give an IP address or a host name'],
      [["--historian", " "], "--historian cannot be blank."],
      [["--no-opcua=yes"], '--no-opcua takes no value (got "yes").'],
      [["--verbose", "--fault-for", "30"], "Unknown option --fault-for."],
      [["surplus"], 'Unexpected argument "surplus": this command takes none.'],
    ];
    for (const [args, says] of cases) {
      const io = captureIo();
      // The historian goes first, so that a flag left without its value can end the command line.
      const historianFlag = args.includes("--historian") ? [] : ["--historian", historian];
      const code = await runCli(["sim", ...historianFlag, ...args], io);
      expect(code, args.join(" ")).toBe(2);
      expect(io.stderr, args.join(" ")).toContain(says);
      expect(io.stderr, args.join(" ")).toContain("Usage: plantwire sim");
      expect(io.stdout, args.join(" ")).toBe("");
    }
  });

  it("lists its flags with their bounds and defaults in --help", async () => {
    const io = captureIo();
    expect(await runCli(["sim", "--help"], io)).toBe(0);
    for (const flag of [
      "--seed",
      "--speedup",
      "--modbus-port",
      "--historian",
      "--no-sparkplug",
      "--listen",
      "--verbose",
    ]) {
      expect(io.stdout, flag).toContain(flag);
    }
    expect(io.stdout).toContain("from 0.01 to 3600 (default 1)");
    expect(io.stdout).toContain("a port from 0 to 65535; 0 picks a free port");
    expect(io.stdout).toContain("from 1 to 2147483647");
    expect(io.stdout).toMatch(/Exit codes: 0 .*, 1 .*\n2 for a wrong command line/);
  });
});

describe("plantwire sim as a process", () => {
  it("stops cleanly on SIGINT (Ctrl+C), as on SIGTERM", async () => {
    const child = startCli(["sim", ...modbusOnly, "--no-input"]);
    children.push(child);
    expect(await child.printed("tag maps"), child.stderr()).toBe(true);
    child.process.kill("SIGINT");
    expect(await child.exited, child.stderr()).toBe(0);
    expect(child.stdout().endsWith("simulator stopped\n")).toBe(true);
    expect(child.stderr()).toBe("");
  });

  it("stops cleanly when its output is closed (piped into head), on the next line it prints", async () => {
    // The scheduled switches are what it prints next; several, so one printed before the pipe closed cannot leave
    // it running (the test would then time out, not pass).
    const schedule = ["cavitation@1", "stuck-valve@2", "sensor-drift@4", "bearing-wear@8", "comms-loss@16"];
    const child = startCli(["sim", ...modbusOnly, "--no-input", ...schedule.flatMap((at) => ["--fault-at", at])]);
    children.push(child);
    expect(await child.printed("schedule"), child.stderr()).toBe(true);
    child.process.stdout?.destroy();
    expect(await child.exited, child.stderr()).toBe(0);
    expect(child.stderr()).not.toMatch(/EPIPE|Error/);
  });
});

/** Standard input that has already ended, so the command does not read the terminal the tests run in. */
function closedInput(): PassThrough {
  const input = new PassThrough();
  input.end();
  return input;
}
