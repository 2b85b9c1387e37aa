/**
 * Logging: plantwire takes any object with debug/info/warn/error (console, pino, winston, bunyan all fit) in the
 * plant, every adapter, the guard and loops. Without one, lines go to stderr at the level named by PLANTWIRE_LOG
 * (default "info"), so the chatty levels, including what protocol libraries print, stay silent unless asked for.
 */
import { inspect } from "node:util";
import { PlantwireError } from "./errors.js";

/**
 * What plantwire logs through. Each method takes one finished line (no format arguments), so that printf-style
 * loggers (pino, winston) and `console` all print the same text.
 */
export interface Logger {
  /** Detail for finding a fault: connections, runs, proposals, what protocol libraries print, stacks. */
  debug(message: string): void;
  /** Things a person running the process wants to know (shutting down, stopped). */
  info(message: string): void;
  /** Something is wrong or risky but work goes on (an insecure connection, a unit mismatch). */
  warn(message: string): void;
  /** Something failed: a loop run, a background poll, a sink flush. One line, with its fix. */
  error(message: string): void;
}

/** The levels, most detailed first; "silent" prints nothing. */
export type LogLevel = "debug" | "info" | "warn" | "error" | "silent";

const levels: readonly LogLevel[] = ["debug", "info", "warn", "error", "silent"];

/** Prints nothing. Pass it to silence plantwire entirely. */
export const silentLogger: Logger = Object.freeze({
  debug() {},
  info() {},
  warn() {},
  error() {},
});

/** True for any object with debug, info, warn and error methods (what option schemas accept as a logger). */
export function isLogger(value: unknown): value is Logger {
  return (
    typeof value === "object" &&
    value !== null &&
    ["debug", "info", "warn", "error"].every((level) => typeof (value as Record<string, unknown>)[level] === "function")
  );
}

/** Reads a level name (as in PLANTWIRE_LOG); undefined when blank or unknown. */
export function parseLogLevel(text: string | undefined): LogLevel | undefined {
  const wanted = text?.trim().toLowerCase();
  return levels.find((level) => level === wanted);
}

/** Options of {@link environmentLogger}. */
export interface EnvironmentLoggerOptions {
  /** The lowest level printed. @default PLANTWIRE_LOG, else "info" */
  level?: LogLevel;
  /** Where each line goes (with its newline). @default process.stderr */
  write?: (line: string) => void;
  /** @default process.env */
  env?: Readonly<Record<string, string | undefined>>;
}

let warnedAbout: string | undefined;

/**
 * A logger that writes `[plantwire] <level>: <message>` lines to stderr from the level in PLANTWIRE_LOG
 * (debug, info, warn, error or silent) upwards; `info` when unset. The CLI's `--verbose` sets PLANTWIRE_LOG=debug.
 */
export function environmentLogger(options: EnvironmentLoggerOptions = {}): Logger {
  const env = options.env ?? process.env;
  const write = options.write ?? ((line: string) => void process.stderr.write(line));
  const named = env.PLANTWIRE_LOG;
  const fromEnvironment = parseLogLevel(named);
  if (!options.level && named && !fromEnvironment && warnedAbout !== named) {
    // Said once per process: a typo here would otherwise silently keep the default.
    warnedAbout = named;
    write(`[plantwire] warn: PLANTWIRE_LOG="${named}" is not a level. Fix: use debug, info, warn, error or silent\n`);
  }
  const threshold = levels.indexOf(options.level ?? fromEnvironment ?? "info");
  const at = (level: Exclude<LogLevel, "silent">) =>
    levels.indexOf(level) >= threshold ? (message: string) => write(`[plantwire] ${level}: ${message}\n`) : () => {};
  return { debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") };
}

const wrappers = new WeakMap<Logger, Logger>();
const resolved = new WeakSet<Logger>();

/**
 * The logger to use: the one given, else {@link environmentLogger} (read now, so a later PLANTWIRE_LOG counts).
 * A given logger is called as a method (pino and winston need their `this`), and one that throws is ignored: logging
 * from a timer must never turn into an uncaught exception.
 */
export function resolveLogger(logger: Logger | undefined): Logger {
  if (!logger) return environmentLogger();
  if (resolved.has(logger)) return logger;
  // One wrapper per logger, so that parts sharing a logger can be told apart from parts with their own.
  const known = wrappers.get(logger);
  if (known) return known;
  const guarded = (level: keyof Logger) => (message: string) => {
    try {
      logger[level](message);
    } catch {
      // Nowhere better to report it: the logger is the place reports go.
    }
  };
  const wrapper: Logger = {
    debug: guarded("debug"),
    info: guarded("info"),
    warn: guarded("warn"),
    error: guarded("error"),
  };
  wrappers.set(logger, wrapper);
  resolved.add(wrapper);
  return wrapper;
}

/**
 * An error as one line: plantwire errors with their code, others with their name and system code (ECONNREFUSED).
 * Multi-line messages (a model answer's list of problems) are joined with "; ".
 */
export function errorLine(error: unknown): string {
  let text: string;
  if (PlantwireError.isInstance(error)) text = `${error.message} [${error.code}]`;
  else if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    text = `${error.name}: ${error.message}${typeof code === "string" ? ` (${code})` : ""}`;
  } else text = String(error);
  const [first = "", ...rest] = text
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line !== "");
  return rest.length === 0 ? first : `${first} ${rest.map((line) => line.replace(/^-\s*/, "")).join("; ")}`;
}

/** An error in full, with its stack and every cause, for the debug level. */
export function errorDetail(error: unknown): string {
  return inspect(error, { depth: 6, breakLength: 120 });
}

/** Logs a failure as one error line (what failed, why, the fix), and its stack and causes at debug only. */
export function logFailure(logger: Logger, what: string, error: unknown): void {
  logger.error(`${what}: ${errorLine(error)}`);
  logger.debug(`${what}, in full: ${errorDetail(error)}`);
}

/** A logger whose target can be handed over later: what an adapter logs through before and after its plant exists. */
export interface SwitchableLogger extends Logger {
  /** The logger lines go to now. */
  target(): Logger;
  /** Takes `logger` as the target, unless one was given at creation (an adapter's own logger wins over its plant's). */
  adopt(logger: Logger): void;
}

/** Creates a {@link SwitchableLogger}: `own` when given, else the plant's once adopted, else the environment's. */
export function switchableLogger(own?: Logger): SwitchableLogger {
  const fixed = own ? resolveLogger(own) : undefined;
  let adopted: Logger | undefined;
  const target = () => fixed ?? adopted ?? environmentLogger();
  return {
    target,
    adopt(logger) {
      if (!fixed) adopted = resolveLogger(logger);
    },
    debug: (message) => target().debug(message),
    info: (message) => target().info(message),
    warn: (message) => target().warn(message),
    error: (message) => target().error(message),
  };
}
