/**
 * `plantwire audit show`: the audit log as plant staff read it. Every record type reads as one line, filters work,
 * text from a model cannot act on the terminal, and a tampered log ends in CHAIN BROKEN with exit code 1.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { runCli } from "../../src/cli/main.js";
import { captureIo } from "../support/capture-io.js";
import { pumpStation } from "./guard-fixture.js";

const hostile = "slow down\u001b[2J\u001b[31m APPROVED \u202Eevil\u200B";

async function auditWithEveryKind() {
  const station = pumpStation();
  const [pending] = await station.guard.propose({ speed: 1040 }, { reason: "pressure low", loop: "advisor" });
  await station.guard.propose({ trip: false }, { reason: hostile, loop: "advisor" });
  const [manual] = await station.guard.propose({ mode: "MANUAL" }, { reason: "maintenance" });
  await station.guard.approve(manual?.id as string, { by: "alice" });
  station.guard.rejectAnswer(
    {
      message: "The model's answer does not match",
      rawText: `{"speed": 1800 ${hostile}`,
      issues: ["$.approve: not a field of the output schema"],
    },
    { loop: "advisor", modelId: "openai:scripted" },
  );
  await station.guard.close();
  await station.plant.close();
  return { file: station.auditFile, pending };
}

const show = async (...args: string[]) => {
  const io = captureIo();
  const code = await runCli(["audit", "show", ...args], io);
  return { code, lines: io.stdout.trimEnd().split("\n"), stdout: io.stdout, stderr: io.stderr };
};

describe("plantwire audit show", () => {
  it("reads every record as one line and ends with the chain check", async () => {
    const { file, pending } = await auditWithEveryKind();
    const { code, lines, stdout } = await show(file);
    expect(code).toBe(0);
    const id = String(pending?.id).slice(0, 8);
    expect(lines.find((line) => line.includes(`${id} "speed" → 1040 (was 1000)`))).toMatch(
      /proposal .* pending-approval \(every check passed\) · loop "advisor" · reason "pressure low"/,
    );
    expect(stdout).toMatch(/proposal .*"trip" → false .* rejected \(failed: safety-class/);
    expect(stdout).toMatch(/decision .* approved by "alice"/);
    expect(stdout).toMatch(/attempt .*"mode" = "MANUAL" via "drive"/);
    expect(stdout).toMatch(/outcome .*"mode" write written, read-back verified \("MANUAL"\)/);
    expect(stdout).toMatch(
      /rejection loop "advisor", model "openai:scripted" · "\$\.approve: not a field of the output schema" · answer /,
    );
    expect(lines.at(-1)).toBe(`Chain intact: ${readFileSync(file, "utf8").trim().split("\n").length} records.`);
    // Model text reaches the terminal escaped: no escape sequence, no direction override, no zero-width character.
    for (const character of ["\u001b", "\u202E", "\u200B"]) expect(stdout).not.toContain(character);
    expect(stdout).toContain("\\u001b[2J");
    expect(stdout).toContain("\\u202eevil");
  });

  it("filters by type, tag and count", async () => {
    const { file } = await auditWithEveryKind();
    const byType = await show(file, "--type", "rejection");
    expect(byType.lines.filter((line) => line.startsWith("#"))).toHaveLength(1);
    const byTag = await show(file, "--tag", "mode");
    expect(byTag.lines.filter((line) => line.startsWith("#")).map((line) => line.split(/\s+/)[3])).toEqual([
      "proposal",
      "decision",
      "attempt",
      "outcome",
    ]);
    const lastTwo = await show(file, "--last", "2");
    expect(lastTwo.lines[0]).toMatch(/^\(the last 2 of \d+ matching records; --last 0 shows all\)$/);
    expect(lastTwo.lines.filter((line) => line.startsWith("#"))).toHaveLength(2);
  });

  it("says CHAIN BROKEN with exit 1 for a tampered log, and names bad options with exit 2", async () => {
    const { file } = await auditWithEveryKind();
    writeFileSync(file, readFileSync(file, "utf8").replace('"pressure low"', '"pressure fine"'));
    const tampered = await show(file);
    expect(tampered.code).toBe(1);
    expect(tampered.lines.at(-1)).toMatch(/^CHAIN BROKEN at line 1: .*Do not trust records from that line on\.$/);
    const badType = await show(file, "--type", "proposals");
    expect(badType.code).toBe(2);
    expect(badType.stderr).toContain('--type "proposals" is not one of proposal, decision');
    expect((await show(file, "--last", "-3")).code).toBe(2);
    expect((await show()).code).toBe(2);
    const missing = await show(`${file}.nope`);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("No audit log at");
  });
});
