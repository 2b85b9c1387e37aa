/**
 * The pumping station's signals, once: name, meaning, type, unit, range and resolution, and where each protocol view
 * serves it. The simulator and every tag map of the station are built from this table, so they cannot drift apart.
 */
import type { PumpStationValues } from "./pump-station-model.js";

/** Where a signal sits in the Modbus view (unit 1). */
export interface ModbusPlacement {
  readonly area: "holding" | "input" | "coil" | "discrete";
  readonly address: number;
  readonly dataType?: "uint16" | "int16" | "float32";
  readonly scale?: number;
  readonly wordOrder?: "ABCD" | "CDAB";
}

/** One signal of the station. */
export interface StationSignal {
  readonly name: keyof PumpStationValues;
  readonly description: string;
  readonly type: "float" | "boolean" | "enum" | "text";
  readonly unit?: string;
  readonly range?: readonly [number, number];
  readonly resolution?: number;
  readonly deadband?: number;
  /** Writable setpoints (the guard still decides every write). */
  readonly writable?: boolean;
  /** Absent: not served over Modbus (text has no register form here). */
  readonly modbus?: ModbusPlacement;
}

/** The mode's states, as the drive codes them. */
export const modeStates = { OFF: 0, AUTO: 1, MANUAL: 2 } as const;

/** Every signal, in the order tag maps list them. */
export const stationSignals: readonly StationSignal[] = [
  {
    name: "level",
    description: "Wet-well tank level",
    type: "float",
    unit: "m",
    range: [0, 5],
    resolution: 0.01,
    deadband: 0.05,
    modbus: { area: "input", address: 0, dataType: "float32" },
  },
  {
    name: "inflow",
    description: "Inflow to the tank",
    type: "float",
    unit: "m3/h",
    range: [0, 400],
    resolution: 0.1,
    deadband: 5,
    modbus: { area: "input", address: 2, dataType: "float32" },
  },
  {
    name: "speedSetpoint",
    description: "Pump 7 drive speed setpoint",
    type: "float",
    unit: "rpm",
    range: [0, 1800],
    resolution: 1,
    writable: true,
    modbus: { area: "holding", address: 0, dataType: "uint16", scale: 0.1 },
  },
  {
    name: "speed",
    description: "Pump 7 actual drive speed",
    type: "float",
    unit: "rpm",
    range: [0, 1800],
    resolution: 1,
    deadband: 10,
    modbus: { area: "input", address: 4, dataType: "uint16" },
  },
  {
    name: "motorCurrent",
    description: "Pump 7 motor current",
    type: "float",
    unit: "A",
    range: [0, 120],
    resolution: 0.1,
    deadband: 1,
    modbus: { area: "input", address: 5, dataType: "int16", scale: 0.1 },
  },
  {
    name: "pressure",
    description: "Pump 7 outlet pressure",
    type: "float",
    unit: "bar",
    range: [0, 10],
    resolution: 0.01,
    deadband: 0.05,
    modbus: { area: "input", address: 6, dataType: "float32", wordOrder: "CDAB" },
  },
  {
    name: "flow",
    description: "Pump 7 outlet flow",
    type: "float",
    unit: "m3/h",
    range: [0, 400],
    resolution: 0.1,
    deadband: 5,
    modbus: { area: "input", address: 8, dataType: "float32" },
  },
  {
    name: "bearingTemperature",
    description: "Pump 7 drive-end bearing temperature",
    type: "float",
    unit: "°C",
    range: [0, 120],
    resolution: 0.1,
    deadband: 0.5,
    modbus: { area: "input", address: 10, dataType: "int16", scale: 0.1 },
  },
  {
    name: "vibration",
    description: "Pump 7 bearing vibration velocity (RMS)",
    type: "float",
    unit: "mm/s",
    range: [0, 50],
    resolution: 0.1,
    deadband: 0.3,
    modbus: { area: "input", address: 11, dataType: "float32" },
  },
  {
    name: "mode",
    description: "Pump 7 mode",
    type: "enum",
    writable: true,
    modbus: { area: "holding", address: 1, dataType: "uint16" },
  },
  { name: "running", description: "Pump 7 running", type: "boolean", modbus: { area: "discrete", address: 0 } },
  { name: "alarm", description: "Any station alarm active", type: "boolean", modbus: { area: "discrete", address: 1 } },
  { name: "alarmText", description: "Active alarms, as the PLC words them", type: "text" },
];
