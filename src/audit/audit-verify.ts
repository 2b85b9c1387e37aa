/**
 * Verifies an audit log: every line canonical JSON, contiguous sequence numbers, previous-hash links and record
 * hashes (HMAC with the key for a keyed log), the head file, and optionally the head published to an anchor. Points
 * at the first altered, missing or reordered line.
 */
import { resolve } from "node:path";
import { type AnchorCheck, type AuditAnchor, compareWithAnchor } from "./audit-anchor.js";
import type { AuditContinuation } from "./audit-chain.js";
import { type AuditInspection, inspectAuditLog } from "./audit-inspect.js";
import { type AuditKey, loadAuditKey } from "./audit-key.js";

/** What a verification found besides the verdict; each field is present only when it applies. */
interface VerificationDetails {
  /** The log is keyed (HMAC-SHA256). */
  readonly keyed?: true;
  /** The log is keyed and no key was given, so it could not be checked. */
  readonly needsKey?: true;
  /** The log's first record continues an older chain (`plantwire audit recover`). */
  readonly continues?: AuditContinuation;
  /** The comparison with the anchor, when one was given. */
  readonly anchor?: AnchorCheck;
}

/** The result of {@link verifyAuditLog}. */
export type AuditVerification =
  | ({ readonly ok: true; readonly records: number } & VerificationDetails)
  | ({
      readonly ok: false;
      readonly records: number;
      readonly line: number;
      readonly problem: string;
    } & VerificationDetails);

/** Options of {@link verifyAuditLog}. */
export interface AuditVerifyOptions {
  /** The key of a keyed log: bytes, or the path of its key file. */
  key?: AuditKey;
}

function verdict(file: string, inspection: AuditInspection): AuditVerification {
  const { reading, problem } = inspection;
  const details: VerificationDetails = {
    ...(reading.keyed ? { keyed: true as const } : {}),
    ...(problem?.damage === "needs-key" ? { needsKey: true as const } : {}),
    ...(reading.continues ? { continues: reading.continues } : {}),
  };
  const records = reading.records.length;
  if (!inspection.exists && !problem) {
    return { ok: false, records, line: 1, problem: `there is no audit log at ${file}`, ...details };
  }
  if (problem) {
    // "BROKEN at line 3: the line does not match its hash", not "at line 3: line 3 does not ...".
    const text = problem.message.replace(`line ${problem.line} `, "the line ");
    return { ok: false, records, line: problem.line, problem: text, ...details };
  }
  return { ok: true, records, ...details };
}

/** Checks every line of an audit log and its head file. Pass `key` for a keyed log. */
export function verifyAuditLog(file: string, options: AuditVerifyOptions = {}): AuditVerification {
  const key = options.key === undefined ? undefined : loadAuditKey(options.key);
  return verdict(file, inspectAuditLog(file, key));
}

/**
 * Verifies a log and compares it with the head last published to `anchor`: the anchored record must be in the log
 * with the anchored hash. A log that lacks it or has another hash there fails with "anchor mismatch". Rejects when
 * the anchor cannot be read.
 */
export async function verifyAuditLogWithAnchor(
  file: string,
  anchor: AuditAnchor,
  options: AuditVerifyOptions = {},
): Promise<AuditVerification> {
  const key = options.key === undefined ? undefined : loadAuditKey(options.key);
  const inspection = inspectAuditLog(file, key);
  const result = verdict(file, inspection);
  const { reading } = inspection;
  const hashes = new Map(reading.records.map((record) => [record.seq, record.hash]));
  const check = compareWithAnchor(await anchor.latest(resolve(file)), {
    hashAt: (seq) => hashes.get(seq),
    lastSeq: reading.lastSeq,
    ...(reading.continues ? { continues: reading.continues } : {}),
    ...(reading.records[0] ? { startTime: reading.records[0].time } : {}),
  });
  if (check.status !== "mismatch" || !result.ok) return { ...result, anchor: check };
  const index = reading.records.findIndex((record) => record.seq >= check.anchored.seq);
  return {
    ok: false,
    records: result.records,
    line: index === -1 ? reading.records.length + 1 : index + 1,
    problem: `anchor mismatch: ${check.detail}`,
    ...(result.keyed ? { keyed: true as const } : {}),
    ...(result.continues ? { continues: result.continues } : {}),
    anchor: check,
  };
}
