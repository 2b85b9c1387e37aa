import { describe, expect, it } from "vitest";
import { runCli } from "../../src/cli/main.js";
import { captureIo } from "../support/capture-io.js";

describe("plantwire CLI", () => {
  it("prints help with exit code 0, and usage with 2 when called bare", async () => {
    const io = captureIo();
    expect(await runCli(["--help"], io)).toBe(0);
    expect(io.stdout).toContain("Usage: plantwire <command>");
    expect(await runCli([], captureIo())).toBe(2);
  });

  it("names an unknown command and exits 2", async () => {
    const io = captureIo();
    expect(await runCli(["frobnicate"], io)).toBe(2);
    expect(io.stderr).toContain('Unknown command "frobnicate"');
  });

  it("wires every command, including each adapter's, to its help", async () => {
    const { commandEntries } = await import("../../src/cli/commands.js");
    for (const entry of commandEntries) {
      const io = captureIo();
      expect(await runCli([...entry.name.split(" "), "--help"], io), entry.name).toBe(0);
      expect(io.stdout).toContain("Usage: plantwire");
    }
    expect(commandEntries.map((entry) => entry.name)).toEqual(
      expect.arrayContaining([
        "modbus probe",
        "opcua browse",
        "opcua trust",
        "mqtt broker",
        "mqtt watch",
        "sql init",
        "approve",
        "audit verify",
        "audit show",
      ]),
    );
  });
});
