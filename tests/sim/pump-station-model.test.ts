import { describe, expect, it } from "vitest";
import { PumpStationModel } from "../../src/sim/pump-station-model.js";

describe("pump station physics", () => {
  it("is the same plant for the same seed, and a different one for another seed", () => {
    const run = (seed: number) => {
      const model = new PumpStationModel({ seed });
      model.step(300);
      return { ...model.values };
    };
    expect(run(42)).toEqual(run(42));
    expect(run(42).pressure).not.toBe(run(43).pressure);
  });

  it("responds to the speed setpoint: more speed, more flow, pressure and current", () => {
    const model = new PumpStationModel();
    model.step(60);
    const before = { ...model.values };
    expect(model.writeSpeedSetpoint(1450)).toBe(1450);
    model.step(1);
    expect(model.values.speed).toBeLessThan(1450); // the drive ramps, it does not jump
    model.step(60);
    expect(model.values.speed).toBe(1450);
    expect(model.values.flow).toBeGreaterThan(before.flow + 30);
    expect(model.values.pressure).toBeGreaterThan(before.pressure + 0.5);
    expect(model.values.motorCurrent).toBeGreaterThan(before.motorCurrent + 10);
  });

  it("stops the pump in mode OFF, and the tank fills", () => {
    const model = new PumpStationModel();
    const level = model.values.level;
    model.writeMode(0);
    model.step(120);
    expect(model.values.running).toBe(false);
    expect(model.values.speed).toBe(0);
    expect(model.values.level).toBeGreaterThan(level);
  });

  it("shows faults the way a plant would: bearing wear, cavitation, sensor drift", () => {
    const wear = new PumpStationModel();
    wear.setFault("bearing-wear", true);
    wear.step(1800);
    expect(wear.values.vibration).toBeGreaterThan(7.1);
    expect(wear.values.alarm).toBe(true);
    expect(wear.values.alarmText).toContain("High vibration");

    const cavitation = new PumpStationModel();
    cavitation.setFault("cavitation", true);
    cavitation.step(10);
    expect(cavitation.values.vibration).toBeGreaterThan(5);

    const drift = new PumpStationModel({ seed: 1 });
    const clean = new PumpStationModel({ seed: 1 });
    drift.setFault("sensor-drift", true);
    drift.step(1200);
    clean.step(1200);
    expect(drift.values.pressure - clean.values.pressure).toBeGreaterThan(0.5);
    expect(drift.values.flow).toBeCloseTo(clean.values.flow, 5);
  });
});
