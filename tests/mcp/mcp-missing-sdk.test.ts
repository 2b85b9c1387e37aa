/**
 * The MCP SDK is an optional peer: in a project without it, `plantwire mcp` names the one package to install (with
 * the versions plantwire supports) before it opens any device, and prints nothing on standard output.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startCli } from "../support/cli-child.js";
import { type ProjectCopy, projectWithout } from "../support/project-without.js";

let project: ProjectCopy;

beforeAll(() => {
  project = projectWithout(["@modelcontextprotocol"]);
});

afterAll(() => project?.remove());

describe("plantwire mcp without @modelcontextprotocol/sdk", () => {
  it("names the package and its install line, and writes nothing to standard output", async () => {
    const site = join(project.folder, "site.yaml");
    // An address nothing answers on: the missing package must be named before any device is tried.
    writeFileSync(
      site,
      [
        "adapters:",
        '  drive: { kind: modbus, url: "modbus+tcp://127.0.0.1:9", unit: 1 }',
        "tags:",
        "  speed: { type: float, unit: rpm, source: { adapter: drive, holding: 0, dataType: uint16 } }",
        "",
      ].join("\n"),
    );
    const child = startCli(["mcp", "--site", site], { bin: project.bin, cwd: project.folder });
    expect(await child.exited).not.toBe(0);
    expect(child.stderr()).toContain("npm i @modelcontextprotocol/sdk@^1.32.0");
    expect(child.stdout()).toBe("");
  });
});
