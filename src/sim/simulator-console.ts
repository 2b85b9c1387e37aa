/**
 * The commands `plantwire sim` reads, one per line, while it runs in a terminal: `fault <name> on|off`, `faults`,
 * `help` and `quit`. Each is answered with a line or a few; a line that is not a command is answered with the list.
 */
import { readFileSync } from "node:fs";
import { createInterface } from "node:readline";
import { isatty } from "node:tty";
import type { PendingFaultSwitch } from "./fault-schedule.js";
import { isPumpFault, type PumpFault, pumpFaults } from "./pump-station-model.js";

/** What the console acts on. */
export interface SimulatorConsoleOptions {
  /** Where lines are read. */
  input: NodeJS.ReadableStream;
  /** Where answers are written. */
  out(text: string): void;
  /** Switches a fault; the console waits for it before answering. */
  setFault(fault: PumpFault, active: boolean): Promise<void>;
  /** Whether a fault is on now. */
  isActive(fault: PumpFault): boolean;
  /** Scheduled switches still to come, shown by `faults`. */
  pending?(): readonly PendingFaultSwitch[];
  /** Asked for by `quit`. */
  quit(): void;
}

/** A console reading its input. */
export interface SimulatorConsole {
  /** Stops reading, then waits for the command being answered, if any. */
  close(): Promise<void>;
}

/** The one line printed at start-up. */
export const simulatorConsoleHint = 'Type "help" and Enter for commands (switch faults on and off, list them, quit).';

const helpText = `Commands:
  fault <name> on|off   switch a fault now; <name> is one of: ${pumpFaults.join(", ")}
  faults                list the faults, whether each is on, and the switches scheduled
  help                  this list
  quit                  stop the simulator (as Ctrl+C does)
`;

function faultList(options: SimulatorConsoleOptions): string {
  const width = Math.max(...pumpFaults.map((fault) => fault.length));
  const lines = pumpFaults.map((fault) => {
    const scheduled = (options.pending?.() ?? [])
      .filter((change) => change.fault === fault)
      .map((change) => `${change.active ? "on" : "off"} at ${change.atSeconds} s`);
    const state = options.isActive(fault) ? "on" : "off";
    const line = `  ${fault.padEnd(width)}  ${state}`;
    return scheduled.length > 0 ? `${line.padEnd(width + 7)}  (scheduled: ${scheduled.join(", ")})` : line;
  });
  return `Faults:\n${lines.join("\n")}\n`;
}

/** The answer to one typed line ("" for a blank line). */
async function answer(line: string, options: SimulatorConsoleOptions): Promise<string> {
  const words = line.trim().toLowerCase().split(/\s+/).filter(Boolean);
  const [command, name, state] = words;
  if (command === undefined) return "";
  if (command === "help" && words.length === 1) return helpText;
  if (command === "faults" && words.length === 1) return faultList(options);
  if ((command === "quit" || command === "exit") && words.length === 1) {
    options.quit();
    return "Stopping.\n";
  }
  if (command !== "fault") return `Unknown command "${line.trim()}".\n${helpText}`;
  if (words.length !== 3 || (state !== "on" && state !== "off")) {
    return `Write "fault <name> on" or "fault <name> off", e.g. "fault cavitation on".\n`;
  }
  if (!isPumpFault(name)) {
    return `Unknown fault "${name}". Faults: ${pumpFaults.join(", ")}\n`;
  }
  const fault = name;
  const active = state === "on";
  const was = options.isActive(fault);
  try {
    await options.setFault(fault, active);
  } catch (error) {
    return `Could not switch ${fault} ${state}: ${error instanceof Error ? error.message : String(error)}\n`;
  }
  return `Fault ${fault} ${state}${was === active ? ` (it was already ${state})` : ""}.\n`;
}

/**
 * Whether this process runs in the background of its terminal (started with `&`), read from /proc where there is one:
 * its process group is not the terminal's foreground group. A background process that reads its terminal is stopped
 * by the system, so it must not read.
 */
function inTerminalBackground(): boolean {
  try {
    const stat = readFileSync("/proc/self/stat", "utf8");
    // After the command name in parentheses: state, parent, process group, session, terminal, foreground group.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const group = Number(fields[2]);
    const foreground = Number(fields[5]);
    return foreground > 0 && group !== foreground;
  } catch {
    return false;
  }
}

/**
 * Standard input when commands can be read from it: it is a terminal and this process is not in its background.
 * Piped, redirected or closed input (as under CI) is not read at all.
 */
export function terminalInput(): NodeJS.ReadableStream | undefined {
  return isatty(0) && !inTerminalBackground() ? process.stdin : undefined;
}

/**
 * Reads commands from `options.input` until it ends or `close()`. Lines are answered in order. A stream that fails
 * or ends only stops the reading: the simulator keeps running.
 */
export function startSimulatorConsole(options: SimulatorConsoleOptions): SimulatorConsole {
  const { input } = options;
  const ignore = () => {};
  input.on("error", ignore);
  const lines = createInterface({ input, terminal: false, crlfDelay: Number.POSITIVE_INFINITY });
  lines.on("error", ignore);
  let closed = false;
  let answering = Promise.resolve();
  lines.on("line", (line) => {
    answering = answering
      .then(async () => {
        if (closed) return;
        const text = await answer(line, options);
        if (text) options.out(text);
      })
      .catch(() => {}); // one line that cannot be answered must not stop the lines after it
  });
  return {
    async close() {
      closed = true;
      lines.close();
      // The error listener stays: a stream that fails after the reading stopped must not bring the process down.
      await answering;
    },
  };
}
