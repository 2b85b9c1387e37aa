/**
 * Why an audit append failed, in the words a person at the plant can act on. A failed append latches the log: the
 * guard writes nothing more to any device until someone fixes the cause and restarts the process, so the message has
 * to say what the cause really was (a full disk is not "records cut off") and what to do about it.
 */
import { readFileSync } from "node:fs";
import { dirname } from "node:path";

/**
 * The cause of a failed append: ENOSPC, EROFS, EACCES/EPERM, EFBIG (or a short write under a file-size limit), the
 * log renamed, replaced or deleted while open (`moved`), other.
 */
export type AuditFailureCode = "disk-full" | "read-only" | "permission" | "size-limit" | "moved" | "io-error";

/** The failure that latched an audit log: nothing more is appended to it in this process. */
export interface AuditFailure {
  readonly code: AuditFailureCode;
  /** What happened and how to fix it. */
  readonly message: string;
  /** When the append failed (ms since the epoch). */
  readonly since: number;
}

/** The code for an error thrown by a file-system call. */
export function failureCodeOf(error: unknown): AuditFailureCode {
  switch ((error as NodeJS.ErrnoException | undefined)?.code) {
    case "ENOSPC":
    case "EDQUOT":
      return "disk-full";
    case "EROFS":
      return "read-only";
    case "EACCES":
    case "EPERM":
      return "permission";
    case "EFBIG":
      return "size-limit";
    default:
      return "io-error";
  }
}

/**
 * The soft file-size limit of this process in bytes (`ulimit -f`, systemd's LimitFSIZE=), or undefined when there is
 * none or it cannot be read. Node ignores SIGXFSZ, so a write past the limit comes back short or with EFBIG instead
 * of killing the process.
 */
export function fileSizeLimit(): number | undefined {
  try {
    const line = readFileSync("/proc/self/limits", "utf8")
      .split("\n")
      .find((row) => row.startsWith("Max file size"));
    const soft = line?.slice("Max file size".length).trim().split(/\s+/)[0];
    return soft === undefined || soft === "unlimited" ? undefined : Number(soft);
  } catch {
    return undefined;
  }
}

const causes: Record<AuditFailureCode, string> = {
  "disk-full": "the disk is full",
  "read-only": "the file system is read-only",
  permission: "permission denied (the folder or the log is not writable, or is immutable)",
  "size-limit": "the process's file-size limit was reached",
  moved: "the log was moved, replaced or deleted while open",
  "io-error": "an input/output error",
};

function fixFor(code: AuditFailureCode, file: string): string {
  const folder = dirname(file);
  switch (code) {
    case "disk-full":
      return `free space on the file system that holds ${folder}`;
    case "read-only":
      return `remount the file system that holds ${folder} read-write, or move the log to a writable one`;
    case "permission":
      return `make ${folder} and ${file} writable by the user running the guard (and clear an immutable attribute: lsattr, chattr -i)`;
    case "size-limit":
      return "raise the file-size limit (ulimit -f, LimitFSIZE= in the systemd unit)";
    case "moved":
      return `find out what moved it (log rotation must leave the audit log alone), put the old file back at ${file} with its head, or keep it as evidence and run "plantwire audit recover ${file}"`;
    case "io-error":
      return `check the disk that holds ${folder} (dmesg, smartctl)`;
  }
}

/** Builds the failure of an append of `count` records that stopped at `step` with `error` (or a short write). */
export function describeFailure(
  file: string,
  count: number,
  step: string,
  error: unknown,
  code: AuditFailureCode,
  restored: boolean,
  since: number,
): AuditFailure {
  const errno = (error as NodeJS.ErrnoException | undefined)?.code;
  const detail = errno ? ` (${errno})` : error instanceof Error ? ` (${error.message})` : "";
  const records = count === 1 ? "a record" : `${count} records`;
  if (code === "moved") return { code, message: movedMessage(file, records, restored), since };
  const before = restored
    ? "The records before it are intact."
    : `The unfinished record could not be cut off the end: run "plantwire audit verify ${file}".`;
  const message =
    `The audit log ${file} could not store ${records}: ${causes[code]}${detail} while ${step}. ${before} ` +
    "Nothing more is written to this log, and no device is written through it, until this is fixed. " +
    `Fix: ${fixFor(code, file)}, then restart the process.`;
  return { code, message, since };
}

function movedMessage(file: string, records: string, restored: boolean): string {
  const one = records === "a record";
  const where = restored
    ? `${one ? "was" : "were"} cut off it again, so that file ends where it did`
    : `${one ? "is" : "are"} still at its end (${one ? "it" : "they"} could not be cut off)`;
  return (
    `The audit log ${file} was moved, replaced or deleted while it was open: ${records} just written went to the ` +
    `old file instead, not to a log at ${file}, and ${where}. ` +
    "Nothing more is written to this log, and no device is written through it, until this is fixed. " +
    `Fix: ${fixFor("moved", file)}, then restart the process.`
  );
}
