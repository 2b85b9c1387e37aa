/**
 * plantwire/mqtt: the MQTT adapter (topic sources, command-topic writes), JSON publishing with documented schemas,
 * Sparkplug B edge node and host, store-and-forward, and the embedded aedes broker.
 */
export { type InboundCounters, type MqttAdapter, mqtt } from "./mqtt-adapter.js";
export { type MqttAuditAnchorOptions, mqttAuditAnchor } from "./mqtt-audit-anchor.js";
export {
  type AedesBroker,
  type BrokerClient,
  type BrokerOptions,
  type BrokerPublishPacket,
  DEFAULT_BROKER_PORT,
  type EmbeddedBroker,
  startBroker,
} from "./mqtt-broker.js";
export { decodeMessage, resolvePointer } from "./mqtt-codec.js";
export { type MqttConnectionView, SPARKPLUG_COMMAND_FILTERS } from "./mqtt-command-topics.js";
export type {
  CommandOptions,
  MqttAddress,
  MqttOptions,
  MqttTlsOptions,
  MqttWill,
  OutboxOptions,
  QoS,
  ReconnectOptions,
  TopicSourceOptions,
} from "./mqtt-config.js";
export type {
  ConnectionCounters,
  MqttClientHandle,
  MqttConnection,
  MqttGap,
  MqttReceivedPacket,
  PublishOptions,
  PublishReceipt,
} from "./mqtt-connection.js";
export type { MessageOutputOptions, OutputMessage } from "./mqtt-output.js";
export {
  createPublisher,
  type MqttPublisher,
  type PublisherLink,
  type PublishOutcome,
  type SnapshotPublishOptions,
  sampleEntry,
} from "./mqtt-publisher.js";
export {
  type CommandMessage,
  type CommandResponse,
  commandMessageSchema,
  commandResponseSchema,
  type EventMessage,
  eventMessageSchema,
  type ResultMessage,
  resultMessageSchema,
  type SnapshotMessage,
  sampleEntrySchema,
  snapshotMessageSchema,
  type WindowMessage,
  windowMessageSchema,
} from "./mqtt-schemas.js";
export { defaultBdSeqFile } from "./mqtt-sparkplug-bdseq.js";
export {
  loadSparkplugCodec,
  REBIRTH_METRIC,
  SPARKPLUG_NAMESPACE,
  type SparkplugCodec,
  type SparkplugLong,
  type SparkplugMetric,
  type SparkplugPayload,
  type SparkplugPropertySet,
  type SparkplugPropertyValue,
  type SparkplugTypeName,
} from "./mqtt-sparkplug-codec.js";
export {
  type SparkplugEdgeNode,
  type SparkplugEdgeOptions,
  type SparkplugEdgeStats,
  sparkplugEdgeNode,
} from "./mqtt-sparkplug-edge.js";
export {
  type HistoricalMetric,
  type SparkplugAddress,
  type SparkplugHost,
  type SparkplugHostOptions,
  type SparkplugHostStats,
  sparkplugHost,
} from "./mqtt-sparkplug-host.js";
export { type TagMessage, type TagPublishOptions, type TagPublishOutcome, tagMessage } from "./mqtt-tag-publisher.js";
export { topicMatches } from "./mqtt-topic.js";
