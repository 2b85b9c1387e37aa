/**
 * Settings of the OPC UA adapter and of its tag sources, validated where they cross into plantwire (options given in
 * code, sources read from tag-map files). Secure by default: SignAndEncrypt with Basic256Sha256.
 */
import { ConfigError, type ConfigIssue } from "../../src/errors.js";
import { lazyZod } from "../../src/lazy-zod.js";
import { isLogger, type Logger, type SwitchableLogger, switchableLogger } from "../../src/logger.js";

/** How messages are protected. "None" sends everything in clear text and needs `insecure: true`. */
export type OpcuaSecurityMode = "SignAndEncrypt" | "Sign" | "None";

/** Current security policies (Part 7). */
export const secureSecurityPolicies = ["Basic256Sha256", "Aes128_Sha256_RsaOaep", "Aes256_Sha256_RsaPss"] as const;
/** Policies deprecated by the OPC Foundation (SHA-1, PKCS#1 v1.5): allowed only with `insecure: true`. */
export const deprecatedSecurityPolicies = ["Basic128Rsa15", "Basic256"] as const;

/** A security policy by its short name. "None" goes with security mode "None". */
export type OpcuaSecurityPolicy =
  | (typeof secureSecurityPolicies)[number]
  | (typeof deprecatedSecurityPolicies)[number]
  | "None";

/** Who the session acts as: anonymous (omit), a user name and password, or an X.509 user certificate. */
export type OpcuaUser =
  | { readonly username: string; readonly password: string }
  | { readonly certificateFile: string; readonly privateKeyFile: string };

/** Options of {@link opcua}. */
export interface OpcuaOptions {
  /** The server's endpoint URL, e.g. "opc.tcp://10.0.0.5:4840". */
  endpoint: string;
  /** Adapter name, used in status, errors and tag-map files. @default "opcua" */
  name?: string;
  /** @default "SignAndEncrypt" */
  securityMode?: OpcuaSecurityMode;
  /** @default "Basic256Sha256" ("None" when securityMode is "None") */
  securityPolicy?: OpcuaSecurityPolicy;
  /** Required for security mode None or a deprecated policy; a warning is then given on every connect. @default false */
  insecure?: boolean;
  /** The user token. Anonymous when omitted. A password is never sent over security mode None. */
  user?: OpcuaUser;
  /**
   * The PKI folder: this client's certificate and key (created on first use), `trusted/` server certificates and
   * `rejected/` ones that were refused. @default "./pki/opcua"
   */
  pkiFolder?: string;
  /** The application name in this client's certificate. @default "plantwire" */
  applicationName?: string;
  /** Longest wait for the first connection and the session. @default 10000 */
  connectTimeoutMs?: number;
  /** Longest wait for one request (read, write, browse) before it fails. @default 10000 */
  requestTimeoutMs?: number;
  /** First delay between reconnection attempts; doubles up to `maxReconnectDelayMs`. @default 250 */
  reconnectDelayMs?: number;
  /** Longest delay between reconnection attempts. @default 5000 */
  maxReconnectDelayMs?: number;
  /**
   * The session timeout asked of the server. The session is kept alive every ⅔ of it (at most 20 s), and a silent
   * link, or a reconnection attempt the server never answers, is given up after twice that (at least
   * `connectTimeoutMs`). @default 60000
   */
  sessionTimeoutMs?: number;
  /** How often the server sends subscription notifications (and keep-alives). @default 250 */
  publishingIntervalMs?: number;
  /** Sampling interval for tags whose source does not give one. @default 250 */
  samplingIntervalMs?: number;
  /** Monitored items per subscription when the server does not say its limit. @default 1000 */
  maxItemsPerSubscription?: number;
  /** Nodes per read, write or browse request when the server reports no limit. @default 2000 */
  maxNodesPerRequest?: number;
  /** Receives warnings (insecure mode, unit mismatches). @default the logger's warn */
  onWarning?: (message: string) => void;
  /**
   * Where this adapter logs: connection events and node-opcua's own output at debug, warnings at warn. Any object
   * with debug/info/warn/error (console, pino, winston). @default the plant's logger, else PLANTWIRE_LOG on stderr
   */
  logger?: Logger;
}

/** Where an OPC UA tag lives: a node id (any form) or a browse path from the Objects folder. */
export interface OpcuaAddress {
  /** A node id, e.g. "ns=2;s=Pump7.Speed", "ns=3;i=1001", "nsu=urn:plant;s=Speed". */
  readonly nodeId?: string;
  /** A browse path, e.g. "/Objects/Plant/Pump7/Speed" (a segment may carry a namespace: "2:Speed"). */
  readonly path?: string;
  /** Sampling interval for subscriptions, in ms. @default the adapter's samplingIntervalMs */
  readonly samplingIntervalMs?: number;
  /** Server-side queue size for subscriptions. @default 1 */
  readonly queueSize?: number;
}

/** Per-source subscription settings accepted by `plc.node()` and `plc.path()`. */
export type OpcuaSourceOptions = Pick<OpcuaAddress, "samplingIntervalMs" | "queueSize">;

/** Options with every default filled in. */
export type ResolvedOpcuaOptions = Required<Omit<OpcuaOptions, "user" | "logger">> & {
  user: OpcuaUser | undefined;
  /** The adapter's logger, handed the plant's when none was given. */
  logger: SwitchableLogger;
};

function optionsSchema() {
  const z = lazyZod();
  const positive = z.number().int().positive();
  return z.strictObject({
    endpoint: z.string().regex(/^opc\.tcp:\/\/[^\s/]+(:\d+)?(\/\S*)?$/, {
      message: 'must be an opc.tcp:// URL, e.g. "opc.tcp://10.0.0.5:4840"',
    }),
    name: z.string().min(1).max(64).optional(),
    securityMode: z.enum(["SignAndEncrypt", "Sign", "None"]).optional(),
    securityPolicy: z.enum([...secureSecurityPolicies, ...deprecatedSecurityPolicies, "None"]).optional(),
    insecure: z.boolean().optional(),
    user: z
      .union([
        z.strictObject({ username: z.string().min(1), password: z.string() }),
        z.strictObject({ certificateFile: z.string().min(1), privateKeyFile: z.string().min(1) }),
      ])
      .optional(),
    pkiFolder: z.string().min(1).optional(),
    applicationName: z.string().min(1).optional(),
    connectTimeoutMs: positive.optional(),
    requestTimeoutMs: positive.optional(),
    reconnectDelayMs: positive.optional(),
    maxReconnectDelayMs: positive.optional(),
    sessionTimeoutMs: positive.optional(),
    publishingIntervalMs: positive.optional(),
    samplingIntervalMs: z.number().int().nonnegative().optional(),
    maxItemsPerSubscription: positive.optional(),
    maxNodesPerRequest: positive.optional(),
    onWarning: z.custom<(message: string) => void>((value) => typeof value === "function").optional(),
    logger: z
      .custom<Logger>(isLogger, {
        message: "must have debug, info, warn and error methods (console, pino or winston fit)",
      })
      .optional(),
  });
}

function zodIssues(error: { issues: readonly { path: readonly PropertyKey[]; message: string }[] }, fix: string) {
  return error.issues.map(
    (issue): ConfigIssue => ({ path: issue.path.map(String).join("."), message: issue.message, fix }),
  );
}

/** Validates the options, applies the defaults, and enforces secure-by-default. Throws a ConfigError. */
export function resolveOpcuaOptions(options: OpcuaOptions): ResolvedOpcuaOptions {
  const parsed = optionsSchema().safeParse(options);
  if (!parsed.success) {
    throw new ConfigError(zodIssues(parsed.error, "see OpcuaOptions in docs/opcua.md"));
  }
  const mode = options.securityMode ?? "SignAndEncrypt";
  const policy = options.securityPolicy ?? (mode === "None" ? "None" : "Basic256Sha256");
  const issues: ConfigIssue[] = [];
  if ((mode === "None") !== (policy === "None")) {
    issues.push({
      path: "securityPolicy",
      message: `security mode ${mode} cannot use policy ${policy}`,
      fix: mode === "None" ? 'use securityPolicy "None" with mode None' : 'pick a policy such as "Basic256Sha256"',
    });
  }
  const weak = mode === "None" || (deprecatedSecurityPolicies as readonly string[]).includes(policy);
  if (weak && options.insecure !== true) {
    issues.push({
      path: mode === "None" ? "securityMode" : "securityPolicy",
      message: `${mode === "None" ? "security mode None" : `policy ${policy}`} is insecure and refused by default`,
      fix: 'use securityMode "SignAndEncrypt" with "Basic256Sha256", or set insecure: true to accept the risk',
    });
  }
  if (mode === "None" && options.user && "username" in options.user) {
    issues.push({
      path: "user",
      message: "a user name and password would cross the network unprotected over security mode None",
      fix: 'use securityMode "SignAndEncrypt", or connect anonymously',
    });
  }
  if (issues.length > 0) throw new ConfigError(issues);
  const logger = switchableLogger(options.logger);
  return {
    endpoint: options.endpoint,
    name: options.name ?? "opcua",
    securityMode: mode,
    securityPolicy: policy,
    insecure: options.insecure ?? false,
    user: options.user,
    pkiFolder: options.pkiFolder ?? "./pki/opcua",
    applicationName: options.applicationName ?? "plantwire",
    connectTimeoutMs: options.connectTimeoutMs ?? 10_000,
    requestTimeoutMs: options.requestTimeoutMs ?? 10_000,
    reconnectDelayMs: options.reconnectDelayMs ?? 250,
    maxReconnectDelayMs: options.maxReconnectDelayMs ?? 5000,
    sessionTimeoutMs: options.sessionTimeoutMs ?? 60_000,
    publishingIntervalMs: options.publishingIntervalMs ?? 250,
    samplingIntervalMs: options.samplingIntervalMs ?? 250,
    maxItemsPerSubscription: options.maxItemsPerSubscription ?? 1000,
    maxNodesPerRequest: options.maxNodesPerRequest ?? 2000,
    onWarning: options.onWarning ?? ((message: string) => logger.warn(message)),
    logger,
  };
}

/** True when the options run without full security (mode None or a deprecated policy). */
export function isInsecure(options: ResolvedOpcuaOptions): boolean {
  return (
    options.securityMode === "None" ||
    (deprecatedSecurityPolicies as readonly string[]).includes(options.securityPolicy)
  );
}

let cachedSourceSchema: ReturnType<typeof buildSourceSchema> | undefined;

/** The source schema, built once: a site file may hold thousands of sources. */
function sourceSchema() {
  cachedSourceSchema ??= buildSourceSchema();
  return cachedSourceSchema;
}

function buildSourceSchema() {
  const z = lazyZod();
  return z
    .strictObject({
      nodeId: z.string().min(1).optional(),
      path: z
        .string()
        .regex(/^\/\S.*$/, { message: 'must start with "/", e.g. "/Objects/Plant/Speed"' })
        .optional(),
      samplingIntervalMs: z.number().int().nonnegative().optional(),
      queueSize: z.number().int().positive().max(10_000).optional(),
    })
    .refine((raw) => (raw.nodeId === undefined) !== (raw.path === undefined), {
      message: "give exactly one of nodeId or path",
    });
}

/** Validates a source read from a tag-map file (the `source` object minus `adapter`). Throws a ConfigError. */
export function parseOpcuaAddress(raw: Readonly<Record<string, unknown>>): OpcuaAddress {
  const parsed = sourceSchema().safeParse(raw);
  if (!parsed.success) {
    throw new ConfigError(
      zodIssues(
        parsed.error,
        'write source: { adapter: <name>, nodeId: "ns=2;s=Pump7.Speed" } or path: "/Objects/..."',
      ),
    );
  }
  const address: { -readonly [K in keyof OpcuaAddress]: OpcuaAddress[K] } = {};
  for (const [key, value] of Object.entries(parsed.data)) {
    if (value !== undefined) (address as Record<string, unknown>)[key] = value;
  }
  return address;
}

/** The node id or browse path of an address, for labels and error messages. */
export function addressText(address: OpcuaAddress): string {
  return address.nodeId ?? address.path ?? "(no node)";
}
