/**
 * Reads an audit log and its head file and says what state they are in: intact, intact with a head that lagged
 * behind (a power cut after the log's fsync and before the head was replaced), or damaged in a named way (deleted,
 * emptied, shortened, broken, head missing, keyed without a key). Opening, verifying and recovering all decide from
 * this one reading.
 */
import { existsSync, readFileSync } from "node:fs";
import { type ChainReading, readChain } from "./audit-chain.js";
import { GENESIS_HASH } from "./audit-record.js";

/** The path of a log's head file: the last record's sequence number and hash. */
export function headFile(file: string): string {
  return `${file}.head`;
}

/** The named ways a log can be damaged. */
export type AuditDamage =
  | "deleted"
  | "emptied"
  | "shortened"
  | "broken"
  | "rewritten"
  | "head-missing"
  | "head-damaged"
  | "needs-key"
  | "not-keyed"
  | "torn";

/** What is wrong with a log. */
export interface AuditProblem {
  readonly damage: AuditDamage;
  /** The line where it shows (one past the last record for problems at the end). */
  readonly line: number;
  readonly message: string;
}

/** A log and its head, as read. */
export interface AuditInspection {
  readonly exists: boolean;
  readonly reading: ChainReading;
  /** The head file's record, when it exists and can be read. */
  readonly head?: { readonly seq: number; readonly hash: string };
  /** Bytes of the log up to the end of its last complete line. */
  readonly completeBytes: number;
  /** The last line has no line break: cut short by a crash (torn) or complete JSON missing only the break. */
  readonly tail?: "torn" | "unterminated";
  /** Records past the head (they chain correctly): the head was not replaced after they were flushed. */
  readonly headLag: number;
  readonly problem?: AuditProblem;
}

function readHead(file: string): { seq: number; hash: string } | "damaged" | undefined {
  const path = headFile(file);
  if (!existsSync(path)) return undefined;
  try {
    const head = JSON.parse(readFileSync(path, "utf8")) as { seq?: unknown; hash?: unknown };
    if (Number.isSafeInteger(head.seq) && typeof head.hash === "string") {
      return { seq: head.seq as number, hash: head.hash };
    }
  } catch {
    // reported below as damaged
  }
  return "damaged";
}

/** Reads `file` and its head and finds the first problem, if any. `key` checks a keyed log. */
export function inspectAuditLog(file: string, key?: Buffer): AuditInspection {
  const exists = existsSync(file);
  const text = exists ? readFileSync(file, "utf8") : "";
  const lines = text.split("\n");
  const last = lines.pop() ?? "";
  let tail: AuditInspection["tail"];
  if (last.length > 0) {
    try {
      JSON.parse(last);
      tail = "unterminated";
      lines.push(last);
    } catch {
      tail = "torn";
    }
  }
  const completeBytes = Buffer.byteLength(text) - (tail === "torn" ? Buffer.byteLength(last) : 0);
  const reading = readChain(lines, key);
  const head = readHead(file);
  const count = reading.records.length;
  const base = { exists, reading, completeBytes, ...(tail ? { tail } : {}) };
  const found = (damage: AuditDamage, line: number, message: string, headLag = 0): AuditInspection => ({
    ...base,
    ...(head && head !== "damaged" ? { head } : {}),
    headLag,
    problem: { damage, line, message },
  });
  if (head === "damaged") {
    return found("head-damaged", count + 1, `its head file ${headFile(file)} is not a sequence number and hash`);
  }
  const empty = text.trim().length === 0;
  if (head && empty) {
    return exists
      ? found(
          "emptied",
          1,
          `the log is empty, but its head file says it held records up to ${head.seq}: it was emptied`,
        )
      : found(
          "deleted",
          1,
          `the log is missing, but its head file says it held records up to ${head.seq}: it was deleted or moved`,
        );
  }
  if (reading.problem) {
    const { line, message, needsKey } = reading.problem;
    return found(needsKey ? "needs-key" : "broken", line, `line ${line} ${message}`);
  }
  if (key && !reading.keyed && count > 0) {
    return found(
      "not-keyed",
      1,
      "the log is not keyed, though a key was given: it may have been re-chained by someone without the key",
    );
  }
  if (!head) {
    if (empty) return { ...base, headLag: 0 };
    return found(
      "head-missing",
      count + 1,
      `the head file is missing (${headFile(file)}), so records cut off the end could not be detected`,
    );
  }
  if (reading.lastSeq < head.seq) {
    return found(
      "shortened",
      count + 1,
      `the log ends at record ${reading.lastSeq}, but its head file says ${head.seq}: records were cut off the end`,
    );
  }
  // A head behind the log is accepted only where it names a record of this chain, hash and all.
  const start = reading.continues ?? { lastSeq: 0, lastHash: GENESIS_HASH };
  const named =
    head.seq === reading.lastSeq
      ? reading.lastHash
      : head.seq === start.lastSeq
        ? start.lastHash
        : reading.records.find((record) => record.seq === head.seq)?.hash;
  if (named !== head.hash) {
    return found(
      "rewritten",
      count + 1,
      `the head file names record ${head.seq} with a hash the log does not have there: the log was rewritten`,
    );
  }
  const lag = reading.lastSeq - head.seq;
  if (tail === "torn") {
    return {
      ...base,
      head,
      headLag: lag,
      problem: {
        damage: "torn",
        line: lines.length + 1,
        message: `line ${lines.length + 1} is cut short (a write stopped by a crash); opening the log cuts it off and keeps a copy`,
      },
    };
  }
  return { ...base, head, headLag: lag };
}
