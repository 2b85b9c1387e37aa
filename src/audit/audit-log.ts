/**
 * The audit log: append-only JSON lines, hash-chained, each line flushed to disk (fsync) before `append()` returns,
 * so an attempt is on disk before the write it describes goes out. A `.head` file beside the log holds the last
 * sequence number and hash, so lines cut off the end are detected; a `.lock` file keeps one writer per log.
 */
import {
  closeSync,
  copyFileSync,
  existsSync,
  fsyncSync,
  openSync,
  readFileSync,
  renameSync,
  truncateSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import { ConfigError } from "../errors.js";
import { lockAuditLog } from "./audit-lock.js";
import { type AuditEntry, type AuditRecord, GENESIS_HASH, recordHash } from "./audit-record.js";
import { toJsonValue } from "./canonical-json.js";

/** Options of {@link AuditLog.open}. */
export interface AuditLogOptions {
  /** Called with every record after it is on disk, e.g. to mirror the audit into a SQL sink. Errors are counted, never thrown. */
  mirror?: (record: AuditRecord) => void | Promise<void>;
  /** The clock. @default Date.now */
  now?: () => number;
}

/** The path of a log's head file. */
export function headFile(file: string): string {
  return `${file}.head`;
}

interface Opened {
  records: AuditRecord[];
  notes: string[];
}

/** Reads an existing log for appending: cuts off a torn final line (keeping a copy) and checks the head file. */
function readForAppend(file: string): Opened {
  if (!existsSync(file)) return { records: [], notes: [] };
  const notes: string[] = [];
  let text = readFileSync(file, "utf8");
  const lastBreak = text.lastIndexOf("\n");
  const tail = text.slice(lastBreak + 1);
  if (tail.length > 0) {
    let complete = true;
    try {
      JSON.parse(tail);
    } catch {
      complete = false;
    }
    if (complete) {
      writeFileSync(file, "\n", { flag: "a" });
      text += "\n";
    } else {
      const copy = `${file}.torn-${Date.now()}`;
      copyFileSync(file, copy);
      truncateSync(file, Buffer.byteLength(text.slice(0, lastBreak + 1)));
      text = text.slice(0, lastBreak + 1);
      notes.push(`a torn final line (a write cut short by a crash) was cut off; the original file is kept as ${copy}`);
    }
  }
  const fail = (path: string, message: string) =>
    new ConfigError(
      [{ path, message, fix: `keep the file as evidence, run "plantwire audit verify ${file}", and start a new log` }],
      { file },
    );
  const records = text
    .split("\n")
    .filter((line) => line.length > 0)
    .map((line, index) => {
      try {
        return JSON.parse(line) as AuditRecord;
      } catch {
        throw fail(`line ${index + 1}`, "is not a JSON record");
      }
    });
  const last = records.at(-1);
  const head = headFile(file);
  if (last) {
    const expected = existsSync(head)
      ? (JSON.parse(readFileSync(head, "utf8")) as { seq: number; hash: string })
      : undefined;
    if (!expected) throw fail("head", "the head file is missing, so records cut off the end could not be detected");
    if (expected.seq !== last.seq || expected.hash !== last.hash) {
      throw fail(
        "head",
        `the log ends at record ${last.seq} but its head file says ${expected.seq}: records were cut off`,
      );
    }
  }
  return { records, notes };
}

/** An open, append-only audit log. */
export class AuditLog {
  readonly file: string;
  /** Mirror failures so far. */
  mirrorFailures = 0;
  /** When each tag was last written (its last attempt), read from the log when it was opened and kept up to date. */
  readonly lastAttempts = new Map<string, number>();
  #descriptor: number | undefined;
  #seq: number;
  #hash: string;
  readonly #options: AuditLogOptions;
  readonly #unlock: () => void;

  private constructor(file: string, last: AuditRecord | undefined, options: AuditLogOptions, unlock: () => void) {
    this.file = file;
    this.#descriptor = openSync(file, "a");
    this.#seq = last?.seq ?? 0;
    this.#hash = last?.hash ?? GENESIS_HASH;
    this.#options = options;
    this.#unlock = unlock;
  }

  /**
   * Opens (or creates) a log and continues its chain. Refuses a log that another live process has open, or whose
   * end was cut off. Attempts left without an outcome by a stopped process get a `recovery` record saying so.
   */
  static open(file: string, options: AuditLogOptions = {}): AuditLog {
    const unlock = lockAuditLog(file);
    let opened: Opened;
    try {
      opened = readForAppend(file);
    } catch (error) {
      unlock();
      throw error;
    }
    const log = new AuditLog(file, opened.records.at(-1), options, unlock);
    for (const record of opened.records) {
      if (record.type === "attempt" && typeof record.tag === "string")
        log.lastAttempts.set(record.tag, Date.parse(record.time));
    }
    for (const note of opened.notes) log.append({ type: "recovery", note });
    const closed = new Set(
      opened.records
        .filter((record) => record.type === "outcome" || record.type === "recovery")
        .map((record) => record.proposalId),
    );
    for (const attempt of opened.records.filter(
      (record) => record.type === "attempt" && !closed.has(record.proposalId),
    )) {
      log.append({
        type: "recovery",
        proposalId: attempt.proposalId,
        tag: attempt.tag,
        attemptSeq: attempt.seq,
        outcome: "unknown",
        note: "the process stopped between this attempt and its outcome; read the tag back before trusting its value",
      });
    }
    return log;
  }

  /** Sequence number of the last record. */
  get lastSeq(): number {
    return this.#seq;
  }

  /** True until `close()`. */
  get isOpen(): boolean {
    return this.#descriptor !== undefined;
  }

  /** Appends one record and flushes it to disk before returning. Any value is stored as plain JSON data. */
  append(entry: AuditEntry): AuditRecord {
    if (this.#descriptor === undefined) {
      throw new ConfigError([
        { path: "audit", message: "the audit log is closed", fix: "open it again with AuditLog.open()" },
      ]);
    }
    const data = toJsonValue(entry) as AuditEntry;
    const time = (this.#options.now ?? Date.now)();
    const unsigned = { ...data, seq: this.#seq + 1, time: new Date(time).toISOString(), prevHash: this.#hash };
    const record: AuditRecord = { ...unsigned, hash: recordHash(unsigned, this.#hash) };
    writeSync(this.#descriptor, `${JSON.stringify(record)}\n`);
    fsyncSync(this.#descriptor);
    this.#seq = record.seq;
    this.#hash = record.hash;
    if (record.type === "attempt" && typeof record.tag === "string") this.lastAttempts.set(record.tag, time);
    const head = headFile(this.file);
    writeFileSync(`${head}.tmp`, JSON.stringify({ seq: record.seq, hash: record.hash }));
    renameSync(`${head}.tmp`, head);
    if (this.#options.mirror) {
      Promise.resolve()
        .then(() => this.#options.mirror?.(record))
        .catch(() => {
          this.mirrorFailures++;
        });
    }
    return record;
  }

  /** Closes the file and releases the lock. Appending afterwards throws. */
  close(): void {
    if (this.#descriptor === undefined) return;
    closeSync(this.#descriptor);
    this.#descriptor = undefined;
    this.#unlock();
  }
}
