/**
 * plantwire: typed plant data for models, and guarded writes back to the plant.
 * The core loads no protocol library; adapters live in `plantwire/modbus`, `plantwire/opcua`, `plantwire/mqtt`
 * and `plantwire/sql`, and the test kit in `plantwire/testing`.
 */
export {
  ADAPTER_CONTRACT_VERSION,
  type Adapter,
  type AdapterCapabilities,
  type AdapterState,
  type AdapterStatus,
  type AdapterSubscription,
  type BoundTag,
  isAdapter,
  type SampleListener,
  StatusTracker,
  type TagSource,
  type WriteOutcome,
  type WriteResult,
} from "./adapter.js";
export * from "./audit/index.js";
export { isChange } from "./change-detection.js";
export * from "./context/index.js";
export { withDeadline } from "./deadline.js";
export {
  ApprovalError,
  AuditError,
  BudgetExceededError,
  ConfigError,
  type ConfigIssue,
  ConnectionError,
  DataQualityError,
  MissingDependencyError,
  PlantwireError,
  type PlantwireErrorCode,
  type PlantwireErrorOptions,
  ProtocolError,
  TimeoutError,
  UnsupportedError,
  ValidationError,
} from "./errors.js";
export * from "./guard/index.js";
export {
  type EnvironmentLoggerOptions,
  environmentLogger,
  errorDetail,
  errorLine,
  isLogger,
  type Logger,
  type LogLevel,
  logFailure,
  parseLogLevel,
  resolveLogger,
  type SwitchableLogger,
  silentLogger,
  switchableLogger,
} from "./logger.js";
export * from "./loop/index.js";
export * from "./model/index.js";
export { loadOptionalDependency } from "./optional-dependency.js";
export { isOutputChannel, type OutputChannel } from "./output-channel.js";
export {
  createPlant,
  type Plant,
  type PlantOptions,
  type TagChange,
  type Watcher,
  type WatchOptions,
} from "./plant.js";
export {
  badSample,
  goodSample,
  isStale,
  isUsable,
  type Quality,
  type QualityReason,
  type Sample,
  Snapshot,
  sampleAge,
  type TimedSample,
  Window,
} from "./sample.js";
export {
  adapterKinds,
  loadSite,
  type Site,
  type SiteGuardSettings,
  type SiteServeSettings,
  siteDefaults,
} from "./site/site-config.js";
export {
  type ExpectedTags,
  loadTagMap,
  parseTagMap,
  type TagExpectations,
  type TagMapFileOptions,
} from "./tag-map-file.js";
export { tagDefinitionSchema } from "./tag-validation.js";
export {
  type AnyTag,
  type ApprovalMode,
  absoluteDeadband,
  type BooleanTag,
  boolean,
  type DateTimeTag,
  type Deadband,
  dateTime,
  decimalsFor,
  defineTags,
  type EnumTag,
  enumeration,
  float,
  integer,
  isWritable,
  type NumericTag,
  type TagCommon,
  type TagDefinitionByType,
  type TagDefinitions,
  type TagMap,
  type TagName,
  type TagType,
  type TagValue,
  type TagValues,
  type TextTag,
  text,
  type WritePolicy,
} from "./tags.js";
