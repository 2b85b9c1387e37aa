/**
 * Sources from tag-map files: MQTT topics (`source: { adapter: bus, topic: site/pump7/vib, path: /rms }`) and
 * Sparkplug metrics (`source: { adapter: host, node: Line1, device: Drive1, metric: speed }`).
 */
import type { TagSource } from "../../src/adapter.js";
import { configIssuesFromZod } from "../../src/config-issues.js";
import { ConfigError } from "../../src/errors.js";
import { lazyZod } from "../../src/lazy-zod.js";
import type { MqttAddress, TopicSourceOptions } from "./mqtt-config.js";

interface TopicBuilder {
  topic(topic: string, options?: TopicSourceOptions): TagSource<MqttAddress>;
}

function sourceSchema() {
  const { z } = lazyZod();
  const qos = z.union([z.literal(0), z.literal(1), z.literal(2)]);
  return z
    .object({
      topic: z.string().min(1),
      path: z.string().optional(),
      timestampPath: z.string().optional(),
      qos: qos.optional(),
      command: z
        .object({
          topic: z.string().min(1),
          responseTopic: z.string().min(1).optional(),
          timeoutMs: z.number().int().positive().optional(),
          qos: qos.optional(),
          expirySeconds: z.number().int().positive().optional(),
          reportWaitMs: z.number().int().nonnegative().optional(),
        })
        .strict()
        .optional(),
    })
    .strict();
}

/** A ConfigError for a source entry, with a worked example as the fix where no field-specific fix applies. */
function sourceError(error: Parameters<typeof configIssuesFromZod>[0], example: string): ConfigError {
  return new ConfigError(
    configIssuesFromZod(error).map((issue) => ({
      ...issue,
      fix: issue.fix === "correct the value" ? `write source: ${example}` : issue.fix,
    })),
  );
}

/** Parses a file's source entry (without `adapter`). Throws a ConfigError whose paths are relative to the source. */
export function parseTopicSource(
  builder: TopicBuilder,
  raw: Readonly<Record<string, unknown>>,
): TagSource<MqttAddress> {
  const parsed = sourceSchema().safeParse(raw);
  if (!parsed.success) {
    throw sourceError(parsed.error, "{ adapter: <name>, topic: site/pump7/vib, path: /rms, qos: 1 }");
  }
  const { topic, ...options } = parsed.data;
  return builder.topic(topic, options as TopicSourceOptions);
}

interface MetricBuilder<TAddress> {
  metric(node: string, metric: string, options?: { device?: string }): TagSource<TAddress>;
}

/** Parses a Sparkplug metric source entry. Throws a ConfigError whose paths are relative to the source. */
export function parseMetricSource<TAddress>(
  builder: MetricBuilder<TAddress>,
  raw: Readonly<Record<string, unknown>>,
): TagSource<TAddress> {
  const { z } = lazyZod();
  const parsed = z
    .object({ node: z.string().min(1), metric: z.string().min(1), device: z.string().min(1).optional() })
    .strict()
    .safeParse(raw);
  if (!parsed.success) {
    throw sourceError(parsed.error, "{ adapter: <host>, node: Line1, metric: speed }");
  }
  const { node, metric, device } = parsed.data;
  return builder.metric(node, metric, device === undefined ? {} : { device });
}
