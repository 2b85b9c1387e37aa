/**
 * Reading and removing files in an approvals folder that anyone in the approvers' group can write to. Such a file can
 * be a FIFO (a plain read waits for a writer forever and freezes the guard or the CLI), a symbolic link to another
 * file (whose owner would then be reported), a directory, or far too large. Each file is opened without following a
 * link and without blocking, checked on the open descriptor, and read from that descriptor only.
 */
import { closeSync, constants, fstatSync, openSync, readSync, rmSync, type Stats } from "node:fs";

/** A file read from the approvals folder: its text, or why it was not read; the owner when it could be opened. */
export interface FileRead {
  readonly text?: string;
  /** The owner of the opened file itself (never of a link's target). */
  readonly uid?: number;
  /** Why there is no text, e.g. "is a FIFO, not a regular file". */
  readonly problem?: string;
}

/** The largest decision or acknowledgement read (a real one is a few hundred bytes). */
export const maxDecisionBytes = 64 * 1024;
/** The largest pending proposal read (an output item's value can be tens of kilobytes). */
export const maxPendingBytes = 1024 * 1024;

// O_NONBLOCK: opening a FIFO for reading returns at once instead of waiting for a writer. O_NOFOLLOW: a symbolic
// link fails with ELOOP instead of opening its target. (Both are 0 where the platform lacks them.)
const openFlags = constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0) | (constants.O_NONBLOCK ?? 0);

function kind(stats: Stats): string {
  if (stats.isFIFO()) return "a FIFO";
  if (stats.isDirectory()) return "a directory";
  if (stats.isSocket()) return "a socket";
  if (stats.isSymbolicLink()) return "a symbolic link";
  return "a device or special file";
}

/** Reads a regular file of at most `maxBytes`, without following links or blocking; ENOENT is `problem: "gone"`. */
export function readRegularFile(file: string, maxBytes: number): FileRead {
  let descriptor: number;
  try {
    descriptor = openSync(file, openFlags);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT") return { problem: "gone" };
    if (code === "ELOOP") return { problem: "is a symbolic link, not a regular file" };
    return { problem: `cannot be opened (${code ?? "error"})` };
  }
  try {
    const stats = fstatSync(descriptor);
    if (!stats.isFile()) return { uid: stats.uid, problem: `is ${kind(stats)}, not a regular file` };
    if (stats.size > maxBytes) return { uid: stats.uid, problem: `is larger than ${maxBytes} bytes` };
    // Read on to one byte past the cap: a file that grows after fstat is refused rather than read without end.
    const chunks: Buffer[] = [];
    let length = 0;
    for (;;) {
      const chunk = Buffer.alloc(Math.min(64 * 1024, maxBytes + 1 - length));
      const read = readSync(descriptor, chunk, 0, chunk.length, null);
      if (read === 0) break;
      chunks.push(chunk.subarray(0, read));
      length += read;
      if (length > maxBytes) return { uid: stats.uid, problem: `is larger than ${maxBytes} bytes` };
    }
    return { uid: stats.uid, text: Buffer.concat(chunks).toString("utf8") };
  } catch (error) {
    return { problem: `cannot be read (${(error as NodeJS.ErrnoException).code ?? "error"})` };
  } finally {
    closeSync(descriptor);
  }
}

/** A file's JSON, or undefined when it is missing, not a regular file, too large or not JSON. */
export function readJsonFile(file: string, maxBytes: number): unknown {
  const read = readRegularFile(file, maxBytes);
  if (read.text === undefined) return undefined;
  try {
    return JSON.parse(read.text);
  } catch {
    return undefined;
  }
}

/** Removes a file, link, FIFO or directory the store took or found; never follows a link. Errors are ignored. */
export function removeQuietly(path: string): void {
  try {
    rmSync(path, { force: true, recursive: true });
  } catch {
    // Left behind: it is under a name nothing reads any more.
  }
}
