/**
 * The audit log: append-only JSON lines, hash-chained, flushed to disk (fsync) before `append()` returns, so an
 * attempt is on disk before the write it describes goes out. A `.head` file beside the log holds the last sequence
 * number and hash, so lines cut off the end are detected; a `.lock` file keeps one writer per log.
 *
 * An append is complete or the log fails for good: every byte written, one fsync, then the head replaced. When any
 * step fails, the partial record is cut off again (so the chain before it stays intact) and the log latches: every
 * later append throws an AuditError naming the cause, and the guard writes nothing more until a person restarts it.
 */
import { closeSync, fstatSync, fsyncSync, ftruncateSync } from "node:fs";
import { resolve } from "node:path";
import { AuditError, ConfigError } from "../errors.js";
import {
  type AnchorCheck,
  type AnchoredHead,
  AnchorSchedule,
  type AuditAnchor,
  compareWithAnchor,
} from "./audit-anchor.js";
import { type AuditFailure, describeFailure, failureCodeOf, fileSizeLimit } from "./audit-failure.js";
import { chainRecords, recordLines, ShortWriteError, writeAll, writeHead } from "./audit-file.js";
import { headFile } from "./audit-inspect.js";
import { type AuditKey, loadAuditKey } from "./audit-key.js";
import { lockAuditLog } from "./audit-lock.js";
import { prepareForAppend } from "./audit-open.js";
import { APPEND_NO_FOLLOW, openNoFollow, refuseSymlinks, stillAtPath } from "./audit-paths.js";
import type { AuditEntry, AuditRecord } from "./audit-record.js";

/** Options of {@link AuditLog.open}. */
export interface AuditLogOptions {
  /** Called with every record after it is on disk, e.g. to mirror the audit into a SQL sink. Errors are counted, never thrown. */
  mirror?: (record: AuditRecord) => void | Promise<void>;
  /** The clock. @default Date.now */
  now?: () => number;
  /**
   * Keys the chain: record hashes become HMAC-SHA256 with this key (bytes, or the path of a key file readable by its
   * owner only), so nobody without the key can re-chain an edited log. A keyed log needs the key to open and verify.
   */
  key?: AuditKey;
  /** Publishes the head (sequence number and hash) to somewhere outside the log: a SQL table, a retained MQTT topic. */
  anchor?: AuditAnchor;
  /** Publish the head after this many records. @default 100 */
  anchorEvery?: number;
  /** ...and this often while records are added, in milliseconds. @default 60000 */
  anchorIntervalMs?: number;
}

function positiveInteger(value: number | undefined, fallback: number, path: string): number {
  if (value === undefined) return fallback;
  if (Number.isSafeInteger(value) && value > 0) return value;
  throw new ConfigError([{ path, message: `${value} is not a positive whole number`, fix: `e.g. ${fallback}` }]);
}

/** The log's path no longer names the open file: it was renamed, replaced or deleted. */
class LogMovedError extends Error {
  constructor() {
    super("the log's path no longer names the open file");
  }
}

/** An open, append-only audit log. */
export class AuditLog {
  readonly file: string;
  /** Mirror failures so far. */
  mirrorFailures = 0;
  /** When each tag was last written (its last attempt), read from the log when it was opened and kept up to date. */
  readonly lastAttempts = new Map<string, number>();
  #descriptor: number | undefined;
  #seq = 0;
  #hash = "";
  #size = 0;
  #flushes = 0;
  #failure: AuditFailure | undefined;
  #closing: Promise<void> | undefined;
  #anchor: AnchorSchedule | undefined;
  /** Hashes by sequence number, kept only until the anchor has been compared with the log. */
  #knownHashes: Map<number, string> | undefined;
  readonly #key: Buffer | undefined;
  readonly #options: AuditLogOptions;
  readonly #unlock: () => void;

  private constructor(file: string, options: AuditLogOptions, key: Buffer | undefined, unlock: () => void) {
    this.file = file;
    this.#options = options;
    this.#key = key;
    this.#unlock = unlock;
    // Owner and group only: the log names people and values, and only the guard's user should write it. O_NOFOLLOW:
    // a link planted at the log's name after open() checked it must not send the records into another file.
    this.#descriptor = openNoFollow(file, APPEND_NO_FOLLOW, file);
    this.#size = fstatSync(this.#descriptor).size;
  }

  /**
   * Opens (or creates) a log and continues its chain. The whole chain is re-hashed against its head first: a log
   * that is deleted, emptied, shortened, edited or has lost its head is refused with a ConfigError naming the case
   * and the fix (`plantwire audit recover`), as is a log another live process has open. A torn final line is cut off
   * (a copy is kept); attempts left without an outcome by a stopped process get a `recovery` record saying so. A log
   * or head that is a symbolic link is refused: the guard never writes through a link.
   */
  static open(file: string, options: AuditLogOptions = {}): AuditLog {
    refuseSymlinks(file, [file, headFile(file)]);
    const key = options.key === undefined ? undefined : loadAuditKey(options.key);
    const every = positiveInteger(options.anchorEvery, 100, "anchorEvery");
    const intervalMs = positiveInteger(options.anchorIntervalMs, 60_000, "anchorIntervalMs");
    const unlock = lockAuditLog(file);
    let log: AuditLog | undefined;
    try {
      const { inspection, notes } = prepareForAppend(file, key);
      const { reading } = inspection;
      log = new AuditLog(file, options, key, unlock);
      log.#seq = reading.lastSeq;
      log.#hash = reading.lastHash;
      for (const record of reading.records) {
        if (record.type === "attempt" && typeof record.tag === "string")
          log.lastAttempts.set(record.tag, Date.parse(record.time));
      }
      if (options.anchor) log.#knownHashes = new Map(reading.records.map((record) => [record.seq, record.hash]));
      const added = log.appendBatch(notes);
      if (options.anchor) {
        const last = added.at(-1) ?? reading.records.at(-1);
        const opened = log;
        const start = {
          ...(reading.continues ? { continues: reading.continues } : {}),
          ...(reading.records[0] ? { startTime: reading.records[0].time } : {}),
        };
        log.#anchor = new AnchorSchedule(
          {
            anchor: options.anchor,
            file: resolve(file),
            every,
            intervalMs,
            check: (anchored): AnchorCheck =>
              compareWithAnchor(anchored, {
                ...start,
                hashAt: (seq) => opened.#knownHashes?.get(seq),
                lastSeq: opened.#seq,
              }),
            checked: () => {
              opened.#knownHashes = undefined;
            },
          },
          last ? log.#anchoredHead(last) : undefined,
        );
      }
      return log;
    } catch (error) {
      if (log) log.close();
      else unlock();
      throw error;
    }
  }

  /** Sequence number of the last record. */
  get lastSeq(): number {
    return this.#seq;
  }

  /** Hash of the last record (what the next one links to). */
  get lastHash(): string {
    return this.#hash;
  }

  /** True until `close()`. */
  get isOpen(): boolean {
    return this.#descriptor !== undefined;
  }

  /** True when the chain is keyed (HMAC-SHA256). */
  get keyed(): boolean {
    return this.#key !== undefined;
  }

  /** Why the log failed, when it did: from then on every append throws an AuditError, until a restart. */
  get failure(): AuditFailure | undefined {
    return this.#failure;
  }

  /** How many times records were flushed to disk (one fsync per `append` or `appendBatch`). */
  get flushes(): number {
    return this.#flushes;
  }

  /** Anchor publishes (and reads) that failed; they never fail an append. */
  get anchorFailures(): number {
    return this.#anchor?.failures ?? 0;
  }

  /** The last anchor error, if any. */
  get lastAnchorError(): Error | undefined {
    return this.#anchor?.lastError;
  }

  /** Appends one record and flushes it to disk before returning. Any value is stored as plain JSON data. */
  append(entry: AuditEntry): AuditRecord {
    return this.appendBatch([entry])[0] as AuditRecord;
  }

  /**
   * Appends several records in one write and one fsync (e.g. a decision and its attempt), all with one time. Either
   * all of them are on disk when it returns, or it throws an AuditError and none are (the log is then failed).
   */
  appendBatch(entries: readonly AuditEntry[]): AuditRecord[] {
    const descriptor = this.#descriptor;
    if (descriptor === undefined) {
      throw new ConfigError([
        { path: "audit", message: "the audit log is closed", fix: "open it again with AuditLog.open()" },
      ]);
    }
    if (this.#failure) throw new AuditError(this.#failure);
    if (entries.length === 0) return [];
    const now = (this.#options.now ?? Date.now)();
    const records = chainRecords(entries, { seq: this.#seq, hash: this.#hash }, new Date(now).toISOString(), this.#key);
    const last = records.at(-1) as AuditRecord;
    this.#store(descriptor, recordLines(records), records.length, last);
    this.#seq = last.seq;
    this.#hash = last.hash;
    for (const record of records) {
      this.#knownHashes?.set(record.seq, record.hash);
      if (record.type === "attempt" && typeof record.tag === "string") this.lastAttempts.set(record.tag, now);
      if (this.#options.mirror) {
        Promise.resolve()
          .then(() => this.#options.mirror?.(record))
          .catch(() => {
            this.mirrorFailures++;
          });
      }
    }
    this.#anchor?.recorded(this.#anchoredHead(last));
    return records;
  }

  /** Write, fsync, head; on any failure cut the file back, latch and throw. */
  #store(descriptor: number, bytes: Buffer, count: number, last: AuditRecord): void {
    let step = "writing the records";
    try {
      writeAll(descriptor, bytes);
      step = "flushing them to disk (fsync)";
      fsyncSync(descriptor);
      this.#flushes++;
      // A log renamed or deleted while open takes the records with it unseen: check the path still names this file
      // before the head is replaced and before the caller (the guard, about to write a device) goes on.
      step = "checking that the log is still at its path";
      if (!stillAtPath(descriptor, this.file)) throw new LogMovedError();
      step = "replacing the head file";
      writeHead(this.file, last.seq, last.hash);
      this.#size += bytes.length;
    } catch (error) {
      let restored = false;
      try {
        ftruncateSync(descriptor, this.#size);
        restored = true;
        fsyncSync(descriptor);
      } catch {
        // restored stays as it is: the message says whether the partial record is still there
      }
      const limit = fileSizeLimit();
      const code =
        error instanceof LogMovedError
          ? "moved"
          : error instanceof ShortWriteError
            ? limit !== undefined && this.#size + error.written >= limit
              ? "size-limit"
              : "io-error"
            : failureCodeOf(error);
      this.#failure = describeFailure(this.file, count, step, error, code, restored, Date.now());
      throw new AuditError(this.#failure, { cause: error });
    }
  }

  #anchoredHead(record: AuditRecord): AnchoredHead {
    return { file: resolve(this.file), seq: record.seq, hash: record.hash, time: record.time };
  }

  /**
   * Closes the file and releases the lock; appending afterwards throws. The file is closed when this returns; the
   * promise settles once the last head is published to the anchor (it never rejects).
   */
  close(): Promise<void> {
    if (this.#descriptor !== undefined) {
      closeSync(this.#descriptor);
      this.#descriptor = undefined;
      this.#unlock();
      this.#closing = this.#anchor?.close() ?? Promise.resolve();
    }
    return this.#closing ?? Promise.resolve();
  }
}
