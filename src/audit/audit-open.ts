/**
 * Opening a log for appending: refuse a damaged log with the case and the fix (a guard must not start a fresh chain
 * over a log that was deleted, emptied, shortened or edited, or `verify` would later call the new one intact), cut
 * off a torn final line (keeping a copy), and list the records that opening adds: what was repaired, a head that had
 * lagged, attempts a stopped process left without an outcome.
 */
import { closeSync, constants, copyFileSync, ftruncateSync, writeSync } from "node:fs";
import { ConfigError } from "../errors.js";
import { type AuditDamage, type AuditInspection, inspectAuditLog } from "./audit-inspect.js";
import { openNoFollow, WRITE_NO_FOLLOW } from "./audit-paths.js";
import type { AuditEntry } from "./audit-record.js";

/** A log that may be appended to, and the records opening it adds. */
export interface PreparedLog {
  readonly inspection: AuditInspection;
  readonly notes: AuditEntry[];
}

function fixFor(damage: AuditDamage, file: string): string {
  const recover = `plantwire audit recover ${file} --reason "<what happened>" --by "<your name>"`;
  switch (damage) {
    case "needs-key":
      return "open it with the key it was written with: AuditLog.open(file, { key: <key file> })";
    case "not-keyed":
      return `open it without a key, or continue it as a keyed chain: ${recover} --key <key file>`;
    default:
      return `keep the file as evidence and run ${recover}: it keeps the old file and starts a new chain linked to it`;
  }
}

/** Changes the log through a descriptor opened without following a link at its name (nor creating it). */
function repair(file: string, change: (descriptor: number) => void): void {
  const descriptor = openNoFollow(file, WRITE_NO_FOLLOW | constants.O_APPEND, file);
  try {
    change(descriptor);
  } finally {
    closeSync(descriptor);
  }
}

/** Copies the log to `<file>.torn-<time>`, created exclusively: never over an existing file or through a link. */
function keepTornCopy(file: string): string {
  const copy = `${file}.torn-${Date.now()}`;
  try {
    copyFileSync(file, copy, constants.COPYFILE_EXCL);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    throw new ConfigError(
      [
        {
          path: "torn",
          message: `the log's last line is torn, and ${copy}, where the original is kept before it is cut off, already exists`,
          fix: `move ${copy} away (it is not the guard's), then start again`,
        },
      ],
      { file },
    );
  }
  return copy;
}

/** Checks `file` (and its head) for appending; throws a ConfigError naming the damage and the fix. */
export function prepareForAppend(file: string, key: Buffer | undefined): PreparedLog {
  const inspection = inspectAuditLog(file, key);
  const { problem, reading } = inspection;
  if (problem && problem.damage !== "torn") {
    throw new ConfigError([{ path: problem.damage, message: problem.message, fix: fixFor(problem.damage, file) }], {
      file,
    });
  }
  const notes: AuditEntry[] = [];
  if (inspection.tail === "torn") {
    const copy = keepTornCopy(file);
    repair(file, (descriptor) => ftruncateSync(descriptor, inspection.completeBytes));
    notes.push({
      type: "recovery",
      note: `a torn final line (a write cut short by a crash) was cut off; the original file is kept as ${copy}`,
    });
  } else if (inspection.tail === "unterminated") {
    // Complete JSON missing only its line break: the crash came between the two.
    repair(file, (descriptor) => writeSync(descriptor, "\n"));
  }
  if (inspection.headLag > 0 && inspection.head) {
    notes.push({
      type: "note",
      note: `the head file named record ${inspection.head.seq}, but the log holds records up to ${reading.lastSeq} that chain correctly: the process stopped before it replaced the head; the head is now up to date`,
    });
  }
  const closed = new Set(
    reading.records
      .filter((record) => record.type === "outcome" || record.type === "recovery")
      .map((record) => record.proposalId),
  );
  for (const attempt of reading.records) {
    if (attempt.type !== "attempt" || closed.has(attempt.proposalId)) continue;
    notes.push({
      type: "recovery",
      proposalId: attempt.proposalId,
      tag: attempt.tag,
      attemptSeq: attempt.seq,
      outcome: "unknown",
      note: "the process stopped between this attempt and its outcome; read the tag back before trusting its value",
    });
  }
  return { inspection, notes };
}
