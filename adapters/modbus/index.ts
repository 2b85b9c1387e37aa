/**
 * plantwire/modbus: the Modbus adapter (TCP, RTU over TCP, RTU over a serial line) with typed register maps, a
 * request planner, per-unit isolation and single-attempt writes, plus the Modbus simulator. modbus-serial is loaded
 * only when an adapter connects.
 */

export { type ModbusAdapter, type ModbusUnitStatus, modbus, type RegisterDataType } from "./modbus-adapter.js";
export {
  type ModbusAddress,
  type ModbusArea,
  type ModbusSourceOptions,
  parseClassicAddress,
} from "./modbus-address.js";
export {
  decodeRegisters,
  encodeRegisters,
  type ModbusDataType,
  modbusDataTypes,
  type RawValue,
  registerCount,
  type WordOrder,
  wordOrders,
} from "./modbus-codec.js";
export type {
  ModbusOptions,
  ModbusSerialOptions,
  ModbusUnitOptions,
  ResolvedModbusOptions,
} from "./modbus-config.js";
export { ModbusExceptionError } from "./modbus-errors.js";
export type { ModbusHole, ModbusHoleOptions } from "./modbus-holes.js";
export type { ModbusPlannerOptions, Plan, PlannedRequest, UnplannedTag } from "./modbus-planner.js";
export {
  type ModbusSimulator,
  type ModbusSimulatorOptions,
  type SimulatorRequest,
  startModbusSimulator,
  type UnitBehaviour,
} from "./modbus-simulator.js";
