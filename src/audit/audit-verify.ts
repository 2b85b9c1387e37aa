/**
 * Verifies an audit log: every line canonical JSON, contiguous sequence numbers, previous-hash links and record
 * hashes (HMAC with the key for a keyed log), the head file, and optionally the head published to an anchor. Points
 * at the first altered, missing or reordered line.
 *
 * A copy handed to an auditor often comes without its head file. `withoutHead` checks such a copy's chain; the
 * result then says (`withoutHead: true`) that records cut off its end cannot be detected, so an intact chain is never
 * mistaken for a complete log.
 */
import { resolve } from "node:path";
import { type AnchorCheck, type AuditAnchor, compareWithAnchor } from "./audit-anchor.js";
import type { AuditContinuation } from "./audit-chain.js";
import { type AuditDamage, type AuditInspection, inspectAuditLog } from "./audit-inspect.js";
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
  /**
   * Checked without the head file (`withoutHead`): the chain is verified, but records cut off the end (and a log
   * emptied or deleted with its head) cannot be detected, except up to a matching anchor.
   */
  readonly withoutHead?: true;
}

/** The result of {@link verifyAuditLog}. */
export type AuditVerification =
  | ({ readonly ok: true; readonly records: number } & VerificationDetails)
  | ({
      readonly ok: false;
      readonly records: number;
      readonly line: number;
      readonly problem: string;
      /** What kind of damage it is, when the log (not the anchor) is at fault. */
      readonly damage?: AuditDamage;
    } & VerificationDetails);

/** Options of {@link verifyAuditLog}. */
export interface AuditVerifyOptions {
  /** The key of a keyed log: bytes, or the path of its key file. */
  key?: AuditKey;
  /**
   * Check the chain without the head file (a copy without its `.head`): the head is not read, and the result carries
   * `withoutHead: true`, since records cut off the end cannot be ruled out. @default false
   */
  withoutHead?: boolean;
}

// What the head file alone shows: without it, none of these can be told.
const headDamage: ReadonlySet<AuditDamage> = new Set<AuditDamage>([
  "deleted",
  "emptied",
  "shortened",
  "rewritten",
  "head-missing",
  "head-damaged",
]);

/**
 * The inspection with what only the head can show taken out: the chain's own problems (a broken line, a missing key,
 * an unkeyed log given a key, a torn last line) stay. The inspection checks the head before the chain, so the chain's
 * problems are found again here.
 */
function withoutHeadProblems(inspection: AuditInspection, key: Buffer | undefined): AuditInspection {
  const { reading } = inspection;
  const base = { exists: inspection.exists, reading, completeBytes: inspection.completeBytes, headLag: 0 };
  const found = (damage: AuditDamage, line: number, message: string): AuditInspection => ({
    ...base,
    problem: { damage, line, message },
  });
  if (reading.problem) {
    const { line, message, needsKey } = reading.problem;
    return found(needsKey ? "needs-key" : "broken", line, `line ${line} ${message}`);
  }
  if (key && !reading.keyed && reading.records.length > 0) {
    return found("not-keyed", 1, "the log is not keyed, though a key was given: it may have been re-chained");
  }
  if (inspection.tail === "torn") {
    const line = reading.records.length + 1;
    return found("torn", line, `line ${line} is cut short (a write stopped by a crash)`);
  }
  if (inspection.problem && !headDamage.has(inspection.problem.damage)) return { ...base, problem: inspection.problem };
  return base;
}

function inspect(file: string, options: AuditVerifyOptions): AuditInspection {
  const key = options.key === undefined ? undefined : loadAuditKey(options.key);
  const inspection = inspectAuditLog(file, key);
  return options.withoutHead ? withoutHeadProblems(inspection, key) : inspection;
}

function verdict(file: string, inspection: AuditInspection, withoutHead = false): AuditVerification {
  const { reading, problem } = inspection;
  const details: VerificationDetails = {
    ...(withoutHead ? { withoutHead: true as const } : {}),
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
    return { ok: false, records, line: problem.line, problem: text, damage: problem.damage, ...details };
  }
  return { ok: true, records, ...details };
}

/**
 * Checks every line of an audit log and its head file. Pass `key` for a keyed log, and `withoutHead` for a copy
 * without its head file.
 */
export function verifyAuditLog(file: string, options: AuditVerifyOptions = {}): AuditVerification {
  return verdict(file, inspect(file, options), options.withoutHead);
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
  const inspection = inspect(file, options);
  const result = verdict(file, inspection, options.withoutHead);
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
    ...(result.withoutHead ? { withoutHead: true as const } : {}),
    anchor: check,
  };
}
