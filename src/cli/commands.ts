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
export const commandEntries: readonly CommandEntry[] = [];
