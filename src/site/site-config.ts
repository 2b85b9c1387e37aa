/**
 * A site is a config file: which adapters to open (by kind and options) and the tag map (inline or a file beside
 * it). `loadSite("site.yaml")` gives the adapters and tags a plant needs; the CLI's `read`, `watch` and `run` use it.
 *
 * ```yaml
 * site: pump-station-7
 * adapters:
 *   drive: { kind: modbus, url: "modbus+tcp://10.0.0.20:502", unit: 1 }
 *   bus: { kind: mqtt, url: "mqtt://broker.local" }
 * tags: ./tags.yaml
 * ```
 */
import { dirname, resolve } from "node:path";
import type { Adapter } from "../adapter.js";
import { configFormatOf, parseConfigText, readConfigText } from "../config-file.js";
import { configIssuesFromZod } from "../config-issues.js";
import { ConfigError, type ConfigIssue } from "../errors.js";
import { lazyZod } from "../lazy-zod.js";
import { loadTagMap, parseTagMap } from "../tag-map-file.js";
import type { TagDefinitions, TagMap } from "../tags.js";

type AdapterFactory = (options: Record<string, unknown>) => Adapter;

/** Each adapter kind's factory, loaded only when a site uses that kind. */
const factories: Record<string, () => Promise<AdapterFactory>> = {
  modbus: async () => (await import("../../adapters/modbus/index.js")).modbus as unknown as AdapterFactory,
  opcua: async () => (await import("../../adapters/opcua/index.js")).opcua as unknown as AdapterFactory,
  mqtt: async () => (await import("../../adapters/mqtt/index.js")).mqtt as unknown as AdapterFactory,
  sql: async () => (await import("../../adapters/sql/index.js")).sql as unknown as AdapterFactory,
  memory: async () => (await import("../testing/memory-adapter.js")).memoryAdapter as unknown as AdapterFactory,
};

/** The adapter kinds a site file may name. */
export const adapterKinds = Object.keys(factories);

/** A loaded site. */
export interface Site {
  /** The site's name. */
  readonly name: string;
  readonly file: string;
  /** The site's adapters, by name (not yet connected). */
  readonly adapters: Readonly<Record<string, Adapter>>;
  readonly tags: TagMap<TagDefinitions>;
}

function siteSchema() {
  const z = lazyZod();
  return z.strictObject({
    site: z.string().min(1).max(100).optional(),
    adapters: z
      .record(
        z.string().regex(/^[A-Za-z_][A-Za-z0-9_-]{0,63}$/),
        z.looseObject({ kind: z.enum(adapterKinds as [string, ...string[]]) }),
      )
      .refine((adapters) => Object.keys(adapters).length > 0, { message: "needs at least one adapter" }),
    tags: z.union([z.string().min(1), z.record(z.string(), z.unknown())]),
  });
}

/** Loads a site file (YAML or JSON), creates its adapters and loads its tag map. Every problem names its field. */
export async function loadSite(file: string): Promise<Site> {
  const format = configFormatOf(file) ?? "yaml";
  const document = await parseConfigText(await readConfigText(file), format, file);
  const parsed = siteSchema().safeParse(document);
  if (!parsed.success) throw new ConfigError(configIssuesFromZod(parsed.error), { file });
  const issues: ConfigIssue[] = [];
  const adapters: Record<string, Adapter> = {};
  for (const [name, { kind, ...options }] of Object.entries(parsed.data.adapters)) {
    try {
      adapters[name] = (await (factories[kind] as () => Promise<AdapterFactory>)())({ ...options, name });
    } catch (error) {
      if (!ConfigError.isInstance(error)) throw error;
      issues.push(
        ...error.issues.map((issue) => ({ ...issue, path: `adapters.${name}${issue.path ? `.${issue.path}` : ""}` })),
      );
    }
  }
  if (issues.length > 0) throw new ConfigError(issues, { file });
  const tags =
    typeof parsed.data.tags === "string"
      ? await loadTagMap(resolve(dirname(file), parsed.data.tags), { adapters })
      : await parseTagMap(JSON.stringify({ tags: parsed.data.tags }), "json", { adapters, file });
  return { name: parsed.data.site ?? file, file, adapters, tags };
}
