/**
 * The Modbus adapter: `modbus({ url, unit })` gives source builders (`holding`, `input`, `coil`, `discrete`,
 * `register` for 40001-style numbers), planned block reads, per-unit isolation, and single-attempt writes.
 */
import {
  ADAPTER_CONTRACT_VERSION,
  type Adapter,
  type BoundTag,
  badSample,
  ConnectionError,
  type Sample,
  StatusTracker,
  type TagDefinitions,
  type TagSource,
  TimeoutError,
  ValidationError,
  type WriteResult,
} from "../../src/index.js";
import {
  addressLabel,
  type ModbusAddress,
  type ModbusArea,
  type ModbusSourceOptions,
  parseClassicAddress,
  resolveAddress,
} from "./modbus-address.js";
import { UnitBreaker } from "./modbus-breaker.js";
import type { ModbusDataType } from "./modbus-codec.js";
import { type ModbusOptions, type ResolvedModbusOptions, resolveModbusOptions } from "./modbus-config.js";
import { modbusDevice } from "./modbus-device.js";
import { ModbusExceptionError } from "./modbus-errors.js";
import { HoleRegistry, type ModbusHole } from "./modbus-holes.js";
import { describePlan, type Plan } from "./modbus-planner.js";
import { type CompiledPlan, compilePlan, readUnit } from "./modbus-reader.js";
import { parseSourceEntry } from "./modbus-source.js";
import { type ModbusOperation, ModbusTransport, type TransportState } from "./modbus-transport.js";
import { encodeTagValue } from "./modbus-values.js";
import { sameOnWire, writeProblem } from "./modbus-wire-check.js";

/** A register data type (everything but bool, which coils, discrete inputs and `bit` give). */
export type RegisterDataType = Exclude<ModbusDataType, "bool">;

/** The state of one unit, as `unitStatus()` reports it. */
export interface ModbusUnitStatus {
  readonly unit: number;
  /** "ok", "failing" (missed answers, still tried) or "backed-off" (skipped until `retryAt`). */
  readonly state: "ok" | "failing" | "backed-off";
  readonly lastError?: string;
  readonly retryAt?: number;
}

/** The Modbus adapter: the adapter contract plus source builders and plan inspection. */
export interface ModbusAdapter extends Adapter<ModbusAddress> {
  /** A holding register source (FC3 read, FC6/FC16 write), 0-based, e.g. `holding(100, "float32", { wordOrder: "CDAB" })`. */
  holding(
    address: number,
    dataType?: RegisterDataType | "bool",
    options?: ModbusSourceOptions,
  ): TagSource<ModbusAddress>;
  /** An input register source (FC4, read-only), 0-based. */
  input(address: number, dataType?: RegisterDataType | "bool", options?: ModbusSourceOptions): TagSource<ModbusAddress>;
  /** A coil (FC1 read, FC5 write), 0-based. */
  coil(address: number, options?: Pick<ModbusSourceOptions, "unit">): TagSource<ModbusAddress>;
  /** A discrete input (FC2, read-only), 0-based. */
  discrete(address: number, options?: Pick<ModbusSourceOptions, "unit">): TagSource<ModbusAddress>;
  /** A source in classic 1-based notation: 40101 is holding 100, 30001 input 0, 10001 discrete 0, 00001 coil 0. */
  register(
    notation: number | string,
    dataType?: ModbusDataType,
    options?: ModbusSourceOptions,
  ): TagSource<ModbusAddress>;
  /** The requests a read of these tags sends, by unit. */
  plan(tags: TagDefinitions | readonly BoundTag<ModbusAddress>[]): Plan;
  /** The plan in words: which tags go in which request. */
  explainPlan(tags: TagDefinitions | readonly BoundTag<ModbusAddress>[]): string;
  /** Writes one value, once: FC5 (coil), FC6 (one register), FC16 (several), FC22 (one bit). Never retried. */
  write(tag: BoundTag<ModbusAddress>, value: unknown): Promise<WriteResult>;
  /** Each unit's health, for units read so far. */
  unitStatus(): ModbusUnitStatus[];
  /**
   * The holes found in the devices' maps: ranges a unit answered with exception 2 (illegal data address). Reads do not
   * ask for them again until their `retryAt` (see the `holes` option); tags in one read bad (device-error), hole named.
   */
  holes(): ModbusHole[];
  /** Forgets every hole, e.g. after the device's map changed; the next poll asks for full blocks again. */
  forgetHoles(): void;
  /** The settings in force, defaults filled in. */
  readonly settings: ResolvedModbusOptions;
}

function bind(tags: TagDefinitions | readonly BoundTag<ModbusAddress>[]): BoundTag<ModbusAddress>[] {
  if (Array.isArray(tags)) return [...(tags as readonly BoundTag<ModbusAddress>[])];
  return Object.entries(tags as TagDefinitions).map(([name, definition]) => ({
    name,
    definition,
    address: definition.source.address as ModbusAddress,
  }));
}

/** Creates a Modbus adapter. Nothing connects until `connect()` (or a plant's first read). */
export function modbus(options: ModbusOptions): ModbusAdapter {
  const settings = resolveModbusOptions(options);
  const { name } = settings;
  const status = new StatusTracker();
  status.on((now) =>
    settings.logger.debug(`Modbus adapter "${name}": ${now.state}${now.reason ? ` (${now.reason})` : ""}`),
  );
  const breakers = new Map<number, UnitBreaker>();
  const plans = new WeakMap<readonly BoundTag<ModbusAddress>[], CompiledPlan>();
  const holes = new HoleRegistry(settings.holes);
  const onTransport = (state: TransportState, reason: string) => {
    if (state === "connecting") status.set("connecting", reason);
    else if (state === "open") refreshStatus();
    else if (state === "down") status.set("disconnected", `${reason}; reconnecting`);
    else if (state === "closed" || state === "idle") status.set("disconnected", reason);
  };
  const transport = new ModbusTransport(settings, onTransport);

  const breakerFor = (unit: number) => {
    let breaker = breakers.get(unit);
    if (!breaker) {
      breaker = new UnitBreaker(settings.breaker);
      breakers.set(unit, breaker);
    }
    return breaker;
  };
  const unitStatus = (): ModbusUnitStatus[] =>
    [...breakers].map(([unit, breaker]) => {
      if (!breaker.failing) return { unit, state: "ok" };
      const state = breaker.isOpen() ? "backed-off" : "failing";
      return { unit, state, lastError: breaker.lastError, retryAt: breaker.retryAt };
    });
  function refreshStatus(): void {
    if (transport.state !== "open") return;
    const failing = unitStatus().filter((unit) => unit.state !== "ok");
    if (failing.length === 0) status.set("connected", "connected");
    else status.set("degraded", `unit ${failing.map((unit) => unit.unit).join(", ")} not answering`);
  }
  const compiled = (tags: readonly BoundTag<ModbusAddress>[]) => {
    let plan = plans.get(tags);
    // A hole found since the plan was made changes which blocks may be joined: plan again, once per new hole.
    if (!plan || plan.holesVersion !== holes.version) {
      plan = compilePlan(tags, settings.plannerFor, name, holes);
      plans.set(tags, plan);
    }
    return plan;
  };
  const source = (address: ModbusAddress): TagSource<ModbusAddress> => ({
    adapter,
    address,
    label: addressLabel(address),
  });
  const build = (
    area: ModbusArea,
    address: number,
    dataType: ModbusDataType,
    sourceOptions: ModbusSourceOptions = {},
  ) => {
    const unit = sourceOptions.unit ?? settings.unit;
    return source(
      resolveAddress(area, address, dataType, sourceOptions, { unit, wordOrder: settings.wordOrderFor(unit) }),
    );
  };
  const registerBuilder =
    (area: "holding" | "input") =>
    (address: number, dataType?: RegisterDataType | "bool", sourceOptions: ModbusSourceOptions = {}) =>
      build(area, address, dataType ?? (sourceOptions.bit === undefined ? "uint16" : "bool"), sourceOptions);

  async function write(tag: BoundTag<ModbusAddress>, value: unknown): Promise<WriteResult> {
    const address = tag.address;
    let operation: ModbusOperation;
    try {
      const encoded = encodeTagValue(tag.name, tag.definition, address, value);
      const { unit, address: start } = address;
      if (encoded.kind === "coil")
        operation = (client, callback) => client.writeFC5(unit, start, encoded.state, callback);
      else if (encoded.kind === "register-bit") {
        const mask = 1 << encoded.bit;
        operation = (client, callback) =>
          client.writeFC22(unit, start, ~mask & 0xffff, encoded.state ? mask : 0, callback);
      } else if (encoded.bytes.length === 2) {
        const word = encoded.bytes.readUInt16BE(0);
        operation = (client, callback) => client.writeFC6(unit, start, word, callback);
      } else operation = (client, callback) => client.writeFC16(unit, start, encoded.bytes, callback);
    } catch (error) {
      return { outcome: "failed", error: error as Error, time: Date.now() };
    }
    const sent = { value: false };
    const tracked: ModbusOperation = (client, callback) => {
      sent.value = true;
      operation(client, callback);
    };
    try {
      await transport.request(address.unit, `write of tag "${tag.name}" to ${addressLabel(address)}`, tracked);
      return { outcome: "written", time: Date.now() };
    } catch (error) {
      // A refusal is certain; a silence or a lost link after sending is not: the device may have applied it.
      const certain = !sent.value || error instanceof ModbusExceptionError || ValidationError.isInstance(error);
      return { outcome: certain ? "failed" : "unknown", error: error as Error, time: Date.now() };
    }
  }

  const adapter: ModbusAdapter = {
    contractVersion: ADAPTER_CONTRACT_VERSION,
    kind: "modbus",
    name,
    capabilities: { subscribe: false, write: true },
    settings,
    useLogger: (logger) => settings.logger.adopt(logger),
    async connect(signal) {
      transport.reset();
      await transport.connect(signal);
    },
    async close() {
      await transport.close();
      status.set("disconnected", "closed");
    },
    async read(tags, signal) {
      if (transport.state !== "open" && transport.state !== "recycling") {
        throw new ConnectionError(
          `Modbus adapter "${name}" is not connected (${status.get().reason ?? transport.state}). Fix: call connect(), or check the device`,
        );
      }
      if (signal?.aborted) throw new TimeoutError(`Modbus adapter "${name}": read aborted before it began`, 0);
      const plan = compiled(tags);
      const samples: Sample[] = new Array(tags.length);
      for (const [index, problem] of plan.problems) {
        samples[index] = badSample(problem.reason, `${name}: ${problem.detail}`);
      }
      const work: Promise<void>[] = [];
      for (const [unit, requests] of plan.units) {
        work.push(readUnit(unit, requests, samples, transport, breakerFor(unit), name, holes));
      }
      await Promise.all(work);
      refreshStatus();
      return samples;
    },
    write,
    checkWrite: (tag, value) => writeProblem(tag.definition, tag.address, value),
    sameOnWire: (tag, written, readBack) => sameOnWire(tag.definition, tag.address, written, readBack),
    status: () => status.get(),
    onStatus: (listener) => status.on(listener),
    deviceOf: (tag) => modbusDevice(settings, tag.address),
    parseSource(raw) {
      const entry = parseSourceEntry(raw);
      return build(entry.area, entry.address, entry.dataType, entry.options);
    },
    getInstance: () => transport.client,
    holding: registerBuilder("holding"),
    input: registerBuilder("input"),
    coil: (address, sourceOptions) => build("coil", address, "bool", sourceOptions),
    discrete: (address, sourceOptions) => build("discrete", address, "bool", sourceOptions),
    register(notation, dataType, sourceOptions = {}) {
      const { area, address } = parseClassicAddress(String(notation).padStart(5, "0"));
      const bitArea = area === "coil" || area === "discrete";
      return build(
        area,
        address,
        dataType ?? (bitArea || sourceOptions.bit !== undefined ? "bool" : "uint16"),
        sourceOptions,
      );
    },
    plan: (tags) => compiled(bind(tags)).plan,
    explainPlan(tags) {
      const bound = bind(tags);
      const plan = compiled(bound);
      const text = describePlan(
        { requests: plan.plan.requests, unplannable: [] },
        (index) => bound[index]?.name ?? `#${index}`,
      );
      const problems = [...plan.problems.values()].map((problem) => `  cannot read: ${problem.detail}`);
      return problems.length === 0 ? text : `${text}\n${problems.join("\n")}`;
    },
    unitStatus,
    holes: () => holes.list(),
    forgetHoles: () => holes.clear(),
  };
  return adapter;
}
