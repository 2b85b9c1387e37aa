/** The shape of one `plantwire` CLI command. Adapters contribute commands in `adapters/<protocol>/<protocol>-cli.ts`. */

/** Where a command writes, and reads typed lines. Tests pass their own to capture output and feed input. */
export interface CliIo {
  out(text: string): void;
  err(text: string): void;
  /**
   * Where a command that takes typed commands while it runs (`plantwire sim`) reads them, line by line, whether or
   * not it is a terminal. @default standard input when it is a terminal, else nothing is read
   */
  input?: NodeJS.ReadableStream;
  /**
   * `out` is a terminal, so a live view may redraw in place (`watch`); when false it appends, for a pipe or a file.
   * @default false
   */
  isTerminal?: boolean;
}

/** Exit codes scripts can rely on. */
export const exitCodes = {
  ok: 0,
  /** The command failed at run time (a device did not answer, a check failed). */
  failure: 1,
  /** The command line was wrong (unknown command, bad option). */
  usage: 2,
  /** The configuration is invalid. */
  config: 3,
  /**
   * `audit verify --no-head`: the chain is intact, but without the head file records cut off the end cannot be
   * ruled out. Never 0, so a script cannot take a copy without its head for a complete log.
   */
  endNotChecked: 4,
} as const;

/** One CLI command, e.g. `modbus probe`. */
export interface CliCommand {
  /** The words that select it, e.g. "modbus probe". */
  readonly name: string;
  /** One line for the command list. */
  readonly summary: string;
  /** Usage and options, shown by `--help`. */
  readonly usage: string;
  /**
   * Runs the command with the arguments after its name; resolves with the exit code. It may throw instead: a
   * `CliUsageError` (from `parseFlags`, for a wrong command line) is exit 2, a `ConfigError` exit 3, anything else
   * exit 1, each printed by `runCli`.
   */
  run(args: readonly string[], io: CliIo): Promise<number>;
}
