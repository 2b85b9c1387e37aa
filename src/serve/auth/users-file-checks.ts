/**
 * Checks that keep a users file in safe hands: the folder it lives in, and its owner when it is rewritten.
 */
import { fchownSync, fstatSync, realpathSync, statSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { ConfigError } from "../../errors.js";

/**
 * Refuses a users file in a folder anyone may write to (a shared temporary folder): another local user could put their own file
 * there first, with themselves as engineer, or swap it later. Both the named folder and, for a link, the real one.
 */
export function checkFolder(file: string): void {
  if (process.platform === "win32") return;
  let real = file;
  try {
    real = realpathSync(file);
  } catch {}
  for (const folder of new Set([dirname(resolve(file)), dirname(real)])) {
    if ((statSync(folder).mode & 0o002) === 0) continue;
    const fix = "keep the users file in a folder only its owner (and group) may write, e.g. beside site.yaml";
    throw new ConfigError([{ path: "(folder)", message: `${folder} is writable by anyone`, fix }], { file });
  }
}

/**
 * Gives the new file the owner and group of the file it replaces. An engineer who runs `plantwire users` with sudo
 * instead of `sudo -u <service user>` would otherwise leave a root-owned mode-600 file that `serve` cannot read, and
 * `serve` would go on with the old users: a removed person would keep their access. Only root can give a file away;
 * anyone else writes a file of their own, as before.
 */
export function keepOwner(file: string, descriptor: number): void {
  let owner: { uid: number; gid: number };
  try {
    owner = statSync(file);
  } catch {
    return; // no file yet: the new one is the runner's
  }
  const mine = fstatSync(descriptor);
  if (mine.uid === owner.uid && mine.gid === owner.gid) return;
  try {
    fchownSync(descriptor, owner.uid, owner.gid);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== "EPERM" && code !== "EINVAL" && code !== "ENOSYS") throw error;
  }
}
