/**
 * The audit as the console reads it: records filtered by type, tag, person and time, with the hash chain checked over
 * the whole log; and a tail that hands each newly appended record to the event stream.
 */
import { closeSync, existsSync, openSync, readFileSync, readSync, statSync } from "node:fs";
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

/** Reads the log and answers one page. */
export function auditPage(file: string, filters: AuditFilters): AuditPage {
  const lines = existsSync(file) ? readFileSync(file, "utf8").split("\n").filter(Boolean) : [];
  const records = lines.map(auditView).filter((record): record is AuditView => record !== undefined);
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
  const limit = Math.min(Math.max(1, Math.trunc(filters.limit ?? 200)), 1000);
  const verification = verifyAuditLog(file);
  return {
    records: wanted.slice(-limit),
    chain: verification.ok
      ? { ok: true, records: verification.records }
      : { ok: false, records: verification.records, detail: `line ${verification.line}: ${verification.problem}` },
  };
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
