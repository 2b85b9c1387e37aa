/**
 * Packs the real tarball (which builds it), unpacks it into a scratch project whose node_modules holds only
 * plantwire and its required dependencies (zod, yaml), and loads every entry with both `require` and `import`.
 * Because no protocol library exists in that scratch project, loading the core there also proves that the core
 * imports none of them.
 */
import { execFileSync } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const root = fileURLToPath(new URL("../..", import.meta.url));
const entries = [
  "plantwire",
  "plantwire/testing",
  "plantwire/modbus",
  "plantwire/opcua",
  "plantwire/mqtt",
  "plantwire/sql",
];
const protocolLibraries = ["node-opcua", "modbus-serial", "mqtt", "pg", "mysql2", "better-sqlite3"];
let scratch: string;

function node(args: string[]): string {
  return execFileSync(process.execPath, args, { cwd: scratch, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), "plantwire-pack-"));
  // Build first (quietly), then pack without lifecycle scripts so stdout is only npm's JSON.
  execFileSync("npm", ["run", "build"], { cwd: root, stdio: "ignore" });
  const out = execFileSync("npm", ["pack", "--json", "--ignore-scripts", "--pack-destination", scratch], {
    cwd: root,
    encoding: "utf8",
  });
  const [{ filename }] = JSON.parse(out) as [{ filename: string }];
  const target = join(scratch, "node_modules", "plantwire");
  await mkdir(target, { recursive: true });
  execFileSync("tar", ["-xzf", join(scratch, filename), "-C", target, "--strip-components=1"]);
  for (const dependency of ["zod", "yaml"]) {
    await symlink(join(root, "node_modules", dependency), join(scratch, "node_modules", dependency), "dir");
  }
  await writeFile(join(scratch, "package.json"), JSON.stringify({ name: "scratch", private: true }));
}, 120_000);

afterAll(async () => {
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

describe("the packed package", () => {
  it("ships dist, README and docs, not sources or tests", async () => {
    const manifest = JSON.parse(await readFile(join(scratch, "node_modules/plantwire/package.json"), "utf8"));
    expect(manifest.name).toBe("plantwire");
    const listing = execFileSync("tar", ["-tzf", join(scratch, `plantwire-${manifest.version}.tgz`)], {
      encoding: "utf8",
    });
    expect(listing).toContain("package/dist/index.js");
    expect(listing).toContain("package/dist/index.d.ts");
    expect(listing).toContain("package/README.md");
    expect(listing).not.toContain("package/src/");
    expect(listing).not.toContain("package/tests/");
  });

  for (const entry of entries) {
    it(`loads ${entry} with require and with import`, () => {
      const required = node(["-e", `console.log(Object.keys(require(${JSON.stringify(entry)})).length)`]);
      const imported = node([
        "--input-type=module",
        "-e",
        `const m = await import(${JSON.stringify(entry)}); console.log(Object.keys(m).length)`,
      ]);
      expect(Number(required)).toBeGreaterThan(0);
      expect(Number(imported)).toBeGreaterThan(0);
    });
  }

  it("loads the core without any protocol library, and validates tags there", () => {
    const script = `
      const pw = require("plantwire");
      const { memoryAdapter } = require("plantwire/testing");
      const memory = memoryAdapter();
      pw.defineTags({ speed: pw.float({ unit: "rpm", range: [0, 1800], source: memory.key("speed") }) });
      const loaded = Object.keys(require.cache);
      console.log(JSON.stringify(loaded));`;
    const loaded = JSON.parse(node(["-e", script])) as string[];
    const leaked = loaded.filter((file) => protocolLibraries.some((name) => file.includes(`/node_modules/${name}/`)));
    expect(leaked).toEqual([]);
    expect(loaded.some((file) => file.includes("/node_modules/zod/"))).toBe(true);
  });

  it("fails with 'npm i <name>' when an optional peer is missing", () => {
    const script = `
      const { loadOptionalDependency } = await import("plantwire");
      try { await loadOptionalDependency("modbus-serial", "The Modbus adapter"); console.log("loaded?!"); }
      catch (error) { console.log(JSON.stringify({ code: error.code, message: error.message })); }`;
    const result = JSON.parse(node(["--input-type=module", "-e", script])) as { code: string; message: string };
    expect(result.code).toBe("PW_MISSING_DEPENDENCY");
    expect(result.message).toContain("npm i modbus-serial");
  });

  it("ships a working plantwire executable", () => {
    const help = node([join(scratch, "node_modules/plantwire/dist/cli.js"), "--help"]);
    expect(help).toContain("Usage: plantwire <command>");
  });
});
