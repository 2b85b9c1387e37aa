/**
 * The connection under the Modbus adapter: a modbus-serial client wrapped with what it lacks for unattended use.
 * modbus-serial leaves a request pending forever when the link drops, misses resets (its port clears its open flag
 * on "error" before "close", so no close is relayed), and reuses 8-bit transaction ids, so a late answer can land on
 * a newer request. This layer owns the socket, gives every request a timeout, settles every pending request with a
 * typed error on disconnect, serialises requests (or pipelines up to `maxInFlight`), waits between requests for slow
 * devices, reconnects with capped exponential backoff and jitter, and replaces the socket after a timeout or a
 * malformed answer so that a late or garbled frame can never be read as the answer to a later request.
 */
import type net from "node:net";
import { ConnectionError, ProtocolError, TimeoutError } from "../../src/index.js";
import type { ResolvedModbusOptions } from "./modbus-config.js";
import { describeTarget, openConnection } from "./modbus-connection.js";
import { type ModbusClient, ModbusExceptionError, toTypedError } from "./modbus-errors.js";

/** Sends one request on a client and calls back once with the answer. */
export type ModbusOperation = (client: ModbusClient, callback: (error: unknown, data?: unknown) => void) => void;

interface Job {
  readonly unit: number;
  readonly what: string;
  readonly operation: ModbusOperation;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: Error) => void;
  timer: NodeJS.Timeout | undefined;
  done: boolean;
}

/** Transport states: `open` sends; `recycling` replaces the socket and keeps queued requests; `down` reconnects. */
export type TransportState = "idle" | "connecting" | "open" | "recycling" | "down" | "closed";

/** The connection to one Modbus peer (a device, a gateway, a serial line). */
export class ModbusTransport {
  readonly #options: ResolvedModbusOptions;
  readonly #onState: (state: TransportState, reason: string) => void;
  #state: TransportState = "idle";
  #client: ModbusClient | undefined;
  #socket: net.Socket | undefined;
  #queue: Job[] = [];
  readonly #inFlight = new Set<Job>();
  #reconnectTimer: NodeJS.Timeout | undefined;
  #delayTimer: NodeJS.Timeout | undefined;
  #attempt = 0;
  #generation = 0;
  #everOpen = false;
  #opening: Promise<void> | undefined;
  /** Connections opened so far (the first included). */
  connectionCount = 0;

  constructor(options: ResolvedModbusOptions, onState: (state: TransportState, reason: string) => void) {
    this.#options = options;
    this.#onState = onState;
  }

  /** The current state. */
  get state(): TransportState {
    return this.#state;
  }

  /** The raw modbus-serial client while connected. */
  get client(): ModbusClient | undefined {
    return this.#state === "open" ? this.#client : undefined;
  }

  /** Requests queued or in flight. */
  get pendingCount(): number {
    return this.#queue.length + this.#inFlight.size;
  }

  #setState(state: TransportState, reason: string): void {
    this.#state = state;
    this.#onState(state, reason);
  }

  /** Opens the connection. Rejects with a ConnectionError (or MissingDependencyError); retries only once it has been up. */
  async connect(signal?: AbortSignal): Promise<void> {
    if (this.#state === "open") return;
    if (this.#opening) return this.#opening;
    clearTimeout(this.#reconnectTimer);
    this.#reconnectTimer = undefined;
    if (this.#state !== "down") this.#setState("connecting", `connecting to ${this.#where()}`);
    try {
      await this.#openShared(signal);
      if ((this.#state as TransportState) === "closed") {
        this.#destroyConnection();
        throw new ConnectionError(`Modbus adapter "${this.#options.name}" was closed while connecting`);
      }
      this.#attempt = 0;
      this.#everOpen = true;
      this.#setState("open", "connected");
      this.#pump();
    } catch (error) {
      if (this.#state === "closed") throw error;
      if (this.#everOpen) {
        this.#setState("down", (error as Error).message);
        this.#scheduleReconnect();
      } else this.#setState("idle", (error as Error).message);
      throw error;
    }
  }

  /** One open at a time: connect() and the reconnect timer share it. */
  #openShared(signal?: AbortSignal): Promise<void> {
    this.#opening ??= this.#open(signal).finally(() => {
      this.#opening = undefined;
    });
    return this.#opening;
  }

  #where(): string {
    return describeTarget(this.#options);
  }

  async #open(signal?: AbortSignal): Promise<void> {
    const generation = ++this.#generation;
    const opened = await openConnection(this.#options, signal, (reason) => this.#dropped(generation, reason));
    this.#client = opened.client;
    this.#socket = opened.socket;
    this.connectionCount++;
  }

  #destroyConnection(): void {
    this.#generation++;
    const socket = this.#socket;
    const client = this.#client;
    this.#socket = undefined;
    this.#client = undefined;
    if (socket) socket.destroy();
    else client?.destroy(() => {});
  }

  #failAll(jobs: Iterable<Job>, error: () => Error): void {
    for (const job of [...jobs]) this.#settle(job, error());
  }

  #failQueue(error: () => Error): void {
    const queued = this.#queue;
    this.#queue = [];
    for (const job of queued) this.#settle(job, error());
  }

  #dropped(generation: number, reason: string): void {
    if (generation !== this.#generation || this.#state === "closed") return;
    this.#destroyConnection();
    this.#setState("down", reason);
    const error = () => new ConnectionError(`Modbus adapter "${this.#options.name}": ${reason} (${this.#where()})`);
    this.#failAll(this.#inFlight, error);
    this.#failQueue(error);
    this.#scheduleReconnect();
  }

  #scheduleReconnect(): void {
    if (this.#state === "closed") return;
    const { initialDelayMs, maxDelayMs } = this.#options.reconnect;
    const ceiling = Math.min(maxDelayMs, initialDelayMs * 2 ** Math.min(this.#attempt, 30));
    const delay = ceiling * (0.5 + Math.random() * 0.5); // jitter, so many gateways do not reconnect in step
    this.#attempt++;
    clearTimeout(this.#reconnectTimer);
    this.#reconnectTimer = setTimeout(() => {
      this.#reconnectTimer = undefined;
      void this.#reopen();
    }, delay);
  }

  async #reopen(): Promise<void> {
    if (this.#state === "closed") return;
    try {
      await this.#openShared();
      if ((this.#state as TransportState) === "closed") return this.#destroyConnection();
      this.#attempt = 0;
      this.#setState("open", "connected");
      this.#pump();
    } catch (error) {
      if ((this.#state as TransportState) === "closed") return;
      this.#failQueue(() => error as Error);
      this.#setState("down", (error as Error).message);
      this.#scheduleReconnect();
    }
  }

  /** Replaces the socket, keeping queued requests: after a timeout or a garbled answer the stream is in doubt. */
  #recycle(reason: string): void {
    if (this.#options.kind === "rtu" || this.#state !== "open") return;
    this.#destroyConnection();
    this.#setState("recycling", `replacing the connection after ${reason}`);
    const error = () =>
      new ConnectionError(`Modbus adapter "${this.#options.name}": connection replaced after ${reason}`);
    this.#failAll(this.#inFlight, error);
    void this.#reopen();
  }

  /** Sends one request. Settles within the timeout (plus queueing behind earlier requests) with a typed error or the answer. */
  request<T>(unit: number, what: string, operation: ModbusOperation): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      if (this.#state !== "open" && this.#state !== "recycling") {
        reject(
          new ConnectionError(
            `Modbus adapter "${this.#options.name}" is not connected (${this.#state}); ${what} not sent`,
          ),
        );
        return;
      }
      const job: Job = {
        unit,
        what,
        operation,
        resolve: resolve as (value: unknown) => void,
        reject,
        timer: undefined,
        done: false,
      };
      this.#queue.push(job);
      this.#pump();
    });
  }

  #pump(): void {
    while (
      this.#state === "open" &&
      this.#client !== undefined &&
      this.#delayTimer === undefined &&
      this.#queue.length > 0 &&
      this.#inFlight.size < this.#options.maxInFlight
    ) {
      const job = this.#queue.shift() as Job;
      this.#dispatch(job, this.#client as ModbusClient);
    }
  }

  #dispatch(job: Job, client: ModbusClient): void {
    this.#inFlight.add(job);
    const { timeoutMs, name } = this.#options;
    job.timer = setTimeout(() => {
      const message = `Modbus adapter "${name}": unit ${job.unit} did not answer ${job.what} within ${timeoutMs} ms`;
      this.#settle(job, new TimeoutError(message, timeoutMs), undefined, "a timeout");
    }, timeoutMs);
    try {
      job.operation(client, (error, data) => {
        if (job.done) return; // a late answer to a request already settled: discarded
        const typed = error === null || error === undefined ? undefined : toTypedError(error, name, job.unit, job.what);
        const malformed = typed && ProtocolError.isInstance(typed) && !(typed instanceof ModbusExceptionError);
        this.#settle(job, typed, data, malformed ? "a malformed answer" : undefined);
      });
    } catch (error) {
      this.#settle(job, toTypedError(error, name, job.unit, job.what));
    }
  }

  /** Ends a request. `recycleReason` replaces the connection first (after a timeout or a malformed answer). */
  #settle(job: Job, error: Error | undefined, data?: unknown, recycleReason?: string): void {
    if (job.done) return;
    job.done = true;
    clearTimeout(job.timer);
    const wasInFlight = this.#inFlight.delete(job);
    if (!wasInFlight) this.#queue = this.#queue.filter((queued) => queued !== job);
    if (wasInFlight) {
      if (recycleReason !== undefined) this.#recycle(recycleReason);
      // The next request goes out before this answer is handed over, so decoding it overlaps the next round trip.
      this.#next();
    }
    if (error) job.reject(error);
    else job.resolve(data);
  }

  #next(): void {
    const delay = this.#options.interRequestDelayMs;
    if (delay <= 0) {
      this.#pump();
      return;
    }
    if (this.#delayTimer !== undefined) return;
    this.#delayTimer = setTimeout(() => {
      this.#delayTimer = undefined;
      this.#pump();
    }, delay);
  }

  /** Closes for good: every pending request settles with a ConnectionError, timers stop, the socket is freed. */
  async close(): Promise<void> {
    if (this.#state === "closed") return;
    this.#setState("closed", "closed");
    clearTimeout(this.#reconnectTimer);
    clearTimeout(this.#delayTimer);
    this.#reconnectTimer = undefined;
    this.#delayTimer = undefined;
    const error = () => new ConnectionError(`Modbus adapter "${this.#options.name}" was closed`);
    this.#failAll(this.#inFlight, error);
    this.#failQueue(error);
    this.#destroyConnection();
  }

  /** After close(), allows connect() again. */
  reset(): void {
    if (this.#state !== "closed") return;
    this.#state = "idle";
    this.#everOpen = false;
  }
}
