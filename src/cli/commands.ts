/**
 * The command registry. Each entry loads its module only when chosen, so `plantwire --help` never loads a protocol
 * library.
 */
import type { CliCommand } from "./cli-command.js";

/** A registered command: its name and summary up front, its implementation on demand. */
export interface CommandEntry {
  readonly name: string;
  readonly summary: string;
  load(): Promise<CliCommand>;
}

/** Entries for an adapter's commands, each loading the adapter's CLI module (and so its library) only when chosen. */
function adapterCommands(
  protocol: string,
  commands: readonly (readonly [name: string, summary: string])[],
  load: () => Promise<readonly CliCommand[]>,
): CommandEntry[] {
  return commands.map(([name, summary]) => ({
    name,
    summary,
    async load() {
      const command = (await load()).find((candidate) => candidate.name === name);
      if (!command) throw new Error(`the ${protocol} adapter has no "${name}" command`);
      return command;
    },
  }));
}

/** Every command the CLI knows. */
export const commandEntries: readonly CommandEntry[] = [
  {
    name: "sim",
    summary: "Run the plant simulator (Modbus, OPC UA, MQTT, SQLite historian)",
    load: async () => (await import("./sim-command.js")).simCommand,
  },
  {
    name: "doctor",
    summary: "Check Node.js, the packages each feature needs (one npm i line), simulator ports and services",
    load: async () => (await import("./doctor-command.js")).doctorCommand,
  },
  {
    name: "run",
    summary: "Run a glue script (.js/.mjs, or .ts with tsx installed)",
    load: async () => (await import("./run-command.js")).runCommand,
  },
  {
    name: "read",
    summary: "Read one snapshot of a site and print it as a table",
    load: async () => (await import("./read-commands.js")).readCommand,
  },
  {
    name: "watch",
    summary: "Watch a site live as a table",
    load: async () => (await import("./read-commands.js")).watchCommand,
  },
  {
    name: "serve",
    summary: "Run a site (adapters, guard, loops) and serve its operator console and API",
    load: async () => (await import("./serve-command.js")).serveCommand,
  },
  {
    name: "mcp",
    summary: "Serve a site to an MCP client over stdio: read tags, propose writes (a person decides)",
    load: async () => (await import("./mcp-command.js")).mcpCommand,
  },
  {
    name: "proposals",
    summary: "List proposals waiting for approval",
    load: async () => (await import("./approval-commands.js")).proposalsCommand,
  },
  {
    name: "approve",
    summary: "Approve a pending proposal",
    load: async () => (await import("./approval-commands.js")).approveCommand,
  },
  {
    name: "reject",
    summary: "Reject a pending proposal",
    load: async () => (await import("./approval-commands.js")).rejectCommand,
  },
  {
    name: "audit verify",
    summary: "Verify an audit log's hash chain (with its key and anchor)",
    load: async () => (await import("./audit-commands.js")).auditVerifyCommand,
  },
  {
    name: "audit recover",
    summary: "Keep a damaged audit log as evidence and start a new chain linked to it",
    load: async () => (await import("./audit-commands.js")).auditRecoverCommand,
  },
  {
    name: "audit show",
    summary: "Show an audit log, one line per record, and check its chain",
    load: async () => (await import("./audit-show.js")).auditShowCommand,
  },
  // The console's people: one module for all six, loaded only when one is chosen.
  ...adapterCommands(
    "users",
    [
      ["users add", "Add a person who may use the console, with a role"],
      ["users passwd", "Set a person's password (their console sessions end)"],
      ["users role", "Change a person's role (their console sessions end)"],
      ["users remove", "Remove a person and their API tokens (their sessions end)"],
      ["users list", "List the people, their roles and their API token ids"],
      ["users token", "Make an API token for a person (shown once), or revoke their tokens"],
    ],
    async () => (await import("./users-command.js")).usersCommands,
  ),
  ...adapterCommands(
    "modbus",
    [["modbus probe", "Read a register range and show every type and word order side by side"]],
    async () => (await import("../../adapters/modbus/modbus-cli.js")).commands,
  ),
  ...adapterCommands(
    "opcua",
    [
      ["opcua browse", "Walk an OPC UA server's address space and write a typed tag-map file"],
      ["opcua trust", "Show an OPC UA server's certificate fingerprint and trust it on confirmation"],
    ],
    async () => (await import("../../adapters/opcua/opcua-cli.js")).commands,
  ),
  ...adapterCommands(
    "mqtt",
    [
      ["mqtt broker", "Run the embedded MQTT broker until Ctrl-C"],
      ["mqtt watch", "Print the messages on a topic filter (JSON and Sparkplug B decoded)"],
    ],
    async () => (await import("../../adapters/mqtt/mqtt-cli.js")).commands,
  ),
  ...adapterCommands(
    "sql",
    [["sql init", "Create the plantwire historian/events schema in a database"]],
    async () => (await import("../../adapters/sql/sql-cli.js")).commands,
  ),
];
