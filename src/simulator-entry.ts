/**
 * plantwire/simulator: the seeded pumping station served over Modbus TCP, OPC UA, MQTT (JSON and Sparkplug B) and a
 * SQLite historian, its signal table and process model, and its tag maps (the shipped YAML files and the same maps
 * as code) for each view. For examples, demos, tests and trying an integration before a plant is at hand.
 * Starting a view loads that view's protocol library (node-opcua, modbus-serial, aedes, sparkplug-payload,
 * better-sqlite3); importing this module loads none.
 */
export { type PlantSimulator, type PlantSimulatorOptions, startPlantSimulator } from "./sim/plant-simulator.js";
export {
  isPumpFault,
  type PumpFault,
  PumpStationModel,
  type PumpStationOptions,
  type PumpStationValues,
  pumpFaults,
} from "./sim/pump-station-model.js";
export { type ModbusPlacement, modeStates, type StationSignal, stationSignals } from "./sim/station-signals.js";
export {
  type StationView,
  stationAdapterNames,
  stationTagMapFile,
  stationViews,
} from "./sim/station-tag-map-files.js";
export { type StationTags, speedSetpointPolicy, stationTags } from "./sim/station-tags.js";
export {
  type HistorianStationTags,
  modbusStationTags,
  mqttStationTags,
  opcuaStationTags,
  sparkplugStationTags,
  sqlStationTags,
  stationNodeId,
  stationSparkplugDevice,
  stationSparkplugGroup,
  stationSparkplugNode,
  stationTopicPrefix,
} from "./sim/station-views.js";
