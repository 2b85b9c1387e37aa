/**
 * The physics of the simulated pumping station: a tank filled by a varying inflow, emptied by a pump on a
 * variable-speed drive through a discharge line. Believable, not exact: pump and system curves, a speed ramp, motor
 * current from hydraulic power, bearing temperature and vibration, noise, and switchable faults.
 */
import { type SeededRandom, seededRandom } from "./seeded-random.js";

/** Every fault the simulator can inject, in the order they are listed to users. */
export const pumpFaults = ["bearing-wear", "cavitation", "sensor-drift", "stuck-valve", "comms-loss"] as const;

/** Faults the simulator can inject. */
export type PumpFault = (typeof pumpFaults)[number];

/** Whether `name` is one of the {@link pumpFaults}. */
export function isPumpFault(name: unknown): name is PumpFault {
  return (pumpFaults as readonly unknown[]).includes(name);
}

/** Every value the station exposes, in engineering units. */
export interface PumpStationValues {
  /** Tank level, m (0–5). */
  level: number;
  /** Inflow to the tank, m³/h. */
  inflow: number;
  /** Drive speed setpoint, rpm (writable). */
  speedSetpoint: number;
  /** Actual drive speed, rpm. */
  speed: number;
  /** Motor current, A. */
  motorCurrent: number;
  /** Outlet pressure as measured (a drifting sensor shows here), bar. */
  pressure: number;
  /** Outlet flow, m³/h. */
  flow: number;
  /** Bearing temperature, °C. */
  bearingTemperature: number;
  /** Bearing vibration velocity, mm/s RMS. */
  vibration: number;
  /** Pump mode: 0 OFF, 1 AUTO, 2 MANUAL (writable). */
  mode: number;
  running: boolean;
  /** Any alarm active. */
  alarm: boolean;
  /** The active alarms, in plain words (untrusted text when it reaches a model). */
  alarmText: string;
}

const tankArea = 20; // m²
const ratedSpeed = 1500; // rpm
const shutoffHead = 80; // m at rated speed
const pumpLoss = 0.0004; // m per (m³/h)²
const staticHead = 25; // m
const lineLoss = 0.0004; // m per (m³/h)²
const ambient = 25; // °C

/** Options of {@link PumpStationModel}. */
export interface PumpStationOptions {
  /** Same seed, same plant. @default 7 */
  seed?: number;
  /** Values to start from. */
  initial?: Partial<PumpStationValues>;
}

/** The station's state, advanced by `step(seconds)`. */
export class PumpStationModel {
  readonly values: PumpStationValues;
  readonly faults = new Set<PumpFault>();
  /** Simulated seconds since start. */
  elapsed = 0;
  readonly #random: SeededRandom;
  #wear = 0;
  #drift = 0;
  #stuckFlow: number | undefined;

  constructor(options: PumpStationOptions = {}) {
    this.#random = seededRandom(options.seed ?? 7);
    this.values = {
      level: 2.5,
      inflow: 180,
      speedSetpoint: 1200,
      speed: 1200,
      motorCurrent: 0,
      pressure: 0,
      flow: 0,
      bearingTemperature: 45,
      vibration: 1.8,
      mode: 1,
      running: true,
      alarm: false,
      alarmText: "",
      ...options.initial,
    };
    this.step(0);
  }

  /** Turns a fault on or off. */
  setFault(fault: PumpFault, active: boolean): void {
    if (active) this.faults.add(fault);
    else this.faults.delete(fault);
    if (fault === "stuck-valve") this.#stuckFlow = active ? this.values.flow : undefined;
  }

  /** Writes a setpoint as a device would accept it: clamped to what the drive can do. Returns the stored value. */
  writeSpeedSetpoint(rpm: number): number {
    this.values.speedSetpoint = Math.min(1800, Math.max(0, rpm));
    return this.values.speedSetpoint;
  }

  /** Sets the mode (0 OFF, 1 AUTO, 2 MANUAL). */
  writeMode(mode: number): void {
    this.values.mode = Math.round(Math.min(2, Math.max(0, mode)));
  }

  /** Advances the process by `seconds` of simulated time (split into ≤ 1 s steps for stability). */
  step(seconds: number): void {
    let left = seconds;
    do {
      const dt = Math.min(1, left);
      this.#advance(dt);
      left -= dt;
    } while (left > 1e-9);
  }

  #advance(dt: number): void {
    const values = this.values;
    const noise = (deviation: number) => this.#random.gaussian(deviation);
    this.elapsed += dt;
    values.running = values.mode !== 0;
    const target = values.running ? values.speedSetpoint : 0;
    const ramp = 100 * dt; // rpm per second
    values.speed += Math.max(-ramp, Math.min(ramp, target - values.speed));

    const ratio = values.speed / ratedSpeed;
    const cavitating = this.faults.has("cavitation") || values.level < 0.4;
    const head0 = shutoffHead * ratio * ratio * (cavitating ? 0.8 : 1);
    const lift = Math.max(0, head0 - staticHead);
    let flow = Math.sqrt(lift / (pumpLoss + lineLoss * (this.faults.has("stuck-valve") ? 4 : 1)));
    if (this.#stuckFlow !== undefined) flow = this.#stuckFlow;
    if (values.level <= 0.05) flow = Math.min(flow, values.inflow);
    const head = staticHead + lineLoss * flow * flow;

    values.inflow = Math.max(0, 180 + 60 * Math.sin((2 * Math.PI * this.elapsed) / 86_400) + noise(2));
    values.level = Math.min(5, Math.max(0, values.level + ((values.inflow - flow) / 3600 / tankArea) * dt));
    values.flow = Math.max(0, flow + noise(0.8));
    if (this.faults.has("sensor-drift")) this.#drift += 0.0005 * dt;
    values.pressure = Math.max(0, head / 10.2 + this.#drift + noise(cavitating ? 0.25 : 0.02));

    const hydraulicKw = (9.81 * flow * head) / 3600 / 0.72;
    values.motorCurrent = values.running ? Math.max(0, 8 + hydraulicKw * 1.6 + noise(0.3)) : 0;

    if (this.faults.has("bearing-wear")) this.#wear = Math.min(1, this.#wear + dt / 1800);
    const heat = ambient + 25 * ratio * ratio + 30 * this.#wear;
    values.bearingTemperature += (heat - values.bearingTemperature) * Math.min(1, dt / 300);
    values.bearingTemperature += noise(0.05);
    const vibration = values.running ? 1.2 + 0.8 * ratio + 8 * this.#wear + (cavitating ? 6 : 0) : 0.1;
    values.vibration = Math.max(0, vibration + noise(cavitating ? 0.8 : 0.1));

    const alarms: string[] = [];
    if (values.vibration > 7.1) alarms.push(`High vibration ${values.vibration.toFixed(1)} mm/s`);
    if (values.bearingTemperature > 80)
      alarms.push(`High bearing temperature ${values.bearingTemperature.toFixed(0)} °C`);
    if (values.level < 0.5) alarms.push(`Low tank level ${values.level.toFixed(2)} m`);
    if (values.level > 4.5) alarms.push(`High tank level ${values.level.toFixed(2)} m`);
    values.alarm = alarms.length > 0;
    values.alarmText = alarms.join("; ");
  }
}
