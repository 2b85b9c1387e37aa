/**
 * An in-memory adapter for tests, examples and glue-script prototyping: scriptable values and faults, and a record
 * of every write. It implements the full adapter contract, so anything that works on it works on a real adapter.
 */
import { randomUUID } from "node:crypto";
import {
  ADAPTER_CONTRACT_VERSION,
  type Adapter,
  type AdapterSubscription,
  type BoundTag,
  type SampleListener,
  StatusTracker,
  type TagSource,
  type WriteResult,
} from "../adapter.js";
import { ConfigError, ConnectionError } from "../errors.js";
import { badSample, type Quality, type QualityReason, type Sample } from "../sample.js";
import type { AnyTag } from "../tags.js";

/** The address of a memory tag: a key in the adapter's store. */
export interface MemoryAddress {
  readonly key: string;
}

/** Options of {@link memoryAdapter}. */
export interface MemoryAdapterOptions {
  /** Adapter name, used in status and errors. @default "memory" */
  name?: string;
  /** Initial values by key. */
  values?: Record<string, unknown>;
  /** Whether the adapter offers subscriptions (false makes the core poll it). @default true */
  subscribe?: boolean;
  /** Whether the adapter accepts writes. @default true */
  write?: boolean;
}

/** One recorded write. */
export interface MemoryWrite {
  readonly key: string;
  readonly value: unknown;
  readonly time: number;
}

/** How a memory key's next samples look. */
export interface MemorySetOptions {
  quality?: Quality;
  reason?: QualityReason;
  sourceTime?: number;
}

/** The memory adapter: the adapter contract plus controls for tests. */
export interface MemoryAdapter extends Adapter<MemoryAddress> {
  /** A tag source for a key, e.g. `source: memory.key("speed")`. */
  key(key: string): TagSource<MemoryAddress>;
  /**
   * Sets a value as the device would; subscribers hear it. A value that does not fit a tag's type (an enum's code
   * instead of its state name, text for a number, an invalid `Date`) reads as a bad sample, reason "type-mismatch".
   */
  set(key: string, value: unknown, options?: MemorySetOptions): void;
  /** The value stored under a key. */
  get(key: string): unknown;
  /** Every write received, oldest first. */
  readonly writes: readonly MemoryWrite[];
  /** Makes connect() and read() fail with `error` until called with undefined. */
  fail(error: Error | undefined): void;
  /** Makes writes end with this outcome (the value is not stored) until called with undefined. */
  failWrites(outcome: "failed" | "unknown" | undefined): void;
  /** Makes reads never answer (until their AbortSignal fires) while true. */
  hang(hanging: boolean): void;
  /** Number of read() calls so far. */
  readonly readCount: number;
}

interface Entry {
  value: unknown;
  quality: Quality;
  reason: QualityReason | undefined;
  sourceTime: number | undefined;
  receivedTime: number;
}

/**
 * Why a stored value cannot be a good or uncertain sample of `tag`, or undefined when it can. Strict like a device's
 * codec: an enum takes a state name (not its code), a number is finite, a date-time is a valid `Date`.
 */
function readProblem(tag: AnyTag, value: unknown): { reason: QualityReason; detail: string } | undefined {
  const mismatch = (expected: string) => ({
    reason: "type-mismatch" as const,
    detail: `a ${tag.type} tag needs ${expected}, got ${describeStored(value)}`,
  });
  switch (tag.type) {
    case "float":
      return typeof value === "number" && Number.isFinite(value) ? undefined : mismatch("a finite number");
    case "integer":
      return typeof value === "number" && Number.isInteger(value) ? undefined : mismatch("a whole number");
    case "boolean":
      return typeof value === "boolean" ? undefined : mismatch("true or false");
    case "enum":
      if (typeof value === "string" && Object.hasOwn(tag.states, value)) return undefined;
      return mismatch(`one of its state names (${Object.keys(tag.states).join(", ")})`);
    case "text":
      if (typeof value !== "string") return mismatch("text");
      return value.length > tag.maxLength
        ? { reason: "out-of-range", detail: `text of ${value.length} characters exceeds maxLength ${tag.maxLength}` }
        : undefined;
    case "datetime":
      return value instanceof Date && !Number.isNaN(value.getTime()) ? undefined : mismatch("a valid Date");
  }
}

function describeStored(value: unknown): string {
  if (value === undefined || value === null) return String(value);
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? "an invalid Date" : "a Date";
  if (typeof value === "string") return `the text ${JSON.stringify(value.slice(0, 40))}`;
  if (typeof value === "object") return Array.isArray(value) ? "an array" : "an object";
  return `${typeof value} ${String(value)}`;
}

/** Creates a memory adapter. */
export function memoryAdapter(options: MemoryAdapterOptions = {}): MemoryAdapter {
  const name = options.name ?? "memory";
  // The store lives in this object alone, so two memory adapters never share a device, whatever their names.
  const device = `memory:${name}#${randomUUID()}`;
  const store = new Map<string, Entry>();
  const listeners = new Set<{ keys: Map<string, BoundTag<MemoryAddress>[]>; listener: SampleListener }>();
  const writes: MemoryWrite[] = [];
  const status = new StatusTracker();
  let failure: Error | undefined;
  let writeFailure: "failed" | "unknown" | undefined;
  let hanging = false;
  let readCount = 0;

  const isOpen = () => status.get().state === "connected" || status.get().state === "degraded";

  const toSample = (tag: BoundTag<MemoryAddress>): Sample => {
    const key = tag.address.key;
    const entry = store.get(key);
    if (!entry) return badSample("config-error", `memory adapter "${name}" has no key "${key}"`);
    // A real device's codec never hands out a value of the wrong type as good: neither does this one.
    const problem = entry.quality === "bad" ? undefined : readProblem(tag.definition, entry.value);
    if (problem) return badSample(problem.reason, `memory key "${key}": ${problem.detail}`, entry.receivedTime);
    const sample: { -readonly [K in keyof Sample]: Sample[K] } = {
      // A copy of a Date, so that a reader changing it cannot change what the device holds.
      value: entry.value instanceof Date ? new Date(entry.value.getTime()) : entry.value,
      quality: entry.quality,
      receivedTime: entry.receivedTime,
    };
    if (entry.reason !== undefined) sample.reason = entry.reason;
    if (entry.sourceTime !== undefined) sample.sourceTime = entry.sourceTime;
    return sample;
  };

  const set = (key: string, value: unknown, setOptions: MemorySetOptions = {}) => {
    store.set(key, {
      value,
      quality: setOptions.quality ?? "good",
      reason: setOptions.reason,
      sourceTime: setOptions.sourceTime,
      receivedTime: Date.now(),
    });
    if (!isOpen()) return;
    for (const { keys, listener } of listeners) {
      for (const tag of keys.get(key) ?? []) listener(tag.name, toSample(tag));
    }
  };
  for (const [key, value] of Object.entries(options.values ?? {})) set(key, value);

  const adapter: MemoryAdapter = {
    contractVersion: ADAPTER_CONTRACT_VERSION,
    kind: "memory",
    name,
    capabilities: { subscribe: options.subscribe ?? true, write: options.write ?? true },
    async connect() {
      status.set("connecting");
      if (failure) {
        status.set("disconnected", failure.message);
        throw new ConnectionError(`memory adapter "${name}": ${failure.message}`, { cause: failure });
      }
      status.set("connected");
    },
    async close() {
      listeners.clear();
      status.set("disconnected", "closed");
    },
    async read(tags: readonly BoundTag<MemoryAddress>[], signal?: AbortSignal) {
      readCount++;
      if (!isOpen()) throw new ConnectionError(`memory adapter "${name}" is not connected`);
      if (hanging) {
        await new Promise<void>((_, reject) => {
          if (signal?.aborted) reject(signal.reason);
          signal?.addEventListener("abort", () => reject(signal.reason), { once: true });
        });
      }
      if (failure) throw new ConnectionError(`memory adapter "${name}": ${failure.message}`, { cause: failure });
      return tags.map((tag) => toSample(tag));
    },
    async subscribe(tags: readonly BoundTag<MemoryAddress>[], listener: SampleListener): Promise<AdapterSubscription> {
      const keys = new Map<string, BoundTag<MemoryAddress>[]>();
      for (const tag of tags) keys.set(tag.address.key, [...(keys.get(tag.address.key) ?? []), tag]);
      const entry = { keys, listener };
      listeners.add(entry);
      for (const tag of tags) listener(tag.name, toSample(tag));
      return {
        async close() {
          listeners.delete(entry);
        },
      };
    },
    async write(tag: BoundTag<MemoryAddress>, value: unknown): Promise<WriteResult> {
      const time = Date.now();
      if (!isOpen()) {
        return { outcome: "failed", error: new ConnectionError(`memory adapter "${name}" is not connected`), time };
      }
      writes.push({ key: tag.address.key, value, time });
      if (writeFailure) {
        return { outcome: writeFailure, error: new ConnectionError(`scripted write ${writeFailure}`), time };
      }
      if (failure)
        return { outcome: "failed", error: new ConnectionError(`memory adapter "${name}": ${failure.message}`), time };
      set(tag.address.key, value);
      return { outcome: "written", time };
    },
    status: () => status.get(),
    onStatus: (listener) => status.on(listener),
    parseSource(raw) {
      const key = raw.key;
      if (typeof key !== "string" || key.length === 0 || Object.keys(raw).length !== 1) {
        throw new ConfigError([
          {
            path: "key",
            message: "expected exactly one field, key: <text>",
            fix: "write source: { adapter: <name>, key: speed }",
          },
        ]);
      }
      return adapter.key(key);
    },
    deviceOf: () => device,
    getInstance: () => (status.get().state === "connected" ? store : undefined),
    key: (key: string) => ({ adapter, address: { key }, label: `${name}:${key}` }),
    set,
    get: (key) => store.get(key)?.value,
    writes,
    fail(error) {
      failure = error;
      if (error && status.get().state === "connected") status.set("degraded", error.message);
      else if (!error && status.get().state === "degraded") status.set("connected");
    },
    failWrites(outcome) {
      writeFailure = outcome;
    },
    hang(value) {
      hanging = value;
    },
    get readCount() {
      return readCount;
    },
  };
  // Capabilities and methods must agree: a poll-only or read-only memory adapter has no subscribe/write at all.
  const optional = adapter as { subscribe?: unknown; write?: unknown };
  if (!adapter.capabilities.subscribe) optional.subscribe = undefined;
  if (!adapter.capabilities.write) optional.write = undefined;
  return adapter;
}
