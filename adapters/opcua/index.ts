/**
 * plantwire/opcua: the OPC UA adapter, its simulator and browse-to-tag-map. node-opcua is loaded only when an adapter
 * connects, a simulator starts or a browse runs, so importing this entry stays light.
 */
export { type OpcuaAdapter, type OpcuaWriteResult, opcua } from "./opcua-adapter.js";
export {
  type BrowsedVariable,
  type BrowseOptions,
  type BrowseProgress,
  type BrowseResult,
  type BrowseToTagMapOptions,
  browseToTagMap,
  type SkippedNode,
  tagMapDocument,
} from "./opcua-browse.js";
export type { OpcuaSample } from "./opcua-codec.js";
export {
  deprecatedSecurityPolicies,
  type OpcuaAddress,
  type OpcuaOptions,
  type OpcuaSecurityMode,
  type OpcuaSecurityPolicy,
  type OpcuaSourceOptions,
  type OpcuaUser,
  secureSecurityPolicies,
} from "./opcua-config.js";
export type { OpcuaNodeInfo } from "./opcua-nodes.js";
export type { OperationLimits } from "./opcua-session.js";
export {
  defaultSimulatorPort,
  type OpcuaSimulator,
  type OpcuaSimulatorOptions,
  startOpcuaSimulator,
} from "./opcua-simulator.js";
export { generatedVariables, type SimulatorDataType, type SimulatorVariable } from "./opcua-simulator-space.js";
export type { OpcuaSubscriptionHandle } from "./opcua-subscription.js";
export { fetchServerCertificate, type ServerCertificateInfo, trustServerCertificate } from "./opcua-trust.js";
