/**
 * Walks the lines of an audit log and checks each one: JSON, stored in canonical form, contiguous sequence numbers,
 * the link to the previous record and the record's own hash (keyed or not). Opening, verifying and recovering a log
 * all read it through here, so they can never disagree about what an intact chain is.
 */
import { type AuditRecord, GENESIS_HASH, KEYED_CHAIN, recordHash } from "./audit-record.js";
import { canonicalJson } from "./canonical-json.js";

/** What the first record of a chain started by `plantwire audit recover` says about the chain it continues. */
export interface AuditContinuation {
  /** The old file's name (kept beside the new log). */
  readonly file: string;
  /** How many records of the old file verified. */
  readonly records: number;
  /** The sequence number and hash of its last good record (0 and the genesis hash when none was good). */
  readonly lastSeq: number;
  readonly lastHash: string;
  /** What was wrong with it, when something was. */
  readonly problem?: string;
}

/** A place where a chain stops verifying. */
export interface ChainProblem {
  /** 1-based line number. */
  readonly line: number;
  readonly message: string;
  /** The chain is keyed and no key was given: nothing after line 1 could be checked. */
  readonly needsKey?: true;
}

/** The result of reading a chain. */
export interface ChainReading {
  /** Every record that verified, in order (all of them when there is no problem). */
  readonly records: AuditRecord[];
  /** The log says it is keyed (HMAC-SHA256). */
  readonly keyed: boolean;
  /** Set when the first record continues an older chain. */
  readonly continues?: AuditContinuation;
  /** The first problem found; reading stops there. */
  readonly problem?: ChainProblem;
  /** The sequence number and hash the next record links to. */
  readonly lastSeq: number;
  readonly lastHash: string;
}

const hashPattern = /^[0-9a-f]{64}$/;

/** The continuation a chain's first record states, if it is a valid `recovery` record that starts a new chain. */
export function continuationOf(record: Record<string, unknown>): AuditContinuation | undefined {
  if (record.type !== "recovery") return undefined;
  const continues = record.continues as Partial<AuditContinuation> | undefined;
  if (!continues || typeof continues !== "object") return undefined;
  const { file, records, lastSeq, lastHash } = continues;
  const count = (value: unknown) => Number.isSafeInteger(value) && (value as number) >= 0;
  if (typeof file !== "string" || !count(records) || !count(lastSeq)) return undefined;
  if (typeof lastHash !== "string" || !hashPattern.test(lastHash)) return undefined;
  return continues as AuditContinuation;
}

function isRecord(value: unknown): value is AuditRecord {
  if (!value || typeof value !== "object" || Array.isArray(value)) return false;
  const record = value as Record<string, unknown>;
  return (
    typeof record.type === "string" &&
    Number.isSafeInteger(record.seq) &&
    typeof record.time === "string" &&
    typeof record.prevHash === "string" &&
    typeof record.hash === "string"
  );
}

/** Checks `lines` (complete lines, without their line breaks) as one chain. `key` is used when the log is keyed. */
export function readChain(lines: readonly string[], key?: Buffer): ChainReading {
  const records: AuditRecord[] = [];
  let keyed = false;
  let continues: AuditContinuation | undefined;
  let lastSeq = 0;
  let lastHash = GENESIS_HASH;
  const result = (problem?: ChainProblem): ChainReading => ({
    records,
    keyed,
    ...(continues ? { continues } : {}),
    ...(problem ? { problem } : {}),
    lastSeq,
    lastHash,
  });
  for (const [index, line] of lines.entries()) {
    const fail = (message: string) => result({ line: index + 1, message });
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      return fail("is not a JSON record (the line was altered or cut)");
    }
    if (!isRecord(parsed)) return fail("is not an audit record (type, seq, time, prevHash and hash are required)");
    const record = parsed;
    // One spelling per record: a duplicated key, reordered keys or added spaces all mean the line was edited, even
    // where the parsed content would still hash the same.
    if (canonicalJson(record) !== line) {
      return fail("is not stored in canonical form (a duplicated key, reordered keys or extra spaces): it was edited");
    }
    const recordKeyed = record.chain === KEYED_CHAIN;
    if (index === 0) {
      keyed = recordKeyed;
      continues = continuationOf(record);
      if (continues) {
        lastSeq = continues.lastSeq;
        lastHash = continues.lastHash;
      }
      if (keyed && !key) {
        return result({
          line: 1,
          message: "belongs to a keyed log (HMAC-SHA256): checking it needs the log's key",
          needsKey: true,
        });
      }
    } else if (recordKeyed !== keyed) {
      return fail(`is ${recordKeyed ? "keyed" : "not keyed"}, unlike the first record (records were mixed in)`);
    }
    if (record.seq !== lastSeq + 1) {
      return fail(
        `has sequence number ${record.seq} where ${lastSeq + 1} was expected (a line was deleted, inserted or moved)`,
      );
    }
    if (record.prevHash !== lastHash) {
      return fail("does not link to the previous record (a line before it was changed or removed)");
    }
    const { hash, ...unsigned } = record;
    if (recordHash(unsigned, lastHash, keyed ? key : undefined) !== hash) {
      return fail(
        keyed
          ? "does not match its hash (the line was edited or re-chained without the key, or the key is not this log's)"
          : "does not match its hash (the line was edited)",
      );
    }
    records.push(record);
    lastSeq = record.seq;
    lastHash = hash;
  }
  return result();
}
