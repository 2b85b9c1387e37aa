/** Checks adapter options up front, so a typo fails at construction with the field named, not at 3 a.m. */
import { configIssuesFromZod } from "../../src/config-issues.js";
import { ConfigError } from "../../src/errors.js";
import { lazyZod } from "../../src/lazy-zod.js";
import { isLogger, type Logger } from "../../src/logger.js";
import type { MqttOptions } from "./mqtt-config.js";

function optionsSchema() {
  const { z } = lazyZod();
  const positive = z.number().int().positive();
  const text = z.union([z.string(), z.instanceof(Buffer)]);
  return z
    .object({
      url: z
        .string()
        .regex(/^(mqtts?|wss?):\/\/[^/]/, "must start with mqtt://, mqtts://, ws:// or wss://")
        .optional(),
      name: z.string().min(1).optional(),
      clientId: z.string().min(1).max(65_535).optional(),
      protocolVersion: z.union([z.literal(4), z.literal(5)]).optional(),
      username: z.string().optional(),
      password: z.string().optional(),
      tls: z
        .object({
          ca: z.union([text, z.array(text)]).optional(),
          cert: text.optional(),
          key: text.optional(),
          rejectUnauthorized: z.boolean().optional(),
          servername: z.string().optional(),
        })
        .strict()
        .optional(),
      cleanStart: z.boolean().optional(),
      sessionExpirySeconds: z.number().int().min(0).max(4_294_967_295).optional(),
      will: z
        .object({
          topic: z.string().min(1),
          payload: text,
          qos: z.union([z.literal(0), z.literal(1), z.literal(2)]).optional(),
          retain: z.boolean().optional(),
        })
        .strict()
        .optional(),
      keepaliveSeconds: z.number().int().min(0).max(65_535).optional(),
      connectTimeoutMs: positive.optional(),
      reconnect: z
        .object({
          minMs: positive.optional(),
          maxMs: positive.optional(),
          stableAfterMs: z.number().int().min(0).optional(),
          flapLimit: positive.optional(),
        })
        .strict()
        .refine((value) => (value.minMs ?? 500) <= (value.maxMs ?? 30_000), {
          message: "minMs is larger than maxMs",
          params: { fix: "give minMs ≤ maxMs, e.g. { minMs: 500, maxMs: 30000 }" },
        })
        .optional(),
      initialValueWaitMs: z.number().int().min(0).optional(),
      maxPayloadBytes: positive.optional(),
      outbox: z
        .object({ maxMessages: positive.optional(), file: z.string().min(1).optional() })
        .strict()
        .optional(),
      now: z.function().optional(),
      logger: z.custom<Logger>(isLogger, { message: "must have debug, info, warn and error methods" }).optional(),
    })
    .strict();
}

/** Throws a ConfigError naming every wrong option, e.g. `mqtt.reconnect.minMs`. `extra` are the caller's own keys. */
export function validateMqttOptions(options: MqttOptions, prefix: string, extra: readonly string[] = []): void {
  const rest = Object.fromEntries(Object.entries(options).filter(([key]) => !extra.includes(key)));
  const parsed = optionsSchema().safeParse(rest);
  if (!parsed.success) throw new ConfigError(configIssuesFromZod(parsed.error, [prefix]));
}
