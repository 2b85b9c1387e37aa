/**
 * One writer per audit log: a `.lock` file holding the writer's process id, created exclusively. A lock left by a
 * process that no longer runs is taken over; a live one (or a second open in this process) is refused, because two
 * writers would fork the hash chain. The lock is only ever created with "wx" (O_CREAT|O_EXCL), read with O_NOFOLLOW
 * and removed with unlink, so a symbolic link planted at its name never makes the guard write another file.
 */
import { closeSync, fstatSync, lstatSync, readFileSync, rmSync } from "node:fs";
import { ConfigError } from "../errors.js";
import { isRunningHere } from "../os-process.js";
import { createExclusive } from "./audit-file.js";
import { openNoFollow, READ_NO_FOLLOW } from "./audit-paths.js";

/** Takeovers tried before giving up: each loses only to another process taking the same stale lock at that moment. */
const TAKEOVER_ATTEMPTS = 5;

const LINK_FIX = "remove the link (a guard makes the lock again as a plain file) and find out who made it";

const heldHere = new Set<string>();

function tryCreate(lock: string): boolean {
  try {
    createExclusive(lock, Buffer.from(String(process.pid)));
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw error;
  }
}

interface Holder {
  readonly pid: number;
  readonly dev: number;
  readonly ino: number;
}

/** The process id in an existing lock and which file it was read from; undefined when the lock is gone. */
function readHolder(lock: string, file: string): Holder | undefined {
  let descriptor: number;
  try {
    // A link at the lock's name is refused (a ConfigError), not read: it was not made by a guard.
    descriptor = openNoFollow(lock, READ_NO_FOLLOW, file, LINK_FIX);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
  try {
    const { dev, ino } = fstatSync(descriptor);
    return { pid: Number(readFileSync(descriptor, "utf8")), dev, ino };
  } finally {
    closeSync(descriptor);
  }
}

/** True while `lock` still names the file the holder was read from (not a new lock another process made). */
function sameFile(lock: string, holder: Holder): boolean {
  try {
    const now = lstatSync(lock);
    return now.dev === holder.dev && now.ino === holder.ino;
  } catch {
    return false;
  }
}

/** Takes the lock of `file`'s audit log; throws a ConfigError when another live writer holds it. */
export function lockAuditLog(file: string): () => void {
  const lock = `${file}.lock`;
  const refuse = (holder: string) =>
    new ConfigError(
      [
        {
          path: "audit",
          message: `the audit log is already open in ${holder}`,
          fix: "use one guard per audit log, or close the other one first",
        },
      ],
      { file },
    );
  if (heldHere.has(lock)) throw refuse("this process");
  let taken = false;
  for (let attempt = 1; attempt <= TAKEOVER_ATTEMPTS; attempt++) {
    taken = tryCreate(lock);
    if (taken) break;
    const holder = readHolder(lock, file);
    if (holder === undefined) continue; // removed between our create and our read: try again
    if (Number.isInteger(holder.pid) && holder.pid > 0 && holder.pid !== process.pid && isRunningHere(holder.pid))
      throw refuse(`process ${holder.pid}`);
    // Stale: its writer is gone. Remove that very file (unlink removes a name, never what a link points at) and
    // create a new one exclusively; if another process made a new lock in between, the next round checks it.
    if (sameFile(lock, holder)) rmSync(lock, { force: true });
  }
  if (!taken) throw refuse("another process, which took it over at the same time");
  heldHere.add(lock);
  return () => {
    heldHere.delete(lock);
    try {
      rmSync(lock, { force: true });
    } catch {
      // A folder that became read-only keeps the lock file; its process id is dead by the next start, so it is
      // taken over then. Closing must not fail over it.
    }
  };
}
