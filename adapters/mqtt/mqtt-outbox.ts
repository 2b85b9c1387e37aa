/**
 * Store-and-forward: publications made while disconnected wait here, bounded, optionally in a JSON-lines file so a
 * process restart loses nothing, and are replayed in order on reconnect. An entry past its expiry is dropped and
 * counted, never sent late.
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import type { QoS } from "./mqtt-config.js";

/** One queued publication. */
export interface OutboxEntry {
  readonly topic: string;
  readonly payload: Buffer;
  readonly qos: QoS;
  readonly retain: boolean;
  /** When the message stops being worth sending (ms since the epoch). */
  readonly expiresAt?: number;
  /** MQTT 5 properties other than message expiry (which is recomputed when sent). */
  readonly properties?: Readonly<Record<string, unknown>>;
}

interface StoredLine {
  topic: string;
  payload: string;
  qos: QoS;
  retain: boolean;
  expiresAt?: number;
  properties?: Record<string, unknown>;
}

/** Counters of the outbox. */
export interface OutboxCounters {
  /** Dropped because they expired before they could be sent. */
  expired: number;
  /** Dropped because the queue was full (oldest first). */
  overflowed: number;
  /** Lines of the queue file that could not be read back. */
  corrupt: number;
}

/** A bounded FIFO of publications, mirrored to a file when one is given. */
export class Outbox {
  readonly #entries: OutboxEntry[] = [];
  readonly #max: number;
  readonly #file: string | undefined;
  readonly counters: OutboxCounters = { expired: 0, overflowed: 0, corrupt: 0 };

  constructor(options: { maxMessages?: number; file?: string } = {}) {
    this.#max = options.maxMessages ?? 10_000;
    this.#file = options.file;
    if (this.#file && existsSync(this.#file)) this.#load(this.#file);
  }

  #load(file: string): void {
    for (const line of readFileSync(file, "utf8").split("\n")) {
      if (line.trim() === "") continue;
      try {
        const stored = JSON.parse(line) as StoredLine;
        if (typeof stored.topic !== "string" || typeof stored.payload !== "string") throw new Error("bad line");
        const entry: OutboxEntry = {
          topic: stored.topic,
          payload: Buffer.from(stored.payload, "base64"),
          qos: stored.qos === 0 || stored.qos === 2 ? stored.qos : 1,
          retain: stored.retain === true,
          ...(typeof stored.expiresAt === "number" ? { expiresAt: stored.expiresAt } : {}),
          ...(stored.properties ? { properties: stored.properties } : {}),
        };
        this.#entries.push(entry);
      } catch {
        this.counters.corrupt++;
      }
    }
    while (this.#entries.length > this.#max) {
      this.#entries.shift();
      this.counters.overflowed++;
    }
  }

  #line(entry: OutboxEntry): string {
    const stored: StoredLine = {
      topic: entry.topic,
      payload: entry.payload.toString("base64"),
      qos: entry.qos,
      retain: entry.retain,
    };
    if (entry.expiresAt !== undefined) stored.expiresAt = entry.expiresAt;
    if (entry.properties) stored.properties = { ...entry.properties };
    return `${JSON.stringify(stored)}\n`;
  }

  #rewrite(): void {
    if (!this.#file) return;
    mkdirSync(dirname(this.#file), { recursive: true });
    writeFileSync(this.#file, this.#entries.map((entry) => this.#line(entry)).join(""));
  }

  /** Number of queued messages. */
  get size(): number {
    return this.#entries.length;
  }

  /** Queues a message at the back (or, for one that was in flight when the link dropped, at the front). */
  push(entry: OutboxEntry, front = false): void {
    if (front) this.#entries.unshift(entry);
    else this.#entries.push(entry);
    let trimmed = false;
    while (this.#entries.length > this.#max) {
      this.#entries.shift();
      this.counters.overflowed++;
      trimmed = true;
    }
    if (!this.#file) return;
    if (front || trimmed) this.#rewrite();
    else {
      mkdirSync(dirname(this.#file), { recursive: true });
      appendFileSync(this.#file, this.#line(entry));
    }
  }

  /** Takes the next message that has not expired at `now`, dropping (and counting) expired ones. */
  shift(now: number): OutboxEntry | undefined {
    let entry = this.#entries.shift();
    while (entry && entry.expiresAt !== undefined && entry.expiresAt <= now) {
      this.counters.expired++;
      entry = this.#entries.shift();
    }
    return entry;
  }

  /** Writes the file again from memory (call after a run of shift()s, so the file holds only what is left). */
  flush(): void {
    this.#rewrite();
  }
}
