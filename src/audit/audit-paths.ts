/**
 * Paths the audit writes without being redirected. Whoever can write the log's folder could plant a symbolic link at
 * a name the guard is about to write (the log, its head, a temporary file) and make the guard's user overwrite any
 * file it may write. So the log and its head must not be links, the log is opened with O_NOFOLLOW, and every other
 * file is created exclusively (O_CREAT|O_EXCL fails on an existing name, a link included), the head's temporary
 * file under a random name.
 */
import { randomBytes } from "node:crypto";
import { constants, fstatSync, lstatSync, openSync } from "node:fs";
import { ConfigError } from "../errors.js";

/** O_NOFOLLOW where the platform has it (not on Windows, where a plain open is all there is). */
const NO_FOLLOW = constants.O_NOFOLLOW ?? 0;

/** Flags to open an existing log for appending, or create it, never through a link at its own name. */
export const APPEND_NO_FOLLOW = constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | NO_FOLLOW;

/** Flags to read a file (a lock), never through a link at its own name. */
export const READ_NO_FOLLOW = constants.O_RDONLY | NO_FOLLOW;

/** Flags to open an existing log for writing in place (cut it back), never through a link at its own name. */
export const WRITE_NO_FOLLOW = constants.O_WRONLY | NO_FOLLOW;

function isSymlink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false; // missing (or unreadable, which the open reports): not a link
  }
}

/** The error for a link found where the audit writes: it names the path and what to do. */
export function symlinkRefused(
  path: string,
  file: string,
  fix = "put the real file at this path (or give the guard the real path) instead of a link, and find out who made the link",
): ConfigError {
  return new ConfigError(
    [
      {
        path: "audit",
        message: `${path} is a symbolic link; the audit never writes through a link, which could point at any file its user may write`,
        fix,
      },
    ],
    { file },
  );
}

/** Throws a ConfigError when any of `paths` (the log, its head) is a symbolic link. */
export function refuseSymlinks(file: string, paths: readonly string[]): void {
  for (const path of paths) if (isSymlink(path)) throw symlinkRefused(path, file);
}

/** Opens `path` with O_NOFOLLOW; a link at that name (planted after the check) becomes the same ConfigError. */
export function openNoFollow(path: string, flags: number, file: string, fix?: string): number {
  try {
    return openSync(path, flags, 0o640);
  } catch (error) {
    // ELOOP from O_NOFOLLOW; some systems say EMLINK or EFTYPE. Re-check so other errors stay what they are.
    if (isSymlink(path)) throw symlinkRefused(path, file, fix);
    throw error;
  }
}

/** A name beside `path` nobody can predict: `<path>.<12 hex>.tmp`. */
export function randomSibling(path: string): string {
  return `${path}.${randomBytes(6).toString("hex")}.tmp`;
}

/**
 * True while `file` still names the open file `descriptor` (same device and inode, not unlinked). False once the log
 * was renamed, deleted or replaced while open: appends then land in a file nobody will look for.
 */
export function stillAtPath(descriptor: number, file: string): boolean {
  const open = fstatSync(descriptor);
  if (open.nlink === 0) return false;
  try {
    const named = lstatSync(file);
    return named.dev === open.dev && named.ino === open.ino;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return false;
    throw error;
  }
}
