import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openaiModel } from "plantwire";
import { startOpenAITestServer, waitFor } from "plantwire/testing";
import { describe, expect, it } from "vitest";
import { startSetpointAdvisor } from "../../examples/setpoint-advisor.js";
import { startPlantSimulator } from "../../src/sim/plant-simulator.js";
import { runCli } from "../support/cli-process.js";

describe("setpoint-advisor against the simulator", () => {
  it("changes the drive's setpoint only after a person approves, and reads it back", async () => {
    const folder = mkdtempSync(join(tmpdir(), "plantwire-advisor-sim-"));
    const simulator = await startPlantSimulator({
      modbus: { port: 0 },
      opcua: false,
      mqtt: false,
      historian: false,
      tickMs: 100,
    });
    const before = simulator.model.values.speedSetpoint;
    const server = await startOpenAITestServer({
      replies: () => ({ content: JSON.stringify({ speed: before + 60, why: "pressure below target" }) }),
    });
    const { plant, guard, loop } = await startSetpointAdvisor({
      modbusUrl: simulator.urls.modbus,
      model: openaiModel({ baseURL: server.baseURL, apiKey: "test", model: "scripted" }),
      audit: join(folder, "audit.jsonl"),
      approvals: join(folder, "approvals"),
    });
    try {
      loop.trigger();
      expect(await waitFor(() => guard.pending().length === 1, 5000)).toBe(true);
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(simulator.model.values.speedSetpoint).toBe(before); // nothing written without approval
      const [pending] = guard.pending();
      // A person approves from a terminal, in a process of their own: the proposing process cannot.
      await expect(guard.approve(pending!.id, { by: "shift lead" })).rejects.toThrow(/allowSameProcessApproval/);
      const approved = await runCli("approve", pending!.id, "--by", "shift lead", "--dir", join(folder, "approvals"));
      expect(approved.stdout).toContain("Result: executed: write written, read-back verified");
      expect(approved.code).toBe(0);
      expect(guard.get(pending!.id)).toMatchObject({ state: "executed", decidedBy: "shift lead" });
      expect(await waitFor(() => simulator.model.values.speedSetpoint === before + 60, 3000)).toBe(true);
      expect(server.requests.length).toBeGreaterThanOrEqual(1);
    } finally {
      await loop.stop();
      await guard.close();
      await plant.close();
      await server.close();
      await simulator.close();
    }
  });
});
