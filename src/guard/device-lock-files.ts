/**
 * The files behind the device locks (device-locks.ts): a lock file per device holding its claim as JSON, how it is
 * read and written, and how a stale one (its process gone) is removed without removing a fresh one by mistake.
 */
import { createHash, randomUUID } from "node:crypto";
import {
  closeSync,
  fchmodSync,
  linkSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  unlinkSync,
  writeSync,
} from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { isRunningHere } from "../os-process.js";

export { isRunningHere };

/** What a lock file holds. `claim` tells this claim from a later one of the same process. */
export interface LockClaim {
  device: string;
  pid: number;
  host: string;
  user: string;
  holder: string;
  since: string;
  claim: string;
}

/** The lock file name of a device: a fixed-length hash, so any device text (slashes, colons) makes a safe name. */
export function deviceLockFileName(device: string): string {
  return `${createHash("sha256").update(device).digest("hex").slice(0, 32)}.lock`;
}

/** The claim in a lock file; undefined when there is none, "unreadable" when it cannot be read or parsed. */
export function readClaim(file: string): LockClaim | undefined | "unreadable" {
  try {
    const claim = JSON.parse(readFileSync(file, "utf8")) as LockClaim;
    return typeof claim.pid === "number" && typeof claim.host === "string" ? claim : "unreadable";
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "ENOENT" ? undefined : "unreadable";
  }
}

/** Writes a claim to a new private file, readable by every user (0644 whatever the umask) so refusals can name it. */
export function writeClaimFile(file: string, claim: LockClaim): void {
  const descriptor = openSync(file, "wx", 0o644);
  try {
    fchmodSync(descriptor, 0o644);
    writeSync(descriptor, `${JSON.stringify(claim)}\n`);
  } finally {
    closeSync(descriptor);
  }
}

/**
 * Removes a lock judged stale. It is first renamed to a private name, so of two guards removing it at once only one
 * moves it; should the file moved turn out to be another guard's fresh claim (it took the stale lock over between our
 * read and our rename), it is linked back. Throws only when the folder refuses the rename (another user's lock).
 */
export function removeStale(file: string, found: LockClaim): void {
  const moved = `${file}.${randomUUID()}.stale`;
  try {
    renameSync(file, moved);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return;
    throw error;
  }
  const taken = readClaim(moved);
  if (typeof taken === "object" && taken.claim !== found.claim) {
    try {
      linkSync(moved, file);
    } catch {
      // Someone linked a lock meanwhile; the caller's next attempt meets it.
    }
  }
  rmQuietly(moved);
}

/**
 * Clears the locks of processes of this host that no longer run, whatever their device: a guard killed outright
 * leaves its locks, and a device that never comes back (a memory adapter's, a renamed table) would keep them forever.
 */
export function sweepStale(folder: string): void {
  const host = hostname();
  for (const name of readdirSync(folder)) {
    if (!/^[0-9a-f]{32}\.lock$/.test(name)) continue;
    const found = readClaim(join(folder, name));
    if (typeof found !== "object" || found.host !== host || found.pid === process.pid || isRunningHere(found.pid)) {
      continue;
    }
    try {
      removeStale(join(folder, name), found);
    } catch {
      // Another user's stale lock: left for its owner; a guard that needs the device says so.
    }
  }
}

/** Removes a file if it can; a file already gone, or not ours to remove, is no matter. */
export function rmQuietly(file: string): void {
  try {
    unlinkSync(file);
  } catch {
    // Already gone, or not ours to remove: either way nothing more to do.
  }
}
