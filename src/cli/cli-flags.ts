/**
 * The one flag parser every `plantwire` command uses, so they all behave alike: an unknown flag, a missing value or a
 * value out of bounds is a usage error (exit 2) that names the flag and what it accepts; numbers are typed and checked
 * against their bounds here, once, instead of by each command.
 *
 * ```ts
 * const { values, positionals } = parseFlags(args, {
 *   site: stringFlag({ required: true, hint: "site.yaml" }),
 *   "interval-ms": integerFlag({ min: 100, max: 3_600_000, default: 1000, unit: "ms" }),
 *   json: booleanFlag(),
 * }, { positionals: { names: [] } });
 * values["interval-ms"]; // number
 * ```
 *
 * Throw {@link CliUsageError} from a command for any other wrong command line: `runCli` prints it with the command's
 * usage and exits 2. Every command also takes `--verbose` ({@link commonFlags}); `--help` never reaches a command.
 */
import { parseArgs } from "node:util";

const usageMarker = Symbol.for("plantwire.cli.usage-error");

/** The command line was wrong (unknown flag, missing argument, bad value). `runCli` turns it into exit code 2. */
export class CliUsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "CliUsageError";
    Object.defineProperty(this, usageMarker, { value: true });
  }

  /** True for a usage error, even one thrown by another installed copy of plantwire. */
  static isInstance(error: unknown): error is CliUsageError {
    return typeof error === "object" && error !== null && (error as Record<symbol, unknown>)[usageMarker] === true;
  }
}

/** One flag: how it is written and how its text becomes a value. Make them with the `…Flag()` functions below. */
export interface Flag<T> {
  readonly type: "string" | "boolean";
  /** A one-letter alias, e.g. `v` for `-v`. */
  readonly short?: string;
  /** The value when the flag is not given. */
  readonly default?: T;
  /** Refuse the command line when the flag is missing. */
  readonly required?: boolean;
  /** The flag may be given more than once; its value is then the list of what was given, in order. */
  readonly multiple?: boolean;
  /** What the flag accepts, for messages: "a whole number from 100 to 3600000 (ms)". */
  readonly accepts: string;
  /** Turns the text given into the value; throws a CliUsageError naming the flag. */
  read(text: string, flag: string): T;
}

// A flag always has a value when it has a default or is required.
type ValueOf<F> =
  F extends Flag<infer T>
    ? F extends { readonly required: true } | { readonly default: unknown }
      ? T
      : T | undefined
    : never;

/** The values of parsed flags, typed from their specs. */
export type FlagValues<S extends Record<string, Flag<unknown>>> = { -readonly [K in keyof S]: ValueOf<S[K]> };

interface CommonOptions {
  short?: string;
}

/** A flag that is on when given (`--json`). Never takes a value. */
export function booleanFlag(options: CommonOptions = {}): Flag<boolean> & { readonly default: boolean } {
  return { type: "boolean", default: false, accepts: "no value", read: () => true, ...options };
}

/** A text flag (`--site site.yaml`). `nonBlank` refuses an empty or all-space value. */
export function stringFlag(
  options: CommonOptions & { default: string; nonBlank?: boolean; hint?: string },
): Flag<string> & { readonly default: string };
export function stringFlag(
  options: CommonOptions & { required: true; nonBlank?: boolean; hint?: string },
): Flag<string> & { readonly required: true };
export function stringFlag(options?: CommonOptions & { nonBlank?: boolean; hint?: string }): Flag<string>;
export function stringFlag(
  options: CommonOptions & { default?: string; required?: boolean; nonBlank?: boolean; hint?: string } = {},
): Flag<string> {
  const { nonBlank, hint, ...rest } = options;
  const accepts = hint ? `a value such as ${hint}` : "a value";
  return {
    type: "string",
    accepts,
    ...rest,
    read(text, flag) {
      if (nonBlank && text.trim() === "") throw new CliUsageError(`${flag} cannot be blank. Fix: give ${accepts}.`);
      return text;
    },
  };
}

interface NumberOptions extends CommonOptions {
  min: number;
  max: number;
  /** Shown after the range, e.g. "ms". */
  unit?: string;
}

function numberReader(whole: boolean, { min, max, unit }: NumberOptions) {
  const accepts = `${whole ? "a whole number" : "a number"} from ${min} to ${max}${unit ? ` (${unit})` : ""}`;
  return {
    type: "string" as const,
    accepts,
    read(text: string, flag: string): number {
      // Number("") is 0 and Number(" 5") is 5: only plain decimal notation is taken as a number.
      const pattern = whole ? /^[+-]?\d+$/ : /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;
      const value = pattern.test(text.trim()) ? Number(text) : Number.NaN;
      if (!Number.isFinite(value)) {
        throw new CliUsageError(
          `${flag} "${text}" is not ${whole ? "a whole number" : "a number"}. Fix: give ${accepts}.`,
        );
      }
      if (value < min || value > max) throw new CliUsageError(`${flag} ${text} is out of range. Fix: give ${accepts}.`);
      return value;
    },
  };
}

/** A text flag that may be given more than once (`--fault a --fault b`): the list, empty when not given. */
export function repeatableFlag(
  options: CommonOptions & { hint?: string } = {},
): Flag<string[]> & { readonly default: string[] } {
  const { hint, ...rest } = options;
  return {
    type: "string",
    multiple: true,
    default: [],
    accepts: hint ? `a value such as ${hint}` : "a value",
    read: (text) => [text],
    ...rest,
  };
}

/** A whole-number flag checked against its bounds (`--interval-ms 1000`). */
export function integerFlag(options: NumberOptions & { default: number }): Flag<number> & { readonly default: number };
export function integerFlag(options: NumberOptions & { required: true }): Flag<number> & { readonly required: true };
export function integerFlag(options: NumberOptions): Flag<number>;
export function integerFlag(options: NumberOptions & { default?: number; required?: boolean }): Flag<number> {
  const { min, max, unit, ...rest } = options;
  return { ...numberReader(true, { min, max, ...(unit ? { unit } : {}) }), ...rest };
}

/** A number flag (decimals allowed) checked against its bounds. */
export function numberFlag(options: NumberOptions & { default: number }): Flag<number> & { readonly default: number };
export function numberFlag(options: NumberOptions): Flag<number>;
export function numberFlag(options: NumberOptions & { default?: number }): Flag<number> {
  const { min, max, unit, ...rest } = options;
  return { ...numberReader(false, { min, max, ...(unit ? { unit } : {}) }), ...rest };
}

/** A flag that takes one of a few words (`--area holding|input`). */
export function choiceFlag<const C extends string>(
  choices: readonly C[],
  options: CommonOptions & { default: C },
): Flag<C> & { readonly default: C };
export function choiceFlag<const C extends string>(choices: readonly C[], options?: CommonOptions): Flag<C>;
export function choiceFlag<const C extends string>(
  choices: readonly C[],
  options: CommonOptions & { default?: C } = {},
): Flag<C> {
  const accepts = `one of ${choices.join(", ")}`;
  return {
    type: "string",
    accepts,
    ...options,
    read(text, flag) {
      if (!(choices as readonly string[]).includes(text)) {
        throw new CliUsageError(`${flag} "${text}" is not ${accepts}. Fix: give ${accepts}.`);
      }
      return text as C;
    },
  };
}

/** How many positional arguments a command takes, and their names for messages. */
export interface PositionalSpec {
  /** Names of the expected arguments in order, e.g. ["<url>", "<filter>"]; all of them are required. */
  readonly names: readonly string[];
  /** Optional arguments after the required ones; `Infinity` for any number (e.g. a script's own arguments). */
  readonly optional?: number;
}

/**
 * Flags every command accepts. `--verbose` shows the full detail of what went wrong (and turns on debug logging);
 * `--help` is answered by `runCli` before a command runs.
 */
export const commonFlags = { verbose: booleanFlag() } as const;

/** The result of {@link parseFlags}. */
export interface ParsedFlags<S extends Record<string, Flag<unknown>>> {
  readonly values: FlagValues<S> & FlagValues<typeof commonFlags>;
  readonly positionals: string[];
}

const flagList = (flags: Record<string, Flag<unknown>>) =>
  Object.keys(flags)
    .map((name) => `--${name}`)
    .join(", ");

/**
 * Parses `args` against `flags`. An unknown flag, a flag without its value, a value given to a switch, a value out of
 * bounds, a flag given twice, a missing required flag or a wrong number of positional arguments throws a {@link CliUsageError} that names
 * it and says what is accepted. `--` ends the flags: what follows is positional.
 */
export function parseFlags<const S extends Record<string, Flag<unknown>>>(
  args: readonly string[],
  ownFlags: S,
  options: { positionals?: PositionalSpec } = {},
): ParsedFlags<S> {
  const flags: Record<string, Flag<unknown>> = { ...ownFlags, ...("verbose" in ownFlags ? {} : commonFlags) };
  const config = Object.fromEntries(
    Object.entries(flags).map(([name, flag]) => [
      name,
      { type: flag.type, ...(flag.short ? { short: flag.short } : {}), ...(flag.multiple ? { multiple: true } : {}) },
    ]),
  );
  // Not strict: the tokens tell us exactly which flag was wrong, so the message can name it and list the known ones.
  const { tokens } = parseArgs({
    args: [...args],
    options: config,
    strict: false,
    allowPositionals: true,
    tokens: true,
  });
  const values: Record<string, unknown> = {};
  const positionals: string[] = [];
  for (const token of tokens) {
    if (token.kind === "positional") positionals.push(token.value);
    if (token.kind !== "option") continue;
    const flag = flags[token.name];
    if (!flag) {
      const known = flagList(flags);
      throw new CliUsageError(`Unknown option ${token.rawName}.${known ? ` Options: ${known}, --help.` : ""}`);
    }
    const name = `--${token.name}`;
    // The last of two would win silently: `approve --by alice --by bob` must not pick one of them for the person.
    if (!flag.multiple && values[token.name] !== undefined) {
      throw new CliUsageError(`${name} is given more than once. Fix: give it once.`);
    }
    if (flag.type === "boolean") {
      if (token.value !== undefined) throw new CliUsageError(`${name} takes no value (got "${token.value}").`);
      values[token.name] = true;
      continue;
    }
    if (token.value === undefined) throw new CliUsageError(`${name} needs a value: ${flag.accepts}.`);
    const value = flag.read(token.value, name);
    values[token.name] = flag.multiple
      ? [...((values[token.name] as unknown[]) ?? []), ...(value as unknown[])]
      : value;
  }
  for (const [name, flag] of Object.entries(flags)) {
    if (values[name] !== undefined) continue;
    if (flag.required) throw new CliUsageError(`Missing --${name}: give ${flag.accepts}.`);
    if (flag.default !== undefined) values[name] = Array.isArray(flag.default) ? [...flag.default] : flag.default;
  }
  const expected = options.positionals ?? { names: [] };
  const missing = expected.names[positionals.length];
  if (missing !== undefined) throw new CliUsageError(`Missing ${missing}.`);
  const most = expected.names.length + (expected.optional ?? 0);
  if (positionals.length > most) {
    const extra = positionals[most] as string;
    throw new CliUsageError(
      most === 0 ? `Unexpected argument "${extra}": this command takes none.` : `Unexpected argument "${extra}".`,
    );
  }
  return { values: values as ParsedFlags<S>["values"], positionals };
}
