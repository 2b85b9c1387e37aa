/**
 * The audit log: append-only JSON lines, hash-chained, each line flushed to disk (fsync) before `append()` returns,
 * so an attempt is on disk before the write it describes goes out. A `.head` file beside the log holds the last
 * sequence number and hash, so that cutting lines off the end is detected too.
 */
import {
  closeSync,
  existsSync,
  fsyncSync,
  openSync,
  readFileSync,
  renameSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import { ConfigError } from "../errors.js";
import { type AuditEntry, type AuditRecord, GENESIS_HASH, recordHash } from "./audit-record.js";

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

/** An open, append-only audit log. */
export class AuditLog {
  readonly file: string;
  /** Mirror failures so far. */
  mirrorFailures = 0;
  #descriptor: number | undefined;
  #seq: number;
  #hash: string;
  readonly #options: AuditLogOptions;

  private constructor(file: string, descriptor: number, seq: number, hash: string, options: AuditLogOptions) {
    this.file = file;
    this.#descriptor = descriptor;
    this.#seq = seq;
    this.#hash = hash;
    this.#options = options;
  }

  /**
   * Opens (or creates) a log and continues its chain. Attempts left without an outcome by a stopped process get a
   * `recovery` record saying so.
   */
  static open(file: string, options: AuditLogOptions = {}): AuditLog {
    const records = existsSync(file) ? readRecords(file) : [];
    const last = records.at(-1);
    const log = new AuditLog(file, openSync(file, "a"), last?.seq ?? 0, last?.hash ?? GENESIS_HASH, options);
    for (const attempt of unfinishedAttempts(records)) {
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

  /** Appends one record and flushes it to disk before returning. */
  append(entry: AuditEntry): AuditRecord {
    if (this.#descriptor === undefined)
      throw new ConfigError([
        { path: "audit", message: "the audit log is closed", fix: "open it again with AuditLog.open()" },
      ]);
    const unsigned = {
      ...entry,
      seq: this.#seq + 1,
      time: new Date((this.#options.now ?? Date.now)()).toISOString(),
      prevHash: this.#hash,
    };
    const record: AuditRecord = { ...unsigned, hash: recordHash(unsigned, this.#hash) };
    writeSync(this.#descriptor, `${JSON.stringify(record)}\n`);
    fsyncSync(this.#descriptor);
    this.#seq = record.seq;
    this.#hash = record.hash;
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

  /** Closes the file. Appending afterwards throws. */
  close(): void {
    if (this.#descriptor === undefined) return;
    closeSync(this.#descriptor);
    this.#descriptor = undefined;
  }
}

function readRecords(file: string): AuditRecord[] {
  const lines = readFileSync(file, "utf8")
    .split("\n")
    .filter((line) => line.length > 0);
  return lines.map((line, index) => {
    try {
      return JSON.parse(line) as AuditRecord;
    } catch {
      throw new ConfigError(
        [
          {
            path: `line ${index + 1}`,
            message: "is not a JSON record",
            fix: `run "plantwire audit verify ${file}" and keep the file as evidence; start a new log`,
          },
        ],
        { file },
      );
    }
  });
}

function unfinishedAttempts(records: readonly AuditRecord[]): AuditRecord[] {
  const closed = new Set(
    records
      .filter((record) => record.type === "outcome" || record.type === "recovery")
      .map((record) => record.proposalId),
  );
  return records.filter((record) => record.type === "attempt" && !closed.has(record.proposalId));
}
