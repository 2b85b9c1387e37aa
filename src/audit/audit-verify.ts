/** Verifies an audit log's hash chain and points at the first altered, missing or reordered line. */
import { existsSync, readFileSync } from "node:fs";
import { headFile } from "./audit-log.js";
import { type AuditRecord, GENESIS_HASH, recordHash } from "./audit-record.js";

/** The result of {@link verifyAuditLog}. */
export type AuditVerification =
  | { readonly ok: true; readonly records: number }
  | { readonly ok: false; readonly records: number; readonly line: number; readonly problem: string };

/** Checks every line of an audit log: JSON, contiguous sequence numbers, previous-hash links and record hashes. */
export function verifyAuditLog(file: string): AuditVerification {
  const lines = readFileSync(file, "utf8").split("\n");
  if (lines.at(-1) === "") lines.pop();
  let previous = GENESIS_HASH;
  let count = 0;
  for (const [index, line] of lines.entries()) {
    const lineNumber = index + 1;
    const fail = (problem: string): AuditVerification => ({ ok: false, records: count, line: lineNumber, problem });
    let record: AuditRecord;
    try {
      record = JSON.parse(line) as AuditRecord;
    } catch {
      return fail("not a JSON record (the line was altered or cut)");
    }
    if (record.seq !== lineNumber) {
      return fail(
        `sequence number ${record.seq} where ${lineNumber} was expected (a line was deleted, inserted or moved)`,
      );
    }
    if (record.prevHash !== previous)
      return fail("does not link to the previous record (a line before it was changed or removed)");
    const { hash, ...unsigned } = record;
    if (recordHash(unsigned, previous) !== hash)
      return fail("its content does not match its hash (the line was edited)");
    previous = hash;
    count++;
  }
  const head = headFile(file);
  if (count > 0 && !existsSync(head)) {
    return {
      ok: false,
      records: count,
      line: count + 1,
      problem: "the head file is missing, so records cut off the end cannot be ruled out",
    };
  }
  if (existsSync(head)) {
    const expected = JSON.parse(readFileSync(head, "utf8")) as { seq: number; hash: string };
    if (expected.seq !== count || expected.hash !== previous) {
      return {
        ok: false,
        records: count,
        line: count + 1,
        problem: `the log ends at record ${count} but its head file says ${expected.seq} (records were cut off the end)`,
      };
    }
  }
  return { ok: true, records: count };
}
