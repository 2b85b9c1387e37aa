import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openaiModel } from "plantwire";
import { startOpenAITestServer, waitFor } from "plantwire/testing";
import { describe, expect, it } from "vitest";
import { startSpeedAdvisor } from "../../examples/pump-speed-advisor.js";
import { pumpWatch } from "../../examples/pump-watch.js";

describe("examples", () => {
  it("pump-watch reports changes past the deadband and the silent sensor going STALE", async () => {
    const lines: string[] = [];
    const changes = await pumpWatch((line) => lines.push(line), 3);
    expect(changes).toBe(lines.length);
    expect(lines.filter((line) => line.startsWith("vibration")).at(-1)).toMatch(/STALE \(last 3\.9\)/);
    // Pressure moves by up to 1 bar per tick with a 0.2 bar deadband: most ticks are reported, never a duplicate.
    const pressures = lines.filter((line) => line.startsWith("pressure"));
    expect(pressures.length).toBeGreaterThan(4);
    expect(new Set(pressures).size).toBe(pressures.length);
  });

  it("pump-speed-advisor (the README's glue script) asks the model on a change and holds its advice for approval", async () => {
    const server = await startOpenAITestServer({
      replies: () => ({ content: JSON.stringify({ speed: 1220, why: "pressure fell below 6 bar" }) }),
    });
    const folder = mkdtempSync(join(tmpdir(), "plantwire-advisor-"));
    const model = openaiModel({ baseURL: server.baseURL, apiKey: "test", model: "scripted" });
    const { drive, plant, guard, advisor } = await startSpeedAdvisor({
      model,
      audit: join(folder, "audit.jsonl"),
      approvals: join(folder, "approvals"),
    });
    await new Promise((resolve) => setTimeout(resolve, 100));
    drive.set("pressure", 5.2);
    expect(await waitFor(() => guard.pending().length === 1)).toBe(true);
    expect(guard.pending()[0]).toMatchObject({ tag: "speed", value: 1220, reason: "pressure fell below 6 bar" });
    expect(server.requests).toHaveLength(1);
    expect(drive.writes).toHaveLength(0);
    await advisor.stop();
    await guard.close();
    await plant.close();
    await server.close();
  });
});
