/**
 * One change to the users file at a time: two `plantwire users` commands run together (two engineers, a script)
 * would otherwise both read the old file and the second write would drop the first one's change. The lock is a file
 * beside the users file, created exclusively; one left by a killed command is taken over after 30 seconds, by one
 * waiting command only (see takeOverStaleLock).
 */
import { randomUUID } from "node:crypto";
import { type BigIntStats, closeSync, mkdirSync, openSync, readFileSync, rmSync, statSync, writeSync } from "node:fs";
import { dirname } from "node:path";
import { ValidationError } from "../../errors.js";
import { readUsersFile, readUsersFileOrEmpty, type UsersFile, writeUsersFile } from "./users-file.js";

const staleAfterMs = 30_000;
const waitAtMostMs = 10_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const sameFile = (a: BigIntStats, b: BigIntStats) => a.ino === b.ino && a.dev === b.dev && a.mtimeNs === b.mtimeNs;

/**
 * Removes the stale lock `seen` (as stat'ed by the caller) when this caller is the one allowed to: true when it was
 * removed (or is already gone) and the caller should try to create the lock again, false when another command is
 * taking it over or it is no longer the lock that was seen. Removing it plainly would let two waiting commands both
 * remove it, and the later removal could delete the fresh lock the first one had just made: both would then hold
 * it. So the removal happens only under a marker made exclusively and named after this very lock file (inode and
 * modification time), and only if the lock is still the one seen; a lock made afterwards has another name's marker.
 */
export function takeOverStaleLock(lockFile: string, seen: BigIntStats): boolean {
  const marker = `${lockFile}.takeover-${seen.ino}-${seen.mtimeNs}`;
  try {
    closeSync(openSync(marker, "wx", 0o600));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw error;
  }
  try {
    let now: BigIntStats;
    try {
      now = statSync(lockFile, { bigint: true });
    } catch {
      return true; // already gone: compete for it like anyone else
    }
    if (!sameFile(now, seen)) return false;
    rmSync(lockFile, { force: true });
    return true;
  } finally {
    rmSync(marker, { force: true });
  }
}

async function lock(file: string): Promise<() => void> {
  const lockFile = `${file}.lock`;
  const owner = `${process.pid} ${randomUUID()}\n`;
  const giveUpAt = Date.now() + waitAtMostMs;
  for (;;) {
    try {
      const descriptor = openSync(lockFile, "wx", 0o600);
      writeSync(descriptor, owner);
      closeSync(descriptor);
      return () => release(lockFile, owner);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
    let seen: BigIntStats;
    try {
      seen = statSync(lockFile, { bigint: true });
    } catch {
      continue; // released between the two calls: try again at once
    }
    if (Date.now() - Number(seen.mtimeMs) > staleAfterMs && takeOverStaleLock(lockFile, seen)) continue;
    if (Date.now() > giveUpAt) {
      throw new ValidationError(
        `another \`plantwire users\` command is changing ${file}. Fix: wait for it to finish, or remove ${lockFile} if none is running`,
      );
    }
    await sleep(50);
  }
}

/** Removes the lock only if it is still this command's: a command that slept past 30 s may have lost it. */
function release(lockFile: string, owner: string): void {
  try {
    if (readFileSync(lockFile, "utf8") === owner) rmSync(lockFile, { force: true });
  } catch {
    // Already gone.
  }
}

/**
 * Reads the users file, applies `change` and writes the result, with no other change in between. `allowMissing`
 * starts from an empty file when there is none (the first `users add`).
 */
export async function updateUsersFile<T = undefined>(
  file: string,
  change: (content: UsersFile) => Promise<{ content: UsersFile; result?: T }> | { content: UsersFile; result?: T },
  options: { allowMissing?: boolean } = {},
): Promise<T | undefined> {
  // The first `users add` on a fresh site folder: the users file's folder (e.g. ./.plantwire) may not exist yet, and
  // the lock beside the file could not be made in it. Owner only: it holds the password hashes.
  if (options.allowMissing) mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const release = await lock(file);
  try {
    const content = options.allowMissing ? readUsersFileOrEmpty(file) : readUsersFile(file);
    const changed = await change(content);
    writeUsersFile(file, changed.content);
    return changed.result;
  } finally {
    release();
  }
}
