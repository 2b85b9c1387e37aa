/**
 * The low-level writes of an audit log: records as canonical lines, every byte written (a write can come back short
 * under a file-size limit or on a full disk), and the head file replaced by rename so it is never half written.
 */
import { closeSync, openSync, renameSync, rmSync, writeSync } from "node:fs";
import { headFile } from "./audit-inspect.js";
import { randomSibling } from "./audit-paths.js";
import { type AuditEntry, type AuditRecord, KEYED_CHAIN, recordHash } from "./audit-record.js";
import { canonicalJson, toJsonValue } from "./canonical-json.js";

/** A write that stopped with bytes left and no error: thrown so the caller latches the log. */
export class ShortWriteError extends Error {
  constructor(
    readonly written: number,
    readonly wanted: number,
  ) {
    super(`a short write: ${written} of ${wanted} bytes, then nothing more`);
  }
}

/** Writes every byte of `bytes` at the end of the file; throws the write's error or a ShortWriteError. */
export function writeAll(descriptor: number, bytes: Buffer): void {
  let offset = 0;
  while (offset < bytes.length) {
    const written = writeSync(descriptor, bytes, offset, bytes.length - offset);
    if (written <= 0) throw new ShortWriteError(offset, bytes.length);
    offset += written;
  }
}

/**
 * Creates `path` exclusively with `bytes`, mode 0640: "wx" is O_CREAT|O_EXCL, which fails on any existing name, a
 * symbolic link included, so a link planted there cannot redirect the write.
 */
export function createExclusive(path: string, bytes: Buffer): void {
  const descriptor = openSync(path, "wx", 0o640);
  try {
    writeAll(descriptor, bytes);
  } finally {
    closeSync(descriptor);
  }
}

/**
 * Replaces the head file: the last record on disk. Written to a new file under a random name, then renamed over the
 * head (rename replaces a link at the head's name instead of following it), so it is never half written and a link
 * planted at a predictable temporary name cannot redirect the write.
 */
export function writeHead(file: string, seq: number, hash: string): void {
  const head = headFile(file);
  const temporary = randomSibling(head);
  try {
    createExclusive(temporary, Buffer.from(JSON.stringify({ seq, hash })));
    renameSync(temporary, head);
  } catch (error) {
    rmSync(temporary, { force: true });
    throw error;
  }
}

/** Where a chain stands: the next record links to this. */
export interface ChainEnd {
  seq: number;
  hash: string;
}

/**
 * Turns entries into chained records after `end`, all with one time. Values become plain JSON data. The fields the
 * log sets (seq, time, prevHash, hash, and `chain`, which every record of a keyed log has and no other may) are
 * dropped from the entry, so a caller cannot make a record that fails its own chain.
 */
export function chainRecords(
  entries: readonly AuditEntry[],
  end: ChainEnd,
  time: string,
  key: Buffer | undefined,
): AuditRecord[] {
  let { seq, hash } = end;
  return entries.map((entry) => {
    const {
      chain: _chain,
      hash: _hash,
      seq: _seq,
      time: _time,
      prevHash: _prevHash,
      ...data
    } = toJsonValue(entry) as AuditEntry;
    seq++;
    const unsigned = { ...data, ...(key ? { chain: KEYED_CHAIN } : {}), seq, time, prevHash: hash };
    const record: AuditRecord = { ...unsigned, hash: recordHash(unsigned, hash, key) };
    hash = record.hash;
    return record;
  });
}

/** The bytes of records as stored: one canonical JSON line each. */
export function recordLines(records: readonly AuditRecord[]): Buffer {
  return Buffer.from(records.map((record) => `${canonicalJson(record)}\n`).join(""));
}
