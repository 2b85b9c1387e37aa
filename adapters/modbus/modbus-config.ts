/**
 * The Modbus adapter's settings: plain interfaces with their defaults, the connection URL forms, and the zod check
 * that turns a wrong option into a ConfigError naming the field and the fix.
 */
import { configIssuesFromZod } from "../../src/config-issues.js";
import { ConfigError } from "../../src/index.js";
import { lazyZod } from "../../src/lazy-zod.js";
import { isLogger, type Logger, type SwitchableLogger, switchableLogger } from "../../src/logger.js";
import { type WordOrder, wordOrders } from "./modbus-codec.js";
import { type ModbusHoleOptions, type ResolvedHoleOptions, resolveHoleOptions } from "./modbus-holes.js";
import { type ModbusPlannerOptions, type ResolvedPlannerOptions, resolvePlannerOptions } from "./modbus-planner.js";

/** Serial line settings for RTU. */
export interface ModbusSerialOptions {
  /** Device path, e.g. "/dev/ttyUSB0" or "COM3". @default the URL's path */
  path?: string;
  /** @default 9600 */
  baudRate?: number;
  /** @default "even" (the Modbus RTU default) */
  parity?: "none" | "even" | "odd";
  /** @default 1 */
  stopBits?: 1 | 2;
  /** @default 8 */
  dataBits?: 7 | 8;
}

/** Per-unit overrides, for devices behind one gateway that differ (out-of-spec limits, another word order). */
export interface ModbusUnitOptions extends ModbusPlannerOptions {
  /** Byte/word order of this unit's values. @default the adapter's wordOrder */
  wordOrder?: WordOrder;
}

/** Options of `modbus()`. */
export interface ModbusOptions extends ModbusPlannerOptions {
  /**
   * Where the device is: `modbus+tcp://host:502` (Modbus TCP), `modbus+rtu+tcp://host:4001` (RTU frames over TCP, for
   * serial gateways), or `modbus+rtu:///dev/ttyUSB0?baudRate=19200&parity=none` (RTU over a serial line).
   */
  url: string;
  /** The default unit id for this adapter's sources. @default 1 */
  unit?: number;
  /** The adapter's name in status, errors and tag-map files. @default "modbus" */
  name?: string;
  /** Longest wait for one response; a request never waits longer. @default 1000 */
  timeoutMs?: number;
  /** Pause after each response before the next request, for slow devices. @default 0 */
  interRequestDelayMs?: number;
  /** Default byte/word order. @default "ABCD" */
  wordOrder?: WordOrder;
  /** Per-unit overrides, by unit id. */
  units?: Readonly<Record<number, ModbusUnitOptions>>;
  /** Requests in flight at once on Modbus TCP. Many devices reject more than one. @default 1 (no pipelining) */
  maxInFlight?: number;
  /** Serial settings for `modbus+rtu:`. */
  serial?: ModbusSerialOptions;
  /** Reconnection backoff: capped exponential with jitter. */
  reconnect?: { initialDelayMs?: number; maxDelayMs?: number };
  /** Per-unit circuit breaker: after `failures` timeouts in a row a unit is skipped for `openMs`, doubling to `maxOpenMs`. */
  breaker?: { failures?: number; openMs?: number; maxOpenMs?: number };
  /**
   * When addresses a unit refused with exception 2 (holes) are asked for again: after `retryAfterMs`, doubling while
   * the hole is found again, up to `maxRetryAfterMs`. @default { retryAfterMs: 300000, maxRetryAfterMs: 3600000 }
   */
  holes?: ModbusHoleOptions;
  /**
   * Where this adapter logs: connections, reconnections and refused blocks at debug. Any object with
   * debug/info/warn/error (console, pino, winston). @default the plant's logger, else PLANTWIRE_LOG on stderr
   */
  logger?: Logger;
}

/** The transport modes. */
export type ModbusTransportKind = "tcp" | "rtu-over-tcp" | "rtu";

/** Options with every default filled in. */
export interface ResolvedModbusOptions {
  readonly kind: ModbusTransportKind;
  readonly host: string;
  readonly port: number;
  readonly serial: Required<ModbusSerialOptions>;
  readonly unit: number;
  readonly name: string;
  readonly timeoutMs: number;
  readonly interRequestDelayMs: number;
  readonly wordOrder: WordOrder;
  readonly maxInFlight: number;
  readonly reconnect: { readonly initialDelayMs: number; readonly maxDelayMs: number };
  readonly breaker: { readonly failures: number; readonly openMs: number; readonly maxOpenMs: number };
  readonly holes: ResolvedHoleOptions;
  /** The adapter's logger, handed the plant's when none was given. */
  readonly logger: SwitchableLogger;
  /** Planner options for a unit (adapter settings, then the unit's overrides). */
  plannerFor(unit: number): ResolvedPlannerOptions;
  /** Word order default for a unit. */
  wordOrderFor(unit: number): WordOrder;
}

function optionsSchema() {
  const z = lazyZod();
  const positive = z.number().int().positive();
  const planner = {
    maxRegistersPerRequest: z.number().int().min(1).max(125).optional(),
    maxBitsPerRequest: z.number().int().min(1).max(2000).optional(),
    maxGapRegisters: z.number().int().min(0).max(124).optional(),
    maxGapBits: z.number().int().min(0).max(1999).optional(),
    requestPerTag: z.boolean().optional(),
  };
  const order = z.enum(wordOrders as [WordOrder, ...WordOrder[]]);
  return z.strictObject({
    url: z.string().regex(/^modbus\+(tcp|rtu|rtu\+tcp):\/\//, {
      message: "must start with modbus+tcp://, modbus+rtu+tcp:// or modbus+rtu://",
    }),
    unit: z.number().int().min(0).max(255).optional(),
    name: z.string().min(1).max(64).optional(),
    timeoutMs: positive.max(600_000).optional(),
    interRequestDelayMs: z.number().int().min(0).max(60_000).optional(),
    wordOrder: order.optional(),
    units: z.record(z.string().regex(/^\d+$/), z.strictObject({ ...planner, wordOrder: order.optional() })).optional(),
    maxInFlight: z.number().int().min(1).max(64).optional(),
    serial: z
      .strictObject({
        path: z.string().min(1).optional(),
        baudRate: positive.optional(),
        parity: z.enum(["none", "even", "odd"]).optional(),
        stopBits: z.union([z.literal(1), z.literal(2)]).optional(),
        dataBits: z.union([z.literal(7), z.literal(8)]).optional(),
      })
      .optional(),
    reconnect: z.strictObject({ initialDelayMs: positive.optional(), maxDelayMs: positive.optional() }).optional(),
    breaker: z
      .strictObject({ failures: positive.optional(), openMs: positive.optional(), maxOpenMs: positive.optional() })
      .optional(),
    holes: z
      .strictObject({
        retryAfterMs: z.union([positive, z.literal("never")]).optional(),
        maxRetryAfterMs: positive.optional(),
      })
      .optional(),
    logger: z.custom<Logger>(isLogger, { message: "must have debug, info, warn and error methods" }).optional(),
    ...planner,
  });
}

/** Validates `modbus()` options and fills defaults. Throws a ConfigError naming every wrong field. */
export function resolveModbusOptions(options: ModbusOptions): ResolvedModbusOptions {
  const parsed = optionsSchema().safeParse(options);
  if (!parsed.success) throw new ConfigError(configIssuesFromZod(parsed.error));
  const url = new URL(options.url);
  const kind: ModbusTransportKind =
    url.protocol === "modbus+tcp:" ? "tcp" : url.protocol === "modbus+rtu+tcp:" ? "rtu-over-tcp" : "rtu";
  const query = url.searchParams;
  const numberParameter = (key: string) => (query.has(key) ? Number(query.get(key)) : undefined);
  const serial: Required<ModbusSerialOptions> = {
    path: options.serial?.path ?? decodeURIComponent(url.pathname || url.hostname),
    baudRate: options.serial?.baudRate ?? numberParameter("baudRate") ?? 9600,
    parity: options.serial?.parity ?? (query.get("parity") as ModbusSerialOptions["parity"]) ?? "even",
    stopBits: options.serial?.stopBits ?? (numberParameter("stopBits") as 1 | 2 | undefined) ?? 1,
    dataBits: options.serial?.dataBits ?? (numberParameter("dataBits") as 7 | 8 | undefined) ?? 8,
  };
  if (kind === "rtu" && (!serial.path || !["none", "even", "odd"].includes(serial.parity))) {
    throw new ConfigError([
      {
        path: "url",
        message: `serial settings are incomplete or wrong (path "${serial.path}", parity "${serial.parity}")`,
        fix: "write modbus+rtu:///dev/ttyUSB0?baudRate=19200&parity=even, or give serial: { path, baudRate, parity }",
      },
    ]);
  }
  if (kind !== "rtu" && !url.hostname) {
    throw new ConfigError([{ path: "url", message: "has no host", fix: "write modbus+tcp://10.0.0.20:502" }]);
  }
  const wordOrder = options.wordOrder ?? "ABCD";
  const plannerCache = new Map<number, ResolvedPlannerOptions>();
  return {
    kind,
    host: url.hostname.replace(/^\[|\]$/g, ""),
    port: url.port ? Number(url.port) : 502,
    serial,
    unit: options.unit ?? 1,
    name: options.name ?? "modbus",
    timeoutMs: options.timeoutMs ?? 1000,
    interRequestDelayMs: options.interRequestDelayMs ?? 0,
    wordOrder,
    maxInFlight: kind === "rtu" ? 1 : (options.maxInFlight ?? 1),
    reconnect: {
      initialDelayMs: options.reconnect?.initialDelayMs ?? 100,
      maxDelayMs: options.reconnect?.maxDelayMs ?? 2000,
    },
    breaker: {
      failures: options.breaker?.failures ?? 2,
      openMs: options.breaker?.openMs ?? 1000,
      maxOpenMs: options.breaker?.maxOpenMs ?? 30_000,
    },
    holes: resolveHoleOptions(options.holes),
    logger: switchableLogger(options.logger),
    plannerFor(unit) {
      let resolved = plannerCache.get(unit);
      if (!resolved) {
        resolved = resolvePlannerOptions(options, options.units?.[unit]);
        plannerCache.set(unit, resolved);
      }
      return resolved;
    },
    wordOrderFor: (unit) => options.units?.[unit]?.wordOrder ?? wordOrder,
  };
}
