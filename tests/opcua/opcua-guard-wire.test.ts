/**
 * Issue 15, write checks that know the wire, over OPC UA: through the guard to the simulator, a value that does not fit
 * the node's DataType (a Byte node, 0..255 whole numbers) is rejected `invalid-value` at proposal time, with no attempt
 * and nothing sent; 0.1 written to a Float (PLC REAL) node reads back 0.10000000149011612 and is verified.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type AuditRecord, createGuard, createPlant, defineTags, float, integer, verifyAuditLog } from "plantwire";
import { type OpcuaSimulator, opcua, startOpcuaSimulator } from "plantwire/opcua";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const folder = mkdtempSync(join(tmpdir(), "plantwire-opcua-guard-wire-"));
let simulator: OpcuaSimulator;

beforeAll(async () => {
  simulator = await startOpcuaSimulator({
    port: 0,
    nodeset: "minimal",
    pkiFolder: join(folder, "server"),
    variables: [
      { path: "Dosing/Stroke", dataType: "Byte", value: 40, writable: true },
      { path: "Dosing/Ratio", dataType: "Float", value: 0.5, writable: true },
      { path: "Dosing/Offset", dataType: "Int16", value: 0, writable: true },
    ],
  });
});

afterAll(async () => {
  await simulator?.close();
  rmSync(folder, { recursive: true, force: true });
});

function records(audit: string): AuditRecord[] {
  return readFileSync(audit, "utf8")
    .trim()
    .split("\n")
    .map((line) => JSON.parse(line) as AuditRecord);
}

describe("OPC UA write checks through the guard", () => {
  it("rejects what does not fit the node's DataType at proposal time, and verifies 0.1 on a Float node", async () => {
    const plc = opcua({
      endpoint: simulator.endpoint,
      name: "plc",
      securityMode: "None",
      insecure: true,
      pkiFolder: join(folder, "client"),
      onWarning: () => {},
    });
    // The tags' own write ranges are wide on purpose: only the node's DataType can say 300 or 2.5 do not fit.
    const tags = defineTags({
      stroke: float({ range: [0, 1000], source: plc.node("ns=1;s=Dosing.Stroke"), write: { range: [0, 1000] } }),
      ratio: float({ range: [0, 1], source: plc.node("ns=1;s=Dosing.Ratio"), write: { range: [0, 1] } }),
      offset: integer({
        range: [-100_000, 100_000],
        source: plc.node("ns=1;s=Dosing.Offset"),
        write: { range: [-100_000, 100_000] },
      }),
    });
    const plant = createPlant({ tags });
    const audit = join(folder, "audit.jsonl");
    const guard = createGuard({ plant, audit, allowSameProcessApproval: true });
    try {
      await plant.read(); // connects and checks the tags against their nodes (their DataTypes are known from here)
      for (const [tag, value, why] of [
        ["stroke", 300, /Byte.*300 is outside Byte \[0, 255\]/],
        ["stroke", 2.5, /Byte needs a whole number, got 2\.5/],
        ["offset", 40_000, /Int16.*40000 is outside Int16 \[-32768, 32767\]/],
      ] as const) {
        const [proposal] = await guard.propose({ [tag]: value }, { reason: "wire check" });
        expect(proposal?.state, `${tag}=${value}`).toBe("rejected");
        const failed = proposal?.verdicts.find((verdict) => !verdict.passed);
        expect(failed?.code).toBe("invalid-value");
        expect(failed?.detail).toMatch(why);
      }
      expect(simulator.get("Dosing/Stroke")).toBe(40);
      expect(simulator.get("Dosing/Offset")).toBe(0);
      expect(records(audit).filter((record) => record.type === "attempt")).toHaveLength(0);

      const [fits] = await guard.propose({ stroke: 200 }, { reason: "fits a Byte" });
      expect(fits?.state).toBe("pending");
      const strokeDone = await guard.approve(fits?.id as string, { by: "operator" });
      expect(strokeDone.outcome).toMatchObject({ write: "written", readBack: "verified" });
      expect(simulator.get("Dosing/Stroke")).toBe(200);

      const [ratio] = await guard.propose({ ratio: 0.1 }, { reason: "a REAL setpoint" });
      expect(ratio?.state).toBe("pending");
      const done = await guard.approve(ratio?.id as string, { by: "operator" });
      expect(simulator.get("Dosing/Ratio")).toBe(Math.fround(0.1));
      expect(Math.fround(0.1)).not.toBe(0.1);
      expect(done.outcome).toMatchObject({ write: "written", readBack: "verified" });
      expect(records(audit).filter((record) => record.type === "attempt")).toHaveLength(2);
    } finally {
      await guard.close();
      await plant.close();
    }
    expect(verifyAuditLog(audit).ok).toBe(true);
  });
});
