/**
 * The audit record format: one JSON object per line, in canonical form (keys sorted, no spaces), chained by hashes.
 * Each record's `hash` is the SHA-256 of the previous record's hash and this record's canonical JSON (without
 * `hash`), so editing, deleting or reordering any line breaks the chain from that line on. A keyed log uses
 * HMAC-SHA256 with a secret key instead, and says so in every record (`chain: "hmac-sha256"`), so a forger who can
 * write the file but has no key cannot re-chain it.
 */
import { createHash, createHmac } from "node:crypto";
import { canonicalJson } from "./canonical-json.js";

/** The hash that the first record links to. */
export const GENESIS_HASH = "0".repeat(64);

/** What happened, in the order a guarded write goes through. */
export type AuditRecordType =
  | "proposal" // a proposed write and every guard verdict
  | "decision" // approved, rejected or refused (expired, reused, failed re-check), and by whom
  | "attempt" // written before the write goes out
  | "outcome" // the protocol result and the read-back, after
  | "recovery" // an attempt left without an outcome by a stopped process, a torn line cut off, or a new chain after a break
  | "rejection" // a model answer that failed validation: nothing in it was proposed
  | "note"; // anything else worth keeping (start, stop)

/** The fields a caller gives; the log adds sequence, time and hashes. */
export interface AuditEntry {
  readonly type: AuditRecordType;
  readonly [field: string]: unknown;
}

/** One record as stored. */
export interface AuditRecord extends AuditEntry {
  /** 1, 2, 3, ... with no gaps. */
  readonly seq: number;
  /** ISO time the record was written. */
  readonly time: string;
  readonly prevHash: string;
  readonly hash: string;
}

/** The value of the `chain` field in every record of a keyed log. */
export const KEYED_CHAIN = "hmac-sha256";

/**
 * The hash of a record (all fields but `hash`) chained to the previous record's hash: SHA-256, or HMAC-SHA256 with
 * `key` for a keyed log.
 */
export function recordHash(record: Omit<AuditRecord, "hash">, prevHash: string, key?: Buffer): string {
  const hash = key ? createHmac("sha256", key) : createHash("sha256");
  return hash.update(prevHash).update("\n").update(canonicalJson(record)).digest("hex");
}

/** SHA-256 of a text, e.g. a prompt, so the audit can prove which prompt led to a write without storing it. */
export function sha256(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}
