/**
 * `plantwire`: the command line for plant staff and integrators. `plantwire --help` lists the commands;
 * `plantwire <command> --help` explains one; `plantwire <group> --help` (`audit`, `opcua`, `modbus` …) lists a group's.
 */
import { PlantwireError } from "../errors.js";
import { type CliIo, exitCodes } from "./cli-command.js";
import { CliUsageError } from "./cli-flags.js";
import { type CommandEntry, commandEntries } from "./commands.js";

const exitCodeLine =
  "Exit codes: 0 ok, 1 failure, 2 wrong usage, 3 invalid configuration (some commands add their own).";

function commandList(entries: readonly CommandEntry[]): string {
  const width = Math.max(...entries.map((entry) => entry.name.length), 4);
  return entries.map((entry) => `  ${entry.name.padEnd(width)}  ${entry.summary}`).join("\n");
}

function helpText(): string {
  return `plantwire: typed plant data for models, and guarded writes back to the plant.

Usage: plantwire <command> [options]

Commands:
${commandList(commandEntries) || "  (none yet)"}

Run "plantwire <command> --help" for a command's options. Every command takes --help and --verbose.
${exitCodeLine}
`;
}

/** The commands under a first word shared by several (`audit`, `opcua` …), or none. */
function groupOf(word: string | undefined): CommandEntry[] {
  return commandEntries.filter((entry) => entry.name.includes(" ") && entry.name.split(" ")[0] === word);
}

function groupHelp(group: string, entries: readonly CommandEntry[]): string {
  return `Usage: plantwire ${group} <command> [options]

Commands:
${commandList(entries)}

Run "plantwire ${group} <command> --help" for a command's options.
${exitCodeLine}
`;
}

const isHelp = (word: string | undefined) => word === "--help" || word === "-h" || word === "help";

/** Runs the CLI with `argv` (without node and script) and resolves with the exit code. */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  if (argv.length === 0 || isHelp(argv[0])) {
    // "plantwire help audit verify" is "plantwire audit verify --help".
    if (argv[0] === "help" && argv.length > 1) return runCli([...argv.slice(1), "--help"], io);
    io.out(helpText());
    return argv.length === 0 ? exitCodes.usage : exitCodes.ok;
  }
  // Longest match first, so "opcua browse" wins over a hypothetical "opcua".
  const entry = [...commandEntries]
    .sort((a, b) => b.name.length - a.name.length)
    .find((candidate) => candidate.name.split(" ").every((word, index) => argv[index] === word));
  if (!entry) {
    const group = groupOf(argv[0]);
    if (group.length > 0) {
      if (argv.length === 1 || isHelp(argv[1])) {
        io.out(groupHelp(argv[0] as string, group));
        return argv.length === 1 ? exitCodes.usage : exitCodes.ok;
      }
      io.err(`Unknown command "${argv.slice(0, 2).join(" ")}".\n\n${groupHelp(argv[0] as string, group)}`);
      return exitCodes.usage;
    }
    io.err(`Unknown command "${argv.join(" ")}". Run "plantwire --help" for the list.\n`);
    return exitCodes.usage;
  }
  const command = await entry.load();
  const rest = argv.slice(entry.name.split(" ").length);
  // Only before "--": after it, "--help" is an argument (a file name, a script's own flag).
  const flags = rest.includes("--") ? rest.slice(0, rest.indexOf("--")) : rest;
  if (flags.includes("--help") || flags.includes("-h")) {
    // A command whose usage does not say what a wrong command line exits with gets the common exit codes.
    const exits = /wrong command line/.test(command.usage) ? "" : `${exitCodeLine}\n`;
    io.out(`${command.summary}\n\n${command.usage}\n${exits}`);
    return exitCodes.ok;
  }
  try {
    return await command.run(rest, io);
  } catch (error) {
    if (CliUsageError.isInstance(error)) {
      io.err(`${error.message}\n\n${command.usage}\n`);
      return exitCodes.usage;
    }
    io.err(`${error instanceof Error ? error.message : String(error)}\n`);
    return PlantwireError.isInstance(error) && error.code === "PW_CONFIG" ? exitCodes.config : exitCodes.failure;
  }
}
