/**
 * Packs the real tarball (which builds it), unpacks it into a scratch project whose node_modules holds only
 * plantwire and its required dependencies (zod, yaml), and loads every entry with both `require` and `import`.
 * Because no protocol library exists in that scratch project, loading the core there also proves that the core
 * imports none of them.
 */
import { execFileSync } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
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
  "plantwire/simulator",
  "plantwire/serve",
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
}, 300_000);

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

  it("ships declarations that import no optional peer, so a consumer type-checks with only the peers it uses", async () => {
    const folder = join(scratch, "node_modules/plantwire");
    const manifest = JSON.parse(await readFile(join(folder, "package.json"), "utf8")) as {
      exports: Record<string, string | Record<string, { types: string }>>;
    };
    // Every declaration file an entry reaches, following its relative imports (the shared chunks too).
    const reached = async (start: string): Promise<Set<string>> => {
      const bare = new Set<string>();
      const seen = new Set<string>();
      const queue = [start];
      for (let file = queue.pop(); file; file = queue.pop()) {
        if (seen.has(file)) continue;
        seen.add(file);
        const text = await readFile(join(folder, file), "utf8");
        // Import and export statements at the start of a line (not examples in doc comments), and import("…") types.
        const statements = /^(?:import|export)\b[^;]*?\bfrom\s*['"]([^'"]+)['"]|\bimport\(\s*['"]([^'"]+)['"]\s*\)/gm;
        for (const [, fromClause, dynamic] of text.matchAll(statements)) {
          const specifier = fromClause ?? dynamic;
          if (specifier?.startsWith("."))
            queue.push(join(dirname(file), specifier).replace(/\.c?js$/, (ext) => `.d${ext.replace("js", "ts")}`));
          else if (specifier) bare.add(specifier);
        }
      }
      return bare;
    };
    const checked: string[] = [];
    for (const [subpath, conditions] of Object.entries(manifest.exports)) {
      if (typeof conditions === "string") continue;
      for (const condition of Object.values(conditions)) {
        const imports = [...(await reached(condition.types))];
        // zod is a required peer (tag and model-output schemas are zod types); node: modules come with @types/node.
        const foreign = imports.filter((specifier) => specifier !== "zod" && !specifier.startsWith("node:"));
        expect({ subpath, types: condition.types, foreign }).toEqual({ subpath, types: condition.types, foreign: [] });
        checked.push(condition.types);
      }
    }
    expect(checked).toContain("./dist/mqtt.d.ts");
    expect(checked).toContain("./dist/index.d.cts");
  });

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
