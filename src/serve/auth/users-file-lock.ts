/**
 * One change to the users file at a time: two `plantwire users` commands run together (two engineers, a script)
 * would otherwise both read the old file and the second write would drop the first one's change. The lock is a file
 * beside the users file, created exclusively; one left by a killed command is taken over after 30 seconds.
 */
import { closeSync, mkdirSync, openSync, rmSync, statSync, writeSync } from "node:fs";
import { dirname } from "node:path";
import { ValidationError } from "../../errors.js";
import { readUsersFile, readUsersFileOrEmpty, type UsersFile, writeUsersFile } from "./users-file.js";

const staleAfterMs = 30_000;
const waitAtMostMs = 10_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function lock(file: string): Promise<() => void> {
  const lockFile = `${file}.lock`;
  const giveUpAt = Date.now() + waitAtMostMs;
  for (;;) {
    try {
      const descriptor = openSync(lockFile, "wx", 0o600);
      writeSync(descriptor, `${process.pid}\n`);
      closeSync(descriptor);
      return () => rmSync(lockFile, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
    let age = 0;
    try {
      age = Date.now() - statSync(lockFile).mtimeMs;
    } catch {
      continue; // released between the two calls: try again at once
    }
    if (age > staleAfterMs) {
      rmSync(lockFile, { force: true });
      continue;
    }
    if (Date.now() > giveUpAt) {
      throw new ValidationError(
        `another \`plantwire users\` command is changing ${file}. Fix: wait for it to finish, or remove ${lockFile} if none is running`,
      );
    }
    await sleep(50);
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
