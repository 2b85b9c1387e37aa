/**
 * A passing test run prints only what vitest prints: the noisiest test file of the suite (OPC UA security: untrusted
 * certificates, user tokens, the RSA PKCS#1 check on load — about 90 library lines before node-opcua's output was
 * routed) runs in a child vitest, and its whole output must hold none of node-opcua's own lines.
 */
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { noiseIn } from "./opcua-quiet-noise.js";

const root = fileURLToPath(new URL("../..", import.meta.url));
const noisyFiles = ["tests/opcua/opcua-security.test.ts"];

describe("a passing run of the OPC UA tests", () => {
  it("prints none of node-opcua's lines", { timeout: 240_000 }, async () => {
    // The child is a run of its own: none of this worker's vitest variables, and logging as a user has it by default.
    const env = Object.fromEntries(
      Object.entries(process.env).filter(([name]) => !name.startsWith("VITEST") && name !== "PLANTWIRE_LOG"),
    );
    const vitest = fileURLToPath(new URL("../../node_modules/vitest/vitest.mjs", import.meta.url));
    const run = await promisify(execFile)(
      process.execPath,
      [vitest, "run", "--typecheck.enabled=false", ...noisyFiles],
      {
        cwd: root,
        env: { ...env, NO_COLOR: "1", FORCE_COLOR: "0" },
        maxBuffer: 16 * 1024 * 1024,
      },
    ).then(
      ({ stdout, stderr }) => ({ code: 0, output: stdout + stderr }),
      (error: { code: number; stdout: string; stderr: string }) => ({
        code: error.code,
        output: error.stdout + error.stderr,
      }),
    );
    expect(run.code, run.output).toBe(0);
    expect(run.output).toMatch(/Tests\s+\d+ passed/);
    expect(noiseIn(run.output), run.output).toEqual([]);
  });
});
