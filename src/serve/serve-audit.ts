/**
 * The audit as the console reads it: records filtered by type, tag, person and time, with the hash chain checked over
 * the whole log (again only when the log changed); and a tail that hands each newly appended record to the event stream.
 */
import { closeSync, existsSync, openSync, readFileSync, readSync, statSync } from "node:fs";
import { headFile } from "../audit/audit-inspect.js";
import { verifyAuditLog } from "../audit/audit-verify.js";
import type { AuditPage, AuditView } from "./api-types.js";

/** Filters of GET /api/audit. */
export interface AuditFilters {
  readonly type?: string;
  readonly tag?: string;
  readonly person?: string;
  readonly since?: number;
  readonly until?: number;
  /** @default 200 (at most 1000): the newest records that match */
  readonly limit?: number;
}

/** A stored line as shown: its fields, with the time as ms since the epoch and the hashes left out. */
export function auditView(line: string): AuditView | undefined {
  try {
    const { prevHash: _previous, hash: _hash, time, ...fields } = JSON.parse(line) as Record<string, unknown>;
    const seq = typeof fields.seq === "number" ? fields.seq : 0;
    const type = typeof fields.type === "string" ? fields.type : "unknown";
    return { ...fields, seq, type, time: typeof time === "string" ? Date.parse(time) : Number(time) };
  } catch {
    return undefined;
  }
}

const personOf = (record: AuditView): string[] => {
  const identity = record.identity as { login?: unknown } | undefined;
  return [record.by, record.user, identity?.login].filter((value): value is string => typeof value === "string");
};

/** The most records one page answers (GET /api/audit?limit=), however many are asked for. */
export const auditPageLimit = 1000;

/** The log as last read: its records and chain check, valid while the files' signature stays the same. */
interface AuditReading {
  readonly signature: string;
  readonly records: AuditView[];
  readonly chain: AuditPage["chain"];
}

const readings = new Map<string, AuditReading>();
let verifications = 0;

/** How many times the chain was verified since the process started (tests check that an unchanged log is not). */
export function auditVerifications(): number {
  return verifications;
}

/**
 * Size, modification and change times (ns) and inode of the log and its head. Any append, edit or replacement
 * changes one of them; the change time cannot be set back, so a byte edited and the mtime restored is still seen.
 */
function signatureOf(file: string): string {
  const part = (path: string) => {
    try {
      const stat = statSync(path, { bigint: true });
      return `${stat.ino}:${stat.size}:${stat.mtimeNs}:${stat.ctimeNs}`;
    } catch {
      return "none";
    }
  };
  return `${part(file)}|${part(headFile(file))}`;
}

/**
 * The records and the chain check of the log, read and verified again only when the files changed: a request on an
 * unchanged log costs no read and no hashing, so repeated requests cannot stall the plant's loops.
 */
function readingOf(file: string): AuditReading {
  const signature = signatureOf(file);
  const cached = readings.get(file);
  if (cached?.signature === signature) return cached;
  const lines = existsSync(file) ? readFileSync(file, "utf8").split("\n").filter(Boolean) : [];
  const records = lines.map(auditView).filter((record): record is AuditView => record !== undefined);
  verifications += 1;
  const verification = verifyAuditLog(file);
  const chain: AuditPage["chain"] = verification.ok
    ? { ok: true, records: verification.records }
    : { ok: false, records: verification.records, detail: `line ${verification.line}: ${verification.problem}` };
  // Read between the two signatures, the files may have changed meanwhile: then the next request reads again.
  const reading = { signature: signatureOf(file) === signature ? signature : "changed", records, chain };
  readings.delete(file);
  readings.set(file, reading);
  // A reload may name another log: keep the few newest only.
  for (const old of readings.keys()) if (readings.size > 4) readings.delete(old);
  return reading;
}

/** Answers one page: the newest `limit` matching records (at most {@link auditPageLimit}) and the chain check. */
export function auditPage(file: string, filters: AuditFilters): AuditPage {
  const { records, chain } = readingOf(file);
  // A tag filter follows proposal ids, so that decisions, attempts and outcomes of the tag's proposals come along.
  const ids = new Set<unknown>();
  if (filters.tag) {
    for (const record of records) if (record.tag === filters.tag && record.proposalId) ids.add(record.proposalId);
  }
  const wanted = records.filter(
    (record) =>
      (!filters.type || record.type === filters.type) &&
      (!filters.tag || record.tag === filters.tag || ids.has(record.proposalId)) &&
      (!filters.person || personOf(record).includes(filters.person)) &&
      (filters.since === undefined || record.time >= filters.since) &&
      (filters.until === undefined || record.time <= filters.until),
  );
  const asked = Math.trunc(filters.limit ?? 200);
  const limit = Number.isFinite(asked) ? Math.min(Math.max(1, asked), auditPageLimit) : 200;
  return { records: wanted.slice(-limit), chain };
}

/** Follows a log: each call to `poll()` hands the records appended since the last call to `onRecord`. */
export function tailAudit(file: string, onRecord: (record: AuditView) => void): { poll(): void } {
  let offset = existsSync(file) ? statSync(file).size : 0;
  let partial = "";
  return {
    poll() {
      if (!existsSync(file)) return;
      const size = statSync(file).size;
      if (size < offset) {
        offset = 0; // a new chain (recovered): start over
        partial = "";
      }
      if (size === offset) return;
      const buffer = Buffer.alloc(size - offset);
      const descriptor = openSync(file, "r");
      try {
        readSync(descriptor, buffer, 0, buffer.length, offset);
      } finally {
        closeSync(descriptor);
      }
      offset = size;
      const text = partial + buffer.toString("utf8");
      const lines = text.split("\n");
      partial = lines.pop() ?? "";
      for (const line of lines) {
        const record = line ? auditView(line) : undefined;
        if (record) onRecord(record);
      }
    },
  };
}
