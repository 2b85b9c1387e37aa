/** The shared flag parser, and the one place where messages joined from parts lose a doubled full stop. */
import { ConfigError, ConnectionError } from "plantwire";
import { describe, expect, expectTypeOf, it } from "vitest";
import {
  booleanFlag,
  CliUsageError,
  choiceFlag,
  integerFlag,
  numberFlag,
  parseFlags,
  repeatableFlag,
  stringFlag,
} from "../../src/cli/cli-flags.js";

const spec = {
  site: stringFlag({ required: true, nonBlank: true, hint: "site.yaml" }),
  "interval-ms": integerFlag({ min: 100, max: 60_000, default: 1000, unit: "ms" }),
  ratio: numberFlag({ min: 0, max: 1 }),
  area: choiceFlag(["holding", "input"], { default: "holding" }),
  fault: repeatableFlag(),
  json: booleanFlag(),
} as const;

const usageError = (run: () => unknown) => {
  try {
    run();
  } catch (error) {
    expect(CliUsageError.isInstance(error)).toBe(true);
    return (error as Error).message;
  }
  throw new Error("expected a usage error");
};

describe("parseFlags", () => {
  it("types and fills in every value", () => {
    const { values, positionals } = parseFlags(
      ["--site", "a.yaml", "--ratio=0.25", "--fault", "x", "--fault", "y", "--json", "file"],
      spec,
      { positionals: { names: ["<file>"] } },
    );
    expect(values).toEqual({
      site: "a.yaml",
      "interval-ms": 1000,
      ratio: 0.25,
      area: "holding",
      fault: ["x", "y"],
      json: true,
      verbose: false,
    });
    expect(positionals).toEqual(["file"]);
    expectTypeOf(values.site).toEqualTypeOf<string>();
    expectTypeOf(values["interval-ms"]).toEqualTypeOf<number>();
    expectTypeOf(values.ratio).toEqualTypeOf<number | undefined>();
    expectTypeOf(values.area).toEqualTypeOf<"holding" | "input">();
    expectTypeOf(values.fault).toEqualTypeOf<string[]>();
    expectTypeOf(values.verbose).toEqualTypeOf<boolean>();
  });

  it("names the flag and what it accepts in every refusal", () => {
    const parse = (...args: string[]) => usageError(() => parseFlags(args, spec));
    expect(parse("--site", "a", "--bogus")).toBe(
      "Unknown option --bogus. Options: --site, --interval-ms, --ratio, --area, --fault, --json, --verbose, --help.",
    );
    expect(parse("--site", "a", "--interval-ms", "abc")).toBe(
      '--interval-ms "abc" is not a whole number. Fix: give a whole number from 100 to 60000 (ms).',
    );
    expect(parse("--site", "a", "--interval-ms", "99")).toBe(
      "--interval-ms 99 is out of range. Fix: give a whole number from 100 to 60000 (ms).",
    );
    expect(parse("--site", "a", "--interval-ms", " ")).toContain('--interval-ms " " is not');
    expect(parse("--site", "a", "--interval-ms", "0x10")).toContain("is not");
    expect(parse("--site", "a", "--ratio", "2")).toBe("--ratio 2 is out of range. Fix: give a number from 0 to 1.");
    expect(parse("--site", "a", "--ratio", "x")).toBe('--ratio "x" is not a number. Fix: give a number from 0 to 1.');
    expect(parse("--site", "a", "--area", "coil")).toContain('--area "coil" is not one of holding, input');
    expect(parse("--site")).toBe("--site needs a value: a value such as site.yaml.");
    expect(parse("--site", "  ")).toContain("--site cannot be blank");
    expect(parse()).toBe("Missing --site: give a value such as site.yaml.");
    expect(parse("--site", "a", "--json=no")).toBe('--json takes no value (got "no").');
    expect(parse("--site", "a", "extra")).toBe('Unexpected argument "extra": this command takes none.');
    expect(parse("--site", "a", "--site", "b")).toBe("--site is given more than once. Fix: give it once.");
  });

  it("takes negative numbers and values that start with a dash as values, and all after -- as arguments", () => {
    const signed = { offset: integerFlag({ min: -10, max: 10 }) };
    expect(parseFlags(["--offset", "-3"], signed).values.offset).toBe(-3);
    const { positionals } = parseFlags(["--", "--help", "-x"], {}, { positionals: { names: [], optional: 5 } });
    expect(positionals).toEqual(["--help", "-x"]);
  });

  it("counts positional arguments", () => {
    const two = { positionals: { names: ["<url>", "<filter>"] } };
    expect(usageError(() => parseFlags(["mqtt://x"], {}, two))).toBe("Missing <filter>.");
    expect(usageError(() => parseFlags(["a", "b", "c"], {}, two))).toBe('Unexpected argument "c".');
    expect(parseFlags(["a", "b"], {}, two).positionals).toEqual(["a", "b"]);
  });
});

describe("messages joined from parts", () => {
  it("never carry a doubled full stop before the fix", () => {
    const joined = new ConnectionError(`Cannot reach the model: ${"Connection error."}. Fix: start the server`);
    expect(joined.message).toBe("Cannot reach the model: Connection error. Fix: start the server");
    const config = new ConfigError([{ path: "site", message: "Invalid input.", fix: "give a site name" }]);
    expect(config.message).toContain("site: Invalid input. Fix: give a site name");
    expect(config.message).not.toContain("..");
    expect(new ConnectionError("Cannot connect: Connection error.. Try again.").message).toBe(
      "Cannot connect: Connection error. Try again.",
    );
    expect(new ConnectionError("Cannot connect: Connection error.").message).toBe("Cannot connect: Connection error.");
    // An ellipsis is left alone.
    expect(new ConnectionError("waiting... Fix: wait").message).toBe("waiting... Fix: wait");
  });
});
