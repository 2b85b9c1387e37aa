import { describe, expect, it } from "vitest";
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
});
