/**
 * The adapter contract, version 1. An adapter connects plantwire to one protocol peer (a Modbus device or gateway,
 * an OPC UA server, an MQTT broker, a database). The core only ever talks to adapters through this contract, which
 * is why the core loads no protocol library.
 *
 * To add a protocol, copy an adapter folder and implement this interface; then run the conformance suite from
 * `plantwire/testing` against your simulator.
 */
import type { Logger } from "./logger.js";
import type { Sample } from "./sample.js";
import type { AnyTag } from "./tags.js";

/** The contract version this build of plantwire speaks. Bumped only on breaking changes to {@link Adapter}. */
export const ADAPTER_CONTRACT_VERSION = 1 as const;

/** Where a tag's value lives, made by an adapter (e.g. `drive.holding(100, "uint16")`). */
export interface TagSource<TAddress = unknown> {
  /** The adapter that reads (and maybe writes) this tag. */
  readonly adapter: Adapter<TAddress>;
  /** The adapter-specific address: a register, a node id, a topic, a column. */
  readonly address: TAddress;
  /** A short human-readable description, e.g. "holding 100 uint16 (unit 1)". */
  readonly label: string;
}

/** A tag as an adapter sees it: its name, definition and address. */
export interface BoundTag<TAddress = unknown> {
  readonly name: string;
  readonly definition: AnyTag;
  readonly address: TAddress;
}

/** Connection states. `degraded` means connected but not fully working (a dead unit, a missed keep-alive). */
export type AdapterState = "connecting" | "connected" | "degraded" | "disconnected";

/** An adapter's status, with the reason for the latest change. */
export interface AdapterStatus {
  readonly state: AdapterState;
  /** Why the adapter is in this state, in plain words. */
  readonly reason?: string;
  /** When the state was entered (ms since the epoch). */
  readonly since: number;
}

/** What an adapter can do beyond reading. Where `subscribe` is false, the core polls. */
export interface AdapterCapabilities {
  readonly subscribe: boolean;
  readonly write: boolean;
}

/** Receives samples pushed by a subscription. */
export type SampleListener = (name: string, sample: Sample) => void;

/** A running subscription. */
export interface AdapterSubscription {
  /** Stops the subscription and frees its resources. */
  close(): Promise<void>;
}

/** Whether the peer acknowledged a write. `unknown` means the request went out but no answer came (e.g. a timeout). */
export type WriteOutcome = "written" | "failed" | "unknown";

/** The result of one single-attempt write. Writes are never retried automatically. */
export interface WriteResult {
  readonly outcome: WriteOutcome;
  /** Why the write failed or is unknown. */
  readonly error?: Error;
  /** When the adapter finished the attempt (ms since the epoch). */
  readonly time: number;
  /**
   * Present when the peer accepted the write but cannot confirm it yet, with the reason (e.g. OPC UA
   * Good_CompletesAsynchronously, an MQTT fire-and-forget command). The guard then reports the read-back as unverified
   * instead of comparing values.
   */
  readonly unverified?: string;
}

/** The adapter contract. */
export interface Adapter<TAddress = unknown> {
  /** Always {@link ADAPTER_CONTRACT_VERSION} for adapters built against this contract. */
  readonly contractVersion: typeof ADAPTER_CONTRACT_VERSION;
  /** The protocol, e.g. "modbus". */
  readonly kind: string;
  /** This instance's name, used in errors, status and config files, e.g. "drive". */
  readonly name: string;
  readonly capabilities: AdapterCapabilities;

  /** Opens the connection. Resolves when connected; rejects with a typed error; honours `signal`. */
  connect(signal?: AbortSignal): Promise<void>;
  /** Closes the connection and frees every handle. Safe to call twice. */
  close(): Promise<void>;
  /**
   * Reads the given tags, batching as the protocol allows. Resolves with one sample per tag, in order. A tag that
   * cannot be read gets a bad-quality sample; the promise rejects only when nothing could be read at all.
   */
  read(tags: readonly BoundTag<TAddress>[], signal?: AbortSignal): Promise<Sample[]>;
  /** Pushes samples as values change. Present when `capabilities.subscribe`. */
  subscribe?(tags: readonly BoundTag<TAddress>[], listener: SampleListener): Promise<AdapterSubscription>;
  /** Writes one value, once. Present when `capabilities.write`. Not for glue scripts: writes go through the guard. */
  write?(tag: BoundTag<TAddress>, value: unknown): Promise<WriteResult>;
  /**
   * Whether a value fits what this tag's write will put on the wire (the register type after scaling, the node's
   * DataType, float32 range, a Sparkplug datatype). Undefined when it fits, else the problem in plain words, e.g.
   * "70000 does not fit uint16 (0..65535) after scale 1". The guard asks before a proposal is accepted, so a misfit is
   * an `invalid-value` rejection, never an approved write that fails on the wire.
   */
  checkWrite?(tag: BoundTag<TAddress>, value: unknown): string | undefined;
  /**
   * Whether a value read back equals the one written, at the wire's precision (0.1 written as a float32 reads back
   * 0.10000000149011612). Undefined leaves the comparison to the guard (equal within the tag's resolution).
   */
  sameOnWire?(tag: BoundTag<TAddress>, written: unknown, readBack: unknown): boolean | undefined;
  /** The current status. */
  status(): AdapterStatus;
  /** Calls `listener` on every status change; returns a function that stops it. */
  onStatus(listener: (status: AdapterStatus) => void): () => void;
  /**
   * Checks the plant's tags against the peer once connected (e.g. OPC UA: the node exists, its DataType matches, its
   * access level allows what the tag asks). Throws a ConfigError naming each tag. The plant calls it after connecting.
   */
  prepare?(tags: readonly BoundTag<TAddress>[]): Promise<void>;
  /** Builds a source from a config-file entry (the `source` object minus `adapter`). Throws a ConfigError. */
  parseSource?(raw: Readonly<Record<string, unknown>>): TagSource<TAddress>;
  /**
   * The physical thing a write to this tag lands on, as stable, human-readable text: the same in every process on the
   * machine for the same configuration, e.g. `modbus-tcp://10.0.0.20:502/unit/1`, `opc.tcp://plc1:4840`,
   * `mqtt://broker:1883/site/pump7/speed/set`, `postgres://db:5432/plant/setpoints`. Never a password.
   *
   * Why: a guard's rate and interval limits are only true if it is the one writer of a device. Each guard locks the
   * devices of its writable tags under this identity, machine-wide, so a second guard (another process, another
   * script) on the same device refuses to start and names the first. Two configurations that reach one device should
   * give one identity; where in doubt, an identity names more (a whole server, a whole table) rather than less.
   * Adapters without it are locked as `<kind>:<name>`.
   */
  deviceOf?(tag: BoundTag<TAddress>): string;
  /**
   * Hands the adapter its plant's logger; an adapter created with a `logger` option of its own keeps that one. The
   * plant calls it once, when it is created.
   */
  useLogger?(logger: Logger): void;
  /** Escape hatch: the underlying client (a modbus-serial client, a node-opcua session, ...), or undefined when closed. */
  getInstance(): unknown;
}

/** True when a value implements the adapter contract this build understands. */
export function isAdapter(value: unknown): value is Adapter {
  return (
    typeof value === "object" &&
    value !== null &&
    (value as Adapter).contractVersion === ADAPTER_CONTRACT_VERSION &&
    typeof (value as Adapter).read === "function"
  );
}

/**
 * Keeps an adapter's status and notifies listeners. Adapters compose it rather than inherit from a base class,
 * so an adapter folder stays self-contained.
 */
export class StatusTracker {
  #status: AdapterStatus;
  readonly #listeners = new Set<(status: AdapterStatus) => void>();

  constructor(initial: AdapterState = "disconnected", reason = "not connected yet") {
    this.#status = { state: initial, reason, since: Date.now() };
  }

  /** The current status. */
  get(): AdapterStatus {
    return this.#status;
  }

  /** Moves to a state; listeners hear only real changes (of state or reason). */
  set(state: AdapterState, reason?: string): void {
    if (state === this.#status.state && reason === this.#status.reason) return;
    this.#status = reason === undefined ? { state, since: Date.now() } : { state, reason, since: Date.now() };
    for (const listener of [...this.#listeners]) listener(this.#status);
  }

  /** Adds a listener; returns its remover. */
  on(listener: (status: AdapterStatus) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Number of listeners, for leak checks. */
  get listenerCount(): number {
    return this.#listeners.size;
  }
}
