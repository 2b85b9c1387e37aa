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

/** Every command the CLI knows. */
export const commandEntries: readonly CommandEntry[] = [
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
    summary: "Verify an audit log's hash chain",
    load: async () => (await import("./audit-commands.js")).auditVerifyCommand,
  },
];
