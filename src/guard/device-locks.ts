/**
 * One writer per device, across processes: a guard holds one lock file per device it writes (an endpoint, a
 * host/port/unit, a command topic, a table), in one folder shared by every guard on the machine. A second guard on the
 * same device refuses to start and names the first, so a tag's rate and interval limits hold for the device, not
 * merely for one process. A lock whose process no longer runs on this host is taken over; nothing waits or retries.
 */
import { randomUUID } from "node:crypto";
import { chmodSync, linkSync, mkdirSync, statSync, unlinkSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { ConfigError } from "../errors.js";
import { operatingSystemUser } from "../os-user.js";
import {
  deviceLockFileName,
  isRunningHere,
  type LockClaim,
  readClaim,
  removeStale,
  rmQuietly,
  sweepStale,
  writeClaimFile,
} from "./device-lock-files.js";

export { deviceLockFileName } from "./device-lock-files.js";

/** Options of {@link lockDevices}. */
export interface DeviceLockOptions {
  /** The machine-wide lock folder. @default {@link defaultDeviceLockFolder} */
  folder?: string;
  /** Who holds the locks, in words a person recognises, e.g. "the guard of /var/lib/plant/audit.jsonl". */
  holder: string;
}

/** Locks held on a set of devices. */
export interface DeviceLocks {
  /** The devices locked, without duplicates, sorted. */
  readonly devices: readonly string[];
  /** Gives every lock up. Removes only lock files that still hold this claim; never throws; safe to call twice. */
  release(): void;
}

/**
 * The claims this process holds, by device. Kept on globalThis under a registered symbol so that two copies of
 * plantwire loaded side by side in one process still see each other's locks.
 */
const registryKey = Symbol.for("plantwire.deviceLocks");
const heldHere: Map<string, LockClaim> =
  ((globalThis as Record<symbol, unknown>)[registryKey] as Map<string, LockClaim> | undefined) ??
  new Map<string, LockClaim>();
(globalThis as Record<symbol, unknown>)[registryKey] = heldHere;

/**
 * The lock folder used when a guard names none: env PLANTWIRE_LOCK_DIR, else "plantwire-device-locks" in the OS temp
 * folder. Services started with a private temp folder (systemd's PrivateTmp) do not see each other's temp folders:
 * give them PLANTWIRE_LOCK_DIR (e.g. /run/plantwire/locks) so their guards share one folder.
 */
export function defaultDeviceLockFolder(): string {
  const fromEnvironment = process.env.PLANTWIRE_LOCK_DIR;
  return fromEnvironment && fromEnvironment.trim().length > 0
    ? fromEnvironment
    : join(tmpdir(), "plantwire-device-locks");
}

/**
 * The `host:port` part of a device identity: the host lower-cased (host names are case-insensitive) and an IPv6
 * address in brackets, so that every adapter spells the same peer the same way.
 */
export function deviceAuthority(host: string, port: number): string {
  const bare = host.replace(/^\[|\]$/g, "").toLowerCase();
  return `${bare.includes(":") ? `[${bare}]` : bare}:${port}`;
}

function holderText(claim: LockClaim, here: boolean): string {
  const which = here ? `process ${claim.pid} (this process)` : `process ${claim.pid}`;
  return `${which} of user ${claim.user} on host ${claim.host}, ${claim.holder}, since ${claim.since}`;
}

function refusal(device: string, message: string, fix: string): ConfigError {
  return new ConfigError([{ path: "deviceLocks", message: `device "${device}" ${message}`, fix }]);
}

function heldElsewhere(device: string, claim: LockClaim, lockFile?: string): ConfigError {
  // A pid can be reused by an unrelated process after the guard died; only a person can tell, so the fix says how.
  const reused = lockFile ? `; if process ${claim.pid} is not a plantwire guard, remove ${lockFile}` : "";
  return refusal(
    device,
    `is written by another guard: ${holderText(claim, lockFile === undefined)}`,
    "stop that guard, or send proposals to it (the guard that holds a device is its one writer) instead of " +
      `starting a second guard for the same device${reused}`,
  );
}

/**
 * Prepares the folder. A new folder gets mode 1777, like /tmp: guards of different users on one machine must all be
 * able to create their locks in it, and the sticky bit lets only a file's owner (or root) remove or replace it, so one
 * user cannot drop another's lock. An existing folder keeps its mode (a deployment may make it group-only), but one
 * that anybody may write without the sticky bit is refused: anybody could remove any lock there.
 */
function prepareFolder(folder: string): void {
  mkdirSync(dirname(folder), { recursive: true });
  try {
    mkdirSync(folder, { mode: 0o1777 });
    chmodSync(folder, 0o1777); // mkdir's mode is cut by the umask; other users' guards need the full 1777
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
  }
  const stats = statSync(folder);
  const fix = `chmod 1777 ${folder}, or name another folder (deviceLocks, PLANTWIRE_LOCK_DIR)`;
  if (!stats.isDirectory()) {
    throw new ConfigError([{ path: "deviceLocks", message: `${folder} is not a folder`, fix }]);
  }
  if (process.platform !== "win32" && (stats.mode & 0o002) !== 0 && (stats.mode & 0o1000) === 0) {
    throw new ConfigError([
      {
        path: "deviceLocks",
        message: `the lock folder ${folder} may be written by anybody and has no sticky bit, so anybody could remove a lock`,
        fix,
      },
    ]);
  }
}

/**
 * Takes one device's lock or throws. The claim is written whole to a private file first and then linked to the lock
 * name: the link is exclusive like an open with "wx", and no reader ever sees a half-written lock (which it could not
 * tell from a crashed one). A stale lock is removed (see removeStale) and the exclusive link tried again, so of two
 * guards taking one over at once, the second meets the first's lock.
 */
function takeLock(folder: string, claim: LockClaim): string {
  const file = join(folder, deviceLockFileName(claim.device));
  const draft = `${file}.${claim.claim}.new`;
  writeClaimFile(draft, claim);
  try {
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        linkSync(draft, file);
        return file;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      }
      const found = readClaim(file);
      if (found === undefined) continue; // released in between: try again
      if (found === "unreadable") {
        throw refusal(
          claim.device,
          `has a lock file that cannot be read (${file})`,
          "check the lock folder's permissions; remove the file if no guard writes this device",
        );
      }
      // A lock naming this very process that this process does not hold (the registry was checked first) is left
      // from an earlier life with the same pid, common in containers where the guard is always pid 1.
      const sameHost = found.host === hostname();
      const stale = sameHost && (found.pid === process.pid || !isRunningHere(found.pid));
      if (!stale) {
        if (sameHost) throw heldElsewhere(claim.device, found, file);
        throw refusal(
          claim.device,
          `is locked by ${holderText(found, false)}, on another host whose processes cannot be checked from here`,
          `stop that guard; if it no longer runs, remove ${file}`,
        );
      }
      try {
        removeStale(file, found);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "EPERM" && (error as NodeJS.ErrnoException).code !== "EACCES") {
          throw error;
        }
        throw refusal(
          claim.device,
          `has a stale lock of process ${found.pid} of user ${found.user}, which no longer runs, that this user may not remove`,
          `remove ${file} as user ${found.user} or root, then start the guard again`,
        );
      }
    }
    throw refusal(
      claim.device,
      "could not be locked: its lock changed hands several times while this guard started",
      "start the guard again; if it keeps failing, another program is changing the lock folder",
    );
  } finally {
    rmQuietly(draft);
  }
}

/**
 * Locks every device for one guard, or none: when one device is held by another guard, the locks already taken are
 * given back and a ConfigError names the device and its holder (process, user, host, what it is, since when).
 */
export function lockDevices(devices: readonly string[], options: DeviceLockOptions): DeviceLocks {
  const unique = [...new Set(devices)].sort();
  const folder = resolve(options.folder ?? defaultDeviceLockFolder());
  const taken: { claim: LockClaim; file: string }[] = [];
  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    for (const { claim, file } of taken.splice(0).reverse()) {
      if (heldHere.get(claim.device) === claim) heldHere.delete(claim.device);
      try {
        const current = readClaim(file);
        if (typeof current === "object" && current.claim === claim.claim) unlinkSync(file);
      } catch {
        // release never throws: a lock left behind names a process that is gone, and the next guard takes it over.
      }
    }
  };
  if (unique.length === 0) return { devices: unique, release };
  try {
    prepareFolder(folder);
    sweepStale(folder);
    const host = hostname();
    const user = operatingSystemUser();
    for (const device of unique) {
      const mine = heldHere.get(device);
      if (mine) throw heldElsewhere(device, mine);
      const claim: LockClaim = {
        device,
        pid: process.pid,
        host,
        user,
        holder: options.holder,
        since: new Date().toISOString(),
        claim: randomUUID(),
      };
      const file = takeLock(folder, claim);
      heldHere.set(device, claim);
      taken.push({ claim, file });
    }
  } catch (error) {
    release();
    if (ConfigError.isInstance(error)) throw error;
    const cause = error as NodeJS.ErrnoException;
    throw new ConfigError(
      [
        {
          path: "deviceLocks",
          message: `cannot use the device lock folder ${folder}: ${cause.code ?? ""} ${cause.message}`.trim(),
          fix: "name a folder this user can write (deviceLocks, PLANTWIRE_LOCK_DIR), shared by every guard on the machine",
        },
      ],
      { cause },
    );
  }
  return { devices: unique, release };
}
