import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openaiModel } from "plantwire";
import { startOpenAITestServer, waitFor } from "plantwire/testing";
import { describe, expect, it } from "vitest";
import { startSetpointAdvisor } from "../../examples/setpoint-advisor.js";
import { startPlantSimulator } from "../../src/sim/plant-simulator.js";

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
      const done = await guard.approve(pending!.id, { by: "shift lead" });
      expect(done.outcome).toMatchObject({ write: "written", readBack: "verified" });
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
