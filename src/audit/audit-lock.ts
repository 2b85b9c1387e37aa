/**
 * One writer per audit log: a `.lock` file holding the writer's process id, created exclusively. A lock left by a
 * process that no longer runs is taken over; a live one (or a second open in this process) is refused, because two
 * writers would fork the hash chain.
 */
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { ConfigError } from "../errors.js";

const heldHere = new Set<string>();

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
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
  try {
    writeFileSync(lock, String(process.pid), { flag: "wx" });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    const pid = Number(readFileSync(lock, "utf8"));
    if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && alive(pid)) throw refuse(`process ${pid}`);
    writeFileSync(lock, String(process.pid)); // stale: its writer is gone
  }
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
