/**
 * One table over every command in the registry, so a command added later is held to the same conventions without a
 * line here: `--help` exits 0 and prints its usage, an unknown flag exits 2 and is named, every numeric flag refuses
 * text, and values out of its bounds, with 2, naming the flag and the range. Numeric flags are found from the usage
 * (every flag it lists is probed with a value that is no number, followed by an unknown flag, so nothing runs).
 */
import { describe, expect, it } from "vitest";
import { commandEntries } from "../../src/cli/commands.js";
import { runCli } from "../../src/cli/main.js";
import { captureIo } from "../support/capture-io.js";

async function cli(...args: string[]) {
  const io = captureIo();
  const code = await runCli(args, io);
  return { code, stdout: io.stdout, stderr: io.stderr };
}

const names = commandEntries.map((entry) => entry.name);
const groups = [...new Set(names.filter((name) => name.includes(" ")).map((name) => name.split(" ")[0] as string))];

/** The flags a command's usage lists. */
async function flagsInUsage(name: string): Promise<string[]> {
  const { stdout } = await cli(...name.split(" "), "--help");
  return [...new Set([...stdout.matchAll(/(?<![\w-])--([a-z][a-z0-9-]*)/g)].map((match) => match[1] as string))].filter(
    (flag) => flag !== "help",
  );
}

/** A numeric flag's bounds as its refusal states them, or undefined when the flag is not numeric. */
async function numericBounds(name: string, flag: string) {
  // The unknown flag after it makes sure the command line is refused even when --flag takes text.
  const { code, stderr } = await cli(...name.split(" "), `--${flag}`, "not-a-number", "--zz-unknown-flag");
  expect(code, `${name} --${flag} not-a-number`).toBe(2);
  const match = stderr.match(
    /is not an? (?:whole )?number\. Fix: give an? (whole )?number from (-?[\d.e+]+) to (-?[\d.e+]+)/,
  );
  return match ? { whole: match[1] !== undefined, min: Number(match[2]), max: Number(match[3]) } : undefined;
}

describe.each(names)("plantwire %s", (name) => {
  const words = name.split(" ");

  it("--help exits 0 and prints its usage and its exit codes", async () => {
    const help = await cli(...words, "--help");
    expect(help.code).toBe(0);
    expect(help.stdout).toContain(`Usage: plantwire ${name}`);
    expect(help.stdout).toMatch(/Exit[\s\S]*\b2\b/); // says what a wrong command line exits with
    expect(help.stdout).not.toMatch(/(?<!\.)\.\.(?![./])/); // proofread: no doubled full stop
    expect((await cli(...words, "-h")).stdout).toBe(help.stdout);
    expect((await cli("help", ...words)).stdout).toBe(help.stdout);
  });

  it("an unknown flag exits 2 and names it, before anything runs", async () => {
    const run = await cli(...words, "--zz-unknown-flag");
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("--zz-unknown-flag");
    expect(run.stdout).toBe("");
  });

  it("every numeric flag refuses text and values out of its bounds with 2, naming the flag and the range", async () => {
    for (const flag of await flagsInUsage(name)) {
      const bounds = await numericBounds(name, flag);
      if (!bounds) continue;
      const { min, max, whole } = bounds;
      const bad = ["abc", "", String(min - 1), String(max + 1), "1e999", "NaN", ...(whole ? [`${min}.5`] : [])];
      for (const value of bad) {
        const run = await cli(...words, `--${flag}=${value}`);
        expect(run.code, `${name} --${flag}=${value}`).toBe(2);
        expect(run.stderr).toMatch(
          new RegExp(`^--${flag} "?${value.replace(/[.+]/g, "\\$&")}"? is (not|out of range)`),
        );
        expect(run.stderr).toContain(`from ${min} to ${max}`);
      }
    }
  });
});

describe("conventions every command shares", () => {
  it("finds the numeric flags the commands are known to have (so the probe above cannot pass by finding none)", async () => {
    const expected: [string, string][] = [
      ["watch", "interval-ms"],
      ["watch", "count"],
      ["audit show", "last"],
      ["modbus probe", "count"],
      ["modbus probe", "unit"],
      ["mqtt watch", "count"],
      ["mqtt broker", "port"],
      ["approve", "wait-ms"],
      ["opcua browse", "depth"],
    ];
    for (const [name, flag] of expected) {
      expect(await flagsInUsage(name), name).toContain(flag);
      expect(await numericBounds(name, flag), `${name} --${flag}`).toBeDefined();
    }
  });

  it("every group lists its commands with --help (exit 0) and when called bare (exit 2)", async () => {
    expect(groups).toEqual(expect.arrayContaining(["audit", "opcua", "modbus", "mqtt", "sql"]));
    for (const group of groups) {
      const help = await cli(group, "--help");
      expect(help.code, group).toBe(0);
      expect(help.stdout).toContain(`Usage: plantwire ${group} <command>`);
      for (const name of names.filter((candidate) => candidate.startsWith(`${group} `))) {
        expect(help.stdout).toContain(name);
      }
      expect((await cli(group)).code).toBe(2);
      const wrong = await cli(group, "frobnicate");
      expect(wrong.code).toBe(2);
      expect(wrong.stderr).toContain(`Unknown command "${group} frobnicate"`);
    }
  });

  it("a missing argument and a flag without its value are usage errors that name them", async () => {
    const missing = await cli("audit", "show");
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("Missing <audit.jsonl>");
    const noValue = await cli("watch", "--site");
    expect(noValue.code).toBe(2);
    expect(noValue.stderr).toContain("--site needs a value");
    const noSite = await cli("read");
    expect(noSite.code).toBe(2);
    expect(noSite.stderr).toContain("Missing --site");
    const extra = await cli("proposals", "surplus");
    expect(extra.code).toBe(2);
    expect(extra.stderr).toContain('Unexpected argument "surplus"');
    const switchValue = await cli("read", "--site", "x.yaml", "--json=yes");
    expect(switchValue.code).toBe(2);
    expect(switchValue.stderr).toContain("--json takes no value");
  });

  it("a poll interval below 100 ms is refused unless forced", async () => {
    for (const interval of ["0", "1", "99"]) {
      const run = await cli("watch", "--site", "site.yaml", "--interval-ms", interval);
      expect(run.code, interval).toBe(2);
      expect(run.stderr).toContain("--force");
    }
    // Forced, the interval is taken and the command goes on to open the site (which is missing: exit 3).
    const forced = await cli("watch", "--site", "no-such-site.yaml", "--interval-ms", "50", "--force");
    expect(forced.code).toBe(3);
  });

  it("the top-level help lists every command and the exit codes", async () => {
    const help = await cli("--help");
    expect(help.code).toBe(0);
    for (const name of names) expect(help.stdout).toContain(name);
    expect(help.stdout).toContain("0 ok, 1 failure, 2 wrong usage, 3 invalid configuration");
    expect((await cli()).code).toBe(2);
  });
});
