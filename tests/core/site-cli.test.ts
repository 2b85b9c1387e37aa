import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfigError, loadSite } from "plantwire";
import { describe, expect, it } from "vitest";
import { runCli } from "../../src/cli/main.js";
import { captureIo } from "../support/capture-io.js";

function siteFile(text: string, tags?: string): string {
  const folder = mkdtempSync(join(tmpdir(), "plantwire-site-"));
  if (tags) writeFileSync(join(folder, "tags.yaml"), tags);
  writeFileSync(join(folder, "site.yaml"), text);
  return join(folder, "site.yaml");
}

const tagsYaml = `tags:
  speed: { type: float, unit: rpm, resolution: 1, source: { adapter: plc, key: speed } }
  pressure: { type: float, unit: bar, resolution: 0.01, source: { adapter: plc, key: pressure } }
`;

describe("site files and the read command", () => {
  it("loads adapters by kind and the tag file beside the site", async () => {
    const file = siteFile(
      "site: station 7\nadapters:\n  plc: { kind: memory, values: { speed: 1200, pressure: 6.254 } }\ntags: ./tags.yaml\n",
      tagsYaml,
    );
    const site = await loadSite(file);
    expect(site.name).toBe("station 7");
    expect(Object.keys(site.adapters)).toEqual(["plc"]);
    expect(site.adapters.plc?.kind).toBe("memory");
    expect(Object.keys(site.tags)).toEqual(["speed", "pressure"]);
  });

  it("prints one snapshot as a table at each tag's resolution, exit 0 when all are good", async () => {
    const file = siteFile(
      "adapters:\n  plc: { kind: memory, values: { speed: 1200.4, pressure: 6.254 } }\ntags: ./tags.yaml\n",
      tagsYaml,
    );
    const io = captureIo();
    expect(await runCli(["read", "--site", file], io)).toBe(0);
    expect(io.stdout).toMatch(/speed\s+1200\s+rpm\s+good/);
    expect(io.stdout).toMatch(/pressure\s+6\.25\s+bar\s+good/);
  });

  it("shows device text quoted, with what a terminal would act on escaped", async () => {
    const file = siteFile(
      'adapters:\n  plc: { kind: memory, values: { alarm: "HIGH TEMP\\u001b[2J\\u202Eok" } }\n' +
        "tags:\n  alarm: { type: text, maxLength: 200, source: { adapter: plc, key: alarm } }\n",
    );
    const io = captureIo();
    expect(await runCli(["read", "--site", file], io)).toBe(0);
    expect(io.stdout).toContain('alarm  "HIGH TEMP\\u001b[2J\\u202eok"');
    for (const character of ["\u001b", "\u202E"]) expect(io.stdout).not.toContain(character);
  });

  it("exits 1 when a tag is bad, and 3 with every config problem named", async () => {
    const partial = siteFile("adapters:\n  plc: { kind: memory, values: { speed: 1 } }\ntags: ./tags.yaml\n", tagsYaml);
    const io = captureIo();
    expect(await runCli(["read", "--site", partial], io)).toBe(1);
    expect(io.stdout).toMatch(/pressure\s+—\s+bar\s+bad \(config-error\)/);

    const broken = siteFile("adapters:\n  plc: { kind: modbsu }\n  other: 5\ntags: ./tags.yaml\nextra: 1\n", tagsYaml);
    const error = await loadSite(broken).catch((caught: unknown) => caught);
    expect(ConfigError.isInstance(error)).toBe(true);
    expect((error as ConfigError).issues.map((issue) => issue.path).sort()).toEqual(
      ["adapters.other", "adapters.plc.kind", "extra"].sort(),
    );
    const cli = captureIo();
    expect(await runCli(["read", "--site", broken], cli)).toBe(3);
    expect(cli.stderr).toContain("adapters.plc.kind");
  });
});

describe("the run command", () => {
  it("runs JavaScript and TypeScript glue scripts, and names a missing script", async () => {
    const folder = mkdtempSync(join(tmpdir(), "plantwire-run-"));
    const marker = join(folder, "ran.txt");
    writeFileSync(
      join(folder, "glue.mjs"),
      `import { writeFileSync } from "node:fs"; writeFileSync(${JSON.stringify(marker)}, "js");`,
    );
    writeFileSync(
      join(folder, "glue.ts"),
      `import { appendFileSync } from "node:fs"; const kind: string = "ts"; appendFileSync(${JSON.stringify(marker)}, kind);`,
    );
    expect(await runCli(["run", join(folder, "glue.mjs")], captureIo())).toBe(0);
    expect(await runCli(["run", join(folder, "glue.ts")], captureIo())).toBe(0);
    expect(readFileSync(marker, "utf8")).toBe("jsts");
    const missing = captureIo();
    expect(await runCli(["run", join(folder, "nope.ts")], missing)).toBe(1);
    expect(missing.stderr).toContain("No script at");
  });
});
