/**
 * `plantwire`: the command line for plant staff and integrators. `plantwire --help` lists the commands;
 * `plantwire <command> --help` explains one.
 */
import { PlantwireError } from "../errors.js";
import { type CliIo, exitCodes } from "./cli-command.js";
import { commandEntries } from "./commands.js";

function helpText(): string {
  const width = Math.max(...commandEntries.map((entry) => entry.name.length), 4);
  const list = commandEntries.map((entry) => `  ${entry.name.padEnd(width)}  ${entry.summary}`).join("\n");
  return `plantwire: typed plant data for models, and guarded writes back to the plant.

Usage: plantwire <command> [options]

Commands:
${list || "  (none yet)"}

Run "plantwire <command> --help" for a command's options.
Exit codes: 0 ok, 1 failure, 2 wrong usage, 3 invalid configuration.
`;
}

/** Runs the CLI with `argv` (without node and script) and resolves with the exit code. */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  if (argv.length === 0 || argv[0] === "--help" || argv[0] === "-h" || argv[0] === "help") {
    io.out(helpText());
    return argv.length === 0 ? exitCodes.usage : exitCodes.ok;
  }
  // Longest match first, so "opcua browse" wins over a hypothetical "opcua".
  const entry = [...commandEntries]
    .sort((a, b) => b.name.length - a.name.length)
    .find((candidate) => candidate.name.split(" ").every((word, index) => argv[index] === word));
  if (!entry) {
    io.err(`Unknown command "${argv.join(" ")}". Run "plantwire --help" for the list.\n`);
    return exitCodes.usage;
  }
  const command = await entry.load();
  const rest = argv.slice(entry.name.split(" ").length);
  if (rest.includes("--help") || rest.includes("-h")) {
    io.out(`${command.summary}\n\n${command.usage}\n`);
    return exitCodes.ok;
  }
  try {
    return await command.run(rest, io);
  } catch (error) {
    io.err(`${error instanceof Error ? error.message : String(error)}\n`);
    return PlantwireError.isInstance(error) && error.code === "PW_CONFIG" ? exitCodes.config : exitCodes.failure;
  }
}
