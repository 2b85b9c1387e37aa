/**
 * Subscriptions: few subscriptions holding many monitored items, split at the server's limits (monitored items per
 * subscription, per CreateMonitoredItems call), grouped by sampling interval, queue size and deadband. node-opcua
 * restores them after a reconnection (transfer, or recreate with initial values), so values missed during an outage
 * are never invented: listeners hear a bad sample when the link drops and the server's real values once it is back.
 */
import type { ClientMonitoredItemGroup, ClientSubscription, DataValue, MonitoringParametersOptions } from "node-opcua";
import type { AdapterSubscription, BoundTag, SampleListener } from "../../src/adapter.js";
import { badSample } from "../../src/sample.js";
import { absoluteDeadband } from "../../src/tags.js";
import { chunk } from "./opcua-batch.js";
import { sampleFromDataValue } from "./opcua-codec.js";
import type { OpcuaAddress, ResolvedOpcuaOptions } from "./opcua-config.js";
import type { OpcuaNodeInfo } from "./opcua-nodes.js";
import { type OpenSession, settleWithin } from "./opcua-session.js";

/** A checked tag ready to monitor. */
export interface MonitoredTag {
  readonly tag: BoundTag<OpcuaAddress>;
  readonly info: OpcuaNodeInfo;
}

/** A running subscription set, with the hooks the adapter drives. */
export interface OpcuaSubscriptionHandle extends AdapterSubscription {
  /** Stops the subscription; with `linkUp` false only locally (the server deletes it with the session). */
  close(linkUp?: boolean): Promise<void>;
  /** Tells listeners the link dropped (one bad sample per tag per outage). */
  connectionLost(reason: string): void;
  /** Number of monitored items created on the server. */
  readonly monitoredItemCount: number;
  /** Number of OPC UA subscriptions used. */
  readonly subscriptionCount: number;
}

interface Item {
  readonly nodeId: string;
  readonly parameters: MonitoringParametersOptions;
  readonly bucket: string;
  readonly tags: BoundTag<OpcuaAddress>[];
}

function parametersFor(open: OpenSession, options: ResolvedOpcuaOptions, entry: MonitoredTag) {
  const { ua } = open;
  const { tag, info } = entry;
  const samplingInterval = tag.address.samplingIntervalMs ?? options.samplingIntervalMs;
  const queueSize = tag.address.queueSize ?? 1;
  const definition = tag.definition;
  let deadbandType = ua.DeadbandType.None;
  let deadbandValue = 0;
  if ((definition.type === "float" || definition.type === "integer") && definition.deadband !== undefined) {
    const deadband = definition.deadband;
    if (typeof deadband === "object" && "percent" in deadband && info.engineeringRange) {
      deadbandType = ua.DeadbandType.Percent;
      deadbandValue = deadband.percent;
    } else if (absoluteDeadband(definition) > 0) {
      deadbandType = ua.DeadbandType.Absolute;
      deadbandValue = absoluteDeadband(definition);
    }
  }
  const parameters: MonitoringParametersOptions = { samplingInterval, queueSize, discardOldest: true };
  if (deadbandType !== ua.DeadbandType.None) {
    parameters.filter = new ua.DataChangeFilter({
      trigger: ua.DataChangeTrigger.StatusValue,
      deadbandType,
      deadbandValue,
    });
  }
  return { parameters, bucket: `${samplingInterval}|${queueSize}|${deadbandType}|${deadbandValue}` };
}

function planItems(open: OpenSession, options: ResolvedOpcuaOptions, entries: readonly MonitoredTag[]): Item[] {
  const items = new Map<string, Item>();
  for (const entry of entries) {
    const { parameters, bucket } = parametersFor(open, options, entry);
    const key = `${entry.info.nodeId}#${bucket}`;
    const existing = items.get(key);
    if (existing) existing.tags.push(entry.tag);
    else items.set(key, { nodeId: entry.info.nodeId, parameters, bucket, tags: [entry.tag] });
  }
  return [...items.values()].sort((a, b) => (a.bucket < b.bucket ? -1 : a.bucket > b.bucket ? 1 : 0));
}

/** Creates the subscriptions and monitored items for `entries`, calling `listener` with every notification. */
export async function createOpcuaSubscription(
  open: OpenSession,
  options: ResolvedOpcuaOptions,
  entries: readonly MonitoredTag[],
  listener: SampleListener,
): Promise<OpcuaSubscriptionHandle> {
  const { ua, session, limits } = open;
  const items = planItems(open, options, entries);
  const perSubscription = Math.max(
    1,
    Math.min(limits.maxMonitoredItemsPerSubscription, options.maxItemsPerSubscription),
  );
  const subscriptions: ClientSubscription[] = [];
  const groups: ClientMonitoredItemGroup[] = [];
  let lostReported = false;
  let closed = false;

  const deliver = (item: Item, dataValue: DataValue) => {
    if (closed) return;
    lostReported = false;
    const now = Date.now();
    for (const tag of item.tags) listener(tag.name, sampleFromDataValue(tag, dataValue, now));
  };

  try {
    for (const subscriptionItems of chunk(items, perSubscription)) {
      const subscription = await session.createSubscription2({
        requestedPublishingInterval: options.publishingIntervalMs,
        requestedMaxKeepAliveCount: 10,
        requestedLifetimeCount: 60,
        maxNotificationsPerPublish: 0,
        publishingEnabled: true,
        priority: 1,
      });
      subscriptions.push(subscription);
      // Items of one bucket share their parameters, so each call creates one group of up to MaxMonitoredItemsPerCall.
      const buckets = new Map<string, Item[]>();
      for (const item of subscriptionItems) buckets.set(item.bucket, [...(buckets.get(item.bucket) ?? []), item]);
      for (const bucketItems of buckets.values()) {
        for (const part of chunk(bucketItems, limits.maxMonitoredItemsPerCall)) {
          const group = await subscription.monitorItems(
            part.map((item) => ({ nodeId: item.nodeId, attributeId: ua.AttributeIds.Value })),
            part[0]?.parameters ?? {},
            ua.TimestampsToReturn.Both,
          );
          group.on("changed", (_monitoredItem: unknown, dataValue: DataValue, index: number) => {
            const item = part[index];
            if (item) deliver(item, dataValue);
          });
          groups.push(group);
        }
      }
    }
  } catch (error) {
    await Promise.allSettled(subscriptions.map((subscription) => subscription.terminate()));
    throw error;
  }

  return {
    monitoredItemCount: items.length,
    subscriptionCount: subscriptions.length,
    connectionLost(reason: string) {
      if (closed || lostReported) return;
      lostReported = true;
      const now = Date.now();
      for (const item of items) for (const tag of item.tags) listener(tag.name, badSample("comm-failure", reason, now));
    },
    async close(linkUp = true) {
      if (closed) return;
      closed = true;
      for (const group of groups) group.removeAllListeners();
      // Without a link, terminate() would wait for the reconnection; closing the session deletes them instead.
      if (!linkUp) return;
      await settleWithin(
        Promise.allSettled(subscriptions.map((subscription) => subscription.terminate())),
        options.requestTimeoutMs,
      );
    },
  };
}
