import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const root = fileURLToPath(new URL("../..", import.meta.url));

describe("plantwire/modbus loads modbus-serial only when an adapter connects", () => {
  it("importing the entry and building an adapter and tags loads no protocol library", () => {
    const script = `
      const { createRequire } = await import("node:module");
      const { modbus } = await import("./adapters/modbus/index.ts");
      const drive = modbus({ url: "modbus+tcp://127.0.0.1:1" });
      drive.holding(1, "float32");
      const loaded = Object.keys(createRequire(import.meta.url).cache).filter((path) => path.includes("/node_modules/modbus-serial/"));
      process.stdout.write(JSON.stringify(loaded));`;
    const output = execFileSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
      cwd: root,
      encoding: "utf8",
    });
    expect(JSON.parse(output)).toEqual([]);
  });
});
