/**
 * The JSON shapes plantwire publishes on MQTT, as zod schemas for consumers (`import { snapshotMessageSchema } from
 * "plantwire/mqtt"`) and for plantwire's own checks of inbound answers. Field names are short on purpose: they are
 * repeated for every tag of every message.
 */
import type { z as zod } from "zod";
import { lazyZod } from "../../src/lazy-zod.js";

// The same zod copy as the rest of plantwire (lazyZod's). A static `import { z } from "zod"` here loaded zod's ESM
// build beside it in ES module scripts: two copies of zod, ~9 MB of RSS (bench/import-cost.bench.ts).
const { z } = lazyZod();

/** One tag's sample in a message: value, quality, reason, source time, received time. */
export const sampleEntrySchema = z.object({
  /** The value (absent when the sample has none). */
  v: z.union([z.number(), z.boolean(), z.string()]).optional(),
  /** Quality: "good" | "uncertain" | "bad". */
  q: z.enum(["good", "uncertain", "bad"]),
  /** Why the quality is not good. */
  r: z.string().optional(),
  /** Source time (ms since the epoch), when known. */
  t: z.number().optional(),
  /** True when the sample was older than its tag's stale-after. */
  stale: z.boolean().optional(),
});

/** `publishSnapshot`: several tags taken together (only the changed ones with `changedOnly`). */
export const snapshotMessageSchema = z.object({
  kind: z.literal("snapshot"),
  /** When the snapshot was taken (ms since the epoch). */
  time: z.number(),
  /** Tag name → sample. */
  tags: z.record(z.string(), sampleEntrySchema),
});

/** `publishWindow`: a time series per tag; each point is [time, value] or [time, value, quality]. */
export const windowMessageSchema = z.object({
  kind: z.literal("window"),
  from: z.number(),
  to: z.number(),
  series: z.record(
    z.string(),
    z.array(
      z.union([
        z.tuple([z.number(), z.union([z.number(), z.boolean(), z.string(), z.null()])]),
        z.tuple([z.number(), z.union([z.number(), z.boolean(), z.string(), z.null()]), z.string()]),
      ]),
    ),
  ),
});

/** `publishEvent`: something that happened (an alarm, a loop decision, a trip). */
export const eventMessageSchema = z.object({
  kind: z.literal("event"),
  time: z.number(),
  /** A short machine-readable type, e.g. "alarm", "loop.decision". */
  type: z.string(),
  severity: z.enum(["info", "warning", "alarm", "critical"]).default("info"),
  message: z.string().optional(),
  /** Tag names the event concerns. */
  tags: z.array(z.string()).optional(),
  data: z.record(z.string(), z.unknown()).optional(),
});

/** `publishResult`: a model's validated result, with why and which model. */
export const resultMessageSchema = z.object({
  kind: z.literal("result"),
  time: z.number(),
  /** Which model or loop produced it. */
  source: z.string().optional(),
  /** The result object (already validated against the caller's schema). */
  result: z.unknown(),
  reason: z.string().optional(),
});

/** A command sent to a tag's command topic by a write. */
export const commandMessageSchema = z.object({
  value: z.union([z.number(), z.boolean(), z.string()]),
  tag: z.string(),
  time: z.number(),
  /** Present when an answer is expected; echo it back (3.1.1 brokers have no correlation data). */
  correlationId: z.string().optional(),
  responseTopic: z.string().optional(),
});

/** What a device answers on the response topic. */
export const commandResponseSchema = z.object({
  correlationId: z.string().optional(),
  ok: z.boolean(),
  error: z.string().optional(),
});

/** The types of the published messages. */
export type SnapshotMessage = zod.infer<typeof snapshotMessageSchema>;
export type WindowMessage = zod.infer<typeof windowMessageSchema>;
export type EventMessage = zod.input<typeof eventMessageSchema>;
export type ResultMessage = zod.infer<typeof resultMessageSchema>;
export type CommandMessage = zod.infer<typeof commandMessageSchema>;
export type CommandResponse = zod.infer<typeof commandResponseSchema>;
