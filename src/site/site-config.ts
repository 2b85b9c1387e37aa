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
 * loops: ./loops.ts          # for `plantwire serve`: a module whose default export makes the site's loops
 * guard: { audit: ./audit.jsonl, approvals: ./approvals, mode: approval }
 * serve: { listen: "127.0.0.1:8470", users: ./users.json }
 * ```
 */
import { dirname, resolve } from "node:path";
import type { Adapter } from "../adapter.js";
import { configFormatOf, parseConfigText, readConfigText } from "../config-file.js";
import { configIssuesFromZod } from "../config-issues.js";
import { ConfigError, type ConfigIssue } from "../errors.js";
import { lazyZod } from "../lazy-zod.js";
import { mcpFieldFixes, mcpSectionSchema, resolveMcpSettings, type SiteMcpSettings } from "../mcp/mcp-settings.js";
import { adapterPackages, requireOptionalDependencies } from "../optional-dependency.js";
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
  /** The loops module (an absolute path), for `plantwire serve`. */
  readonly loops?: string;
  /** The site's one guard (paths absolute), for `plantwire serve`. */
  readonly guard?: SiteGuardSettings;
  /** How `plantwire serve` listens (paths absolute). */
  readonly serve?: SiteServeSettings;
  /** What an MCP client may see and propose for (`mcp:`, checked against the tag map); absent: read-only defaults. */
  readonly mcp?: SiteMcpSettings;
}

/** The `guard:` section of a site file: the one guard of the site, as `plantwire serve` creates it. */
export interface SiteGuardSettings {
  /** The audit log. @default "./audit.jsonl" beside the site file */
  readonly audit: string;
  /** The approvals folder shared with `plantwire approve`. @default "./.plantwire/approvals" beside the site file */
  readonly approvals: string;
  /** @default "approval" */
  readonly mode: "shadow" | "approval" | "automatic";
  /** The tags the guard may write. @default every writable tag */
  readonly writable?: readonly string[];
  /** How long a proposal can be approved. @default 300000 */
  readonly proposalTtlMs?: number;
  /** See GuardOptions.separateApproverUsers. @default false */
  readonly separateApproverUsers?: boolean;
}

/** The `serve:` section of a site file. */
export interface SiteServeSettings {
  /** "host:port". @default "127.0.0.1:8470" (loopback: the console is reachable from this machine only) */
  readonly listen: string;
  /** A certificate and key (PEM files): the console is then served over https. */
  readonly tls?: { readonly cert: string; readonly key: string };
  /** The users file (`plantwire users add`). @default "./users.json" beside the site file */
  readonly users: string;
  /** A console session ends after this long without a request. @default 15 */
  readonly idleTimeoutMinutes: number;
  /**
   * Host names the console answers to besides the listen address, localhost, 127.0.0.1, [::1] and IP addresses (a
   * console reached by name on the plant LAN). Any other Host header is refused, against DNS rebinding.
   */
  readonly hosts?: readonly string[];
}

/** Fixes for the fields `plantwire serve` adds, by the first parts of their path. */
const serveFieldFixes: [RegExp, string][] = [
  [/^loops$/, "name the loops module beside the site file, e.g. loops: ./loops.ts, or remove the field"],
  [/^guard\.audit$/, "give the audit log's path, e.g. audit: ./audit.jsonl"],
  [/^guard\.approvals$/, "give the approvals folder's path, e.g. approvals: ./approvals"],
  [/^guard\.mode$/, 'set mode to "shadow", "approval" or "automatic"'],
  [/^guard\.writable/, "list the tag names this guard may write, e.g. writable: [speedSetpoint]"],
  [/^guard\.proposalTtlMs$/, "give the approval window in milliseconds, e.g. 300000"],
  [/^guard\.separateApproverUsers$/, "set separateApproverUsers to true or false"],
  [
    /^serve\.listen$/,
    'write host:port, e.g. "127.0.0.1:8470" (loopback), or an address of the plant LAN with serve.tls',
  ],
  [/^serve\.tls/, "give both PEM files: tls: { cert: ./console.crt, key: ./console.key }"],
  [/^serve\.users$/, "give the users file's path, e.g. users: ./users.json (plantwire users add <name>)"],
  [/^serve\.idleTimeoutMinutes$/, "give a whole number of minutes between 1 and 1440, e.g. 15"],
  [/^serve\.hosts/, "list host names without port or scheme, e.g. hosts: [console.plant.lan]"],
  ...mcpFieldFixes,
];

function withServeFixes(issues: ConfigIssue[]): ConfigIssue[] {
  return issues.map((issue) => {
    if (issue.fix !== "correct the value") return issue;
    const fix = serveFieldFixes.find(([pattern]) => pattern.test(issue.path))?.[1];
    return fix ? { ...issue, fix } : issue;
  });
}

/** The schema of a site file (docs/site.md documents every field; a test holds the two together). */
export function siteSchema() {
  const z = lazyZod();
  return z.strictObject({
    site: z.string().min(1).max(100).optional(),
    /** The same as `site:` (the loaded Site calls it `name`); give one of the two. */
    name: z.string().min(1).max(100).optional(),
    adapters: z
      .record(
        z.string().regex(/^[A-Za-z_][A-Za-z0-9_-]{0,63}$/),
        z.looseObject({ kind: z.enum(adapterKinds as [string, ...string[]]) }),
      )
      .refine((adapters) => Object.keys(adapters).length > 0, { message: "needs at least one adapter" }),
    tags: z.union([z.string().min(1), z.record(z.string(), z.unknown())]),
    loops: z.string().min(1).optional(),
    guard: z
      .strictObject({
        audit: z.string().min(1).optional(),
        approvals: z.string().min(1).optional(),
        mode: z.enum(["shadow", "approval", "automatic"]).optional(),
        writable: z.array(z.string().min(1)).optional(),
        proposalTtlMs: z.number().int().min(1000).max(86_400_000).optional(),
        separateApproverUsers: z.boolean().optional(),
      })
      .optional(),
    serve: z
      .strictObject({
        listen: z
          .string()
          .regex(/^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):\d{1,5}$/, { message: 'must be "host:port"' })
          .optional(),
        tls: z.strictObject({ cert: z.string().min(1), key: z.string().min(1) }).optional(),
        users: z.string().min(1).optional(),
        idleTimeoutMinutes: z.number().int().min(1).max(1440).optional(),
        hosts: z
          .array(z.string().regex(/^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)$/, { message: "must be a host name, no port" }))
          .max(100)
          .optional(),
      })
      .optional(),
    mcp: mcpSectionSchema().optional(),
  });
}

const siteFileFix =
  "a site file is a mapping with adapters: (each named, with a kind:) and tags: (a tag-map file beside it, or the tags inline), and optionally site: <name>; see docs/site.md";

/** An empty file, a list or a scalar is not a site: say what one must hold instead of a bare type error. */
function checkSiteShape(document: unknown, file: string): void {
  const empty = document === null || document === undefined || document === "";
  if (empty || typeof document !== "object" || Array.isArray(document)) {
    const what = empty
      ? "is empty"
      : `holds ${Array.isArray(document) ? "a list" : `a ${typeof document}`}, not a mapping`;
    throw new ConfigError([{ path: "(file)", message: `the site file ${what}`, fix: siteFileFix }], { file });
  }
  const { site, name } = document as { site?: unknown; name?: unknown };
  if (site !== undefined && name !== undefined && site !== name) {
    throw new ConfigError(
      [
        {
          path: "name",
          message: `site: "${String(site)}" and name: "${String(name)}" disagree`,
          fix: "give the site's name once, as site: <name>",
        },
      ],
      { file },
    );
  }
}

/** Loads a site file (YAML or JSON), creates its adapters and loads its tag map. Every problem names its field. */
export async function loadSite(file: string): Promise<Site> {
  const format = configFormatOf(file) ?? "yaml";
  const document = await parseConfigText(await readConfigText(file), format, file);
  checkSiteShape(document, file);
  const parsed = siteSchema().safeParse(document);
  if (!parsed.success) throw new ConfigError(withServeFixes(configIssuesFromZod(parsed.error)), { file });
  const issues: ConfigIssue[] = [];
  // Every package the site's adapters need, checked before any is made: all the missing ones in one message.
  requireOptionalDependencies(
    Object.entries(parsed.data.adapters).flatMap(([name, { kind, ...options }]) =>
      adapterPackages(name, kind, options),
    ),
    `The site ${file}`,
  );
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
  const here = (path: string) => resolve(dirname(file), path);
  const { loops, guard, serve } = parsed.data;
  let mcp: SiteMcpSettings | undefined;
  try {
    mcp = parsed.data.mcp ? resolveMcpSettings(parsed.data.mcp, tags, guard?.writable) : undefined;
  } catch (error) {
    throw ConfigError.isInstance(error) ? new ConfigError(error.issues, { file }) : error;
  }
  return {
    name: parsed.data.site ?? parsed.data.name ?? file,
    file,
    adapters,
    tags,
    ...(loops ? { loops: here(loops) } : {}),
    ...(guard
      ? {
          guard: {
            audit: here(guard.audit ?? "./audit.jsonl"),
            approvals: here(guard.approvals ?? "./.plantwire/approvals"),
            mode: guard.mode ?? "approval",
            ...(guard.writable ? { writable: guard.writable } : {}),
            ...(guard.proposalTtlMs ? { proposalTtlMs: guard.proposalTtlMs } : {}),
            ...(guard.separateApproverUsers !== undefined
              ? { separateApproverUsers: guard.separateApproverUsers }
              : {}),
          },
        }
      : {}),
    ...(serve
      ? {
          serve: {
            listen: serve.listen ?? "127.0.0.1:8470",
            ...(serve.tls ? { tls: { cert: here(serve.tls.cert), key: here(serve.tls.key) } } : {}),
            users: here(serve.users ?? "./users.json"),
            idleTimeoutMinutes: serve.idleTimeoutMinutes ?? 15,
            ...(serve.hosts ? { hosts: serve.hosts } : {}),
          },
        }
      : {}),
    ...(mcp ? { mcp } : {}),
  };
}

/** The guard and serve settings a site gets when its file has no `guard:` or `serve:` section. */
export function siteDefaults(site: Site): { guard: SiteGuardSettings; serve: SiteServeSettings } {
  const here = (path: string) => resolve(dirname(site.file), path);
  return {
    guard: site.guard ?? { audit: here("./audit.jsonl"), approvals: here("./.plantwire/approvals"), mode: "approval" },
    serve: site.serve ?? { listen: "127.0.0.1:8470", users: here("./users.json"), idleTimeoutMinutes: 15 },
  };
}
